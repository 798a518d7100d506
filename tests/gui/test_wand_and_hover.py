"""The magic wand (W) and the segment tool's hover preview, with real mouse events on the window."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.helpers import image_to_widget, open_photo, pointer_to

pytestmark = pytest.mark.gui


def _rect(shape):
    h, w = shape
    m = np.zeros(shape, bool)
    m[h // 4: h // 2, w // 4: w // 2] = True  # the flat bright rectangle write_photo paints
    return m


def test_wand_replaces_shift_adds_alt_subtracts_each_one_undo_step(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    qtbot.keyClick(window.canvas, Qt.Key.Key_W)
    assert window.canvas.tool.name == "wand"
    rect = _rect(st.shape)
    window.mask_operation("fill")
    steps = st.undo_stack.count()
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 120, 90))
    iou = (st.mask.data & rect).sum() / (st.mask.data | rect).sum()
    assert iou > 0.95 and st.undo_stack.count() == steps + 1  # replaced the filled mask
    # Alt+click in the rectangle subtracts it again
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     pos=image_to_widget(window, 100, 80))
    assert st.mask.data.sum() < 0.03 * rect.sum()  # at most a fringe where the seeds' lightness differs
    window.mask_operation("clear")
    # a higher tolerance from the panel reaches further; Shift adds to what is there
    window.panel.wand_tolerance.setValue(50)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     pos=image_to_widget(window, 120, 90))
    assert st.mask.data[rect].all() and st.mask.data.sum() > rect.sum()
    st.undo_stack.undo()
    assert not st.mask.data.any()


def test_hover_preview_after_the_first_click(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.canvas.set_tool("segment")
    tool = window.canvas.tool
    assert type(tool.segmenter).__name__ == "LearnedSegmenter"
    qtbot.waitUntil(lambda: tool.ready, timeout=20_000)
    canvas = window.canvas
    pointer_to(canvas, image_to_widget(window, 120, 90))
    assert tool.hover_mask is None  # nothing before the first click
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 20, 200))
    qtbot.waitUntil(lambda: not tool.busy and tool.result is not None, timeout=30_000)
    pointer_to(canvas, image_to_widget(window, 120, 90))
    qtbot.waitUntil(lambda: tool.hover_mask is not None and not tool.busy, timeout=30_000)
    H, W = st.shape
    h, w = tool.segmenter.work_shape
    assert tool.hover_mask.shape == (h, w)
    # what the preview shows is what the click then gives (work size vs full size)
    import cv2

    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 120, 90))
    assert tool.hover_mask is None  # the click replaces the preview
    qtbot.waitUntil(lambda: not tool.busy and tool.result is not None and tool.result.prompts == tool.prompts,
                    timeout=30_000)
    small = cv2.resize(tool.result.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    assert small.any()
    grab = canvas.grab()
    assert not grab.isNull()
