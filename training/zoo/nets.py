"""The zoo's networks: grey channel in ([-1, 1], (B, 1, H, W)), two colour channels out (about [-1, 1]).

Every ``forward`` returns ``(colour, class_logits or None)``. Kernels are 3x3 at stride 1 and 4x4
at stride 2 (stride-2 layers whose kernel the stride divides: no checkerboard); batch norm and
ReLU follow every layer but the outputs. ``width`` scales every channel count (1.0: the design's).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _ch(n: int, width: float) -> int:
    return max(4, int(round(n * width)))


def conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    k = 4 if stride == 2 else 3
    pad = 1 if stride == 2 else dilation
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def up(cin: int, cout: int) -> nn.Sequential:
    """A stride-2 transposed convolution (4x4) + BN + ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _pad_to(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return (F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x), h, w


class FusionNet(nn.Module):
    """CIFAR-10-style baseline: an encoder of three stride-2 convolutions plus a dilated one; a
    classifier of fully connected layers on the encoder's pooled output; the classifier's hidden
    vector fused into every encoder location (1x1 conv); a decoder of two stride-2 transposed
    convolutions (the colour comes out at half size and is upsampled bilinearly)."""

    def __init__(self, num_classes: int = 200, width: float = 1.0, colour_space: str = "lab") -> None:
        super().__init__()
        c = lambda n: _ch(n, width)  # noqa: E731
        self.colour_space = colour_space
        self.encoder = nn.Sequential(conv(1, c(64), 2), conv(c(64), c(128), 2), conv(c(128), c(256), 2),
                                     conv(c(256), c(256), dilation=2))
        self.classifier_hidden = nn.Sequential(nn.Linear(c(256), c(256)), nn.BatchNorm1d(c(256)), nn.ReLU(inplace=True))
        self.classifier_out = nn.Linear(c(256), num_classes)
        self.fusion = nn.Sequential(nn.Conv2d(2 * c(256), c(256), 1, bias=False), nn.BatchNorm2d(c(256)), nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(up(c(256), c(128)), up(c(128), c(64)))
        self.head = nn.Conv2d(c(64), 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, h, w = _pad_to(x, 8)
        f = self.encoder(x)
        hidden = self.classifier_hidden(f.mean((2, 3)))
        logits = self.classifier_out(hidden)
        f = self.fusion(torch.cat([f, hidden[:, :, None, None].expand(-1, -1, *f.shape[-2:])], 1))
        y = self.head(self.decoder(f))
        y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.tanh(y[..., :h, :w]), logits


class UNet(nn.Module):
    """Portrait-style five-level U-Net: the encoder halves four times to 1/16 at 512 channels; the
    decoder upsamples, convolves and concatenates the skip; a sigmoid output (mapped to [-1, 1])."""

    def __init__(self, width: float = 1.0, colour_space: str = "lab") -> None:
        super().__init__()
        c = lambda n: _ch(n, width)  # noqa: E731
        self.colour_space = colour_space
        chans = [c(64), c(128), c(256), c(512), c(512)]
        self.stem = nn.Sequential(conv(1, chans[0]), conv(chans[0], chans[0]))
        self.downs = nn.ModuleList([nn.Sequential(conv(chans[i], chans[i + 1], 2), conv(chans[i + 1], chans[i + 1]))
                                    for i in range(4)])
        self.ups = nn.ModuleList([nn.Sequential(conv(chans[i + 1], chans[i])) for i in reversed(range(4))])
        self.merges = nn.ModuleList([conv(2 * chans[i], chans[i]) for i in reversed(range(4))])
        self.head = nn.Conv2d(chans[0], 2, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        x, h, w = _pad_to(x, 16)
        skips = [self.stem(x)]
        for d in self.downs:
            skips.append(d(skips[-1]))
        y = skips.pop()
        for up_conv, merge in zip(self.ups, self.merges):
            skip = skips.pop()
            y = up_conv(F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False))
            y = merge(torch.cat([y, skip], 1))
        return torch.sigmoid(self.head(y))[..., :h, :w] * 2 - 1, None


class Autoencoder(nn.Module):
    """The 8-layer encoder / decoder; ``merged`` adds a frozen ImageNet classifier's pooled
    features (EfficientNet-Lite0, the encoder the app ships) at the bottleneck."""

    def __init__(self, merged: bool = False, width: float = 1.0, colour_space: str = "lab") -> None:
        super().__init__()
        c = lambda n: _ch(n, width)  # noqa: E731
        self.colour_space = colour_space
        self.encoder = nn.Sequential(conv(1, c(64), 2), conv(c(64), c(128)), conv(c(128), c(128), 2), conv(c(128), c(256)),
                                     conv(c(256), c(256), 2), conv(c(256), c(512)), conv(c(512), c(512)), conv(c(512), c(256)))
        self.merged = merged
        extra = 0
        if merged:
            from models.encoder import LiteEncoder

            self.classifier = LiteEncoder(pretrained=True).eval().requires_grad_(False)
            extra = 320
            self.fuse = nn.Sequential(nn.Conv2d(c(256) + extra, c(256), 1, bias=False), nn.BatchNorm2d(c(256)),
                                      nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(conv(c(256), c(128)), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                     conv(c(128), c(64)), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                     conv(c(64), c(32)), conv(c(32), c(16)),
                                     nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
        self.head = nn.Conv2d(c(16), 2, 3, padding=1)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.merged:
            self.classifier.eval()  # frozen: its batch norm statistics stay ImageNet's
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        x, h, w = _pad_to(x, 32 if self.merged else 8)
        f = self.encoder(x)
        if self.merged:
            with torch.no_grad():
                g = self.classifier(torch.cat([x, torch.zeros_like(x).repeat(1, 4, 1, 1)], 1))[-1].mean((2, 3))
            f = self.fuse(torch.cat([f, g[:, :, None, None].expand(-1, -1, *f.shape[-2:])], 1))
        return torch.tanh(self.head(self.decoder(f)))[..., :h, :w], None


class PatchDiscriminator(nn.Module):
    """A small PatchGAN on (grey, colour) for the U-Net's GAN fine-tune."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(sn(nn.Conv2d(3, width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
                                 sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
                                 sn(nn.Conv2d(2 * width, 1, 3, 1, 1)))

    def forward(self, grey: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([grey, colour], 1))
