"""The published designs Huebrush grew out of, as small trainer configurations to compare.

Each module holds one network a reader can hold in their head and the loss it was trained with;
``training.zoo.loop`` is the one shared training loop and ``training.zoo.ablation`` trains every
configuration for the same budget and measures them beside the shipped models.

    fusion              CIFAR-10-style encoder + classifier + fusion + transposed-conv decoder
    unet-ssim           five-level U-Net, MAE then SSIM, then a short GAN fine-tune
    autoencoder         the 8-layer encoder / decoder
    autoencoder-merged  the same with a frozen pretrained classifier's pooled features at the bottleneck
Any of them with ``--colour-space ycbcr`` predicts CbCr instead of Lab ab.
"""
from __future__ import annotations

NAMES = ("fusion", "unet-ssim", "autoencoder", "autoencoder-merged")


def build(name: str, colour_space: str = "lab", width: float = 1.0, num_classes: int = 200):
    """The network for a configuration name (``NAMES``)."""
    from .nets import Autoencoder, FusionNet, UNet

    if name == "fusion":
        return FusionNet(num_classes=num_classes, width=width, colour_space=colour_space)
    if name == "unet-ssim":
        return UNet(width=width, colour_space=colour_space)
    if name in ("autoencoder", "autoencoder-merged"):
        return Autoencoder(merged=name.endswith("merged"), width=width, colour_space=colour_space)
    raise ValueError(f"unknown configuration {name!r}: choose one of {', '.join(NAMES)}")
