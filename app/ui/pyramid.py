"""A cached image pyramid so the canvas draws only the viewport at the level nearest the zoom.

Level 0 is the full-size image; level k is 2**k times smaller. Updates come as rectangles in
level-0 pixels (a brush stroke, a recomposited tile); each level recomputes only the matching
region, aligned to 2**k so neighbouring updates never disagree at their borders.
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
            h, w = math.ceil(h / 2), math.ceil(w / 2)
            prev = self.levels[-1]
            self.levels.append(_resize(prev, w, h))

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
        H, W = self.shape
        for k in range(1, len(self.levels)):
            s = 1 << k
            # align outward to this level's pixel grid
            ax0, ay0 = (x0 // s) * s, (y0 // s) * s
            ax1, ay1 = min(W, -(-x1 // s) * s), min(H, -(-y1 // s) * s)
            src = self.levels[0][ay0:ay1, ax0:ax1]
            lh, lw = self.levels[k].shape[:2]
            dx0, dy0 = ax0 // s, ay0 // s
            dx1, dy1 = min(lw, -(-ax1 // s)), min(lh, -(-ay1 // s))
            if dx1 > dx0 and dy1 > dy0:
                self.levels[k][dy0:dy1, dx0:dx1] = _resize(src, dx1 - dx0, dy1 - dy0)


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    out = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    if img.ndim == 3 and out.ndim == 2:  # cv2 drops a single channel axis
        out = out[:, :, None]
    return out
