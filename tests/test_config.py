import dataclasses

import pytest
import yaml

from lcpipe.config import Params, load_params
from lcpipe.errors import LcpipeError
from tests.helpers import ROOT


def write(tmp_path, text: str):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def with_change(tmp_path, section: str, key: str, value):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params[section][key] = value
    return write(tmp_path, yaml.safe_dump(params))


def test_committed_params_are_valid():
    p = load_params(ROOT / "params.yaml")
    assert p.predict.target in p.train.archs


def test_defaults_are_said_once_params_yaml_equals_the_dataclass_defaults():
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert raw == dataclasses.asdict(Params()), "params.yaml and config.py defaults disagree"
    assert load_params(ROOT / "params.yaml") == Params()


def test_floats_in_exponent_notation_are_floats(tmp_path):
    """YAML 1.1 (PyYAML) reads `1e-3` as a string; DVC's YAML 1.2 as a float: both must work."""
    p = load_params(write(tmp_path, "train:\n  lr: 1e-3\n  weight_decay: 5.0E-4\n"))
    assert (p.train.lr, p.train.weight_decay) == (0.001, 0.0005)
    with pytest.raises(LcpipeError, match="train.lr: 'fast' is not a number"):
        load_params(write(tmp_path, "train:\n  lr: fast\n"))
    with pytest.raises(LcpipeError, match="train.epochs: '1e2' is not a whole number"):
        load_params(write(tmp_path, "train:\n  epochs: 1e2\n"))


@pytest.mark.parametrize("section, key, value, message", [
    ("predict", "cutof", 10, r"predict.cutof: unknown key; allowed keys in predict: target, cutoff"),
    ("train", "epochs", "ten", r"train.epochs: 'ten' is not a whole number"),
    ("train", "epochs", 0, r"train.epochs: 0 is not allowed; it must be > 0"),
    ("train", "lr", -0.1, r"train.lr: -0.1 is not allowed; it must be > 0"),
    ("train", "width", 0, r"train.width: 0 .* > 0"),
    ("train", "batch_size", -1, r"train.batch_size: -1 .* > 0"),
    ("train", "archs", ["resnet34", "resnet35"], r"train.archs: unknown arch 'resnet35'"),
    ("data", "dataset", "mnist", r"data.dataset: 'mnist' .* digits, cifar10, cifar100, synthetic"),
    ("predict", "predictors", ["poly", "poly"], r"predict.predictors: .* list each entry once"),
    ("sweep", "cutoffs", [5, 50], r"sweep.cutoffs: 50 .* \[5, 49\]"),
    ("sweep", "cutoffs", [], r"sweep.cutoffs: \[\] .* give at least one"),
    ("poly", "fit_on", "sources", r"poly.fit_on: 'sources' .* choose one of prefix, pooled"),
    ("auto", "final_quantile", 1.0, r"auto.final_quantile: 1.0 is not allowed; it must lie in \[0.5, 1\)"),
    ("predict", "target", "resnet18", r"predict.target: 'resnet18' .* choose one of resnet34"),
    ("predict", "cutoff", 4, r"predict.cutoff: 4 .* \[5, 49\]"),
    ("predict", "cutoff", 50, r"predict.cutoff: 50 .* \[5, 49\]"),
    ("features", "metric", "val_acc", r"features.metric: 'val_acc'"),
    ("train", "augment", "yes", r"train.augment: 'yes' is not true or false"),
])
def test_bad_value_is_refused_naming_key_value_and_what_is_allowed(tmp_path, section, key, value, message):
    with pytest.raises(LcpipeError, match=message) as err:
        load_params(with_change(tmp_path, section, key, value))
    assert "\n" not in str(err.value)


def test_unknown_section_and_broken_yaml_are_one_line_errors(tmp_path):
    with pytest.raises(LcpipeError, match="predcit: unknown section"):
        load_params(write(tmp_path, "predcit:\n  cutoff: 5\n"))
    with pytest.raises(LcpipeError, match="not valid YAML"):
        load_params(write(tmp_path, "train: [\n"))
    with pytest.raises(LcpipeError, match="no such params file"):
        load_params(tmp_path / "missing.yaml")


def test_missing_keys_take_defaults_and_ints_are_accepted_as_floats(tmp_path):
    p = load_params(write(tmp_path, "train:\n  lr: 1\n"))
    assert p.train.lr == 1.0 and isinstance(p.train.lr, float)
    assert p.predict == Params().predict


def test_yaml_is_read_safely(tmp_path):
    with pytest.raises(LcpipeError):
        load_params(write(tmp_path, "train: !!python/object/apply:os.system ['echo pwned']\n"))


@pytest.mark.parametrize("section, key, value, message", [
    ("data", "seed", -1, r"data.seed: -1 .* \[0, 2\*\*31\)"),
    ("lstm", "seed", 2**40, r"lstm.seed: .* \[0, 2\*\*31\)"),
    ("data", "test_fraction", 1.5, r"data.test_fraction: 1.5 .* strictly between 0 and 1"),
])
def test_seeds_and_split_are_checked_before_any_work(tmp_path, section, key, value, message):
    with pytest.raises(LcpipeError, match=message):
        load_params(with_change(tmp_path, section, key, value))


def test_a_split_too_small_for_stratification_is_a_clear_error():
    from lcpipe.training.data import digits

    with pytest.raises(LcpipeError, match="data.test_fraction: 0.003 cannot split"):
        digits(0, 0.003)


def test_the_pipeline_file_given_as_params_says_so_not_what_its_plot_keys_mean():
    """`lcpipe evaluate --params dvc.yaml`: dvc.yaml's plots hold `y: test_acc`, whose `y` YAML 1.1 reads
    as a boolean; the line must name the mix-up, not the YAML version."""
    with pytest.raises(LcpipeError, match="dvc.yaml: is a DVC pipeline file .* give the params.yaml"):
        load_params(ROOT / "dvc.yaml")


@pytest.mark.parametrize("text, key", [
    ("\ufeffstages:\n  a:\n    cmd: x\nplots:\n  - f.csv:\n      y: acc\n", "stages"),  # a byte-order mark
    ('"stages":\n  a: {cmd: x}\n', "stages"),                                      # a quoted key
    ("plots:\n  - f.csv:\n      y: acc\n", "plots"),                               # a plots-only dvc.yaml
])
def test_any_pipeline_file_is_named_as_one(tmp_path, text, key):
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(LcpipeError, match=f"is a DVC pipeline file \\(it has '{key}:'\\)"):
        load_params(tmp_path / "p.yaml")


def test_a_params_file_that_mentions_stages_is_no_pipeline_file(tmp_path):
    """Only a top-level key marks dvc.yaml: a quoted value spanning a line that starts `stages:`, a
    comment and a nested key are a params file's own."""
    (tmp_path / "p.yaml").write_text('data:\n  root: "data/raw\nstages: old"\n# stages: none\n')
    assert load_params(tmp_path / "p.yaml").data.root == "data/raw stages: old"
    (tmp_path / "q.yaml").write_text("train:\n  stages: 3\n")
    with pytest.raises(LcpipeError, match="train.stages: unknown key"):
        load_params(tmp_path / "q.yaml")


@pytest.mark.parametrize("text, shown", [
    ("predict:\n  cutoff: 010\n", "'010'"),      # 8 to PyYAML (YAML 1.1), 10 to DVC (YAML 1.2)
    ("train:\n  augment: on\n", "'on'"),         # True to PyYAML, the string 'on' to DVC
    ("train:\n  augment: yes\n", "'yes'"),
])
def test_a_value_lcpipe_and_dvc_would_read_differently_is_refused(tmp_path, text, shown):
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(LcpipeError, match=f"line 2: {shown} means one value to lcpipe"):
        load_params(tmp_path / "p.yaml")


def test_a_yaml_alias_bomb_in_params_is_refused_at_once(tmp_path):
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\npredict: {cutoff: 5}\n"
    (tmp_path / "p.yaml").write_text(bomb)
    with pytest.raises(LcpipeError, match="aliases"):
        load_params(tmp_path / "p.yaml")


def test_quoted_and_plain_values_that_both_readers_agree_on_still_load(tmp_path):
    (tmp_path / "p.yaml").write_text("predict:\n  cutoff: 10\ntrain:\n  augment: true\n  lr: 1e-2\n")
    p = load_params(tmp_path / "p.yaml")
    assert p.predict.cutoff == 10 and p.train.augment is True and p.train.lr == 0.01
