import pytest
import torch
import torchvision

from lcpipe.errors import LcpipeError
from lcpipe.training.nets import Block, build_net, count_params


def projection_params(net) -> int:
    return sum(count_params(m.shortcut) for m in net.modules()
               if isinstance(m, Block) and isinstance(m.shortcut, torch.nn.Sequential))


@pytest.mark.parametrize("depth, reference", [(34, torchvision.models.resnet34),
                                              (50, torchvision.models.resnet50)])
def test_imagenet_resnets_match_torchvision_parameter_counts(depth, reference):
    ours = build_net(f"resnet{depth}", 1000, 3, width=64, stem="imagenet")
    assert count_params(ours) == count_params(reference())


@pytest.mark.parametrize("depth", [18, 34, 50, 101])
def test_plain_net_is_resnet_minus_projection_shortcuts(depth):
    resnet = build_net(f"resnet{depth}", 1000, 3, width=64, stem="imagenet")
    plain = build_net(f"plain{depth}", 1000, 3, width=64, stem="imagenet")
    assert projection_params(resnet) > 0
    assert count_params(plain) == count_params(resnet) - projection_params(resnet)
    assert all(m.shortcut is None for m in plain.modules() if isinstance(m, Block))


@pytest.mark.parametrize("arch", ["resnet18", "plain34", "resnet50", "plain101"])
def test_cifar_stem_runs_small_images_with_dataset_channels_and_classes(arch):
    net = build_net(arch, num_classes=7, in_channels=1, width=4, stem="cifar")
    out = net(torch.randn(2, 1, 8, 8))
    assert out.shape == (2, 7)


def test_identity_shortcut_changes_the_output():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 8, 8)
    with_sc = Block(8, 8, 1, bottleneck=False, shortcut=True).eval()
    without = Block(8, 8, 1, bottleneck=False, shortcut=False).eval()
    without.load_state_dict(with_sc.state_dict())
    assert not torch.allclose(with_sc(x), without(x))


def test_unknown_arch_is_a_clear_error():
    with pytest.raises(LcpipeError, match="unknown arch 'resnet35'"):
        build_net("resnet35", 10)
