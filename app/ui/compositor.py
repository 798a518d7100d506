"""Keeps the on-screen result in step with the mask without ever blocking the event loop.

The display is a uint8 RGB pyramid of the full-size result. A brush dab recomposites only its
bounding box at once (a few ms); big changes (a new preview with a changed mask, a saturation
drag) are split into tiles and worked off in slices of a few milliseconds per event-loop turn.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.ui.pyramid import Pyramid
from app.ui.qtimage import float_rgb_to_u8

TILE = 128  # a tile composites in a few ms even on a busy 2-core machine
SLICE_SECONDS = 0.012
SYNC_AREA = 256 * 256  # rectangles up to this size are redrawn at once (brush dabs)

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in full-size pixels


BAND_PIXELS = 1 << 20  # whole-photo work goes in bands: short GIL holds keep the window fluid


def _grey_lut() -> np.ndarray:
    from models.colour import L_to_grey

    L = np.arange(0, 100 * 64 + 1, dtype=np.float32) / 64.0
    return (np.clip(L_to_grey(L), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


_GREY_LUT: np.ndarray | None = None


def grey8(L: np.ndarray) -> np.ndarray:
    """The untouched photo as 8-bit grey (R = G = B on screen), via a 1/64-L lookup table."""
    global _GREY_LUT
    if _GREY_LUT is None:
        _GREY_LUT = _grey_lut()
    H, W = L.shape
    out = np.empty((H, W), np.uint8)
    step = max(1, BAND_PIXELS // max(W, 1))
    for y in range(0, H, step):
        idx = np.clip(L[y : y + step] * 64.0 + 0.5, 0, 6400).astype(np.int32)
        out[y : y + step] = _GREY_LUT[idx]
    return out


def compose_full(L: np.ndarray, ab_up: np.ndarray | None, mask: np.ndarray, feather: float,
                 saturation: float) -> np.ndarray:
    """The whole displayed result, band by band (used off the GUI thread)."""
    H, W = L.shape
    out = np.empty((H, W, 3), np.uint8)
    step = max(1, BAND_PIXELS // max(W, 1))
    for y in range(0, H, step):
        out[y : y + step] = compose_rgb8(L, ab_up, mask, feather, saturation, (0, y, W, min(H, y + step)))
    return out


def compose_rgb8(L: np.ndarray, ab_up: np.ndarray | None, mask: np.ndarray, feather: float,
                 saturation: float, rect: Rect) -> np.ndarray:
    """The displayed result for one rectangle: the same maths as export, at 8 bits."""
    from app.core.composite import composite_ab
    from app.core.export import result_rgb

    x0, y0, x1, y1 = rect
    H, W = L.shape
    if ab_up is None or not mask[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1].any():
        g = grey8(L[y0:y1, x0:x1])  # nothing masked here: exactly the original grey
        return np.repeat(g[:, :, None], 3, axis=2)
    # the feather reaches a few widths past the mask edge: pad so tile borders agree
    pad = int(math.ceil(3 * max(feather, 0.0))) + 2
    px0, py0, px1, py1 = max(0, x0 - pad), max(0, y0 - pad), min(W, x1 + pad), min(H, y1 + pad)
    ab = composite_ab(ab_up[py0:py1, px0:px1], mask[py0:py1, px0:px1], feather, saturation)
    rgb = result_rgb(L[py0:py1, px0:px1], ab)
    return float_rgb_to_u8(rgb[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0])


class Compositor(QObject):
    """Owns the display pyramid of one photo and redraws dirty rectangles."""

    updated = Signal(tuple)  # Rect that changed on screen

    def __init__(self, source: Callable[[Rect], np.ndarray], shape: tuple[int, int], initial: np.ndarray) -> None:
        super().__init__()
        self._source = source
        self.shape = shape
        self.pyramid = Pyramid(initial)
        self._queue: list[Rect] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._work)

    @property
    def busy(self) -> bool:
        return bool(self._queue)

    def replace(self, pyramid: Pyramid) -> None:
        """Swap in a pyramid computed elsewhere (the preview worker) and drop queued work."""
        self._queue.clear()
        self.pyramid = pyramid
        H, W = self.shape
        self.updated.emit((0, 0, W, H))

    def invalidate(self, rect: Rect | None = None) -> None:
        H, W = self.shape
        x0, y0, x1, y1 = rect if rect is not None else (0, 0, W, H)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
        if x1 <= x0 or y1 <= y0:
            return
        if (x1 - x0) * (y1 - y0) <= SYNC_AREA:
            self._draw((x0, y0, x1, y1))
            return
        if rect is None:
            self._queue.clear()
        for ty in range(y0 // TILE * TILE, y1, TILE):
            for tx in range(x0 // TILE * TILE, x1, TILE):
                self._queue.append((max(x0, tx), max(y0, ty), min(x1, tx + TILE), min(y1, ty + TILE)))
        self._timer.start()

    def flush(self) -> None:
        """Finish all queued work now (tests, export of the screen, screenshots)."""
        while self._queue:
            self._draw(self._queue.pop(0))

    def _work(self) -> None:
        t0 = time.perf_counter()
        while self._queue and time.perf_counter() - t0 < SLICE_SECONDS:
            self._draw(self._queue.pop(0))
        if self._queue:
            self._timer.start()

    def _draw(self, rect: Rect) -> None:
        x0, y0, x1, y1 = rect
        self.pyramid.update(x0, y0, x1, y1, self._source(rect))
        self.updated.emit(rect)


def grey_display(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The untouched photo as 8-bit grey and as RGB (what the canvas shows before any colour)."""
    g = grey8(L)
    return g, np.repeat(g[:, :, None], 3, axis=2)
