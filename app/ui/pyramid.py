"""A cached image pyramid so the canvas draws only the viewport at the level nearest the zoom.

Level 0 is the full-size image; level k+1 is level k averaged over 2x2 blocks (an odd last
row or column is repeated). Updates come as rectangles in level-0 pixels (a brush stroke, a
recomposited tile); each level recomputes only the matching 2-aligned region from the level
below, with the same operation as the full build, so partial updates never drift from it.

A *proxy* pyramid (``Pyramid.proxy``) starts at a coarser level: the preview of a big scan is shown
from one composed at a few megapixels while the full-size one is still being made. Its finer
levels are absent (the canvas draws the first level it has); updates to it come as rectangles
aligned to that level's blocks (``align``) and are averaged down into it.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

MIN_SIDE = 256  # stop adding levels once the long side drops below this


def level_shape(shape: tuple[int, int], k: int) -> tuple[int, int]:
    """(h, w) of level ``k`` of a pyramid over ``shape``: each level is ceil(n / 2) of the one below."""
    h, w = shape
    for _ in range(k):
        h, w = -(-h // 2), -(-w // 2)
    return h, w


class Pyramid:
    def __init__(self, base: np.ndarray, first: int = 0, shape: tuple[int, int] | None = None) -> None:
        """base: uint8 (H, W) or (H, W, C); the pyramid keeps (and owns) it as level ``first``
        (0: the full size; more for a proxy, see ``proxy``) of a photo of ``shape``."""
        self.first = int(first)
        self._shape = tuple(shape) if shape is not None else tuple(base.shape[:2])
        if base.shape[:2] != level_shape(self._shape, self.first):
            raise ValueError(f"level {first} of a {self._shape} pyramid is {level_shape(self._shape, self.first)}, not {base.shape[:2]}")
        self.levels: list[np.ndarray | None] = [None] * self.first + [np.ascontiguousarray(base)]
        h, w = base.shape[:2]
        while max(h, w) > MIN_SIDE:
            self.levels.append(_half(self.levels[-1]))
            h, w = self.levels[-1].shape[:2]

    @classmethod
    def proxy(cls, image: np.ndarray, level: int, shape: tuple[int, int]) -> Pyramid:
        """A pyramid of a ``shape`` photo known only from ``level`` up (``image`` is that level)."""
        return cls(image, level, shape)

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape  # type: ignore[return-value]

    @property
    def is_proxy(self) -> bool:
        return self.first > 0

    def level_for_zoom(self, zoom: float) -> int:
        """The smallest level that still has at least one pixel per screen pixel (a proxy's own
        first level where it has none finer)."""
        k = 0 if zoom >= 1.0 else int(math.floor(math.log2(1.0 / zoom)))
        return max(self.first, min(k, len(self.levels) - 1))

    def align(self, x0: int, y0: int, x1: int, y1: int) -> tuple[int, int, int, int]:
        """The rectangle grown to whole blocks of the first level (unchanged for a full pyramid)."""
        if not self.first:
            return x0, y0, x1, y1
        n = 1 << self.first
        H, W = self._shape
        return x0 // n * n, y0 // n * n, min(W, -(-x1 // n) * n), min(H, -(-y1 // n) * n)

    def update(self, x0: int, y0: int, x1: int, y1: int, pixels: np.ndarray) -> None:
        """Write level-0 pixels for [y0:y1, x0:x1] and refresh the coarser levels there (a proxy:
        the rectangle must be ``align``-ed; its pixels are averaged down to the first level)."""
        if self.first:
            if (x0, y0, x1, y1) != self.align(x0, y0, x1, y1):
                raise ValueError("a proxy pyramid takes rectangles aligned to its first level")
            for _ in range(self.first):
                pixels = _half(pixels)
                x0, y0, x1, y1 = x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2)
        self.levels[self.first][y0:y1, x0:x1] = pixels
        for k in range(self.first + 1, len(self.levels)):
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
