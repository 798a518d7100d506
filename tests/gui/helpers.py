"""Helpers for the GUI tests: photos, real mouse strokes, waiting for previews."""
from __future__ import annotations

from pathlib import Path

import numpy as np

SOLID_AB = (38.0, 42.0)  # the fake model's colour: a clear orange-red


class SolidColorizer:
    """Predicts one colour everywhere; lets tests check where colour lands without weights."""

    name = "test-solid"

    def predict(self, request, cancel=None):
        from models.types import Cancelled

        if cancel is not None and cancel():
            raise Cancelled()
        h, w = request.L.shape
        ab = np.empty((h, w, 2), np.float32)
        ab[...] = SOLID_AB
        return ab


class FailingColorizer:
    name = "test-broken"

    def predict(self, request, cancel=None):
        from models.types import ModelError

        raise ModelError("The test-broken model has no weights: import them in Settings and try again.")


def write_photo(path: Path, size=(240, 320), seed=0) -> Path:
    """A grey photo with structure (gradient + shapes) written as an 8-bit PNG."""
    from PIL import Image

    h, w = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    grey = 60 + 120 * x / w + 20 * np.sin(y / 9.0)
    grey[h // 4 : h // 2, w // 4 : w // 2] = 200
    grey += rng.normal(0, 2, size=(h, w))
    Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").save(path)
    return path


def open_photo(qtbot, win, path: Path, model: str = "test-solid"):
    """Open a photo through the window and wait until it is the current one."""
    with qtbot.waitSignal(win.photo_opened, timeout=20_000) as blocker:
        win.open_paths([str(path)])
    state = blocker.args[0]
    if model:
        win.panel.model.setCurrentIndex(win.panel.model.findData(model))
        assert state.settings.model == model
        state.undo_stack.clear()  # the test's model is part of opening it, not an edit to undo
    return state


def image_to_widget(win, x: float, y: float):
    p = win.canvas.to_widget(x, y)
    from PySide6.QtCore import QPoint

    return QPoint(round(p.x()), round(p.y()))


def paint_stroke(qtbot, win, points):
    """Drag the brush through image points with real mouse events."""
    from PySide6.QtCore import Qt

    canvas = win.canvas
    pts = [image_to_widget(win, x, y) for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pts[-1])


def wait_preview(qtbot, win, timeout=30_000):
    """Wait for a preview of the current edits and finish any queued redraws."""
    st = win.state
    qtbot.waitUntil(lambda: st.preview_version == st.version and not win.executor.busy, timeout=timeout)
    st.compositor.flush()
    return st


def display(state) -> np.ndarray:
    return state.compositor.pyramid.levels[0]


def chroma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int16)
    return rgb.max(axis=-1) - rgb.min(axis=-1)


def pointer_to(widget, pos) -> None:
    """A plain mouse move (no button) delivered to the widget, as the window system sends it
    (QTest's mouseMove is not delivered after a click in another widget of the window)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    p = QPointF(pos)
    ev = QMouseEvent(QMouseEvent.Type.MouseMove, p, widget.mapToGlobal(p), Qt.MouseButton.NoButton,
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)
