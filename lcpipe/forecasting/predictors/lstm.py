"""The paper's LSTM: learns the next step's Δacc from windows of (epoch, acc, Δacc) of the
source curves, then forecasts the target recursively, feeding its own predictions (and their Δ)
back in. With lstm.ensemble = N > 1 it is a deep ensemble of N seeds: the mean is the forecast
and the members' spread plus the prefix's own jitter gives the 80 % interval.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lcpipe.curve import Series
from lcpipe.errors import LcpipeError
from lcpipe.forecasting.features import (
    DELTA_SCALE,
    make_windows,
    needs_lr,
    schedule_columns,
    smooth,
    step_features,
)
from lcpipe.forecasting.predictors.base import Z80, Forecast, Predictor

MAX_WINDOWS = 20_000  # full-batch fit cost stays bounded whatever the curves' length


class NextStep(nn.Module):
    """LSTM over a window of steps -> the next step's scaled Δacc."""

    def __init__(self, n_inputs: int, hidden: int, layers: int):
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(-1)


class LSTM(Predictor):
    name = "lstm"
    learned = True

    uses_features = ("window", "inputs", "smooth")

    def __init__(self, window: int = 4, inputs: list[str] | None = None, smooth: float = 0.3, hidden: int = 32,
                 layers: int = 1, steps: int = 300, lr: float = 0.01, seed: int = 0, ensemble: int = 1):
        self.window, self.inputs, self.smooth = window, list(inputs or ("epoch", "acc", "delta")), smooth
        self.hidden, self.layers, self.steps, self.lr = hidden, layers, steps, lr
        self.seed, self.ensemble = seed, ensemble

    def _new_member(self) -> NextStep:
        return NextStep(len(self.inputs), self.hidden, self.layers)

    def fit(self, sources: list[Series]) -> LSTM:
        return self.fit_windows(*make_windows(sources, self.window, self.inputs, self.smooth))

    def fit_windows(self, x: np.ndarray, y: np.ndarray) -> LSTM:
        """Full-batch Adam on the windows, one seeded member at a time (deterministic on CPU)."""
        if len(x) > MAX_WINDOWS:  # very long curves: an evenly spaced, deterministic subset
            keep = np.linspace(0, len(x) - 1, MAX_WINDOWS).astype(int)
            x, y = x[keep], y[keep]
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        self.members_ = []
        for m in range(self.ensemble):
            torch.manual_seed(self.seed + m)
            net = self._new_member()
            opt = torch.optim.Adam(net.parameters(), lr=self.lr)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.steps)
            for _ in range(self.steps):
                opt.zero_grad()
                loss = nn.functional.mse_loss(net(xt), yt)
                loss.backward()
                opt.step()
                sched.step()
            self.members_.append(net.eval())
        return self

    @torch.no_grad()
    def forecast(self, prefix: Series, horizon: int) -> Forecast:
        k = len(prefix.values)
        acc = np.empty((len(self.members_), horizon))
        trend = smooth(prefix.values, self.smooth)
        acc[:, :k] = trend  # the recursion runs on the trend
        if needs_lr(self.inputs) and (prefix.lr is None or len(prefix.lr) < horizon):
            raise LcpipeError(f"{prefix.name}: features.inputs {self.inputs} need an lr column covering all "
                              f"{horizon} epochs of the target; drop 'lr'/'to_drop' or use --lr-drops")
        extra = schedule_columns(prefix.lr, horizon) if needs_lr(self.inputs) else {}
        for t in range(k, horizon):  # predict epoch t+1 from epochs t-window+1 .. t
            lo = t - self.window
            # Δ of the window alone: re-differencing the whole history each step made a long
            # horizon quadratic in time
            x = torch.from_numpy(np.stack([
                step_features(a[lo:t], horizon, self.inputs, None, prefix.name, start=lo,
                              before=a[lo - 1] if lo > 0 else a[0], schedule=extra)
                for a in acc]).astype(np.float32))
            step = np.array([net(x[i:i + 1]).item() for i, net in enumerate(self.members_)])
            acc[:, t] = acc[:, t - 1] + step / DELTA_SCALE
            if prefix.bounded:
                acc[:, t] = np.clip(acc[:, t], 0.0, 1.0)
        future = acc[:, k:]
        if len(self.members_) == 1:
            return Forecast.clipped(future[0], bounded=prefix.bounded)
        # The members agree closely (they saw the same windows), so their spread alone covers
        # ~10 % of actual points. The epoch-to-epoch jitter of the observed prefix around its own
        # trend (one-step-ahead residual of the smoothed prefix, recent half) is added as independent noise.
        residual = (prefix.values[1:] - trend[:-1])[(k - 1) // 2:]  # the recent half: past the steep rise
        jitter = float(np.std(residual)) if residual.size else 0.0
        mean = future.mean(axis=0)
        half = Z80 * np.sqrt(future.var(axis=0) + jitter**2)
        return Forecast.clipped(mean, mean - half, mean + half, prefix.bounded)

    def state_dict(self) -> dict:
        return {"members": [net.state_dict() for net in self.members_]}

    def load_state_dict(self, state: dict) -> None:
        self.members_ = []
        for member_state in state["members"]:
            net = self._new_member()
            net.load_state_dict(member_state)
            self.members_.append(net.eval())
