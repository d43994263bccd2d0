import dataclasses
import urllib.error

import numpy as np
import pytest
import torch

from lcpipe.config import DataParams
from lcpipe.errors import LcpipeError
from lcpipe.training import data


def test_digits_is_a_stratified_fixed_seed_split():
    a, b = data.digits(0, 0.25), data.digits(0, 0.25)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert a.train_x.shape[1:] == (1, 8, 8) and a.num_classes == 10
    assert len(a.train_y) + len(a.test_y) == 1797
    train_share = np.bincount(a.train_y.numpy()) / len(a.train_y)
    test_share = np.bincount(a.test_y.numpy()) / len(a.test_y)
    assert np.abs(train_share - test_share).max() < 0.01
    assert not torch.equal(data.digits(1, 0.25).test_y, a.test_y)


def test_synthetic_has_requested_shape_and_is_learnable_by_class_means():
    ds = data.synthetic(0, 200, 100, size=8)
    assert ds.train_x.shape == (200, 3, 8, 8) and ds.test_x.shape == (100, 3, 8, 8)
    means = torch.stack([ds.train_x[ds.train_y == c].mean(0) for c in range(10)])
    dist = ((ds.test_x[:, None] - means[None]) ** 2).flatten(2).sum(-1)
    assert (dist.argmin(1) == ds.test_y).float().mean() > 0.5


def test_save_and_read_roundtrip(tmp_path):
    ds = data.synthetic(0, 16, 8, size=4)
    data.save(ds, tmp_path / "d.npz")
    back = data.read(tmp_path / "d.npz")
    assert torch.equal(back.train_x, ds.train_x) and back.num_classes == 10


@pytest.mark.parametrize("damage", ["not a zip", "truncated"])
def test_damaged_prepared_file_is_a_clear_error(tmp_path, damage):
    path = tmp_path / "d.npz"
    if damage == "truncated":  # a prepare stage killed half-way through a copy
        data.save(data.synthetic(0, 16, 8, size=4), path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_bytes(b"not a zip")
    with pytest.raises(LcpipeError, match="rerun `dvc repro prepare`"):
        data.read(path)


def test_cifar_offline_says_which_files_to_put_where(tmp_path, monkeypatch):
    """Never the network: torchvision's download is replaced by what an offline machine gets."""
    from torchvision.datasets import cifar

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError(f"no network in tests ({url})")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with pytest.raises(LcpipeError, match=r"cifar-10-python.tar.gz .*" + str(tmp_path / "raw")):
        settings = dataclasses.asdict(dataclasses.replace(DataParams(), dataset="cifar10", root=tmp_path / "raw"))
        data.load(settings.pop("dataset"), **settings)
