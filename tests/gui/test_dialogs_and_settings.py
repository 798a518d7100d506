"""Preferences, window geometry, recent files, the export dialog and the batch menu entry."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt

from app.ui.app_settings import AppSettings
from app.ui.dialogs.export_dialog import ExportDialog
from app.ui.dialogs.settings_dialog import SettingsDialog
from tests.gui.helpers import open_photo

pytestmark = pytest.mark.gui


def test_settings_dialog_stores_json_in_the_config_folder(qtbot, window):
    dlg = SettingsDialog(window.app_settings, ["hints", "maskgan"], window)
    qtbot.addWidget(dlg)
    dlg.model.setCurrentIndex(dlg.model.findData("hints"))
    dlg.work_size.setCurrentIndex(dlg.work_size.findData(768))
    dlg.device.setCurrentIndex(dlg.device.findData("cpu"))
    dlg.autosave.setChecked(False)
    dlg.apply()
    stored = json.loads(AppSettings.file().read_text())
    assert stored["default_model"] == "hints" and stored["work_size"] == 768 and stored["device"] == "cpu"
    assert stored["autosave"] is False
    again = AppSettings.load()
    assert again.work_size == 768 and again.default_model == "hints"


def test_new_photos_follow_the_preferences(qtbot, window, photo):
    window.app_settings.default_model = "hints"
    window.app_settings.work_size = 384
    st = open_photo(qtbot, window, photo, model=None)
    assert st.settings.model == "hints" and st.settings.work_size == 384
    assert window.panel.work_size.currentData() == 384


def test_damaged_settings_file_gives_defaults(tmp_path):
    AppSettings.file().write_text("{not json")
    assert AppSettings.load() == AppSettings()


def test_recent_files_are_remembered(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    assert AppSettings.load().recent_files[0] == str(photo.resolve())
    window.fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == [str(photo.resolve())]


def test_window_geometry_goes_to_qsettings(qtbot, window):
    window.resize(900, 640)
    window.close()
    assert QSettings().value("window/geometry") is not None


def test_export_dialog_formats(qtbot, tmp_path):
    dlg = ExportDialog(tmp_path / "street_colour.png", 16)
    qtbot.addWidget(dlg)
    assert dlg.options().bit_depth == 16 and dlg.options().path.suffix == ".png"
    dlg.format.setCurrentText("JPEG")
    opts = dlg.options()
    assert opts.path.suffix == ".jpg" and opts.bit_depth == 8 and not dlg.bit_depth.isEnabled()
    assert dlg.quality.isEnabled()
    dlg.format.setCurrentText("TIFF")
    assert dlg.options().path == tmp_path / "street_colour.tif" and dlg.bit_depth.isEnabled()


def test_batch_export_entry_is_disabled_until_its_dialog_exists(window):
    import importlib.util

    exists = importlib.util.find_spec("app.ui.dialogs.batch_dialog") is not None
    assert window.actions["batch"].isEnabled() is exists


def test_space_drag_pans_instead_of_painting(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    c = window.canvas
    window.actions["actual"].trigger()
    start = c.to_image(c.rect().topLeft().toPointF())
    c.setFocus()
    qtbot.keyPress(c, Qt.Key.Key_Space)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    qtbot.mouseMove(c, QPoint(260, 290))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(260, 290))
    qtbot.keyRelease(c, Qt.Key.Key_Space)
    now = c.to_image(c.rect().topLeft().toPointF())
    assert now.x() == pytest.approx(start.x() + 40) and not st.mask.data.any()


def test_cli_without_subcommand_opens_the_window(monkeypatch, photo):
    import app.ui.main as main_mod
    from app.cli import main

    seen = []
    monkeypatch.setattr(main_mod, "run_gui", lambda paths: seen.append(list(paths)) or 0)
    assert main([str(photo)]) == 0 and seen == [[str(photo)]]
    assert main([]) == 0 and seen[-1] == []
