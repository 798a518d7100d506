"""Keyboard behaviour a photo editor's user expects (the craft issue's bugs 1 and 2)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.helpers import open_photo, pointer_to, write_photo

pytestmark = pytest.mark.gui


def test_space_drag_pans_even_when_the_photo_strip_has_the_focus(qtbot, window, tmp_path):
    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    open_photo(qtbot, window, write_photo(tmp_path / "b.png", seed=1))
    window.set_current(state)
    canvas = window.canvas
    canvas.zoom_about(4.0, canvas.rect().center())  # zoomed in, so there is room to pan
    window.strip.setFocus()
    qtbot.mouseClick(window.strip.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert not canvas.hasFocus()
    start = canvas.rect().center()
    pointer_to(canvas, start + QPoint(5, 5))  # the pointer comes over the canvas
    pointer_to(canvas, start)
    before_mask = window.state.mask.data.copy()
    origin = canvas.to_image(start)
    qtbot.keyPress(window.strip, Qt.Key.Key_Space)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(60, 40))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 40))
    qtbot.keyRelease(window.strip, Qt.Key.Key_Space)
    assert np.array_equal(window.state.mask.data, before_mask)  # no stroke was painted...
    moved = canvas.to_image(start)
    assert abs(moved.x() - origin.x()) > 5 and abs(moved.y() - origin.y()) > 3  # ...the view panned


def test_space_in_a_text_field_is_still_a_space(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QLineEdit

    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    field = QLineEdit(window)
    field.show()
    qtbot.mouseMove(window.canvas, window.canvas.rect().center())
    field.setFocus()
    qtbot.keyClicks(field, "a b")
    assert field.text() == "a b"


def test_the_status_tip_follows_the_tool_chosen_by_key(qtbot, window, tmp_path):
    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_S)  # the segmenter starts preparing the photo...
    assert window.status.message.text().startswith("Segment")
    qtbot.keyClick(window.canvas, Qt.Key.Key_E)  # ...and the user moves on at once
    qtbot.wait(3000)  # its progress and "ready" arrive meanwhile, and a preview finishes
    assert window.status.message.text().startswith("Eraser"), window.status.message.text()
    qtbot.keyClick(window.canvas, Qt.Key.Key_L)
    assert window.status.message.text().startswith("Lasso")


def test_after_recovery_the_batch_dialog_names_the_photos_real_folder(qtbot, window, tmp_path):
    from app.core.project import Project, save_project
    from app.ui.dialogs.batch_dialog import open_batch_dialog

    photos = tmp_path / "data"
    photos.mkdir()
    photo = write_photo(photos / "farm.png")
    autosave = tmp_path / "home" / ".local" / "share" / "Huebrush" / "autosave"
    autosave.mkdir(parents=True)
    saved = save_project(autosave / "farm.huebrush", Project(source_path=photo, size=(240, 320)))
    with qtbot.waitSignal(window.photo_opened, timeout=20_000):
        window.open_paths([str(saved)])
    dlg = open_batch_dialog(window)
    qtbot.addWidget(dlg)
    listed = [dlg.inputs.item(i).text() for i in range(dlg.inputs.count())]
    assert listed == [str(photos.resolve())] and ".." not in dlg.output_dir.text()
    dlg.close()


def test_export_follows_the_source_format_asks_before_replacing_and_stays_open_on_a_refusal(qtbot, window, tmp_path):
    import tifffile

    from app.ui.dialogs.export_dialog import FORMATS, ExportDialog

    src = tmp_path / "scan.tif"
    tifffile.imwrite(src, (np.random.default_rng(0).random((60, 80)) * 65535).astype(np.uint16))
    state = open_photo(qtbot, window, src)
    suggested = window.suggested_export_path(state)
    assert suggested == tmp_path / "scan_colour.tif"
    assert {"WebP", "BMP"} <= set(FORMATS)
    dlg = ExportDialog(suggested, 16, window, source=src)
    qtbot.addWidget(dlg)
    assert dlg.format.currentText() == "TIFF" and dlg.bit_depth.currentData() == 16
    dlg.show()
    dlg.path.setText(str(src))  # the original itself
    dlg.accept()
    assert dlg.isVisible() and dlg.result() == 0 and "input photo" in dlg.problem.text()
    asked = []
    existing = tmp_path / "old_colour.tif"
    existing.write_bytes(b"an earlier export")
    dlg.confirm_replace = lambda p: asked.append(p) or False
    dlg.path.setText(str(existing))
    dlg.accept()
    assert asked == [existing] and dlg.isVisible()  # "no": still open, nothing replaced
    dlg.confirm_replace = lambda p: True
    dlg.accept()
    assert not dlg.isVisible() and dlg.result() == 1


def test_webp_and_bmp_exports_are_written_at_8_bits(tmp_path):
    from PIL import Image

    from app.core.export import export_result

    L = np.linspace(0, 100, 30 * 40, dtype=np.float32).reshape(30, 40)
    ab = np.zeros((30, 40, 2), np.float32)
    ab[..., 0] = 30
    for ext in (".webp", ".bmp"):
        out = export_result(tmp_path / f"o{ext}", L, ab, bit_depth=8, quality=100)
        with Image.open(out) as im:
            rgb = np.asarray(im.convert("RGB")).astype(int)
        assert rgb.shape == (30, 40, 3) and (rgb[..., 0] - rgb[..., 1]).mean() > 10  # red-ish: the colour arrived


def test_the_panel_is_usable_from_the_keyboard(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QApplication

    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    panel = window.panel
    panel.show_colour((0.8, 0.2, 0.2), ["#123456", "#abcdef"])
    qtbot.wait(50)  # new swatches are shown by the layout on the next event loop pass
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_F6)  # from the canvas into the panel
    assert QApplication.focusWidget() is panel.model
    reachable = [w for w in panel.keyboard_order() if w.isEnabled() and w.isVisible()]
    assert panel.colour_button in reachable and panel.recent_buttons[1] in reachable
    seen = [QApplication.focusWidget()]
    for _ in range(len(reachable) - 1):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == reachable  # every control, in reading order, swatches included
    chosen = []
    panel.colour_chosen.connect(chosen.append)
    panel.recent_buttons[1].setFocus()
    qtbot.keyClick(panel.recent_buttons[1], Qt.Key.Key_Space)
    assert chosen and abs(chosen[0][0] - 0xab / 255) < 1e-6
    panel.model.setFocus()
    before = panel.model.currentIndex()
    qtbot.keyClick(panel.model, Qt.Key.Key_Down)
    assert panel.model.currentIndex() != before  # the model combo changes from the keyboard
    qtbot.keyClick(panel.model, Qt.Key.Key_F6)  # on to the photo strip, then back to the canvas
    assert QApplication.focusWidget() is window.strip
    qtbot.keyClick(window.strip, Qt.Key.Key_F6)
    assert QApplication.focusWidget() is window.canvas
