"""The learned click segmenter: a frozen EfficientNet-Lite0 image embedding and a small click decoder.

Design (late fusion, as Segment Anything splits it): the photo's lightness goes once through the
ImageNet-pretrained Lite0 encoder and a small neck that merges strides 8, 16 and 32 into one
embedding at 1/8 of the work size plus a thin stride-4 map (``embed``; cached per photo). Every
click then runs only the decoder (``decode``): the embedding, the include/exclude click maps and
the previous answer (as RITM feeds it back) go through dilated residual convolutions at 1/8
(receptive field about the whole work image, so one click can take a sky), are upsampled to 1/4,
joined with the stride-4 map and the clicks again, and give one logit per stride-4 cell. The caller
upsamples that edge-aware to the photo. A click therefore costs a few tens of milliseconds on a CPU,
which is what makes a hover preview possible.

The encoder stays frozen while training (``training/segmenter.py``): with 200 BSDS500 photos to learn
from, the ImageNet features generalise better than fine-tuned ones, and the features of every training
photo can be computed once. Lite0 has no squeeze-excitation and uses ReLU6: quick on CPUs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ARCH = "clickseg-v1"
# Lite0 block indices whose outputs are used (strides 4, 8, 16, 32) and their channels
BLOCKS = (2, 4, 10, 15)
CHANNELS = (24, 40, 112, 320)
# The grey input is normalised as EfficientNet-Lite's RGB input is (mean 0.5, std 0.5 per channel).
L_MEAN, L_STD = 0.5, 0.5


@dataclass(frozen=True)
class ClickSegConfig:
    embed: int = 64  # channels of the stride-8 embedding
    fine: int = 16  # channels of the stride-4 map
    width: int = 48  # decoder width at 1/8
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1)
    head: int = 32  # decoder width at 1/4
    click_sigma: float = 2.0  # click maps: Gaussian of this many stride-4 cells
    work_pixels: int = 250_000  # photos are segmented at about this many pixels

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ClickSegConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "dilations" in known:
            known["dilations"] = tuple(int(v) for v in known["dilations"])
        return cls(**known)


class GreyLite0(nn.Module):
    """Lite0 up to stride 32 with a one-channel stem (the RGB filters summed: a grey photo has R = G = B)."""

    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        from .encoder import lite0

        net = lite0(pretrained)
        old = net._conv_stem
        stem = type(old)(1, old.out_channels, kernel_size=3, stride=2, bias=False, image_size=224)
        with torch.no_grad():
            stem.weight.copy_(old.weight.sum(dim=1, keepdim=True))
        self.stem, self.bn0, self.act = stem, net._bn0, net._swish
        self.blocks = net._blocks[: BLOCKS[-1] + 1]

    def forward(self, grey01: torch.Tensor) -> list[torch.Tensor]:
        x = self.act(self.bn0(self.stem((grey01 - L_MEAN) / L_STD)))
        out = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in BLOCKS:
                out.append(x)
        return out


class Neck(nn.Module):
    """Encoder features -> (stride-8 embedding, stride-4 map)."""

    def __init__(self, cfg: ClickSegConfig) -> None:
        super().__init__()
        c = cfg.embed
        self.p8, self.p16, self.p32 = (nn.Conv2d(k, c, 1) for k in CHANNELS[1:])
        self.mix = nn.Conv2d(c, c, 3, padding=1)
        self.fine = nn.Conv2d(CHANNELS[0], cfg.fine, 1)
        # the frozen encoder's features run to tens: normalised, the decoder learns much faster
        self.norm, self.fine_norm = nn.GroupNorm(8, c), nn.GroupNorm(4, cfg.fine)

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        f4, f8, f16, f32 = feats
        size = f8.shape[-2:]
        x = (self.p8(f8) + F.interpolate(self.p16(f16), size=size, mode="bilinear", align_corners=False)
             + F.interpolate(self.p32(f32), size=size, mode="bilinear", align_corners=False))
        return F.relu(self.norm(self.mix(F.relu(x)))), F.relu(self.fine_norm(self.fine(f4)))


class Decoder(nn.Module):
    """(embedding, fine map, click maps at 1/4: include, exclude, previous answer) -> logits at 1/4.

    Besides the click maps, the decoder sees how much each place looks like what was clicked: the
    cosine similarity of the embedding to the mean embedding under the include clicks, and under
    the exclude clicks. That cue lets one click reach all of a large object at once and made the
    decoder learn in a fraction of the steps it needed without it.
    """

    def __init__(self, cfg: ClickSegConfig) -> None:
        super().__init__()
        w = cfg.width
        self.inp = nn.Conv2d(cfg.embed + 5, w, 3, padding=1)
        self.body = nn.ModuleList(nn.Conv2d(w, w, 3, padding=d, dilation=d) for d in cfg.dilations)
        self.norms = nn.ModuleList(nn.GroupNorm(8, w) for _ in cfg.dilations)
        self.up = nn.Conv2d(w + cfg.fine + 3, cfg.head, 3, padding=1)
        self.up2 = nn.Conv2d(cfg.head, cfg.head, 3, padding=1)
        self.out = nn.Conv2d(cfg.head, 1, 1)
        # where the user clicked is known: the click maps go straight to the logit too (the network
        # starts from "the click and nothing else" instead of "nothing", and learns far sooner)
        self.click_gain = nn.Parameter(torch.tensor(4.0))
        with torch.no_grad():
            self.out.bias.fill_(-2.0)

    @staticmethod
    def similarity(emb: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of every cell to the ``weights``-weighted mean embedding (0 without clicks)."""
        total = weights.sum((2, 3), keepdim=True)
        proto = (emb * weights).sum((2, 3), keepdim=True) / total.clamp_min(1e-6)  # (B, C, 1, 1)
        # the cosine as a dot product over channels (F.cosine_similarity broadcasts far slower)
        dot = torch.einsum("bchw,bc->bhw", emb, proto[:, :, 0, 0])[:, None]
        norms = emb.norm(dim=1, keepdim=True) * proto.norm(dim=1, keepdim=True)
        sim = dot / norms.clamp_min(1e-6)
        return sim * (total > 1e-6).float()

    def forward(self, emb: torch.Tensor, fine: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        # clicks: (B, 3, H4, W4); at 1/8 the click maps are max-pooled (a small click must not fade)
        # and the previous answer averaged
        size = emb.shape[-2:]
        c8 = torch.cat([F.adaptive_max_pool2d(clicks[:, :2], size), F.adaptive_avg_pool2d(clicks[:, 2:], size)], 1)
        sims = torch.cat([self.similarity(emb, c8[:, 0:1]), self.similarity(emb, c8[:, 1:2])], 1)
        x = F.relu(self.inp(torch.cat([emb, c8, sims], 1)))
        for conv, norm in zip(self.body, self.norms):
            x = x + F.relu(norm(conv(x)))
        x = F.interpolate(x, size=fine.shape[-2:], mode="bilinear", align_corners=False)
        x = F.relu(self.up(torch.cat([x, fine, clicks], 1)))
        x = F.relu(self.up2(x))
        return self.out(x) + self.click_gain * (clicks[:, 0:1] - clicks[:, 1:2])


class ClickSegNet(nn.Module):
    def __init__(self, cfg: ClickSegConfig | None = None, pretrained: bool = False) -> None:
        super().__init__()
        self.cfg = cfg or ClickSegConfig()
        self.encoder = GreyLite0(pretrained)
        self.neck = Neck(self.cfg)
        self.decoder = Decoder(self.cfg)

    @torch.no_grad()
    def embed(self, grey01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per photo: (1, 1, h, w) lightness in 0..1 -> (embedding at 1/8, map at 1/4)."""
        return self.neck(self.encoder(grey01))

    def decode(self, emb: torch.Tensor, fine: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        return self.decoder(emb, fine, clicks)


def grid_size(h: int, w: int) -> tuple[int, int]:
    """The stride-4 grid of a (h, w) work image, as the encoder's padding gives it."""
    return h // 4, w // 4


def click_maps(points_inc: list[tuple[float, float]], points_exc: list[tuple[float, float]],
               grid: tuple[int, int], scale: tuple[float, float], sigma: float) -> np.ndarray:
    """(2, H4, W4) float32 maps of the clicks: Gaussians of ``sigma`` cells, the max over clicks.

    Points are (x, y) in the coordinates that ``scale`` = (sx, sy) turns into stride-4 cells.
    """
    h4, w4 = grid
    ys = np.arange(h4, dtype=np.float32)[:, None]
    xs = np.arange(w4, dtype=np.float32)[None, :]
    out = np.zeros((2, h4, w4), np.float32)
    for k, pts in enumerate((points_inc, points_exc)):
        for x, y in pts:
            cx, cy = x * scale[0] - 0.5, y * scale[1] - 0.5
            g = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma * sigma))
            np.maximum(out[k], g, out=out[k])
    return out


def work_shape(h: int, w: int, pixels: int) -> tuple[int, int]:
    """The work size (multiples of 32 are not needed: the encoder pads) for a photo of h x w."""
    s = min(1.0, (pixels / float(h * w)) ** 0.5)
    return max(32, round(h * s)), max(32, round(w * s))


def config_of(meta: dict) -> ClickSegConfig:
    return ClickSegConfig.from_dict(meta.get("config", {}))


@dataclass
class Embedded:
    """One photo's cached embedding at its work size."""

    emb: torch.Tensor  # (1, embed, h8, w8)
    fine: torch.Tensor  # (1, fine, h4, w4)
    grey: np.ndarray  # (h, w) float32 0..1, the work-size lightness (guide for the upsampling)

    @property
    def work(self) -> tuple[int, int]:
        return self.grey.shape  # type: ignore[return-value]

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.fine.shape[-2:])  # type: ignore[return-value]

    @property
    def scale(self) -> tuple[float, float]:
        """Work pixels -> stride-4 cells, per axis."""
        (h, w), (h4, w4) = self.work, self.grid
        return w4 / w, h4 / h


class ClickSegRunner:
    """numpy in, numpy out: a photo's embedding, then the decoder for clicks (work-size coordinates)."""

    def __init__(self, net: ClickSegNet, device: str = "cpu") -> None:
        self.net = net.eval().to(device)
        self.device = device
        self.cfg = net.cfg

    def embed(self, grey_work: np.ndarray) -> Embedded:
        g = np.ascontiguousarray(grey_work, dtype=np.float32)
        with torch.inference_mode():
            emb, fine = self.net.embed(torch.from_numpy(g)[None, None].to(self.device))
        return Embedded(emb, fine, g)

    def decode(self, e: Embedded, include: list[tuple[float, float]], exclude: list[tuple[float, float]],
               prev: np.ndarray | None = None) -> np.ndarray:
        """Object probability (h4, w4) float32 for the clicks, given the previous answer (or none)."""
        maps = click_maps(include, exclude, e.grid, e.scale, self.cfg.click_sigma)
        prev = np.zeros(e.grid, np.float32) if prev is None else prev.astype(np.float32)
        clicks = torch.from_numpy(np.concatenate([maps, prev[None]], 0))[None].to(self.device)
        with torch.inference_mode():
            logit = self.net.decode(e.emb, e.fine, clicks)
        return torch.sigmoid(logit)[0, 0].float().cpu().numpy()

    @staticmethod
    def to_work(e: Embedded, prob4: np.ndarray, guided: int = 0) -> np.ndarray:
        """Probability at the work size; ``guided`` > 0 snaps it to the photo's edges (guided filter radius)."""
        import cv2

        h, w = e.work
        prob = cv2.resize(prob4, (w, h), interpolation=cv2.INTER_LINEAR)
        if guided > 0:
            from .upsample import guided_filter

            prob = guided_filter(e.grey, prob, guided, 1e-3)
        return prob


def load_clickseg(path, device: str = "cpu") -> tuple[ClickSegRunner, dict]:
    """A runner for shipped weights (safetensors + sidecar, checked), and the sidecar."""
    from .checkpoint import load_weights

    state, meta = load_weights(path, ARCH)
    net = ClickSegNet(config_of(meta))
    net.load_state_dict(state)
    return ClickSegRunner(net, device), meta
