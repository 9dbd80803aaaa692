"""The probe classifiers: a small CNN trained from scratch, or a torchvision backbone
fine-tuned from a local weights file. Nothing here downloads anything."""

import os

import torch
from torch import nn


class WeightsError(Exception):
    """A --weights file that is missing or does not fit the backbone (BAD_WEIGHTS)."""


def small_cnn(num_classes):
    """Four conv blocks (16 to 128 channels, each halving the image), global average, linear.

    GroupNorm, not BatchNorm: a probe trained for a few dozen steps has no settled running
    statistics, and BatchNorm then tests far worse than it trains."""
    layers = []
    channels = 3
    for width in (16, 32, 64, 128):
        layers += [
            nn.Conv2d(channels, width, 3, padding=1, bias=False),
            nn.GroupNorm(8, width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        ]
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


def resnet18(num_classes, weights):
    """torchvision's ResNet-18 built without weights, loaded from the local file `weights`
    (a state dict, e.g. resnet18-f37072fd.pth), with a new last layer for `num_classes`."""
    import torchvision

    if not weights:
        raise WeightsError(
            "--backbone resnet18 needs --weights <file>: a local ResNet-18 state dict "
            "(e.g. resnet18-f37072fd.pth); synthline never downloads weights"
        )
    if not os.path.isfile(weights):
        raise WeightsError("--weights %s: no such file" % weights)
    model = torchvision.models.resnet18(weights=None)
    try:
        state = torch.load(weights, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        model.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - any failure to load is the file's fault
        raise WeightsError("--weights %s is not a ResNet-18 state dict: %s" % (weights, err))
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def build(backbone, num_classes, weights=""):
    """The probe named by `backbone` (see protocol.BACKBONES)."""
    if backbone == "resnet18":
        return resnet18(num_classes, weights)
    return small_cnn(num_classes)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
