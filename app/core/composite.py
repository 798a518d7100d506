"""Compositing: colour only inside the mask, the untouched original grey outside.

Output ab = predicted ab x feathered mask x saturation. The feather only fades inwards
(weights come from the distance to the nearest unmasked pixel), so outside the mask the
weight - and therefore ab - is exactly 0 and those pixels stay exactly neutral grey.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

BBox = tuple[int, int, int, int]


def feather_weights(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """Float32 weights in [0, 1]: 0 exactly outside the mask, rising to 1 over ``feather_px``
    pixels inside it. The photo's border does not count as outside."""
    mask = np.asarray(mask, dtype=bool)
    if feather_px <= 0 or mask.all():
        return mask.astype(np.float32)
    # distance (px) from each masked pixel to the nearest unmasked one; 0 outside
    t = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    t *= np.float32(1.0 / feather_px)
    np.minimum(t, np.float32(1.0), out=t)
    # smoothstep t*t*(3 - 2t): no visible kink where the ramp meets full colour. In place,
    # because at 24 MP every temporary array costs ~100 MB and ~30 ms.
    ramp = np.multiply(t, np.float32(-2.0))
    ramp += np.float32(3.0)
    ramp *= t
    ramp *= t
    return ramp


def composite_ab(
    ab_full: np.ndarray, mask: np.ndarray | None, feather_px: float = 4.0, saturation: float = 1.0
) -> np.ndarray:
    """ab (H, W, 2) for display/export: predicted ab x feathered mask x saturation (0-2)."""
    sat = np.float32(min(max(float(saturation), 0.0), 2.0))
    ab = np.asarray(ab_full, dtype=np.float32)
    if mask is None:
        return ab * sat
    if not np.isfinite(ab).all():  # a broken prediction must not leak NaN through weight 0
        ab = np.nan_to_num(ab, nan=0.0, posinf=0.0, neginf=0.0)
    w = feather_weights(mask, feather_px)
    w *= sat
    # weight 0 gives exactly +-0 (ab is finite), which is neutral: outside the mask R = G = B
    return np.multiply(ab, w[..., None])


class Compositor:
    """Keeps the composite of one prediction up to date while the mask is painted.

    ``update(mask, bbox)`` recomputes only the rectangle a mask edit touched, grown by the
    feather radius (the feather weight of a pixel depends on the mask within that radius).
    """

    def __init__(
        self, ab_full: np.ndarray, mask: np.ndarray | None, feather_px: float = 4.0, saturation: float = 1.0
    ) -> None:
        self.ab_full = np.asarray(ab_full, dtype=np.float32)
        self.feather_px = float(feather_px)
        self.saturation = float(saturation)
        h, w = self.ab_full.shape[:2]
        self._mask = np.ones((h, w), bool) if mask is None else np.asarray(mask, bool)
        self.ab = composite_ab(self.ab_full, self._mask, self.feather_px, self.saturation)

    def update(self, mask: np.ndarray, bbox: BBox | None = None) -> BBox:
        """Re-composite after a mask edit inside ``bbox`` (x0, y0, x1, y1); returns the
        rectangle of ``ab`` that may have changed."""
        self._mask = np.asarray(mask, bool)
        h, w = self._mask.shape
        if bbox is None:
            self.ab = composite_ab(self.ab_full, self._mask, self.feather_px, self.saturation)
            return (0, 0, w, h)
        # +5% and 2 px: the 5x5 chamfer distance can undershoot the true distance slightly
        m = int(math.ceil(self.feather_px * 1.05)) + 2 if self.feather_px > 0 else 0
        x0, y0, x1, y1 = bbox
        # output region: the edit grown by the feather; input region: grown once more so the
        # distance transform sees every unmasked pixel that can matter
        ox0, oy0, ox1, oy1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
        ix0, iy0, ix1, iy1 = max(0, ox0 - m), max(0, oy0 - m), min(w, ox1 + m), min(h, oy1 + m)
        crop = self._mask[iy0:iy1, ix0:ix1]
        wts = feather_weights(crop, self.feather_px)[oy0 - iy0 : oy1 - iy0, ox0 - ix0 : ox1 - ix0]
        # a crop with no unmasked pixel looks "all inside"; that is right only if the real
        # nearest unmasked pixel is farther than the feather, which the margin guarantees
        wts *= np.float32(min(max(self.saturation, 0.0), 2.0))
        out = self.ab_full[oy0:oy1, ox0:ox1] * wts[..., None]
        out[wts == 0] = 0.0
        self.ab[oy0:oy1, ox0:ox1] = out
        return (ox0, oy0, ox1, oy1)
