"""Painting, undo/redo, live preview, hints and switching photos, driven with real mouse events."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.helpers import chroma, display, image_to_widget, open_photo, paint_stroke, wait_preview, write_photo

pytestmark = pytest.mark.gui

STROKE = [(60, 150), (120, 152), (180, 150), (240, 148)]


def test_stroke_paints_mask_and_undo_redo_restore_it(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.canvas.brush_radius = 10
    assert not st.mask.data.any()

    paint_stroke(qtbot, window, STROKE)
    painted = st.mask.data.copy()
    assert painted[150, 60] and painted[151, 120] and painted[150, 180] and painted[148, 240]
    assert not painted[100, 150] and not painted[200, 150]  # only along the stroke
    assert window.actions["undo"].text() == "Undo Paint mask"  # the Edit menu names the step
    assert st.is_dirty

    window.actions["undo"].trigger()
    assert not st.mask.data.any()
    assert window.actions["redo"].text() == "Redo Paint mask"
    window.actions["redo"].trigger()
    np.testing.assert_array_equal(st.mask.data, painted)


def test_one_stroke_is_one_undo_step(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    steps = st.undo_stack.count()  # the test model chosen: a settings step
    paint_stroke(qtbot, window, STROKE[:2])
    first = st.mask.data.copy()
    paint_stroke(qtbot, window, [(100, 60), (100, 220)])
    assert st.undo_stack.count() == steps + 2
    window.actions["undo"].trigger()
    np.testing.assert_array_equal(st.mask.data, first)


def test_preview_colours_inside_the_stroke_and_nowhere_else(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.canvas.brush_radius = 12
    window.panel.feather.setValue(0)
    paint_stroke(qtbot, window, STROKE)
    with qtbot.waitSignal(window.executor.preview_ready, timeout=30_000):
        pass  # the debounced model run after the stroke
    st = wait_preview(qtbot, window)
    rgb = display(st)
    c = chroma(rgb)
    inside, outside = st.mask.data, ~st.mask.data
    assert c[inside].mean() > 40  # clearly coloured (orange-red from the fake model)
    assert (rgb[inside][:, 0] > rgb[inside][:, 2]).all()
    assert c[outside].max() == 0  # exactly grey everywhere else
    assert "ms" in window.status.preview.text()


def test_painting_recomposites_at_once_from_the_last_colours(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.panel.feather.setValue(0)
    wait_preview(qtbot, window)  # colours for the whole photo are known now
    paint_stroke(qtbot, window, [(200, 40), (260, 40)])
    # no waiting for the model: the stroke shows colour straight away
    assert chroma(display(st))[40, 230] > 20


def test_hint_colour_wins(qtbot, window, photo):
    st = open_photo(qtbot, window, photo, model="hints")
    window.panel.feather.setValue(0)
    window.mask_operation("fill")
    window.set_hint_colour((0.15, 0.35, 0.9))  # blue
    window.canvas.set_tool("hint")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 250, 200))
    assert len(st.hints) == 1 and window.actions["undo"].text() == "Undo Add hint"
    st = wait_preview(qtbot, window)
    r, g, b = display(st)[200, 250].astype(int)
    assert b > r + 30 and b > g  # the hint's blue, around the hint

    window.actions["undo"].trigger()
    assert st.hints == ()


def test_hint_can_be_moved_recoloured_and_deleted(qtbot, window, photo):
    st = open_photo(qtbot, window, photo, model="hints")
    window.canvas.set_tool("hint")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 100, 100))
    (h,) = st.hints
    paint_stroke(qtbot, window, [(100, 100), (130, 110), (160, 120)])  # drag the swatch
    (moved,) = st.hints
    assert moved.points[0] == pytest.approx((h.points[0][0] + 60, h.points[0][1] + 20), abs=1.5)
    window.set_hint_colour((0.1, 0.8, 0.2))
    window.panel.recolour_hint.emit()
    assert st.hints[0].rgb == pytest.approx((0.1, 0.8, 0.2))
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert st.hints == ()
    window.actions["undo"].trigger()
    assert len(st.hints) == 1


def test_each_photo_keeps_its_own_mask_and_settings(qtbot, window, tmp_path):
    a = open_photo(qtbot, window, write_photo(tmp_path / "a.png", seed=1))
    paint_stroke(qtbot, window, STROKE)
    window.panel.saturation.setValue(150)
    b = open_photo(qtbot, window, write_photo(tmp_path / "b.png", size=(200, 260), seed=2))
    assert window.state is b and window.strip.count() == 2
    assert not b.mask.data.any() and b.settings.saturation == 1.0
    assert window.panel.saturation.value() == 100

    window.strip.setCurrentRow(0)
    assert window.state is a and a.mask.data.any() and window.panel.saturation.value() == 150
    assert window.actions["undo"].text() == "Undo Saturation 150%"  # the active undo stack follows
    window.strip.setCurrentRow(1)
    assert window.actions["undo"].isEnabled() is False


def test_brush_size_keys_and_tool_shortcuts(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    r = window.canvas.brush_radius
    window.actions["brush_bigger"].trigger()
    assert window.canvas.brush_radius > r
    window.actions["tool_eraser"].trigger()
    assert window.canvas.tool.name == "eraser"
    window.actions["tool_hint"].trigger()
    assert window.canvas.tool.name == "hint"


def test_eraser_removes_mask(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    window.mask_operation("fill")
    window.canvas.set_tool("eraser")
    window.canvas.brush_radius = 8
    paint_stroke(qtbot, window, [(100, 100), (140, 100)])
    assert not st.mask.data[100, 120] and st.mask.data[50, 50]


def test_historical_photo_from_the_archive(qtbot, window, datasets_dir):
    photos = sorted((datasets_dir / "historical-bw").glob("*.jpg"))
    if not photos:
        pytest.skip("no historical photos")
    st = open_photo(qtbot, window, photos[0])
    window.panel.feather.setValue(0)
    H, W = st.shape
    paint_stroke(qtbot, window, [(W * 0.3, H * 0.5), (W * 0.6, H * 0.5)])
    st = wait_preview(qtbot, window)
    c = chroma(display(st))
    assert c[st.mask.data].mean() > 20 and c[~st.mask.data].max() == 0


def test_preview_mask_copies_are_reused_only_once_no_job_holds_them(qtbot, window, photo):
    """The mask handed to a preview job stays as it was while the job holds it, even as painting
    goes on; once let go, its memory is reused (no fresh 24 MB array per preview)."""
    st = open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    _, held = st.mask_snapshot()
    before = held.copy()
    paint_stroke(qtbot, window, [(60, 40), (240, 40)])
    _, second = st.mask_snapshot()
    assert second is not held and np.array_equal(held, before)  # the held copy is untouched
    assert second[40, 150] and not held[40, 150]
    del held, second

    def kept_array_reused() -> bool:  # once no preview job holds one either
        _, again = st.mask_snapshot()
        return any(again is b for b in st._snapshots) and np.array_equal(again, st.mask.data)

    wait_preview(qtbot, window)
    qtbot.waitUntil(kept_array_reused, timeout=10_000)
