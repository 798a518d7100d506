"""Start the window: `huebrush` with no sub-command calls run_gui(paths).

The window appears before torch is imported: the networks load in a background thread
after show(), so a cold start on a small machine stays under a few seconds.
"""
from __future__ import annotations

import logging
import sys
import threading

from app.core.paths import share_models_dir_with_engine

log = logging.getLogger(__name__)


def _warm_up_models() -> None:
    """Import torch and the engine while the user looks at the window (first preview is faster)."""
    try:
        import torch  # noqa: F401  (the slow part: several seconds on a small machine)

        import models.engine  # noqa: F401
    except Exception as e:  # noqa: BLE001 - a broken install shows up later as a preview error
        log.warning("background model import failed: %s", e)


def apply_theme(app) -> None:
    """A neutral dark theme: colour judgements are easier against grey than against white."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    pal = QPalette()
    for role, rgb in ((QPalette.ColorRole.Window, (58, 58, 60)), (QPalette.ColorRole.WindowText, (225, 225, 225)),
                      (QPalette.ColorRole.Base, (40, 40, 42)), (QPalette.ColorRole.AlternateBase, (52, 52, 54)),
                      (QPalette.ColorRole.Text, (225, 225, 225)), (QPalette.ColorRole.Button, (66, 66, 68)),
                      (QPalette.ColorRole.ButtonText, (225, 225, 225)), (QPalette.ColorRole.Highlight, (70, 120, 190)),
                      (QPalette.ColorRole.HighlightedText, (255, 255, 255)), (QPalette.ColorRole.ToolTipBase, (40, 40, 42)),
                      (QPalette.ColorRole.ToolTipText, (225, 225, 225))):
        pal.setColor(role, QColor(*rgb))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(130, 130, 130))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(130, 130, 130))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(130, 130, 130))
    app.setPalette(pal)


GIL_SWITCH_S = 0.001


def create_window(paths=(), *, warm_up: bool = True, recover: bool = True):
    """QApplication + shown main window; photos open (and autosaves are offered) right after."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # The window's thread shares the GIL with the preview and segment workers: hand it back after
    # 1 ms instead of Python's 5, so a worker's run of short numpy steps cannot hold a repaint up
    sys.setswitchinterval(GIL_SWITCH_S)
    app.setOrganizationName("Huebrush")
    app.setApplicationName("Huebrush")
    app.setDesktopFileName("io.github.huebrush.Huebrush")  # lets docks match the window to its launcher
    apply_theme(app)
    from pathlib import Path

    from PySide6.QtGui import QIcon

    icon = Path(__file__).resolve().parents[2] / "resources" / "icons" / "huebrush-256.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    from app.ui.main_window import MainWindow

    win = MainWindow()
    win.show()
    if warm_up:
        threading.Thread(target=_warm_up_models, name="model-import", daemon=True).start()

    def after_show() -> None:
        if recover:
            win.offer_recovery()
        win.open_paths(list(paths))

    QTimer.singleShot(0, after_show)
    return app, win


def run_gui(paths=()) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    share_models_dir_with_engine()
    app, _win = create_window(paths)
    return app.exec()


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv[1:]))
