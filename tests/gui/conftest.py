"""GUI test set-up: isolated QSettings, fake colorizers in the registry, a window fixture."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from tests.gui.helpers import FailingColorizer, SolidColorizer, write_photo  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _fake_models():
    from models.registry import ModelInfo, register

    register(ModelInfo("test-solid", "Solid colour (test)", "Paints one colour.", False), lambda device: SolidColorizer())
    register(ModelInfo("test-broken", "Broken (test)", "Always fails.", False), lambda device: FailingColorizer())


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    yield


@pytest.fixture
def photo(tmp_path) -> Path:
    return write_photo(tmp_path / "street.png")


@pytest.fixture
def window(qtbot):
    from app.ui.main_window import MainWindow

    win = MainWindow()
    win.ask_save_changes = lambda dirty: "discard"  # never block on a dialog
    win.ask_recover = lambda files: False
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
