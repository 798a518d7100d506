"""``maskgan``: a mask- and hint-conditioned U-Net colorizer (EfficientNet-Lite0 encoder).

Inputs (normalised inside ``forward``): L (0-100), the mask (where colour goes), the hint ab
map and the hint mask. Output: ab, ``tanh * AB_SCALE``. The decoder upsamples with bilinear
interpolation followed by 3x3 convolutions (no transposed convolutions, so no checkerboard).
The network is trained to predict ab = 0 outside the mask, but the app still composites with
the mask itself; the model only predicts.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .encoder import IN_CHANNELS, SKIP_CHANNELS, LiteEncoder
from .types import CancelCheck, Cancelled, ColorizeRequest, ModelError

ARCH = "maskgan-unet-efflite0-v1"
AB_SCALE = 110.0  # |ab| of sRGB colours stays under ~110 except for a few extreme blues
DECODER = (128, 64, 48, 32, 16)  # channels at strides 16, 8, 4, 2, 1
MULTIPLE = 32  # the encoder downsamples 5 times


def normalise_inputs(L: torch.Tensor, mask: torch.Tensor, hint_ab: torch.Tensor, hint_mask: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W) L 0-100, (B,1,H,W) mask, (B,2,H,W) hint ab, (B,1,H,W) hint mask -> (B,5,H,W)."""
    return torch.cat([(L - 50.0) / 50.0, mask, hint_ab / AB_SCALE, hint_mask], dim=1)


class _Up(nn.Module):
    """Upsample x2 (bilinear), concatenate the skip, then 3x3 convs."""

    def __init__(self, cin: int, cskip: int, cout: int, convs: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = cin + cskip
        for _ in range(convs):
            layers += [nn.Conv2d(c, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            c = cout
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], dim=1))


class MaskGANGenerator(nn.Module):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        self.encoder = LiteEncoder(pretrained=pretrained)
        s1, s2, s3, s4, s5 = SKIP_CHANNELS
        d16, d8, d4, d2, d1 = DECODER
        self.up16 = _Up(s5, s4, d16)
        self.up8 = _Up(d16, s3, d8)
        self.up4 = _Up(d8, s2, d4)
        self.up2 = _Up(d4, s1, d2)
        # full resolution is the most expensive level: one conv, few channels
        self.up1 = _Up(d2, IN_CHANNELS, d1, convs=1)
        self.head = nn.Conv2d(d1, 2, 3, padding=1)
        nn.init.zeros_(self.head.bias)
        nn.init.normal_(self.head.weight, std=1e-3)  # start near grey, the L1-optimal guess

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 5, H, W) from ``normalise_inputs`` -> ab (B, 2, H, W). Any H, W."""
        h, w = x.shape[-2:]
        ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        f2, f4, f8, f16, f32 = self.encoder(x)
        y = self.up16(f32, f16)
        y = self.up8(y, f8)
        y = self.up4(y, f4)
        y = self.up2(y, f2)
        y = self.up1(y, x)
        ab = torch.tanh(self.head(y)) * AB_SCALE
        return ab[..., :h, :w]


class PatchDiscriminator(nn.Module):
    """PatchGAN (70x70-style, shallower for 64 px photos) conditioned on L and the mask."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(4, width, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(width, width * 2, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(width * 2, width * 4, 4, 1, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(width * 4, 1, 4, 1, 1)),
        )

    def forward(self, L: torch.Tensor, mask: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([(L - 50.0) / 50.0, mask, ab / AB_SCALE], dim=1))


def default_config() -> dict:
    return {"ab_scale": AB_SCALE, "decoder": list(DECODER), "in_channels": IN_CHANNELS, "chroma_gain": 1.0,
            "chroma_power": 0.0, "hint_input": True, "hint_residual": False}


def apply_chroma_curve(ab: torch.Tensor, gain: float, power: float = 0.0, ref: float = 20.0) -> torch.Tensor:
    """ab * gain * (|ab| / ref) ** power along the channel axis (dim -3), hue unchanged.

    A network trained with an L1-type loss under-saturates (grey is its safe answer); this
    calibrated curve restores colourfulness, boosting confident (strong) colours more when
    ``power`` > 0. Chroma is capped at AB_SCALE.
    """
    if gain == 1.0 and power == 0.0:
        return ab
    c = ab.norm(dim=-3, keepdim=True)
    scale = gain * (c / ref).clamp_min(1e-6).pow(power) if power else torch.full_like(c, gain)
    new_c = (c * scale).clamp_max(AB_SCALE)
    return ab * (new_c / c.clamp_min(1e-6))


class MaskGANColorizer:
    """Runs the generator for the engine: numpy request in, ab (h, w, 2) float32 out."""

    name = "maskgan"

    def __init__(self, net: MaskGANGenerator, meta: dict, device: str = "cpu") -> None:
        # channels-last convolutions run faster on the CPU (bench/model_speed.py: "layout")
        self.net = net.to(device).eval().to(memory_format=torch.channels_last)
        self.meta = meta
        self.device = device
        cfg = meta.get("config", {})
        self.gain = float(cfg.get("chroma_gain", 1.0))
        # [[long side px, gain], ...]: the network's colour strength depends on the work size
        # (it saturates more on larger inputs), so the calibrated gain may too
        self.gain_by_size = [tuple(map(float, p)) for p in cfg.get("chroma_gain_by_size", [])]
        self.power = float(cfg.get("chroma_power", 0.0))
        self.hint_input = bool(cfg.get("hint_input", True))
        self.hint_residual = bool(cfg.get("hint_residual", False))
        self._lock = threading.Lock()  # one forward at a time per loaded network

    def predict(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray:
        def check() -> None:
            if cancel is not None and cancel():
                raise Cancelled()

        check()
        dev = torch.device(self.device)
        t = lambda a: torch.from_numpy(np.array(a, np.float32)).to(dev)  # noqa: E731  (a copy: requests are read-only)
        L = t(request.L)[None, None]
        mask = t(request.mask)[None, None]
        has_hints = bool(np.any(request.hint_mask > 0))
        if has_hints and self.hint_input:
            hint_mask = t(request.hint_mask)[None, None]
            hint_ab = t(request.hint_ab).permute(2, 0, 1)[None] * hint_mask
        else:
            hint_mask, hint_ab = torch.zeros_like(L), torch.zeros_like(L).repeat(1, 2, 1, 1)
        x = normalise_inputs(L, mask, hint_ab, hint_mask).contiguous(memory_format=torch.channels_last)
        check()
        with self._lock, torch.inference_mode():
            if dev.type == "cuda":
                with torch.autocast("cuda", dtype=torch.float16):
                    ab = self.net(x).float()
            else:
                ab = self.net(x)
        check()
        ab = apply_chroma_curve(ab[0].float(), self.gain_for(max(request.L.shape)), self.power)
        out = ab.permute(1, 2, 0).cpu().numpy().astype(np.float32)
        if has_hints and self.hint_residual:
            out = self._follow_hints(out, request, cancel)
        return out

    def gain_for(self, long_side: int) -> float:
        """The calibrated chroma gain at this work size (log-linear between calibrated sizes)."""
        pts = sorted(self.gain_by_size)
        if not pts:
            return self.gain
        if long_side <= pts[0][0]:
            return pts[0][1]
        if long_side >= pts[-1][0]:
            return pts[-1][1]
        for (s0, g0), (s1, g1) in zip(pts, pts[1:]):
            if s0 <= long_side <= s1:
                t = (np.log(long_side) - np.log(s0)) / (np.log(s1) - np.log(s0))
                return float(g0 + t * (g1 - g0))
        return self.gain

    @staticmethod
    def _follow_hints(ab: np.ndarray, request: ColorizeRequest, cancel: CancelCheck | None) -> np.ndarray:
        """Honour the hints exactly: spread (hint - prediction) over similar lightness (Levin 2004).

        The network places plausible colours everywhere; the hints say what the artist wants.
        Propagating only the *difference* keeps the network's colours where no hint reaches
        and bends them towards each hint along regions of similar lightness. Hinted pixels end
        exactly at the hint colour.
        """
        from .hintprop import propagate_coarse

        hm = np.asarray(request.hint_mask, np.float32)
        residual = (np.asarray(request.hint_ab, np.float32) - ab) * hm[..., None]
        # the residual is smooth: spread at 128 px and upsampled (bench/hintprop.py --residual)
        return ab + propagate_coarse(request.L, residual, hm, request.mask, cancel)


def load_maskgan(path: str | Path | None = None, device: str = "cpu", extra_dirs=()) -> MaskGANColorizer:
    """Build the generator and load checked safetensors weights (no ImageNet .pth needed)."""
    from .checkpoint import find_weights, load_weights

    if path is None:
        path = find_weights("maskgan", extra_dirs)
        if path is None:
            raise ModelError("No maskgan weights found: reinstall Huebrush or run 'huebrush models import maskgan.safetensors'.")
    state, meta = load_weights(path, ARCH)
    net = MaskGANGenerator(pretrained=False)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError:
        raise ModelError(f"{Path(path).name} does not fit the maskgan network: re-export it with this version of Huebrush.") from None
    return MaskGANColorizer(net, meta, device)
