"""Keeps the on-screen result in step with the mask without ever blocking the event loop.

The display is a uint8 RGB pyramid of the full-size result, composed by the core
(``app.core.composite.compose_rgb8``: the export's maths at 8 bits); this module only owns the
tiles, the pyramid and the pacing. A brush dab recomposites only its
bounding box at once (a few ms); big changes (a new preview with a changed mask, a saturation
drag) are split into tiles and worked off in slices of a few milliseconds per event-loop turn.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.core.composite import grey8
from app.ui.pyramid import Pyramid

TILE = 128  # a tile composites in a few ms even on a busy 2-core machine
SLICE_SECONDS = 0.012
SYNC_AREA = 256 * 256  # rectangles up to this size are redrawn at once (brush dabs)

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in full-size pixels


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
        rect = self.pyramid.align(*rect)  # a proxy pyramid takes whole blocks of its first level
        x0, y0, x1, y1 = rect
        self.pyramid.update(x0, y0, x1, y1, self._source(rect))
        self.updated.emit(rect)


def grey_display(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The untouched photo as 8-bit grey and as RGB (what the canvas shows before any colour)."""
    g = grey8(L)
    return g, np.repeat(g[:, :, None], 3, axis=2)
