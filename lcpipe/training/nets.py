"""One builder for ResNet/Plain-{18, 34, 50, 101} (He et al. 2016).

A plain net is the same net with `shortcut=False`: no identity and no projection shortcut at
all, so its parameter count is the ResNet's minus the projection-shortcut parameters. With stem
'imagenet', width 64 and 1000 classes the ResNets match torchvision's resnet34/resnet50 exactly
(v1.5: the stride sits on the bottleneck's 3x3 conv).
"""

from __future__ import annotations

from torch import Tensor, nn

from lcpipe.config import parse_arch

# depth -> (bottleneck?, blocks per stage)
LAYOUTS = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
    101: (True, (3, 4, 23, 3)),
}


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]


class Block(nn.Module):
    """A basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1) block, with or without its shortcut."""

    def __init__(self, cin: int, mid: int, stride: int, bottleneck: bool, shortcut: bool):
        super().__init__()
        cout = mid * 4 if bottleneck else mid
        if bottleneck:
            layers = [*_conv_bn(cin, mid, 1), nn.ReLU(inplace=True),
                      *_conv_bn(mid, mid, 3, stride), nn.ReLU(inplace=True),
                      *_conv_bn(mid, cout, 1)]
        else:
            layers = [*_conv_bn(cin, mid, 3, stride), nn.ReLU(inplace=True), *_conv_bn(mid, cout, 3)]
        self.body = nn.Sequential(*layers)
        self.shortcut = None
        if shortcut:
            needs_projection = stride != 1 or cin != cout
            self.shortcut = nn.Sequential(*_conv_bn(cin, cout, 1, stride)) if needs_projection else nn.Identity()
        self.relu = nn.ReLU(inplace=True)
        self.out_channels = cout

    def forward(self, x: Tensor) -> Tensor:
        y = self.body(x)
        if self.shortcut is not None:
            y = y + self.shortcut(x)
        return self.relu(y)


def build_net(arch: str, num_classes: int, in_channels: int = 3, width: int = 64,
              stem: str = "cifar") -> nn.Module:
    """Build e.g. 'resnet50' or 'plain34'. stem 'cifar': 3x3/1 conv, no max-pool (small images);
    'imagenet': 7x7/2 conv + 3x3/2 max-pool. `width` is the first stage's channel count."""
    depth, shortcut = parse_arch(arch)
    bottleneck, counts = LAYOUTS[depth]
    if stem == "imagenet":
        layers = [nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    else:
        layers = [*_conv_bn(in_channels, width, 3), nn.ReLU(inplace=True)]
    cin = width
    for stage, count in enumerate(counts):
        for i in range(count):
            block = Block(cin, width * 2**stage, 2 if (stage > 0 and i == 0) else 1, bottleneck, shortcut)
            layers.append(block)
            cin = block.out_channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    net = nn.Sequential(*layers)
    _init(net)
    return net


def _init(net: nn.Module) -> None:
    """torchvision's initialisation: Kaiming-normal (fan_out) convs, BN weight 1 / bias 0."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
