"""Magic wand: the pixels whose lightness is within a tolerance of the clicked one.

Contiguous (the default, as in photo editors): only what joins the click through such pixels
(4-neighbours, a flood fill); otherwise every such pixel of the photo. The lightness is first
smoothed a little (a Gaussian of ``smooth`` pixels) so film grain does not punch holes into a flat
sky or wall. Tolerance is in L units (0-100), compared with the lightness under the click.
"""
from __future__ import annotations

import cv2
import numpy as np

DEFAULT_TOLERANCE = 8.0


def wand_select(L: np.ndarray, x: float, y: float, tolerance: float = DEFAULT_TOLERANCE,
                contiguous: bool = True, smooth: float = 1.0) -> np.ndarray:
    """Bool mask of the photo's shape; ``L`` is the photo's lightness (0-100, any float or int type)."""
    L = np.asarray(L)
    if L.ndim != 2:
        raise ValueError(f"expected an (H, W) lightness, got shape {L.shape}")
    H, W = L.shape
    xi, yi = int(x), int(y)
    if not (0 <= xi < W and 0 <= yi < H):
        raise ValueError(f"the point ({x:g}, {y:g}) lies outside the {W}x{H} photo")
    tol = float(np.clip(tolerance, 0.0, 100.0))
    img = L.astype(np.float32, copy=False)
    if smooth > 0:
        img = cv2.GaussianBlur(img, (0, 0), smooth)
    seed = float(img[yi, xi])
    if not contiguous:
        return np.abs(img - seed) <= tol
    mask = np.zeros((H + 2, W + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    cv2.floodFill(np.ascontiguousarray(img), mask, (xi, yi), 0, (tol,), (tol,), flags)
    return mask[1:-1, 1:-1].astype(bool)
