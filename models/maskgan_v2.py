"""``maskgan`` v2: a mask- and hint-conditioned colorizer that predicts a colour *distribution*.

The network (EfficientNet-Lite0 encoder with a 5-channel stem: L, mask, hint a, hint b, hint
mask) decodes to a quarter of the input's size, where it predicts, per pixel, logits over the
in-gamut ab bins (``models.abbins``). Colour varies far more slowly than lightness, so the
quarter resolution holds it; the ab shown is upsampled to the work size guided by L
(``models.upsample``), the same step that takes the work size to full size. Training at 256 px
therefore costs about what a full-resolution decoder cost at 128 px.

The colour shown is the annealed mean of the distribution (``temperature``, the one knob, set
by the export on training photos). Hints stay local: the network runs once without hints (its
own colours) and once with them, and the hinted result is blended in only as far as the hints
reach (``hint_reach``, the same Levin propagation the ``hints`` model uses); the hints are then
met exactly. Far from every hint the result is the no-hint colour.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .abbins import annealed_mean, gamut_bins, top_colours
from .colour import cast_pair
from .encoder import SKIP_CHANNELS, LiteEncoder
from .types import CancelCheck, Cancelled, ColorizeRequest, ModelError

ARCH = "maskgan-abq-efflite0-v2"
HINT_SCALE = 110.0  # hint ab are divided by this on the way in
MULTIPLE = 32  # the encoder downsamples 5 times


@dataclass
class MaskGANConfig:
    """Everything that builds the network and turns its output into colour (the sidecar's ``config``)."""

    decoder: tuple[int, int, int] = (128, 96, 64)  # channels at strides 16, 8, 4
    out_stride: int = 4
    bin_step: float = 10.0
    temperature: float = 0.38  # annealed mean: Zhang et al.'s value until the export calibrates it
    net_max_side: int | None = None  # the network runs at most at this long side (None: at the work size)
    # Training weighted rare colours up (class rebalancing), which biases the predicted distribution
    # towards them; this share of that bias is taken back before the annealed mean (0: none, 1: all)
    prior_correction: float = 0.0
    mirror: bool = False  # the network also sees the photo mirrored; the two logits are averaged
    # ab added to the annealed mean: the cast (warm, as a rule) the network puts on everyday photos,
    # measured by the export on photos-large train photos a run held back; (0, 0) without them
    cast: tuple[float, float] = (0.0, 0.0)
    in_channels: int = 5
    extra: dict = field(default_factory=dict)  # unknown sidecar keys, kept for the record

    @classmethod
    def from_dict(cls, d: dict | None) -> MaskGANConfig:
        d = dict(d or {})
        known = {f.name for f in fields(cls)} - {"extra"}
        kw = {k: d.pop(k) for k in list(d) if k in known}
        if "decoder" in kw:
            kw["decoder"] = tuple(int(c) for c in kw["decoder"])
        if "cast" in kw:
            kw["cast"] = cast_pair(kw["cast"])
        cfg = cls(**kw, extra=d)
        if cfg.out_stride != 4 or cfg.in_channels != 5:
            raise ValueError("maskgan v2 decodes at stride 4 from 5 input channels")
        if not (0.0 <= float(cfg.prior_correction) <= 1.0):
            raise ValueError(f"prior_correction {cfg.prior_correction!r} is outside 0-1")
        if not (0.01 <= float(cfg.temperature) <= 1.0):
            raise ValueError(f"temperature {cfg.temperature!r} is outside 0.01-1")
        if cfg.net_max_side is not None and not (64 <= int(cfg.net_max_side) <= 4096):
            raise ValueError(f"net_max_side {cfg.net_max_side!r} is outside 64-4096")
        return cfg

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d["decoder"] = list(self.decoder)
        d["cast"] = [float(c) for c in self.cast]
        return d


def normalise_inputs(L: torch.Tensor, mask: torch.Tensor, hint_ab: torch.Tensor, hint_mask: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W) L 0-100, (B,1,H,W) mask, (B,2,H,W) hint ab, (B,1,H,W) hint mask -> (B,5,H,W)."""
    return torch.cat([(L - 50.0) / 50.0, mask, hint_ab / HINT_SCALE, hint_mask], dim=1)


def input_tensor(L, mask, hint_ab, hint_mask, device) -> torch.Tensor:
    """Numpy inputs at one size (copied: requests are read-only) -> the network's (1, 5, h, w)."""
    t = lambda a: torch.from_numpy(np.array(a, np.float32)).to(device)  # noqa: E731
    Lt = t(L)[None, None]
    m = t(mask)[None, None]
    if hint_ab is not None:
        hm = t(hint_mask)[None, None]
        hab = t(hint_ab).permute(2, 0, 1)[None] * hm
    else:
        hm, hab = torch.zeros_like(Lt), torch.zeros_like(Lt).repeat(1, 2, 1, 1)
    return normalise_inputs(Lt, m, hab, hm)


class _Up(nn.Module):
    """Upsample x2 (bilinear), concatenate the skip, then two 3x3 conv + BN + ReLU."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin + cskip, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], dim=1))


class MaskGANNet(nn.Module):
    """(B, 5, H, W) inputs -> logits (B, Q, ceil(H/4), ceil(W/4)) over ``bins``."""

    def __init__(self, config: MaskGANConfig | None = None, pretrained: bool = False) -> None:
        super().__init__()
        self.config = config or MaskGANConfig()
        self.encoder = LiteEncoder(pretrained=pretrained)
        _, s4, s8, s16, s32 = SKIP_CHANNELS
        d16, d8, d4 = self.config.decoder
        self.up16 = _Up(s32, s16, d16)
        self.up8 = _Up(d16, s8, d8)
        self.up4 = _Up(d8, s4, d4)
        self.register_buffer("bins", torch.from_numpy(gamut_bins(self.config.bin_step)))
        # log of the training's per-bin loss weights (0: none): the rebalancing to undo at inference
        self.register_buffer("log_rebalance", torch.zeros(len(self.bins)))
        self.head = nn.Conv2d(d4, self.bins.shape[0], 1)
        nn.init.zeros_(self.head.bias)
        nn.init.normal_(self.head.weight, std=1e-3)  # starts uniform over the bins: the mean is grey

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        _, f4, f8, f16, f32 = self.encoder(x)
        y = self.up4(self.up8(self.up16(f32, f16), f8), f4)
        return self.head(y)[..., : -(-h // 4), : -(-w // 4)]

    def corrected(self, logits: torch.Tensor, share: float | None = None) -> torch.Tensor:
        """Logits with ``share`` (default: the config's ``prior_correction``) of the training's
        rebalancing taken back: share 1 gives the colours' own probabilities."""
        share = self.config.prior_correction if share is None else share
        if not share:
            return logits
        return logits - float(share) * self.log_rebalance.to(logits)[None, :, None, None]

    def ab(self, logits: torch.Tensor, temperature: float | None = None, correction: float | None = None) -> torch.Tensor:
        """Logits -> annealed-mean ab (B, 2, h/4, w/4), the config's cast taken out."""
        ab = annealed_mean(self.corrected(logits, correction), self.bins,
                           self.config.temperature if temperature is None else temperature)
        if any(self.config.cast):
            ab = ab + torch.tensor(self.config.cast, dtype=ab.dtype, device=ab.device)[None, :, None, None]
        return ab


class MaskGANColorizer:
    """Runs the network for the engine: numpy request in, ab (h, w, 2) float32 out."""

    name = "maskgan"

    def __init__(self, net: MaskGANNet, meta: dict, device: str = "cpu") -> None:
        self.net = net.to(device).eval().to(memory_format=torch.channels_last)
        self.meta = meta
        self.config = net.config
        self.device = device
        self._lock = threading.Lock()  # one forward at a time per loaded network
        # suggestions read one photo's distribution at point after point: the last one is kept
        self._suggest_cache: tuple[bytes, torch.Tensor] | None = None

    # -- the network ---------------------------------------------------------------------------
    def logits(self, L, mask, hint_ab=None, hint_mask=None, check=lambda: None) -> torch.Tensor:
        """The network's logits (1, Q, h/4, w/4) at L's size (float32, on the CPU)."""
        dev = torch.device(self.device)
        x = input_tensor(L, mask, hint_ab, hint_mask, dev)
        w = x.shape[-1]
        if self.config.mirror:
            # padded on the right to the encoder's multiple first, so that the mirrored pass's cells,
            # mirrored back, fall on the same grid as the plain pass's
            pw = (-w) % MULTIPLE
            x = F.pad(x, (0, pw, 0, 0), mode="replicate") if pw else x
            x = torch.cat([x, x.flip(-1)])
        x = x.contiguous(memory_format=torch.channels_last)
        check()
        with self._lock, torch.inference_mode():
            if dev.type == "cuda":
                with torch.autocast("cuda", dtype=torch.float16):
                    out = self.net(x)
            else:
                out = self.net(x)
        check()
        out = out.float()
        if self.config.mirror:
            out = ((out[:1] + out[1:].flip(-1)) / 2)[..., : -(-w // 4)]
        return out.cpu()

    def _ab(self, L, mask, hint_ab=None, hint_mask=None, check=lambda: None) -> np.ndarray:
        """Annealed-mean ab at L's size (guided upsampling from the network's quarter size; the
        network runs at most at ``net_max_side``)."""
        from .upsample import shrink_inputs, upsample_ab

        cap = self.config.net_max_side
        inputs = (L, mask, hint_ab, hint_mask)
        if cap is not None and max(L.shape) > cap:
            inputs = shrink_inputs(cap / max(L.shape), *inputs)
        small = self.net.ab(self.logits(*inputs, check).to(self.net.bins.device))
        return upsample_ab(small[0].permute(1, 2, 0).cpu().numpy(), L)

    # -- the engine's entry point --------------------------------------------------------------
    def predict(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray:
        def check() -> None:
            if cancel is not None and cancel():
                raise Cancelled()

        check()
        L = np.asarray(request.L, np.float32)
        mask = np.asarray(request.mask, np.float32)
        own = self._ab(L, mask, check=check)
        hm = np.asarray(request.hint_mask, np.float32)
        if not np.any(hm > 0):
            return own.astype(np.float32)
        hab = np.asarray(request.hint_ab, np.float32)
        hinted = self._ab(L, mask, hab, hm, check)
        r4 = min(max(float(request.hint_reach), 0.0), 1.0) ** 4
        if r4 > 0:
            # the further the hints reach, the more they also say how vivid the whole photo is and
            # what cast it has: one scale and offset, fitted at the hints, moves both colours
            s, t = fit_to_hints(own, hab, hm)
            own, hinted = (c + r4 * ((s - 1.0) * c + t) for c in (own, hinted))
        return blend_hints(own, hinted, request, cancel)

    def suggest(self, L: np.ndarray, point: tuple[float, float], k: int = 5, mask=None,
                hint_ab=None, hint_mask=None) -> list[tuple[tuple[float, float, float], float]]:
        """The ``k`` likeliest colours at ``point`` (x, y in L's pixels): [((L, a, b), share), ...],
        best first, only colours that exist at that point's lightness."""
        L = np.asarray(L, np.float32)
        h, w = L.shape
        x, y = float(point[0]), float(point[1])
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"point ({x:g}, {y:g}) is outside the {w} x {h} photo")
        corrected = self._suggest_logits(L, mask, hint_ab, hint_mask)
        # sample the logits at the point (bilinear on the quarter-size grid)
        gx = torch.tensor([[[[(x + 0.5) / w * 2 - 1, (y + 0.5) / h * 2 - 1]]]], dtype=corrected.dtype)
        cell = F.grid_sample(corrected, gx, mode="bilinear", align_corners=False)[0, :, 0, 0]
        probs = torch.softmax(cell, 0).numpy()
        Lp = float(L[min(h - 1, int(y)), min(w - 1, int(x))])
        return top_colours(probs, self.net.bins.cpu().numpy(), Lp, k)

    def _suggest_logits(self, L, mask, hint_ab, hint_mask) -> torch.Tensor:
        """The prior-restored logits ``suggest`` reads, for these exact inputs: computed once, then
        taken from the cache while the user asks about other points of the same photo."""
        import hashlib

        mask = np.ones_like(L) if mask is None else np.asarray(mask, np.float32)
        digest = hashlib.blake2b(digest_size=16)
        for a in (L, mask, hint_ab, hint_mask):
            a = None if a is None else np.ascontiguousarray(a, np.float32)
            digest.update(b"-" if a is None else repr(a.shape).encode() + a.tobytes())
        key = digest.digest()
        cached = self._suggest_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        corrected = self.net.corrected(self.logits(L, mask, hint_ab, hint_mask), 1.0)
        self._suggest_cache = (key, corrected)
        return corrected


# How strongly fit_to_hints holds on to "the network's colour as it is" (scale 1, no offset), in
# hints' worth: chosen on the held-back BSDS500 photos and the Tiny ImageNet holdout with 1, 3 and
# 10 hints (``bench/hint_fit_tune.py``).
FIT_SCALE_PRIOR, FIT_OFFSET_PRIOR = 1.0, 3.0


def fit_to_hints(own: np.ndarray, hint_ab: np.ndarray, hint_mask: np.ndarray) -> tuple[float, np.ndarray]:
    """The scale s (0-3) and ab offset t that best take the network's own colour to the hints'.

    Least squares over the hints, each hint (a connected patch of hinted pixels) counting once,
    against a pull to s = 1, t = 0 worth ``FIT_SCALE_PRIOR`` and ``FIT_OFFSET_PRIOR`` hints: one
    hint moves little, many say how vivid the photo is and which cast it has.
    """
    import cv2

    sel = np.asarray(hint_mask) > 0
    if not sel.any():
        return 1.0, np.zeros(2, np.float32)
    _, labels = cv2.connectedComponents(sel.astype(np.uint8), connectivity=8)
    lab = labels[sel]
    wgt = 1.0 / np.bincount(lab)[lab]  # each hint's pixels share one hint's weight
    p = np.asarray(own, np.float64)[sel]
    h = np.asarray(hint_ab, np.float64)[sel]
    c = float((wgt * (p**2).sum(1)).sum() / wgt.sum()) + 1e-6  # the prior on s in the data's own units
    a = np.zeros((3, 3))
    a[0, 0] = (wgt * (p**2).sum(1)).sum() + FIT_SCALE_PRIOR * c
    a[0, 1:] = a[1:, 0] = (wgt[:, None] * p).sum(0)
    a[1, 1] = a[2, 2] = wgt.sum() + FIT_OFFSET_PRIOR
    rhs = np.concatenate([[(wgt * (p * h).sum(1)).sum() + FIT_SCALE_PRIOR * c], (wgt[:, None] * h).sum(0)])
    s, ta, tb = np.linalg.solve(a, rhs)
    return float(np.clip(s, 0.0, 3.0)), np.array([ta, tb], np.float32)


def blend_hints(own: np.ndarray, hinted: np.ndarray, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray:
    """The network's own colour, with its hinted colour as far as the hints reach, hints met exactly.

    One Levin propagation (``models.hintprop``, at ``request.hint_reach``) spreads both the
    difference between each hint and the hinted network colour and a channel of ones; the
    latter says how much of the hints arrives at each pixel (1 at them, fading to 0 beyond
    their reach). Where it is 0 the result is exactly ``own``.
    """
    from .hintprop import propagate_coarse, reach_lambda

    hm = np.asarray(request.hint_mask, np.float32)
    fields_ = np.concatenate([(np.asarray(request.hint_ab, np.float32) - hinted) * hm[..., None], hm[..., None]], -1)
    spread = propagate_coarse(request.L, fields_, hm, request.mask, cancel, lam=reach_lambda(request.hint_reach))
    near = np.clip(spread[..., 2:], 0.0, 1.0)
    # Levin's propagation stops at strong lightness edges whatever the reach; at full reach the
    # hints speak for the whole photo, so the hinted network colour is let in everywhere there
    # (reach ** 4: nothing at the default reach of 0.1, 6 % at 0.5, all of it at 1).
    r4 = min(max(float(request.hint_reach), 0.0), 1.0) ** 4
    near = near + (1.0 - near) * r4
    return (own + near * (hinted - own) + spread[..., :2]).astype(np.float32)


def build(meta: dict) -> MaskGANNet:
    return MaskGANNet(MaskGANConfig.from_dict(meta.get("config")), pretrained=False)


def load(path: str | Path, state: dict, meta: dict, device: str = "cpu") -> MaskGANColorizer:
    try:
        net = build(meta)
        net.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, TypeError):
        raise ModelError(f"{Path(path).name} does not fit the maskgan network: re-export it with this version of Huebrush.") from None
    return MaskGANColorizer(net, meta, device)
