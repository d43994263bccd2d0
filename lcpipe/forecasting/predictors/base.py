"""The one small interface every predictor implements."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from lcpipe.curve import Series

Z80 = 1.2815515655446004  # the normal's 90th percentile: mean +- Z80 * std is the central 80 %


@dataclass(frozen=True)
class Forecast:
    """Predicted metric for the epochs after the cutoff, optionally with an 80 % interval."""

    mean: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    @staticmethod
    def clipped(mean, lower=None, upper=None, bounded: bool = True) -> Forecast:
        """Finite and, for a bounded metric (an accuracy; Series.bounded), inside [0, 1], whatever
        the predictor produced. An unbounded internal value (minus the log of a loss) is only made finite."""

        def fix(a):
            if a is None:
                return None
            a = np.nan_to_num(np.asarray(a, float), nan=0.0, posinf=1e6, neginf=-1e6)
            return np.clip(a, 0.0, 1.0) if bounded else a

        return Forecast(fix(mean), fix(lower), fix(upper))


class Predictor(ABC):
    """Fit on full source curves once; forecast any target prefix to any horizon.

    The scikit-learn convention: `__init__` stores the hyperparameters it is given, each with the
    tuned default, so `Auto()` is the tuned forecaster; params.yaml states the same values for the
    pipeline (tests/test_predictors.py keeps them equal); `fit` sets the fitted state (names ending
    in `_`).
    """

    name: str = ""
    learned: bool = False  # True: fitting is costly, the fit stage saves its state
    uses_features: tuple[str, ...] = ()  # features.* keys passed to __init__ besides its own section
    config_keys: tuple[str, ...] = ()  # the run-config keys (Series.config) it reads, when runs state them
    reads_hyperparameters: bool = False  # True: every other config key counts too (auto.hyper_values)

    @classmethod
    def from_params(cls, params) -> Predictor:
        """A fresh, unfitted one with its hyperparameters from `params` (a config.Params): its own
        section, the one named after it, if it has one, plus the features keys it uses."""
        section = getattr(params, cls.name, None)
        kwargs = dataclasses.asdict(section) if section is not None else {}
        kwargs.update({key: getattr(params.features, key) for key in cls.uses_features})
        return cls(**kwargs)

    def fit(self, sources: list[Series]) -> Predictor:
        """Learn from the source curves (default: nothing to learn)."""
        return self

    @abstractmethod
    def forecast(self, prefix: Series, horizon: int) -> Forecast:
        """Forecast epochs len(prefix.values)+1 .. horizon of the target."""

    def forecast_many(self, prefixes: list[Series], horizons: list[int]) -> list[Forecast]:
        """Forecast many runs at once; predictors that can vectorise over runs override this
        (a sweep of thousands of live runs must not cost one Python loop per run per epoch)."""
        return [self.forecast(p, h) for p, h in zip(prefixes, horizons, strict=True)]

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        return None
