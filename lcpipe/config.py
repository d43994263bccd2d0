"""params.yaml -> typed, validated settings: the one place that says what is allowed.

Every stage loads the whole file through `load_params` before doing any work; the check_params
stage does so first, so a typo in any section stops `dvc repro` in its first second, before DVC
removes any stage's outputs, with one line naming the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lcpipe.errors import LcpipeError

DATASETS = ("digits", "cifar10", "cifar100", "synthetic")
DEPTHS = (18, 34, 50, 101)
FAMILIES = ("resnet", "plain")
METRICS = ("test_acc", "train_acc", "test_loss", "train_loss")
FEATURE_INPUTS = ("epoch", "acc", "delta", "lr", "to_drop")
DIGITS = 1797  # images in scikit-learn's bundled digits
# lstm sizes: 100x the defaults' order; lstm.steps 10**9 ran until killed (red team), 100,000 takes minutes
LSTM_MOST = {"hidden": 4096, "layers": 16, "steps": 100_000, "ensemble": 100,
             "lr": 1.0}  # Adam past 1 diverges: lstm.lr 1000 wrote inf RMSEs and a results JSON of Infinity
AUTO_INTERVAL_MOST = 100.0  # auto.interval_scale (0.75 tuned): 1e300 made every band infinite
# ... and the training's: far past what fits any one machine (train.width 10**6 asked the allocator for 4 TB,
# a traceback after DVC had removed the curves: red team). 64 is the standard width, 1024 16x it; one node
# holds at most 64 devices; a synthetic image side of 1024 is 4x ImageNet's usual crop
SYNTHETIC_BYTES = 4e9  # the synthetic dataset is built in memory at once
SIZE_MOST = {"train.width": 1024, "train.batch_size": 65_536, "train.devices": 64, "data.synthetic_size": 1024,
             "data.synthetic_train": 10**6, "data.synthetic_test": 10**6}
MAX_LR = 1e4  # train.lr and weight_decay: no optimizer here takes more; far above it float32 overflows in the step
SCHEDULES = ("cosine", "step")
STEMS = ("cifar", "imagenet")
CURVE_FAMILIES = ("pow3", "pow4", "log_power", "exp4", "mmf", "janoschek", "weibull", "ilog2",
                  "vapor_pressure", "hill")  # Domhan et al. 2015; formulas in predictors/parametric.py


# floats to YAML 1.2 (DVC's ruamel) that PyYAML's YAML 1.1 reads as strings: 1e-3 (no dot), +.5 and -.5 (a sign
# before the dot; red team)
YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+|[-+]\.\d+")


def parse_arch(name: str) -> tuple[int, bool]:
    """'resnet50' -> (50, True); 'plain34' -> (34, False). Raises LcpipeError for anything else."""
    for family in FAMILIES:
        depth = name.removeprefix(family)
        if depth != name and depth.isdigit() and int(depth) in DEPTHS:
            return int(depth), family == "resnet"
    allowed = ", ".join(f"{f}{d}" for f in FAMILIES for d in DEPTHS)
    raise LcpipeError(f"unknown arch {name!r}; allowed: {allowed}")


@dataclass(frozen=True)
class DataParams:
    dataset: str = "digits"
    root: str = "data/raw"
    seed: int = 0
    test_fraction: float = 0.25
    synthetic_train: int = 512
    synthetic_test: int = 256
    synthetic_size: int = 8


@dataclass(frozen=True)
class TrainParams:
    archs: list[str] = field(default_factory=lambda: ["resnet34", "resnet50", "plain34", "plain50"])
    epochs: int = 50
    width: int = 8
    stem: str = "cifar"
    batch_size: int = 256
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    milestones: list[int] = field(default_factory=lambda: [82, 123])
    gamma: float = 0.1
    warmup_epochs: int = 0
    augment: bool = False
    compile: bool = False
    devices: int = 1
    seed: int = 0


@dataclass(frozen=True)
class FeatureParams:
    metric: str = "test_acc"
    window: int = 4
    inputs: list[str] = field(default_factory=lambda: ["epoch", "acc", "delta"])
    smooth: float = 0.3


@dataclass(frozen=True)
class PredictParams:
    target: str = "plain50"
    cutoff: int = 20
    predictors: list[str] = field(
        default_factory=lambda: ["auto", "poly", "lstm", "last_value", "source_shift", "parametric"]
    )


@dataclass(frozen=True)
class PolyParams:
    degree: int = 3
    fit_on: str = "pooled"


@dataclass(frozen=True)
class ParametricParams:
    prior_weight: float = 3.0
    families: list[str] = field(default_factory=lambda: list(CURVE_FAMILIES))


@dataclass(frozen=True)
class AutoParams:
    """The default forecaster's settings, chosen leave-one-group-out by bench/forecast_quality.py."""

    recency: float = 2.0
    similarity: float = 2.0
    smooth_epochs: int = 5
    interval_scale: float = 0.75
    config_weight: float = 1.0
    calibrate: bool = True
    final_quantile: float = 0.85
    final_quantile_series: float = 0.85
    hyperparameters: bool = True
    config_weight_series: float = 3.0
    sibling_recency_series: float = 0.75


@dataclass(frozen=True)
class LstmParams:
    hidden: int = 32
    layers: int = 1
    steps: int = 300
    lr: float = 0.01
    seed: int = 0
    ensemble: int = 1


@dataclass(frozen=True)
class SweepParams:
    cutoffs: list[int] = field(default_factory=lambda: [5, 10, 20, 30, 40])
    predictors: list[str] = field(
        default_factory=lambda: ["auto", "poly", "lstm", "last_value", "source_shift", "parametric"]
    )
    history: str = "data/history/cifar10-plain-vs-resnet"  # finished curves the decision is forecast from


@dataclass(frozen=True)
class StopParams:
    """The `stop:` section: the early_stop stage forecasts each run's own final test accuracy at these
    epochs and ends it when P(final >= bar - margin) < stop_rule.per_check(STOP_BELOW, len(at)), the
    bar being the best history run of the same length as it was at the same epoch (relative) or
    `threshold` (off while `at` is empty; forecasting/run_stopper.py)."""

    at: list[int] = field(default_factory=list)
    history: str = "data/history/cifar10-plain-vs-resnet"  # finished curves the forecaster learns from
    threshold: float = 0.0  # the bar; 0 = the best history run (relative to it at the same epoch)


@dataclass(frozen=True)
class Params:
    data: DataParams = field(default_factory=DataParams)
    train: TrainParams = field(default_factory=TrainParams)
    features: FeatureParams = field(default_factory=FeatureParams)
    predict: PredictParams = field(default_factory=PredictParams)
    poly: PolyParams = field(default_factory=PolyParams)
    lstm: LstmParams = field(default_factory=LstmParams)
    parametric: ParametricParams = field(default_factory=ParametricParams)
    auto: AutoParams = field(default_factory=AutoParams)
    sweep: SweepParams = field(default_factory=SweepParams)
    stop: StopParams = field(default_factory=StopParams)


def _coerce(key: str, value, kind):
    """Check one value against its declared type; ints are accepted where floats are."""
    origin = typing.get_origin(kind)
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise LcpipeError(f"{key}: {value!r} is not a list; write e.g. {key.split('.')[-1]}: [a, b]")
        return [_coerce(f"{key}[{i}]", v, item_kind) for i, v in enumerate(value)]
    if kind is float and isinstance(value, str) and YAML11_FLOAT.fullmatch(value):
        value = float(value)  # `1e-3`: a float to YAML 1.2 (and DVC), a string to PyYAML's YAML 1.1
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[kind]
    if not ok:
        expected = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[kind]
        raise LcpipeError(f"{key}: {value!r} is not {expected}")
    if kind is float and not math.isfinite(value):
        raise LcpipeError(f"{key}: {value!r} is not a finite number")
    return float(value) if kind is float else value


def _section(name: str, cls, raw) -> object:
    """Build one dataclass section from its YAML mapping, refusing unknown keys and wrong types."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise LcpipeError(f"{name}: expected a mapping of keys, got {raw!r}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(raw) - set(hints))
    if unknown:
        raise LcpipeError(
            f"{name}.{unknown[0]}: unknown key; allowed keys in {name}: {', '.join(hints)}"
        )
    return cls(**{k: _coerce(f"{name}.{k}", v, hints[k]) for k, v in raw.items()})


def _require(ok: bool, key: str, value, allowed: str) -> None:
    if not ok:
        raise LcpipeError(f"{key}: {value!r} is not allowed; {allowed}")


def _choice(key: str, value, choices) -> None:
    _require(value in choices, key, value, f"choose one of {', '.join(map(str, choices))}")


def _require_positive(params: object, section: str, *names: str) -> None:
    for name in names:
        value = getattr(params, name)
        _require(value > 0, f"{section}.{name}", value, "it must be > 0")


def _distinct(key: str, values: list) -> None:
    _require(len(values) > 0, key, values, "give at least one")
    _require(len(set(values)) == len(values), key, values, "list each entry once")


def _subset(key: str, values: list, choices) -> None:
    _distinct(key, values)
    for v in values:
        _choice(key, v, choices)



def _aside() -> bool:
    """Whether this process runs in a workspace DVC made for an experiment run aside (`dvc exp run --temp` or
    `--queue`, under .dvc/tmp/exps/), where nothing of the user's workspace changes (red team: its failure told
    the user to restore curves that were never removed)."""
    try:
        parts = Path.cwd().resolve().parts
    except OSError:  # a working folder deleted under the process (review: validate() raised on valid params)
        return False
    return any(parts[i:i + 3] == (".dvc", "tmp", "exps") for i in range(len(parts) - 2))

def validate(p: Params, pipeline: bool = True) -> Params:
    """Cross-check values and sections; raise LcpipeError naming the first bad key. `pipeline` False (`lcpipe
    evaluate --params`, which takes features and the predictors' settings from the file): the checks that tie
    a setting to the pipeline's own run length (predict.cutoff, sweep.cutoffs and stop.at against
    train.epochs) are left out; a features.window of 60 was refused for 200-point curves at cutoff 100
    because the pipeline's default 50-epoch run has no cutoff for it (red team).

    Predictor names are checked against the registry by the check_params stage
    (pipeline/params_check.py): config stays free of the predictors, so that editing one never
    reruns training."""
    _choice("data.dataset", p.data.dataset, DATASETS)
    _require(0 < p.data.test_fraction < 1, "data.test_fraction", p.data.test_fraction,
             "it must lie strictly between 0 and 1")
    if p.data.dataset == "digits":  # a stratified split needs a sample of each of the 10 classes on both sides
        test = math.ceil(p.data.test_fraction * DIGITS)
        _require(10 <= test <= DIGITS - 10, "data.test_fraction", p.data.test_fraction,
                 f"it would put {test} of the {DIGITS} digits in the test set; a split by class needs 10 to "
                 f"{DIGITS - 10} (use e.g. 0.25)")
    _require_positive(p.data, "data", "synthetic_train", "synthetic_test", "synthetic_size")
    if p.data.dataset == "synthetic":  # held in memory as float32 images of 3 channels
        size = (p.data.synthetic_train + p.data.synthetic_test) * 3 * p.data.synthetic_size**2 * 4
        _require(size <= SYNTHETIC_BYTES, "data.synthetic_size", p.data.synthetic_size,
                 f"{p.data.synthetic_train + p.data.synthetic_test:,} images of {p.data.synthetic_size}x"
                 f"{p.data.synthetic_size} would take {size / 1e9:,.0f} GB; keep them within "
                 f"{SYNTHETIC_BYTES / 1e9:g} GB (fewer or smaller images)")
    for key, seed in (("data.seed", p.data.seed), ("train.seed", p.train.seed), ("lstm.seed", p.lstm.seed)):
        _require(0 <= seed < 2**31, key, seed, "it must lie in [0, 2**31)")

    t = p.train
    # DVC drops the train stages of archs that leave the matrix before any stage of ours runs: say
    # how to get their curves back (from the DVC cache) along with what is wrong
    restore = ("; the experiment ran aside (--temp or --queue): your workspace is as it was" if _aside() else
               "; DVC has left the value in params.yaml: fix it (or `git checkout params.yaml`), then `git checkout "
               "dvclive` and `dvc checkout` restore the DVCLive logs and curves it removed")
    _require(len(t.archs) >= 2, "train.archs", t.archs, "give at least two archs (a target and a source)" + restore)
    for arch in t.archs:
        try:
            parse_arch(arch)
        except LcpipeError as exc:
            raise LcpipeError(f"train.archs: {exc}{restore}") from None
    _require(len(set(t.archs)) == len(t.archs), "train.archs", t.archs, "list each arch once" + restore)
    _require_positive(t, "train", "epochs", "width", "batch_size", "lr", "devices", "gamma")
    for key, most in SIZE_MOST.items():
        section, name = key.split(".")
        value = getattr(getattr(p, section), name)
        _require(value <= most, key, value, f"it must be at most {most:,}")
    # above float32's range torch's optimizer step overflows (a traceback after DVC removed the curves)
    _require(t.lr <= MAX_LR, "train.lr", t.lr, f"it must be at most {MAX_LR:g}")
    _require(t.gamma <= 1, "train.gamma", t.gamma, "it must lie in (0, 1]: the factor the lr is multiplied by at "
             "each milestone")
    for m in t.milestones:
        _require(isinstance(m, int) and not isinstance(m, bool) and m >= 1, "train.milestones", t.milestones,
                 "give epochs, whole numbers >= 1")
    _choice("train.stem", t.stem, STEMS)
    _choice("train.schedule", t.schedule, SCHEDULES)
    _require(0 <= t.momentum < 1, "train.momentum", t.momentum, "it must lie in [0, 1)")
    _require(0 <= t.weight_decay <= MAX_LR, "train.weight_decay", t.weight_decay,  # (red team: 1e300, a traceback
             f"it must lie in [0, {MAX_LR:g}]")  # from torch's step after DVC removed the curve, as train.lr gave)
    _require(0 <= t.warmup_epochs < t.epochs, "train.warmup_epochs", t.warmup_epochs,
             f"it must lie in [0, train.epochs={t.epochs})")

    f = p.features
    _choice("features.metric", f.metric, METRICS)
    _require(f.window >= 1, "features.window", f.window, "it must be >= 1")
    _subset("features.inputs", f.inputs, FEATURE_INPUTS)
    _require(0 < f.smooth <= 1, "features.smooth", f.smooth, "it must lie in (0, 1]; 1 = no smoothing")

    # a target that left train.archs: DVC removed its curve before this check ran (red team), so the same hint
    _require(p.predict.target in t.archs, "predict.target", p.predict.target,
             f"choose one of {', '.join(map(str, t.archs))} (train.archs), or add it there" + restore)
    _distinct("predict.predictors", p.predict.predictors)
    if pipeline:
        check_cutoff("predict.cutoff", p.predict.cutoff, f.window, t.epochs)

    _require(0 <= p.poly.degree <= 10, "poly.degree", p.poly.degree, "it must lie in [0, 10]")
    _choice("poly.fit_on", p.poly.fit_on, ("prefix", "pooled"))
    _require_positive(p.lstm, "lstm", "hidden", "layers", "steps", "lr", "ensemble")
    for name, most in LSTM_MOST.items():  # a size that only runs until killed is a typo, not a setting
        _require(getattr(p.lstm, name) <= most, f"lstm.{name}", getattr(p.lstm, name), f"it must be at most {most}")
    _require(p.parametric.prior_weight >= 0, "parametric.prior_weight", p.parametric.prior_weight,
             "it must be >= 0 (0 = the target's prefix alone)")
    _subset("parametric.families", p.parametric.families, CURVE_FAMILIES)
    _require_positive(p.auto, "auto", "recency", "smooth_epochs", "interval_scale", "sibling_recency_series")
    _require(p.auto.interval_scale <= AUTO_INTERVAL_MOST, "auto.interval_scale", p.auto.interval_scale,
             f"it must be at most {AUTO_INTERVAL_MOST:g}")
    for key in ("config_weight", "config_weight_series"):
        _require(getattr(p.auto, key) >= 0, f"auto.{key}", getattr(p.auto, key), "it must be >= 0 (0 = ignore configs)")
    _require(p.auto.similarity >= 0, "auto.similarity", p.auto.similarity, "it must be >= 0 (0 = plain mean)")
    for key in ("final_quantile", "final_quantile_series"):
        _require(0.5 <= getattr(p.auto, key) < 1, f"auto.{key}", getattr(p.auto, key),
                 "it must lie in [0.5, 1) (0.8 = the history's own errors at face value)")

    _distinct("sweep.predictors", p.sweep.predictors)
    _require(len(p.sweep.cutoffs) > 0, "sweep.cutoffs", p.sweep.cutoffs, "give at least one")
    _require(len(set(p.sweep.cutoffs)) == len(p.sweep.cutoffs), "sweep.cutoffs", p.sweep.cutoffs,
             "list each cutoff once")
    for c in p.sweep.cutoffs if pipeline else ():
        check_cutoff("sweep.cutoffs", c, f.window, t.epochs)

    _require(len(set(p.stop.at)) == len(p.stop.at), "stop.at", p.stop.at, "list each epoch once")
    for epoch in p.stop.at if pipeline else ():
        _require(2 <= epoch < t.epochs, "stop.at", epoch, f"it must lie in [2, train.epochs - 1] = [2, {t.epochs - 1}]")
    _require(0 <= p.stop.threshold < 1, "stop.threshold", p.stop.threshold,
             "it must lie in [0, 1); 0 = the best final accuracy in stop.history")
    return p


def check_cutoff(key: str, cutoff: int, window: int, epochs: int, length: str = "train.epochs") -> None:
    """A forecast needs one full window observed and at least one epoch left to forecast. `length` names
    `epochs` in the message: the pipeline's setting, or what a curve's points count outside it."""
    if window + 1 > epochs - 1:  # no cutoff fits: the window is what to change, not the cutoff
        fix = f"give a window of at most {epochs - 2}" if epochs - 2 >= 1 else \
            f"no window fits a run that short: give {length} of at least {max(window + 2, cutoff + 1)}" \
            if length == "train.epochs" else f"no window fits a curve that short: it needs {window + 2} {length} at " \
            "least"  # (review: "at most 1" looped, and "give evaluations of at least 6" named nothing to set)
        raise LcpipeError(f"{key}: features.window {window} leaves no cutoff of a {epochs}-epoch run (one needs "
                          f"window + 1 observed epochs and one left); {fix}")
    _require(window + 1 <= cutoff <= epochs - 1, key, cutoff,
             f"it must lie in [features.window + 1, {length} - 1] = [{window + 1}, {epochs - 1}]")


MAX_PARAMS_BYTES = 1_000_000  # params.yaml is a few kB; refuse anything that cannot be one before parsing it
# plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 (DVC's ruamel) read as different values: octal-looking
# ints (010: 8 vs 10), yes/no/on/off (bools vs strings), sexagesimal (1:30: 90 vs a string)
AMBIGUOUS = re.compile(r"[-+]?0[0-9_]+|[-+]?0[oObBxX][0-9a-fA-F_]+|(?i:y|n|yes|no|on|off)|[-+]?\d+(:[0-5]?\d)+"
                       r"(\.\d*)?")  # sexagesimal: 190:20:30 and 0:2.0 are numbers to YAML 1.1, strings to 1.2


PIPELINE_KEYS = frozenset({"stages", "plots"})  # top-level keys of dvc.yaml, never of params.yaml


class _TwiceError(Exception):
    """A key given twice in one mapping (_UniqueKeys)."""


class _UniqueKeys(yaml.SafeLoader):
    """safe_load's loader, refusing a key given twice in one mapping: PyYAML keeps the last silently (a stage
    run by hand used it), where DVC's ruamel refuses the file (red team)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: {...}`, which construct_mapping flattens (review)
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # an unhashable key: construct_mapping says so itself
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _TwiceError(f"line {line}: {key!r} is given twice in one section (first at line {seen[key]}); "
                                  "DVC refuses such a file: keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path):
    """Parse `path` as DVC will: one line for a missing, unreadable or huge file, a syntax error (at
    the line where the broken construct starts), an alias, or a scalar YAML 1.1 and 1.2 disagree on."""
    try:
        if path.is_dir():
            raise LcpipeError(f"{path}: is a directory; give the params.yaml file")
        if path.exists() and not path.is_file():  # a FIFO would block the read forever
            raise LcpipeError(f"{path}: is not a regular file (a FIFO, device or socket); give the params.yaml file")
        if path.stat().st_size > MAX_PARAMS_BYTES:
            raise LcpipeError(f"{path}: {path.stat().st_size} bytes is too large for a params file")
        text = path.read_text()
    except FileNotFoundError:
        raise LcpipeError(f"{path}: no such params file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LcpipeError(f"{path}: cannot read it as YAML text ({type(exc).__name__})") from None
    try:
        previous = None
        for token in yaml.scan(text):
            if isinstance(previous, yaml.KeyToken) and isinstance(token, yaml.ScalarToken) \
                    and token.start_mark.column == 0 and token.value in PIPELINE_KEYS:
                # dvc.yaml passed for params.yaml: say so, not what its plots' `y:` means to YAML 1.1
                raise LcpipeError(f"{path}: is a DVC pipeline file (it has '{token.value}:'), not a params file; "
                                  "give the params.yaml its stages read (e.g. --params params.yaml)")
            previous = token
            if isinstance(token, yaml.AliasToken):
                raise LcpipeError(f"{path}: line {token.start_mark.line + 1}: YAML aliases (*name) are not allowed")
            if isinstance(token, yaml.ScalarToken) and token.plain and AMBIGUOUS.fullmatch(token.value):
                raise LcpipeError(f"{path}: line {token.start_mark.line + 1}: {token.value!r} means one value to "
                                  "lcpipe (YAML 1.1) and another to DVC (YAML 1.2); quote it, or write the number "
                                  "without leading zeros / true or false")
        loader = _UniqueKeys(text)  # safe_load's SafeLoader, refusing a key given twice
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _TwiceError as exc:
        raise LcpipeError(f"{path}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise LcpipeError(f"{path}: {where}not valid YAML ({exc.context or exc.problem})") from None
    except yaml.YAMLError as exc:
        raise LcpipeError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:  # an integer past Python's int-conversion limit (thousands of digits)
        raise LcpipeError(f"{path}: a value it holds cannot be read as a number ({str(exc).split(';')[0]})") from None


def missing_keys(path: str | Path = "params.yaml") -> list[str]:
    """The settings (section.key) that `path` does not state; load_params fills them with defaults, but
    DVC reads every key a stage lists from the file itself and fails that stage, after removing its
    outputs, when one is missing."""
    raw = _read_yaml(Path(path)) or {}
    out = []
    for name, kind in typing.get_type_hints(Params).items():
        given = raw.get(name) if isinstance(raw, dict) else None
        out += [f"{name}.{f.name}" for f in dataclasses.fields(kind)
                if not (isinstance(given, dict) and f.name in given)]
    return out


def load_params(path: str | Path = "params.yaml", pipeline: bool = True) -> Params:
    """Read and validate params.yaml (YAML through safe_load only); `pipeline`: as validate's."""
    path = Path(path)
    raw = _read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise LcpipeError(f"{path}: expected sections like 'train:' at the top level")
    sections = {f.name: f.type for f in dataclasses.fields(Params)}
    hints = typing.get_type_hints(Params)
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise LcpipeError(f"{unknown[0]}: unknown section; allowed: {', '.join(sections)}")
    return validate(Params(**{k: _section(k, hints[k], v) for k, v in raw.items()}), pipeline)


def as_dict(section: object) -> dict:
    """A section as a plain dict (for hashing and sidecar files)."""
    return dataclasses.asdict(section)
