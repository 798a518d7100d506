"""The Iizuka et al. 2016 colorization network ("Let there be Color!", SIGGRAPH 2016).

Four parts, as in the paper:
  low-level features  6 convs, stride-2 downsampling (no pooling); the same weights run on the
                      local (work-size) photo and on the global (fixed-size) photo;
  mid-level features  2 convs on the local path;
  global features     4 convs + 3 fully connected layers -> one vector per photo, plus a
                      classification head trained on image labels;
  fusion + colorization  the global vector is joined to every mid-level location (1x1 conv), then
                      convs and upsampling end in a sigmoid that is mapped to ab.

The local path is fully convolutional, so any work size runs (padded to a multiple of 8); the
global path always sees the photo rescaled to ``global_size`` x ``global_size`` because its fully
connected layers need a fixed input. Style transfer: the global vector may come from a second
(reference) photo.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .colour import cast_pair
from .types import CancelCheck, Cancelled, ColorizeRequest, ModelError

ARCH = "iizuka"
AB_SCALE = 110.0  # |ab| of sRGB colours stays under ~110: sigmoid 0..1 maps to -110..110


@dataclass(frozen=True)
class IizukaConfig:
    """Layer sizes at width 1.0 are the paper's; ``width`` scales every hidden channel count."""

    low: tuple[int, ...] = (64, 128, 128, 256, 256, 512)
    mid: tuple[int, ...] = (512, 256)
    global_convs: tuple[int, ...] = (512, 512, 512, 512)
    global_fc: tuple[int, ...] = (1024, 512, 256)
    class_hidden: int = 256
    fusion: int = 256
    colorization: tuple[int, ...] = (128, 64, 64, 32)
    width: float = 1.0
    num_classes: int = 205  # the paper's Places scene classes; Tiny ImageNet has 200
    global_size: int = 224  # side of the square photo the global path sees
    # Inference only: the local path runs at most at this long side (None = the work size); ab is
    # upsampled bilinearly to the work size. Set from the validation that chose it (see the card).
    max_side: int | None = None
    # Inference only: multiplies predicted ab. MSE training predicts the conditional mean, which
    # is greyer than real photos; the calibration is measured on held-out photos (see the card).
    saturation: float = 1.0
    # Inference only: ab added after the saturation, the cast (warm, as a rule) the network puts on
    # everyday photos, negated; measured by the calibration on photos-large photos a run held back.
    cast: tuple[float, float] = (0.0, 0.0)
    # Inference only: multiplies the photo's mean predicted ab, and ``saturation`` then multiplies
    # only each pixel's difference from that mean (None: one gain, ``saturation``, for both). One
    # gain for all also multiplies the network's mean colour, a warm cast on everyday photos.
    mean_saturation: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cast", cast_pair(self.cast))
        g = self.mean_saturation
        if g is not None and not (isinstance(g, (int, float)) and 0.0 <= float(g) <= 5.0):  # NaN fails too
            raise ValueError(f"mean_saturation {g!r} is not a gain from 0 to 5 (or null)")

    def ch(self, n: int) -> int:
        return max(4, int(round(n * self.width)))

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IizukaConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown iizuka config keys: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    @classmethod
    def paper(cls, num_classes: int = 205) -> IizukaConfig:
        return cls(num_classes=num_classes)


def _conv(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class IizukaNet(nn.Module):
    """forward(L, L_global=None) -> (ab_norm in [0,1] (B,2,H,W), class logits (B,num_classes)).

    L is lightness normalised to [-1, 1] ((L/50) - 1), (B,1,H,W) with H, W multiples of 8.
    L_global is the same for the global path at (global_size, global_size); None means "the
    local photo rescaled", which reuses the low-level features when the sizes already match.
    """

    def __init__(self, config: IizukaConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        low = [c.ch(n) for n in c.low]
        strides = (2, 1, 2, 1, 2, 1)
        layers, cin = [], 1
        for cout, s in zip(low, strides):
            layers.append(_conv(cin, cout, s))
            cin = cout
        self.low = nn.Sequential(*layers)

        mid = [c.ch(n) for n in c.mid]
        self.mid = nn.Sequential(_conv(low[-1], mid[0]), _conv(mid[0], mid[1]))

        g = [c.ch(n) for n in c.global_convs]
        gstrides = (2, 1, 2, 1)
        layers, cin = [], low[-1]
        for cout, s in zip(g, gstrides):
            layers.append(_conv(cin, cout, s))
            cin = cout
        self.global_convs = nn.Sequential(*layers)
        side = c.global_size
        for _ in range(5):  # 3 strides in low-level + 2 in global convs
            side = math.ceil(side / 2)
        fc = [c.ch(n) for n in c.global_fc]
        self.global_fc1 = nn.Sequential(nn.Linear(g[-1] * side * side, fc[0]), nn.BatchNorm1d(fc[0]), nn.ReLU(True))
        self.global_fc2 = nn.Sequential(nn.Linear(fc[0], fc[1]), nn.BatchNorm1d(fc[1]), nn.ReLU(True))
        self.global_fc3 = nn.Sequential(nn.Linear(fc[1], fc[2]), nn.BatchNorm1d(fc[2]), nn.ReLU(True))
        # The paper branches the classifier off the 512-d layer, not the fused 256-d vector.
        hidden = c.ch(c.class_hidden)
        self.classifier = nn.Sequential(
            nn.Linear(fc[1], hidden), nn.BatchNorm1d(hidden), nn.ReLU(True), nn.Linear(hidden, c.num_classes)
        )

        fusion = c.ch(c.fusion)
        self.fusion = _conv(mid[-1] + fc[2], fusion, k=1)
        col = [c.ch(n) for n in c.colorization]
        # Nearest upsampling followed by a conv: no checkerboard artefacts of transposed convs.
        self.colorization = nn.Sequential(
            _conv(fusion, col[0]),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _conv(col[0], col[1]),
            _conv(col[1], col[2]),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _conv(col[2], col[3]),
            nn.Conv2d(col[3], 2, 3, padding=1),
            nn.Sigmoid(),
        )

    def global_features(self, low_g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-level features of the global photo -> (global vector, class logits)."""
        x = self.global_convs(low_g).flatten(1)
        h = self.global_fc2(self.global_fc1(x))
        return self.global_fc3(h), self.classifier(h)

    def forward(
        self, L: torch.Tensor, L_global: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = L.shape[-2:]
        if h % 8 or w % 8:
            raise ValueError("IizukaNet needs H and W divisible by 8; pad first")
        gs = self.config.global_size
        low = self.low(L)
        if L_global is None and (h, w) == (gs, gs):
            low_g = low
        else:
            if L_global is None:
                L_global = F.interpolate(L, size=(gs, gs), mode="bilinear", align_corners=False, antialias=True)
            low_g = self.low(L_global)
        gvec, logits = self.global_features(low_g)
        mid = self.mid(low)
        gmap = gvec[:, :, None, None].expand(-1, -1, mid.shape[2], mid.shape[3])
        fused = self.fusion(torch.cat([mid, gmap], dim=1))
        ab = self.colorization(fused)  # at half the input resolution, as in the paper
        ab = F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
        return ab, logits


def normalise_L(L: torch.Tensor) -> torch.Tensor:
    return L / 50.0 - 1.0


def ab_to_target(ab: torch.Tensor) -> torch.Tensor:
    """Lab ab -> the sigmoid's [0, 1] range the loss compares against."""
    return (ab / AB_SCALE + 1.0) * 0.5


def target_to_ab(y: torch.Tensor) -> torch.Tensor:
    return (y * 2.0 - 1.0) * AB_SCALE


def _pad8(x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % 8, (-w) % 8
    if ph or pw:
        # Replicate, not zeros: zero padding would be read as black borders.
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, h, w


def _resize_long_side(L: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = L.shape
    if max_side is None or max(h, w) <= max_side:
        return L
    s = max_side / max(h, w)
    t = torch.from_numpy(np.array(L, dtype=np.float32))[None, None]
    size = (max(8, round(h * s)), max(8, round(w * s)))
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)[0, 0].numpy()


def _resolve_device(device: str) -> str:
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    return device


class IizukaColorizer:
    """The registry's colorizer: a trained IizukaNet in eval mode. Ignores mask and hints (the
    app composites with the mask); uses ``request.reference_L`` for style transfer."""

    name = ARCH

    def __init__(self, net: IizukaNet, device: str = "cpu", meta: dict | None = None) -> None:
        self.device = _resolve_device(device)
        self.net = net.to(self.device).eval()
        self.config = net.config
        self.meta = meta or {}

    def _global_input(self, L: np.ndarray) -> torch.Tensor:
        gs = self.config.global_size
        t = torch.from_numpy(np.array(L, dtype=np.float32))[None, None].to(self.device)
        return F.interpolate(normalise_L(t), size=(gs, gs), mode="bilinear", align_corners=False, antialias=True)

    @torch.no_grad()
    def predict(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray:
        h, w = request.L.shape
        L_net = _resize_long_side(np.asarray(request.L, np.float32), self.config.max_side)
        ref = request.reference_L if request.reference_L is not None else request.L
        L_global = self._global_input(np.asarray(ref, np.float32))
        if cancel is not None and cancel():
            raise Cancelled()
        x = torch.from_numpy(np.array(L_net, dtype=np.float32))[None, None].to(self.device)
        x, hh, ww = _pad8(normalise_L(x))
        y, _ = self.net(x, L_global)
        if cancel is not None and cancel():
            raise Cancelled()
        ab = scale_ab(target_to_ab(y[:, :, :hh, :ww]), self.config.saturation, self.config.mean_saturation)
        if any(self.config.cast):
            ab = ab + torch.tensor(self.config.cast, dtype=ab.dtype, device=ab.device)[None, :, None, None]
        if (hh, ww) != (h, w):
            ab = F.interpolate(ab, size=(h, w), mode="bilinear", align_corners=False)
        return ab[0].permute(1, 2, 0).float().cpu().numpy().astype(np.float32)


def scale_ab(ab: torch.Tensor, saturation: float, mean_saturation: float | None = None) -> torch.Tensor:
    """The network's ab (N, 2, H, W) times ``saturation``; with ``mean_saturation`` the photo's mean
    colour is scaled by that instead and ``saturation`` scales each pixel's difference from it."""
    if mean_saturation is None:
        return ab * saturation
    mean = ab.mean(dim=(2, 3), keepdim=True)
    return mean * mean_saturation + (ab - mean) * saturation


def build(config: IizukaConfig) -> IizukaNet:
    return IizukaNet(config)


def state_dict_fp32(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def load_iizuka(path: Path | None = None, device: str = "cpu") -> IizukaColorizer:
    """The shipped (or a given) iizuka weights as a ready colorizer; ModelError if unusable."""
    from .checkpoint import load_first_intact, load_weights

    if path is None:
        col, notes = load_first_intact(ARCH, lambda p: load_iizuka(p, device))
        col.load_note = " ".join(notes)
        return col
    state, meta = load_weights(Path(path), ARCH)
    try:
        config = IizukaConfig.from_dict(meta["config"])
        net = IizukaNet(config)
        net.load_state_dict(state_dict_fp32(state), strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(
            f"{Path(path).name} does not match the iizuka network ({type(exc).__name__}); "
            "re-export it with `python -m training train --model iizuka --export`."
        ) from exc
    return IizukaColorizer(net, device, meta)
