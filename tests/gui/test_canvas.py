"""Zoom, pan, fit, 100%, before/after and the mask overlay as a user would see them."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.ui.qtimage import qimage_to_rgb8
from tests.gui.helpers import chroma, open_photo, paint_stroke, wait_preview

pytestmark = pytest.mark.gui


def _wheel(canvas, dy: int, modifiers=Qt.KeyboardModifier.NoModifier):
    pos = QPointF(canvas.width() / 2, canvas.height() / 2)
    ev = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                     modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, ev)


def test_zoom_fit_and_actual_size(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    c = window.canvas
    window.actions["actual"].trigger()
    assert c.zoom == pytest.approx(1.0)
    _wheel(c, 120, Qt.KeyboardModifier.ControlModifier)
    assert c.zoom > 1.0
    z = c.zoom
    window.actions["zoom_out"].trigger()
    assert c.zoom < z
    window.actions["fit"].trigger()
    H, W = window.state.shape
    assert W * c.zoom <= c.width() and H * c.zoom <= c.height()
    assert window.status.zoom.currentText() == f"{c.zoom * 100:.0f}%"


def test_scroll_and_middle_drag_pan(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    c = window.canvas
    window.actions["actual"].trigger()
    before = c.to_image(QPointF(0, 0))
    _wheel(c, -240)
    assert c.to_image(QPointF(0, 0)).y() > before.y()
    start = c.to_image(QPointF(0, 0))
    qtbot.mousePress(c, Qt.MouseButton.MiddleButton, pos=QPoint(200, 200))
    qtbot.mouseMove(c, QPoint(150, 180))
    qtbot.mouseRelease(c, Qt.MouseButton.MiddleButton, pos=QPoint(150, 180))
    moved = c.to_image(QPointF(0, 0))
    assert moved.x() == pytest.approx(start.x() + 50) and moved.y() == pytest.approx(start.y() + 20)
    assert not window.state.mask.data.any()  # panning never paints


def test_before_after_split_and_hold_to_compare(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.mask_operation("fill")
    wait_preview(qtbot, window)
    c = window.canvas
    window.set_view("mask", False)
    window.actions["fit"].trigger()
    shot = qimage_to_rgb8(c.grab().toImage())
    assert chroma(shot).max() > 40  # the result is in colour

    c.setFocus()
    qtbot.keyPress(c, Qt.Key.Key_Backslash)
    grey = qimage_to_rgb8(c.grab().toImage())
    qtbot.keyRelease(c, Qt.Key.Key_Backslash)
    # the photo area is grey while the key is held (the text label may be white)
    assert np.percentile(chroma(grey), 99) <= 2

    window.set_view("split", True)
    split = qimage_to_rgb8(c.grab().toImage())
    w = split.shape[1]
    mid = split.shape[0] // 2
    assert chroma(split[mid, : w // 3]).max() <= 2 and chroma(split[mid, 2 * w // 3 :]).max() > 20
    assert st.mask.data.all()


def test_mask_overlay_is_visible_and_toggles(qtbot, window, photo):
    open_photo(qtbot, window, photo, model="test-broken")  # no colours: only the overlay tints
    c = window.canvas
    window.actions["fit"].trigger()
    paint_stroke(qtbot, window, [(60, 120), (250, 120)])
    p = c.to_widget(150, 120)
    on = qimage_to_rgb8(c.grab().toImage())[int(p.y()), int(p.x())].astype(int)
    assert on[0] > on[2] + 20  # reddish overlay
    window.actions["show_mask"].trigger()
    off = qimage_to_rgb8(c.grab().toImage())[int(p.y()), int(p.x())].astype(int)
    assert abs(off[0] - off[2]) <= 2
