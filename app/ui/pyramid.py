"""A cached image pyramid so the canvas draws only the viewport at the level nearest the zoom.

Level 0 is the full-size image; level k+1 is level k averaged over 2x2 blocks (an odd last
row or column is repeated). Updates come as rectangles in level-0 pixels (a brush stroke, a
recomposited tile); each level recomputes only the matching 2-aligned region from the level
below, with the same operation as the full build, so partial updates never drift from it.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

MIN_SIDE = 256  # stop adding levels once the long side drops below this


class Pyramid:
    def __init__(self, base: np.ndarray) -> None:
        """base: uint8 (H, W) or (H, W, C); the pyramid keeps (and owns) it as level 0."""
        self.levels: list[np.ndarray] = [np.ascontiguousarray(base)]
        h, w = base.shape[:2]
        while max(h, w) > MIN_SIDE:
            self.levels.append(_half(self.levels[-1]))
            h, w = self.levels[-1].shape[:2]

    @property
    def shape(self) -> tuple[int, int]:
        return self.levels[0].shape[:2]  # type: ignore[return-value]

    def level_for_zoom(self, zoom: float) -> int:
        """The smallest level that still has at least one pixel per screen pixel."""
        if zoom >= 1.0:
            return 0
        k = int(math.floor(math.log2(1.0 / zoom)))
        return max(0, min(k, len(self.levels) - 1))

    def update(self, x0: int, y0: int, x1: int, y1: int, pixels: np.ndarray) -> None:
        """Write level-0 pixels for [y0:y1, x0:x1] and refresh the coarser levels there."""
        self.levels[0][y0:y1, x0:x1] = pixels
        for k in range(1, len(self.levels)):
            ph, pw = self.levels[k - 1].shape[:2]
            x0, y0, x1, y1 = x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2)
            src = self.levels[k - 1][2 * y0 : min(ph, 2 * y1), 2 * x0 : min(pw, 2 * x1)]
            self.levels[k][y0:y1, x0:x1] = _half(src)


def _half(img: np.ndarray) -> np.ndarray:
    """2x2 block mean; an odd last row/column is repeated so every level is ceil(n / 2)."""
    h, w = img.shape[:2]
    if h % 2 or w % 2:
        img = cv2.copyMakeBorder(img, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    out = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if img.ndim == 3 and out.ndim == 2:  # cv2 drops a single channel axis
        out = out[:, :, None]
    return out
