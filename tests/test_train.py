import dataclasses

import pytest
import torch

from lcpipe.config import TrainParams
from lcpipe.curve import format_rows
from lcpipe.training import checkpoint, data
from lcpipe.training.loop import augment, lr_at, train_curve

DS = data.synthetic(0, 96, 48, size=8)
TINY = TrainParams(epochs=4, width=4, batch_size=32, lr=0.02)


def test_cosine_and_step_schedules_with_warmup():
    cos = TrainParams(epochs=10, lr=0.1, schedule="cosine")
    assert lr_at(1, cos) == pytest.approx(0.1) and lr_at(10, cos) < 0.01
    assert all(lr_at(e, cos) >= lr_at(e + 1, cos) for e in range(1, 10))
    step = TrainParams(epochs=10, lr=0.1, schedule="step", milestones=[3, 6], gamma=0.1)
    assert [round(lr_at(e, step), 6) for e in (3, 4, 6, 7)] == [0.1, 0.01, 0.01, 0.001]
    warm = dataclasses.replace(cos, warmup_epochs=2)
    assert lr_at(1, warm) < lr_at(2, warm) < 0.1


def test_augment_is_a_padded_crop_with_optional_flip():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).reshape(2, 3, 32, 32)
    centre = augment(x, torch.tensor([[4, 4], [4, 4]]), torch.tensor([False, True]))
    assert torch.equal(centre[0], x[0]) and torch.equal(centre[1], x[1].flip(-1))
    corner = augment(x, torch.tensor([[0, 0], [8, 8]]), torch.tensor([False, False]))
    assert torch.equal(corner[0, :, 4:, 4:], x[0, :, :28, :28]) and (corner[0, :, :4] == 0).all()
    assert torch.equal(corner[1, :, :28, :28], x[1, :, 4:, 4:])


def test_training_on_cpu_gives_byte_identical_curve_files():
    a = train_curve("resnet18", DS, TINY, log=lambda _: None)
    b = train_curve("resnet18", DS, TINY, log=lambda _: None)
    assert len(a) == 4 and [r["epoch"] for r in a] == [1, 2, 3, 4]
    assert format_rows(a) == format_rows(b)  # no wall times in the artifact
    assert a[-1]["train_loss"] < a[0]["train_loss"]


class Interrupt(Exception):
    pass


def interrupt_after(epoch):
    def log(line):
        if f"epoch {epoch}/" in line:
            raise Interrupt
    return log


def test_interrupted_run_resumes_from_checkpoint_to_the_same_curve(tmp_path):
    ckpt = tmp_path / "ck.pt"
    full = train_curve("plain18", DS, TINY, log=lambda _: None)
    with pytest.raises(Interrupt):
        train_curve("plain18", DS, TINY, state_hash="h", checkpoint_path=ckpt, log=interrupt_after(2))
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2
    lines = []
    resumed = train_curve("plain18", DS, TINY, state_hash="h", checkpoint_path=ckpt, log=lines.append)
    assert "resuming after epoch 2" in lines[0] and len(lines) == 1 + 2
    assert resumed == full


def test_checkpoint_from_other_params_or_corrupt_is_discarded(tmp_path, capsys):
    ckpt = tmp_path / "ck.pt"
    with pytest.raises(Interrupt):
        train_curve("plain18", DS, TINY, state_hash="old", checkpoint_path=ckpt, log=interrupt_after(1))
    rows = train_curve("plain18", DS, TINY, state_hash="new", checkpoint_path=ckpt, log=lambda _: None)
    assert len(rows) == 4 and "written under other params" in capsys.readouterr().err
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # truncated
    rows = train_curve("plain18", DS, TINY, state_hash="new", checkpoint_path=ckpt, log=lambda _: None)
    assert len(rows) == 4 and "unreadable checkpoint" in capsys.readouterr().err


def test_checkpoint_from_other_training_code_is_discarded_saying_so(tmp_path, capsys, monkeypatch):
    ckpt = tmp_path / "ck.pt"
    key = checkpoint.state_key("plain18", dataclasses.asdict(TINY))
    with pytest.raises(Interrupt):
        train_curve("plain18", DS, TINY, state_hash=key, checkpoint_path=ckpt, log=interrupt_after(1))
    monkeypatch.setattr(checkpoint, "code_hash", lambda: "edited")  # the training code changed
    lines = []
    rows = train_curve("plain18", DS, TINY, log=lines.append, checkpoint_path=ckpt,
                       state_hash=checkpoint.state_key("plain18", dataclasses.asdict(TINY)))
    assert len(rows) == 4 and not any("resuming" in line for line in lines)
    assert "written by other training code" in capsys.readouterr().err


def test_code_hash_covers_every_module_of_the_training_package(tmp_path):
    (tmp_path / "nets.py").write_text("WIDTH = 64\n")
    (tmp_path / "loop.py").write_text("EPOCHS = 1\n")
    before = checkpoint.code_hash(tmp_path)
    (tmp_path / "nets.py").write_text("WIDTH = 32\n")
    assert checkpoint.code_hash(tmp_path) != before
    assert checkpoint.code_hash() in checkpoint.state_key("resnet18")


def test_train_compile_on_the_cpu_is_said_before_the_minutes_it_spends_compiling():
    """Red team (pipeline pass): `train.compile: true` on the CPU sat for minutes with no line before the first
    epoch while torch.compile built C++ kernels. A warning comes first, before the first step runs; the log here
    stops the run at that warning, so the test compiles nothing."""
    said = []

    class Said(Exception):
        pass

    def log(line):
        said.append(line)
        raise Said

    with pytest.raises(Said):
        train_curve("resnet18", DS, dataclasses.replace(TINY, compile=True), device=torch.device("cpu"), log=log)
    assert said == ["warning: resnet18: train.compile on the CPU builds C++ kernels for minutes before the first "
                    "epoch (it pays back on a GPU, for ResNet-50: README); set train.compile: false to start at once"]
