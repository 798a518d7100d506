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

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .encoder import IN_CHANNELS, SKIP_CHANNELS, LiteEncoder
from .types import CancelCheck, Cancelled, ColorizeRequest, ModelError
from .upsample import shrink_inputs

ARCH = "maskgan-unet-efflite0-v1"
AB_SCALE = 110.0  # |ab| of sRGB colours stays under ~110 except for a few extreme blues
DECODER = (128, 64, 48, 32, 16)  # channels at strides 16, 8, 4, 2, 1
MULTIPLE = 32  # the encoder downsamples 5 times
# the mirrored pass goes in one batch with the photo up to this many pixels, one after the other
# above (2-core CPU, raw network, median of 15: 256 x 192 batched 33.6 ms vs 37.5, 128 x 96 11.1 vs
# 16.2, but 512 x 384 177.8 vs 146.8 ms)
FLIP_BATCH_MAX_PIXELS = 256 * 256
MIN_SCALE_SIDE = 128  # a scale below 1 is only used while the photo's long side stays this large


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


def apply_chroma_curve(ab: torch.Tensor, gain: float, power: float = 0.0, ref: float = 20.0,
                       factor: torch.Tensor | None = None) -> torch.Tensor:
    """ab * gain * (|ab| / ref) ** power along the channel axis (dim -3), hue unchanged.

    A network trained with an L1-type loss under-saturates (grey is its safe answer); this
    calibrated curve restores colourfulness, boosting confident (strong) colours more when
    ``power`` > 0. ``factor`` (broadcastable to ab's (..., 1, h, w)) scales each pixel further,
    e.g. by its lightness (``lightness_factor``). Chroma is capped at AB_SCALE.
    """
    if gain == 1.0 and power == 0.0 and factor is None:
        return ab
    c = ab.norm(dim=-3, keepdim=True)
    scale = gain * (c / ref).clamp_min(1e-6).pow(power) if power else torch.full_like(c, gain)
    if factor is not None:
        scale = scale * factor
    new_c = (c * scale).clamp_max(AB_SCALE)
    return ab * (new_c / c.clamp_min(1e-6))


def lightness_factor(L, table) -> torch.Tensor | None:
    """Per-pixel chroma factor from lightness: ``table`` is [[L, factor], ...] (linear between
    points, constant beyond them); None when there is no table.

    The network's colour is least reliable in the shadows (a dark pixel's chroma is small and
    hard to infer), so the calibrated table usually damps dark pixels and lets light ones keep
    more (``training/export.py`` fits it on training photos and uses it at a work size only where
    it scores better on the calibration photos). ``L`` is an array or tensor of any shape (0-100).
    """
    if not table:
        return None
    xs, ys = zip(*sorted((float(a), float(b)) for a, b in table))
    L_np = L.detach().cpu().numpy() if isinstance(L, torch.Tensor) else np.asarray(L)
    return torch.from_numpy(np.interp(L_np, xs, ys).astype(np.float32))


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
        # [[L, factor], ...]: the gain per pixel also depends on its lightness (lightness_factor)
        self.chroma_by_lightness = [tuple(map(float, p)) for p in cfg.get("chroma_by_lightness", [])]
        # [[long side px, weight], ...]: how much of that curve applies at a work size (it is fitted
        # and calibrated on large photos; 64 px photos may be better without it). Empty: all of it.
        self.lightness_weight_by_size = [tuple(map(float, p)) for p in cfg.get("chroma_by_lightness_weight_by_size", [])]
        # [[number of hints, trust], ...]: with hints, the network's own colours are scaled by
        # this before the hints' residual is spread; the more hints, the more they say alone
        self.hint_trust_by_count = [tuple(map(float, p)) for p in cfg.get("hint_trust_by_count", [])]
        # the same, calibrated at several hint reaches: [[reach, [[count, trust], ...]], ...]
        self.hint_trust_by_reach = [(float(r), [tuple(map(float, p)) for p in table])
                                    for r, table in cfg.get("hint_trust_by_reach", [])]
        # the network runs at each of these scales of the work size and the results are averaged
        self.scales = [float(x) for x in cfg.get("scales", [1.0])]
        # from this work size (long side, px) up, each pass also runs on the mirrored photo and
        # the two are averaged (None: never); the export decides where it calibrates better
        flip = cfg.get("flip_min_side")
        self.flip_min_side = None if flip is None else int(flip)
        # the network never runs on a long side above this (px; None: at any work size): larger
        # work sizes get its colour at this size, upsampled guided by their own L. It learned on
        # 64-128 px photos and is calibrated up to 256 px; the export decides on large photos.
        cap = cfg.get("net_max_side")
        self.net_max_side = None if cap is None else int(cap)
        self.hint_input = bool(cfg.get("hint_input", True))
        self.hint_residual = bool(cfg.get("hint_residual", False))
        self._lock = threading.Lock()  # one forward at a time per loaded network

    def predict(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray:
        def check() -> None:
            if cancel is not None and cancel():
                raise Cancelled()

        check()
        L = np.asarray(request.L, np.float32)
        has_hints = bool(np.any(request.hint_mask > 0))
        hint_ab = np.asarray(request.hint_ab, np.float32) if has_hints and self.hint_input else None
        hint_mask = np.asarray(request.hint_mask, np.float32) if hint_ab is not None else None
        out = self.raw_ab(L, np.asarray(request.mask, np.float32), hint_ab, hint_mask, check)
        side = self.net_side(max(L.shape))  # the gain and curve are those of the size the network ran at
        ab = apply_chroma_curve(torch.from_numpy(out).permute(2, 0, 1), self.gain_for(side), self.power,
                                factor=self.lightness_factor_for(L, side))
        out = ab.permute(1, 2, 0).numpy().astype(np.float32)
        if has_hints and self.hint_residual:
            out = follow_hints(out, request, self.trust_for(count_hints(request.hint_mask), request.hint_reach), cancel)
        return out

    def raw_ab(self, L: np.ndarray, mask: np.ndarray, hint_ab: np.ndarray | None = None,
               hint_mask: np.ndarray | None = None, check=lambda: None) -> np.ndarray:
        """The network's ab (h, w, 2) before the chroma gain: the mean over the configured scales.

        Above ``net_max_side`` the inputs are first shrunk to it, and the result (all scales
        there) is upsampled guided by L to the work size. Scale 1 runs at the work size; each
        further scale (e.g. 0.5) runs the network on the photo shrunk by it, as long as its long
        side stays at least MIN_SCALE_SIDE, and its ab is upsampled guided by L. Where the scales
        agree the colour stays; where they do not (the network is unsure), averaging pulls it
        towards grey, which is what lowers the error at a given colourfulness
        (``training/export.py`` decides on training photos)."""
        from .upsample import upsample_ab

        side = self.net_side(max(L.shape))
        if side < max(L.shape):  # above the cap: run there, upsample guided by L
            small = shrink_inputs(side / max(L.shape), L, mask, hint_ab, hint_mask)
            return upsample_ab(self.raw_ab(*small, check), L)
        outs = []
        flip = self.flips_at(max(L.shape))
        for s in self.scales_for(max(L.shape)):
            if s == 1.0:
                outs.append(self._forward(L, mask, hint_ab, hint_mask, check, flip))
                continue
            small = self._forward(*shrink_inputs(s, L, mask, hint_ab, hint_mask), check, flip)
            outs.append(upsample_ab(small, L))
        return outs[0] if len(outs) == 1 else np.mean(outs, axis=0, dtype=np.float32)

    def scales_for(self, long_side: int) -> list[float]:
        return [s for s in self.scales if s == 1.0 or long_side * s >= MIN_SCALE_SIDE]

    def net_side(self, long_side: int) -> int:
        """The long side the network runs at for this work size."""
        return long_side if self.net_max_side is None else min(long_side, self.net_max_side)

    def flips_at(self, long_side: int) -> bool:
        return self.flip_min_side is not None and long_side >= self.flip_min_side

    def _forward(self, L, mask, hint_ab, hint_mask, check, flip: bool = False) -> np.ndarray:
        """One pass of the network at L's size: ab (h, w, 2) float32, no gain. With ``flip`` the
        mirrored inputs go through too and the mirrored-back result is averaged in: a colour the
        network gives only one way round is less sure, and comes out greyer."""
        from .maskgan_v2 import input_tensor  # the same five input planes (L, mask, hint ab, hint mask)

        dev = torch.device(self.device)
        x = input_tensor(L, mask, hint_ab, hint_mask, dev)
        if not flip:
            batches = [x]
        elif x.shape[-2] * x.shape[-1] <= FLIP_BATCH_MAX_PIXELS:
            batches = [torch.cat([x, x.flip(-1)])]
        else:
            batches = [x, x.flip(-1)]
        rows = []  # the photo's ab, then the mirrored photo's
        for xb in batches:
            check()
            xb = xb.contiguous(memory_format=torch.channels_last)
            with self._lock, torch.inference_mode():
                if dev.type == "cuda":
                    with torch.autocast("cuda", dtype=torch.float16):
                        out = self.net(xb)
                else:
                    out = self.net(xb)
            rows.extend(out.float())
        check()
        ab = (rows[0] + rows[1].flip(-1)) / 2 if flip else rows[0]
        return ab.permute(1, 2, 0).cpu().numpy().astype(np.float32)

    def lightness_factor_for(self, L: np.ndarray, side: int | None = None) -> torch.Tensor | None:
        """The per-pixel chroma factor for this L: the calibrated curve, weighted by the size the
        network ran at (``side``; default L's long side)."""
        f = lightness_factor(L, self.chroma_by_lightness)
        if f is None:
            return None
        w = _log_interp(self.lightness_weight_by_size, max(L.shape) if side is None else side, 1.0)
        return None if w <= 0.0 else (f if w >= 1.0 else 1.0 + w * (f - 1.0))

    def gain_for(self, long_side: int) -> float:
        """The calibrated chroma gain at this work size (log-linear between calibrated sizes)."""
        return _log_interp(self.gain_by_size, long_side, self.gain)

    def trust_for(self, n_hints: int, reach: float | None = None) -> float:
        """How much of the network's colour is kept near ``n_hints`` hints (calibrated, log-linear
        in the count; linear between the calibrated hint reaches)."""
        n = max(1, n_hints)
        tables = sorted(self.hint_trust_by_reach)
        if not tables or reach is None:
            return _log_interp(self.hint_trust_by_count, n, 1.0)
        return _interp([(r, _log_interp(t, n, 1.0)) for r, t in tables], reach, 1.0, log=False)


def follow_hints(ab: np.ndarray, request: ColorizeRequest, trust: float = 1.0,
                 cancel: CancelCheck | None = None) -> np.ndarray:
    """Honour the hints exactly: spread (hint - prediction) over similar lightness (Levin 2004).

    The network places plausible colours everywhere; the hints say what the artist wants.
    Near the hints the network's colour is first scaled by ``trust`` (calibrated by the number
    of hints: with hints, its own guess is worth less), fading back to all of it where the
    hints do not reach; then the difference to each hint is spread along regions of similar
    lightness, as far as ``request.hint_reach`` lets it. Hinted pixels end exactly at the hint
    colour.
    """
    from .hintprop import propagate_coarse, reach_lambda

    lam = reach_lambda(request.hint_reach)
    hm = np.asarray(request.hint_mask, np.float32)
    # At the hints the base is trust * ab, so their difference is known before anything is
    # spread; a third channel of ones spread alongside says how much of the hints arrives at
    # each pixel (1 at them, towards 0 beyond their reach): one solve for both.
    fields = np.concatenate([(np.asarray(request.hint_ab, np.float32) - trust * ab) * hm[..., None], hm[..., None]], -1)
    spread = propagate_coarse(request.L, fields, hm, request.mask, cancel, lam=lam)
    near = np.clip(spread[..., 2:], 0.0, 1.0)
    return ab * (1.0 - (1.0 - trust) * near) + spread[..., :2]


def count_hints(hint_mask: np.ndarray) -> int:
    """The number of separate hints (points or strokes: 8-connected blobs of the hint mask)."""
    return int(cv2.connectedComponents((np.asarray(hint_mask) > 0).astype(np.uint8), connectivity=8)[0]) - 1


def _log_interp(points, x: float, default: float) -> float:
    return _interp(points, x, default, log=True)


def _interp(points, x: float, default: float, log: bool) -> float:
    """y at x from [[x, y], ...], linear (in log x with ``log``) between points, constant beyond them."""
    f = np.log if log else float
    pts = sorted(points)
    if not pts:
        return default
    if x <= pts[0][0]:
        return pts[0][1]
    if x >= pts[-1][0]:
        return pts[-1][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            t = (f(x) - f(x0)) / (f(x1) - f(x0)) if x1 > x0 else 0.0
            return float(y0 + t * (y1 - y0))
    return default


def load_maskgan(path: str | Path | None = None, device: str = "cpu", extra_dirs=()) -> MaskGANColorizer:
    """Build the generator and load checked safetensors weights (no ImageNet .pth needed)."""
    from .checkpoint import load_first_intact, load_weights

    if path is None:
        col, notes = load_first_intact("maskgan", lambda p: load_maskgan(p, device), extra_dirs)
        col.load_note = " ".join(notes)
        return col
    from . import maskgan_v2
    from .checkpoint import read_meta

    if read_meta(path).get("architecture") == maskgan_v2.ARCH:
        state, meta = load_weights(path, maskgan_v2.ARCH)
        return maskgan_v2.load(path, state, meta, device)
    state, meta = load_weights(path, ARCH)
    net = MaskGANGenerator(pretrained=False)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError:
        raise ModelError(f"{Path(path).name} does not fit the maskgan network: re-export it with this version of Huebrush.") from None
    return MaskGANColorizer(net, meta, device)
