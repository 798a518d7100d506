"""The S tool driven with real mouse and key events on the main window."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.core.segment.types import SegmentResult
from tests.gui.helpers import image_to_widget, open_photo

pytestmark = pytest.mark.gui


def _bright_rect(shape):
    h, w = shape
    m = np.zeros(shape, bool)
    m[h // 4: h // 2, w // 4: w // 2] = True  # what write_photo paints at 200
    return m


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def _start(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.canvas.set_tool("segment")
    tool = window.canvas.tool
    assert tool.name == "segment"
    qtbot.waitUntil(lambda: tool.ready, timeout=20_000)
    return st, tool


def _click(qtbot, window, x, y, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(window.canvas, button, mods, pos=image_to_widget(window, x, y))


def _wait_answer(qtbot, tool):
    qtbot.waitUntil(lambda: not tool.busy and tool.result is not None
                    and tool.result.prompts == tool.prompts, timeout=60_000)


def test_click_shows_candidate_enter_adds_it_as_one_undo_step(qtbot, window, photo):
    st, tool = _start(qtbot, window, photo)
    truth = _bright_rect(st.shape)
    _click(qtbot, window, 120, 90)
    _wait_answer(qtbot, tool)
    assert _iou(tool.result.mask, truth) > 0.85
    assert not st.mask.data.any()  # only a candidate until accepted
    steps = st.undo_stack.count()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert _iou(st.mask.data, truth) > 0.85
    assert st.undo_stack.count() == steps + 1 and tool.result is None and tool.prompts.is_empty
    st.undo_stack.undo()
    assert not st.mask.data.any()


@pytest.mark.parametrize("subtract", [Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.AltModifier])
def test_shift_or_alt_enter_subtracts_and_esc_discards(qtbot, window, photo, subtract):
    st, tool = _start(qtbot, window, photo)
    truth = _bright_rect(st.shape)
    window.mask_operation("fill")
    _click(qtbot, window, 120, 90)
    _wait_answer(qtbot, tool)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return, subtract)
    assert st.mask.data[~truth].mean() > 0.95 and st.mask.data[truth].mean() < 0.15

    before = st.mask.data.copy()
    _click(qtbot, window, 250, 200, Qt.MouseButton.RightButton)  # right click excludes
    _click(qtbot, window, 20, 200, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier)  # so does Alt
    assert len(tool.prompts.exclude) == 2 and not tool.prompts.include
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert tool.prompts.is_empty and tool.result is None
    assert np.array_equal(st.mask.data, before)


def test_drag_draws_a_box_prompt(qtbot, window, photo):
    st, tool = _start(qtbot, window, photo)
    c = window.canvas
    a, b = image_to_widget(window, 70, 50), image_to_widget(window, 170, 130)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(c, image_to_widget(window, 120, 90))
    qtbot.mouseMove(c, b)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=b)
    assert tool.prompts.box is not None and not tool.prompts.include
    x0, y0, x1, y1 = tool.prompts.box
    assert abs(x0 - 70) < 2 and abs(y1 - 130) < 2
    _wait_answer(qtbot, tool)
    assert _iou(tool.result.mask, _bright_rect(st.shape)) > 0.8


class _ThreeMasks:
    """A stand-in for SAM: three alternatives of different sizes, best first."""

    name = "sam"

    def set_image(self, image, key=None, progress=None, cancel=None):
        self.shape = image.shape[:2]

    def segment(self, prompts):
        masks = []
        for r in (10, 30, 60):
            m = np.zeros(self.shape, bool)
            x, y = map(int, prompts.include[-1])
            m[max(0, y - r): y + r, max(0, x - r): x + r] = True
            masks.append(m)
        return SegmentResult(tuple(masks), (0.9, 0.8, 0.7), prompts=prompts)


def test_tab_cycles_alternatives_and_enter_takes_the_shown_one(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.canvas.set_tool("segment")
    tool = window.canvas.tool
    tool.set_segmenter(_ThreeMasks())
    qtbot.waitUntil(lambda: tool.ready, timeout=10_000)
    _click(qtbot, window, 150, 120)
    _wait_answer(qtbot, tool)
    sizes = []
    for _ in range(3):
        sizes.append(int(tool.result.mask.sum()))
        assert tool.key_press(_key(Qt.Key.Key_Tab))
    assert sizes == [400, 3600, 14400] and tool.result.chosen == 0
    qtbot.keyClick(window.canvas, Qt.Key.Key_Tab)  # a real Tab shows the middle one; accept it
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert int(st.mask.data.sum()) == 3600


def test_rapid_clicks_end_on_the_latest_answer(qtbot, window, photo):
    st, tool = _start(qtbot, window, photo)
    for x in (100, 110, 120, 130):
        _click(qtbot, window, x, 90)
    _click(qtbot, window, 250, 200, Qt.MouseButton.RightButton)
    _wait_answer(qtbot, tool)
    assert len(tool.result.prompts.include) == 4 and len(tool.result.prompts.exclude) == 1
    assert not tool.result.mask[200, 250]


def _key(key, mods=Qt.KeyboardModifier.NoModifier):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    return QKeyEvent(QEvent.Type.KeyPress, key, mods)


def test_segment_everything_then_click_regions_in_and_out(qtbot, window, photo):
    st, tool = _start(qtbot, window, photo)
    truth = _bright_rect(st.shape)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: tool.regions is not None, timeout=20_000)
    assert 2 <= tool.regions.max() <= 80
    _click(qtbot, window, 120, 90)  # take the bright block's region
    _click(qtbot, window, 300, 200)  # and a region of the background...
    _click(qtbot, window, 300, 200, Qt.MouseButton.RightButton)  # ...then drop it again
    assert _iou(tool.result.mask, truth) > 0.8
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert _iou(st.mask.data, truth) > 0.8 and tool.regions is None


def test_the_decoders_quick_answer_shows_before_the_refined_one(qtbot, window, photo):
    """A click draws the network's answer as soon as it is there; the outline refined along the
    photo's edges replaces it when ready (held back here to see the first one)."""
    import threading

    st, tool = _start(qtbot, window, photo)
    real, gate = tool.segmenter, threading.Event()

    class Held:  # the real segmenter, with the refined answer held until the test lets it go
        name = real.name

        def __getattr__(self, attr):
            return getattr(real, attr)

        def segment(self, prompts):
            gate.wait(30)
            return real.segment(prompts)

    tool.segmenter = Held()
    _click(qtbot, window, 120, 90)
    qtbot.waitUntil(lambda: tool._outline is not None, timeout=20_000)
    assert tool.result is None  # the decoder's answer is on screen, the refined one not yet
    assert not tool.accept()  # Enter waits for the refined answer
    gate.set()
    _wait_answer(qtbot, tool)
    assert _iou(tool.result.mask, _bright_rect(st.shape)) > 0.85 and tool.accept()
