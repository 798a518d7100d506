"""View and brush controls an editor's user expects: zoom field and steps, Alt/Ctrl+wheel, brush
size readout and field, the History panel."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui.helpers import open_photo, paint_stroke, pointer_to, write_photo

pytestmark = pytest.mark.gui


def _wheel(widget, pos: QPoint, dy: int, mods) -> None:
    p = QPointF(pos)
    ev = QWheelEvent(p, QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                     mods, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_zoom_field_steps_and_wheel_zoom(qtbot, window, tmp_path):
    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    canvas, status = window.canvas, window.status
    window.actions["zoom_200"].trigger()
    assert canvas.zoom == pytest.approx(2.0) and status.zoom.currentText() == "200%"
    window.actions["zoom_50"].trigger()
    assert canvas.zoom == pytest.approx(0.5)
    status.zoom.setEditText("150")
    status.zoom.lineEdit().returnPressed.emit()
    assert canvas.zoom == pytest.approx(1.5) and status.zoom.currentText() == "150%"
    status.zoom.activated.emit(status.zoom.findData(400))
    assert canvas.zoom == pytest.approx(4.0)
    for mods in (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier):
        before = canvas.zoom
        _wheel(canvas, canvas.rect().center(), -240, mods)
        assert canvas.zoom < before  # wheel down zooms out with either modifier
    before = canvas.zoom
    _wheel(canvas, canvas.rect().center(), -240, Qt.KeyboardModifier.NoModifier)
    assert canvas.zoom == before  # a plain wheel scrolls


def test_brush_size_is_a_number_in_the_panel_and_beside_the_cursor(qtbot, window, tmp_path):
    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    canvas, panel = window.canvas, window.panel
    canvas.setFocus()
    assert panel.brush_size.value() == round(2 * canvas.brush_radius)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert panel.brush_size.value() == round(2 * canvas.brush_radius) and canvas.brush_size_label_shown()
    panel.brush_size.setValue(12)
    assert canvas.brush_radius == 6.0
    canvas.zoom_about(0.01, canvas.rect().center())  # far out: the outline must stay visible
    pointer_to(canvas, canvas.rect().center())
    img = canvas.grab().toImage()
    c = canvas.rect().center()
    ring = [img.pixelColor(c.x() + dx, c.y()) for dx in (-4, -3, 3, 4)]
    assert any(px.value() < 40 or px.value() > 215 for px in ring)


def test_history_panel_lists_edits_and_goes_back(qtbot, window, tmp_path):
    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    window.actions["history"].trigger()
    assert window.history_dock.isVisible()
    paint_stroke(qtbot, window, [(40, 40), (80, 40)])
    paint_stroke(qtbot, window, [(40, 120), (80, 120)])
    assert window.history.model().rowCount() == 3  # "Opened" and two strokes
    assert state.undo_stack.count() == 2
    window.history.setCurrentIndex(window.history.model().index(1, 0))  # back to after the first stroke
    assert state.undo_stack.index() == 1 and state.mask.data[120, 60] == False  # noqa: E712
    assert state.mask.data[40, 60]


def test_polygonal_lasso_clicks_corners_and_closes_with_a_double_click_or_enter(qtbot, window, tmp_path):
    from tests.gui.helpers import image_to_widget

    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_L)
    corners = [(40, 40), (200, 40), (200, 160), (40, 160)]
    for x, y in corners[:-1]:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, x, y))
    assert canvas.tool.polygon_in_progress is not None and len(canvas.tool.polygon_in_progress) == 3
    assert not state.mask.data.any()  # nothing filled while the polygon is open
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, *corners[-1]))
    m = state.mask.data
    assert canvas.tool.polygon_in_progress is None and m[100, 120] and not m[10, 10] and not m[100, 230]
    assert state.undo_stack.count() == 1
    # Alt + corners + Enter removes a triangle; Backspace takes a corner back first
    for x, y in ((60, 60), (150, 60), (60, 140), (300, 220)):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, image_to_widget(window, x, y))
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)  # the last corner, (300, 220), was a slip
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not state.mask.data[80, 80] and state.mask.data[150, 190] and state.undo_stack.count() == 2


def test_mask_menu_grows_shrinks_and_smooths_by_a_number_of_pixels(qtbot, window, tmp_path):
    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    paint_stroke(qtbot, window, [(100, 100), (101, 100)])
    area = state.mask.data.sum()
    window.ask_pixels = lambda title, label, value: 5
    window.actions["mask_grow"].trigger()
    grown = state.mask.data.sum()
    assert grown > area and state.undo_stack.undoText() == "Grow mask 5 px"
    window.actions["mask_shrink"].trigger()
    assert state.mask.data.sum() < grown
    state.mask.data  # a speck far away is dropped by Smooth
    from app.ui.undo_commands import push_mask_edit

    push_mask_edit(state, "speck", lambda m: m.stroke([(20, 200)], 1.0))
    assert state.mask.data[200, 20]
    window.actions["mask_smooth"].trigger()
    assert not state.mask.data[200, 20] and state.mask.data[100, 100]
    window.ask_pixels = lambda title, label, value: 12
    window.actions["mask_feather"].trigger()
    assert state.settings.feather == 12.0
    window.ask_pixels = lambda title, label, value: None  # Cancel changes nothing
    steps = state.undo_stack.count()
    window.actions["mask_grow"].trigger()
    assert state.undo_stack.count() == steps


def test_the_mask_overlay_colour_and_opacity_are_settings(qtbot, window, tmp_path):
    from app.ui.app_settings import AppSettings
    from app.ui.dialogs.settings_dialog import SettingsDialog

    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    paint_stroke(qtbot, window, [(100, 100), (200, 100)])
    dlg = SettingsDialog(window.app_settings, ["test-solid"], window)
    qtbot.addWidget(dlg)
    dlg.set_overlay_colour("#00e5ff")
    dlg.overlay_opacity.setValue(60)
    dlg.apply()
    window.canvas.set_overlay(window.app_settings.overlay_colour, window.app_settings.overlay_opacity)
    assert window.canvas.overlay_rgba == (0, 229, 255, 153) and window.canvas.edge_rgba[:3] == (0, 229, 255)
    again = AppSettings.load()
    assert (again.overlay_colour, again.overlay_opacity) == ("#00e5ff", 60)
    window.set_view("mask", True)
    window.canvas.fit()
    img = window.canvas.grab().toImage()
    p = window.canvas.to_widget(150, 100)
    c = img.pixelColor(int(p.x()), int(p.y()))
    assert c.blue() > c.red() + 30  # a cyan tint over the mask now
    assert state.mask.data[100, 150]


def test_brush_size_can_follow_the_screen_or_the_photo(qtbot, window, tmp_path):
    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    canvas, panel = window.canvas, window.panel
    window.actions["actual"].trigger()
    panel.brush_size.setValue(40)
    window.actions["zoom_200"].trigger()
    assert canvas.brush_radius == 20.0  # photo pixels: the same size on the photo
    panel.brush_screen.setChecked(True)
    on_screen = canvas.brush_radius * canvas.zoom
    window.actions["zoom_50"].trigger()
    assert canvas.brush_radius * canvas.zoom == pytest.approx(on_screen)  # same size on screen
    assert panel.brush_size.value() == round(2 * canvas.brush_radius)  # the field shows photo pixels
    panel.brush_screen.setChecked(False)
    r = canvas.brush_radius
    window.actions["zoom_200"].trigger()
    assert canvas.brush_radius == r


def test_shift_always_adds_and_alt_flips_brush_and_eraser(qtbot, window, tmp_path):
    st = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    canvas = window.canvas
    window.actions["actual"].trigger()
    window.panel.brush_size.setValue(10)
    canvas.set_tool("eraser")

    def drag(y, mods):
        from tests.gui.helpers import image_to_widget

        a, b = image_to_widget(window, 40, y), image_to_widget(window, 80, y)
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, mods, pos=a)
        qtbot.mouseMove(canvas, b)
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, mods, pos=b)

    drag(40, Qt.KeyboardModifier.ShiftModifier)  # Shift with the eraser paints
    assert st.mask.data[40, 60]
    drag(80, Qt.KeyboardModifier.AltModifier)  # so does Alt (it flips the eraser)
    assert st.mask.data[80, 60]
    drag(40, Qt.KeyboardModifier.NoModifier)  # a plain eraser stroke erases
    assert not st.mask.data[40, 60]


def test_brush_hardness_paints_a_soft_edge_through_preview_undo_project_and_export(qtbot, window, tmp_path):
    import numpy as np
    from PIL import Image

    from app.ui.dialogs.export_dialog import ExportOptions
    from tests.gui.helpers import chroma, display, wait_preview

    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    canvas, panel = window.canvas, window.panel
    window.panel.feather.setValue(0)  # only the brush's own fall-off
    assert panel.brush_hardness.value() == 100 and canvas.brush_hardness == 1.0
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.ShiftModifier)  # softer, in 25 % steps
    assert canvas.brush_hardness == 0.75 and panel.brush_hardness.value() == 75
    panel.brush_hardness.setValue(0)  # the field sets the canvas's brush
    assert canvas.brush_hardness == 0.0
    panel.brush_size.setValue(60)
    paint_stroke(qtbot, window, [(100, 120), (140, 120)])
    cover = state.mask.coverage.copy()
    assert state.mask.soft and cover[120, 120] == 255 and 0 < cover[120, 165] < 200 and cover[120, 175] == 0
    st = wait_preview(qtbot, window)
    c = chroma(display(st))
    assert c[120, 120] > 40 and 0 < c[120, 165] < c[120, 120] and c[120, 175] == 0  # partial colour at the edge
    img = canvas.grab().toImage()  # the overlay is drawn (no crash on a soft mask)
    assert not img.isNull()

    target = tmp_path / "soft.huebrush"
    assert window.save_project(path=target, wait=True)
    out = tmp_path / "soft.png"
    task = window.export_to(ExportOptions(out, 8, 95))
    with qtbot.waitSignal(task.done, timeout=30_000):
        pass
    rgb = np.asarray(Image.open(out).convert("RGB"))
    e = chroma(rgb)
    assert e[120, 120] > 40 and 0 < e[120, 165] < e[120, 120] and e[cover == 0].max() == 0

    window.actions["undo"].trigger()
    assert not state.mask.data.any()
    window.close_current()
    with qtbot.waitSignal(window.photo_opened, timeout=20_000) as blocker:
        window.open_paths([str(target)])
    again = blocker.args[0]
    assert again.mask.soft and np.array_equal(again.mask.coverage, cover)
