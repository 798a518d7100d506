"""Help: F1 lists every shortcut and gesture (searchable); About names the versions; the busy word."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.helpers import open_photo, write_photo

pytestmark = pytest.mark.gui


def test_f1_lists_menu_shortcuts_and_tool_gestures_and_filters_them(qtbot, window):
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)
    dlg = window._shortcuts_dialog
    assert dlg.isVisible()
    rows = dlg.visible_rows()
    keys_for = {what: keys for _, keys, what in rows}
    assert keys_for["Export"] == "Ctrl+E" and "F1" in keys_for["Keyboard and mouse"]
    assert ("Segment", "Shift+Enter or Alt+Enter", "Subtract the selection from the mask") in rows
    assert any(keys.startswith("Space") for _, keys, _ in rows)
    qtbot.keyClicks(dlg.search, "segment enter")
    shown = dlg.visible_rows()
    assert shown and all("enter" in " ".join(r).lower() and "segment" in " ".join(r).lower() for r in shown)
    assert len(shown) < len(rows)
    dlg.search.clear()
    assert len(dlg.visible_rows()) == len(rows)
    dlg.close()


def test_ctrl_slash_opens_it_too_and_about_names_the_versions(qtbot, window):
    from app.ui.dialogs.help_dialog import about_text

    assert "Ctrl+/" in [k.toString() for k in window.actions["shortcuts"].shortcuts()]
    text = about_text()
    assert "Huebrush" in text and "Qt" in text and "PySide6" in text and "Python" in text


def test_the_status_bar_says_colouring_while_a_preview_computes(qtbot, window, tmp_path):
    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    window.executor.busy_changed.emit(True)
    assert window.status.busy_label.isVisibleTo(window.status) and window.status.busy_label.text().startswith("Colouring")
    window.executor.busy_changed.emit(False)
    assert not window.status.busy_label.isVisibleTo(window.status)
