"""Stage check_params: all of params.yaml validated before any other stage runs.

Every other stage depends on its small, constant output, so `dvc repro` stops here, in its first
second and before DVC removes any stage's outputs, on an unknown key or a bad value anywhere; and
a valid change writes the same bytes, so it reruns nothing downstream by itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from lcpipe.atomic import LIVE_FOLDERS, not_a_folder, write_text
from lcpipe.config import Params, missing_keys
from lcpipe.curve import MAX_EPOCHS
from lcpipe.errors import LcpipeError, WrongKindError
from lcpipe.forecasting.registry import PREDICTORS
from lcpipe.training.sources import check_obtainable

OK = "params.yaml is valid\n"
PARAMS = Path("params.yaml")  # the file run_stage's load_params read
CURVES = Path("data/curves")  # the train stages' outputs (dvc.yaml)
LIVE = Path("dvclive")  # the train stages' DVCLive folders, one per arch (dvc.yaml's --live-dir)
SHELL_SPECIAL = frozenset('$`"\\!')  # expanded inside a double-quoted shell word


def _inside(folder: Path, path: Path) -> bool:
    """Whether `folder` is `path` or lies inside it (both resolved)."""
    folder, path = folder.resolve(), path.resolve()
    return folder == path or path in folder.parents


def check_predictors(p: Params) -> None:
    """The predictor lists name registered predictors (config.py checks everything else)."""
    for key, names in (("predict.predictors", p.predict.predictors), ("sweep.predictors", p.sweep.predictors)):
        for name in names:
            if name not in PREDICTORS:
                raise LcpipeError(f"{key}: {name!r} is not allowed; choose one of {', '.join(PREDICTORS)}")


def check_paths(p: Params) -> None:
    """The history folders the sweep and early_stop stages read exist now, and, when early stopping
    is on, stop.history holds what the stopper can learn from: a bad one would otherwise reach DVC,
    which removes early_stop's outputs (data/early_stop/) before its command fails. Checked when the
    params change (params.yaml is this stage's dep); the folder itself is not a dep, since DVC refuses a
    missing dep before this check could say what is wrong, so a folder edited in place is read by
    early_stop alone."""
    from lcpipe.forecasting.logs import learnable_history, read_curve_dir

    root = Path(p.data.root)
    if p.data.dataset not in ("digits", "synthetic") and root.exists() and not root.is_dir():  # CIFAR reads it
        raise LcpipeError(f"data.root: {p.data.root!r} is a file; give the folder the {p.data.dataset} data is "
                          "downloaded into (or read from), e.g. data/raw")
    check_obtainable(p.data.dataset, root)  # before DVC removes data/prepared/ for a prepare that cannot run
    for key, value in (("sweep.history", p.sweep.history), ("stop.history", p.stop.history)):
        shell = sorted(set(value) & SHELL_SPECIAL)
        if shell:  # the stage's command line holds the path in double quotes, where the shell expands these
            raise LcpipeError(f"{key}: {value!r} holds {' '.join(repr(c) for c in shell)}, which the stage's shell "
                              "command would expand; rename the folder without them")
        if not Path(value).is_dir():
            raise LcpipeError(f"{key}: {value!r} is not a directory of finished curves; give an existing folder "
                              "(data/history/... holds one; `dvc exp run --temp` or `--queue` copies only what git "
                              "tracks: git add a new one)")
        if _inside(CURVES, Path(value)):
            raise LcpipeError(f"{key}: {value!r} holds the pipeline's own curves ({CURVES}), which would be forecast "
                              "from themselves; give a folder of another study's finished curves")
    try:  # as the sweep reads it, in the metric it forecasts
        past = read_curve_dir(Path(p.sweep.history), p.features.metric)
    except WrongKindError as exc:  # the pipeline's kind follows features.metric: no --kind to give
        raise LcpipeError(f"sweep.history: {exc.what}") from None
    except LcpipeError as exc:
        said = _as_param(str(exc))
        if p.features.metric in said:  # a curve without the column, not a folder without curves (red team)
            said += (f" (the sweep's decision forecasts features.metric={p.features.metric} from these curves: give a "
                     "sweep.history that logs it)")
        raise LcpipeError(f"sweep.history: {said}") from None
    try:
        check_sweep_history(p, past)
    except LcpipeError as exc:
        raise LcpipeError(f"sweep.history: {exc}") from None
    if p.stop.at:
        try:
            stop_history = learnable_history(read_curve_dir(Path(p.stop.history), "test_acc"))  # as the Stopper does
        except WrongKindError as exc:  # early_stop forecasts test accuracy, a fraction: no --kind to give
            raise LcpipeError(f"stop.history: {exc.what}") from None
        except LcpipeError as exc:
            raise LcpipeError(f"stop.history: {_as_param(str(exc))}") from None
        lengths = sorted({len(c) for c in stop_history})
        if not p.stop.threshold and p.train.epochs not in lengths:
            # with no run of the runs' length there is no rival to forecast alike, and the bar would be the best final
            # of another study, or of longer training: every run stopped, the best too (red team: the default CIFAR
            # history of 164-epoch runs stopped all four 50-epoch archs at epoch 5)
            raise LcpipeError(f"stop.history: {p.stop.history} holds no finished run of train.epochs "
                              f"({p.train.epochs}) epochs (its runs have {', '.join(map(str, lengths[:5]))}"
                              f"{', ...' if len(lengths) > 5 else ''}), so the stop rule has no run to compare "
                              "with; give finished runs of this pipeline's length (the README's early_stop recipe "
                              "copies data/curves aside), or set stop.threshold to the accuracy a run must reach")


COMMAND_LINE = re.compile(r"; lcpipe forecast --runs takes several: \S+ gives them all")


def _as_param(said: str) -> str:
    """A curve reader's line as a params key reads it: a history param names one folder, so the reader's advice for
    the command line, which takes several paths, is dropped (red team: it told `-S sweep.history=data/history` that
    `data/history/*` gives them all)."""
    return COMMAND_LINE.sub("", said)


def check_sweep_history(p: Params, past: list) -> None:
    """What the sweep's decision would refuse in the history, refused here, before DVC removes the sweep's
    outputs (red team: its figures were gone, then the stage failed): finished runs, enough of them
    (learnable_history: 2 curves of 3 points at least), an lr column in each where features.inputs asks
    for one and the LSTM reads them, and no copy of the pipeline's own curves as they are now (the
    README's stop.history recipe copies them; as sweep.history each would be forecast from itself)."""
    from lcpipe.curve import series_of
    from lcpipe.forecasting.copies import check_apart
    from lcpipe.forecasting.features import needs_lr
    from lcpipe.forecasting.logs import learnable_history, read_curve_dir

    learnable_history(past)
    if needs_lr(p.features.inputs) and "lstm" in p.sweep.predictors:
        bare = next((c for c in past if series_of(c, p.features.metric).lr is None), None)
        if bare is not None:
            raise LcpipeError(f"{bare.path or bare.name} has no lr column over its epochs, which features.inputs "
                              f"{p.features.inputs} ask the LSTM to read ('lr'/'to_drop'): give a history with lr "
                              "columns, or drop them from features.inputs")
    if "lstm" in p.sweep.predictors:  # make_windows: a history with no curve longer than the window fits nothing
        lengths = [len(series_of(c, p.features.metric).values) for c in past]
        if lengths and max(lengths) <= p.features.window:
            raise LcpipeError(f"its longest curve has {max(lengths)} epochs, and the LSTM in sweep.predictors learns "
                              f"from windows of features.window={p.features.window} epochs and the one after: give "
                              "longer curves, a smaller features.window, or drop lstm from sweep.predictors")
    if CURVES.is_dir() and any(CURVES.glob("*.csv")):
        check_apart(past, read_curve_dir(CURVES, p.features.metric), "one of the pipeline's curves",
                    p.features.metric)


def check_length(p: Params) -> None:
    """train.epochs within what a curve file may plan (curve.MAX_EPOCHS): a longer run is a typo that
    would train until someone noticed, and every curve it wrote would be refused as one."""
    if p.train.epochs > MAX_EPOCHS:
        raise LcpipeError(f"train.epochs: {p.train.epochs} is not allowed; it must be at most {MAX_EPOCHS}")


def check_complete(path: Path = PARAMS) -> None:
    """Every setting stated in params.yaml: load_params fills a missing one with its default, but DVC
    reads each key a stage lists from the file and, when one is missing, fails that stage after
    removing its outputs (red team: poly.degree deleted, data/predictions/ gone)."""
    missing = missing_keys(path)
    if missing:
        section, key = missing[0].split(".")
        default = getattr(getattr(Params(), section), key)
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise LcpipeError(f"{path}: {missing[0]} is missing{more}; DVC's stages read every setting from this file, "
                          f"not lcpipe's defaults: add it under '{section}:' (the default is {default!r})")


def check_live_folders(p: Params) -> None:
    """Neither the DVCLive folder nor an arch's (nor one under it) is a link or a file: DVC removes a train stage's
    DVCLive files before it runs the stage, and DVCLive clears its own when it opens, through a link in their place,
    so a folder of the user's linked there would lose them before the stage could refuse it (red team:
    dvclive/resnet34 linked elsewhere; review: dvclive itself). Checked here, before any stage, whenever params.yaml
    changes; the train stage checks again for its own folders."""
    for folder in [LIVE] + [LIVE / arch / sub for arch in p.train.archs for sub in LIVE_FOLDERS]:
        if what := not_a_folder(folder):
            raise LcpipeError(f"{folder} is {what}: DVC deletes the train stages' DVCLive files there, through it, "
                              "the next time it trains an arch; move what is yours out of it and remove it (`git "
                              "checkout dvclive` restores the logs)")


def check_params(p: Params, out: Path) -> None:
    """`p` was loaded and validated by config.load_params; add completeness, the registry's, the length's,
    the paths' and the DVCLive folders' checks, write `out`."""
    check_complete()
    check_predictors(p)
    check_length(p)
    check_paths(p)
    check_live_folders(p)
    write_text(out, OK)
