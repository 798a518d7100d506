"""Chroma upsampling: ab predicted at the work size -> full size, guided by full-size L.

Guided upsampling after the fast guided filter (He, Sun & Tang 2010; He & Sun 2015): within
each small window ab is modelled as a linear function of L. The slope is fitted at the work
size, bilinearly upsampled and multiplied by the full-size lightness detail the work size
could not hold, so colour edges snap to the photo's own lightness edges at a cost of a few
full-size multiply-adds. bench/upsample_psnr.py measures it against plain bilinear.
"""
from __future__ import annotations

import cv2
import numpy as np

AB_LIMIT = 128.0


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_slope(ab_small: np.ndarray, L_small: np.ndarray, radius: int = 1, eps: float = 1e-2) -> np.ndarray:
    """Local ab-per-L slope (h, w, 2), trusted only where ab really follows L.

    ``a = cov(L, ab) / (var(L) + eps)`` per window (the guided filter's linear coefficient),
    damped by the squared correlation squared: in texture where ab and L vary independently
    the slope would only paint L's noise into the colour, at a clean edge rho^2 ~ 1.
    """
    I = np.ascontiguousarray(L_small, dtype=np.float32) * np.float32(0.01)
    p = np.ascontiguousarray(ab_small, dtype=np.float32)
    mean_I = _box(I, radius)
    var_I = np.maximum(_box(I * I, radius) - mean_I * mean_I, 0.0)
    mean_p = _box(p, radius)
    var_p = np.maximum(_box(p * p, radius) - mean_p * mean_p, 0.0)
    cov = _box(p * I[..., None], radius) - mean_p * mean_I[..., None]
    a = cov / (var_I + np.float32(eps))[..., None]
    rho2 = np.clip(cov * cov / (np.maximum(var_I, 1e-8)[..., None] * np.maximum(var_p, 1e-8)), 0.0, 1.0)
    a *= rho2 * rho2
    # per unit of I = L/100: fold the 1/100 in so the slope applies to L directly
    return _box(a, radius) * np.float32(0.01)


def upsample_ab(
    ab_small: np.ndarray, L_full: np.ndarray, radius: int = 1, eps: float = 1e-2
) -> np.ndarray:
    """ab (h, w, 2) at the work size -> float32 (H, W, 2) at L_full's size, edge-aware."""
    ab_small = np.asarray(ab_small, dtype=np.float32)
    L_full = np.asarray(L_full, dtype=np.float32)
    h, w = ab_small.shape[:2]
    H, W = L_full.shape
    if (h, w) == (H, W):
        return ab_small.copy()
    if not np.any(ab_small):
        return np.zeros((H, W) + ab_small.shape[2:], np.float32)  # nothing to upsample: skip 24 MP of work
    L_small = cv2.resize(L_full, (w, h), interpolation=cv2.INTER_AREA)
    a = guided_slope(ab_small, L_small, int(radius), eps)
    # Bilinear ab plus the lightness detail the work size cannot hold (L minus its own
    # bilinear reconstruction), scaled by the local ab-per-L slope. Where ab does not follow
    # L (a ~ 0) this is plain bilinear; across an edge it makes colour change where L does.
    # (Applying a * L + b directly, as the textbook fast guided filter does, blurs ab by the
    # window size, which loses more than the edge gain on real photos.)
    detail = cv2.resize(L_small, (W, H), interpolation=cv2.INTER_LINEAR)
    np.subtract(L_full, detail, out=detail)
    out = cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)
    # in place: at 24 MP each full-size 2-channel float32 array is 192 MB
    np.multiply(out, detail[..., None], out=out)
    del detail
    out += cv2.resize(ab_small, (W, H), interpolation=cv2.INTER_LINEAR)
    np.clip(out, -AB_LIMIT, AB_LIMIT, out=out)
    return out


def shrink_inputs(s: float, L: np.ndarray, mask: np.ndarray, hint_ab: np.ndarray | None, hint_mask: np.ndarray | None):
    """(L, mask, hint_ab, hint_mask) shrunk by ``s`` (area averaging; a hint keeps its colour
    wherever any of it lands)."""
    h, w = L.shape
    size = (max(1, round(w * s)), max(1, round(h * s)))
    area = lambda a: cv2.resize(np.ascontiguousarray(a, np.float32), size, interpolation=cv2.INTER_AREA)  # noqa: E731
    hab = hm = None
    if hint_ab is not None:
        hm_s = area(hint_mask)
        hab = area(hint_ab * hint_mask[..., None]) / np.maximum(hm_s, 1e-6)[..., None]
        hm = (hm_s > 0).astype(np.float32)
    return area(L), area(mask), hab, hm


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide: smooths ``src`` but keeps the guide's edges."""
    k = (2 * r + 1, 2 * r + 1)

    def mean(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, k)

    mi, ms = mean(guide), mean(src)
    a = (mean(guide * src) - mi * ms) / (mean(guide * guide) - mi * mi + eps)
    b = ms - a * mi
    return mean(a) * guide + mean(b)
