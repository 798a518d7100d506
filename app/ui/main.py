"""Start the window: `huebrush` with no sub-command calls run_gui(paths).

The window appears before torch is imported: the networks load in a background thread
after show(), so a cold start on a small machine stays under a few seconds.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

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


# Qt's X11 plugin needs these system libraries, which a minimal Linux install may lack
X11_PACKAGES = {
    "Debian/Ubuntu": "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
                     "libxcb-render-util0 libxkbcommon-x11-0",
    "Fedora": "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image xcb-util-renderutil "
              "libxkbcommon-x11",
}


def xcb_missing_library() -> str | None:
    """The first system library Qt's X11 plugin (PySide6's libqxcb.so) cannot load, or None if it loads.

    Loading the plugin the way Qt will (dlopen) names what is missing; the library stays loaded,
    and Qt's own load of it later finds it already there.
    """
    import ctypes

    try:
        import PySide6
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None  # a frozen build or a system Qt: nothing to check here
    try:
        ctypes.CDLL(str(plugin))
    except OSError as e:
        text = str(e)
        missing = text.split(":", 1)[0].strip() if "cannot open shared object file" in text else text
        return Path(missing).name or text
    return None


def display_problem(env=None, platform: str | None = None, xcb_missing=xcb_missing_library) -> str | None:
    """Why the window cannot open on this Linux session, in one sentence with the fix; None if it can.

    Qt aborts the process (no exception to catch) when it has no display or its X11 plugin misses
    a system library, and prints a message that does not say which; this checks both first.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: the user chose; Qt's own message is about their choice
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None  # Qt takes Wayland first
    if not env.get("DISPLAY"):
        return ("There is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): run Huebrush "
                "in a desktop session, or use the command line (huebrush colorize, huebrush batch; see huebrush --help).")
    missing = xcb_missing()
    if missing:
        how = "; ".join(f"{k}: {v}" for k, v in X11_PACKAGES.items())
        return (f"Qt cannot open a window on X11 because the system library {missing} is missing: install Qt's X11 "
                f"libraries ({how}) and start Huebrush again.")
    return None


def run_gui(paths=()) -> int:
    problem = display_problem()
    if problem:
        print(f"huebrush: {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    share_models_dir_with_engine()
    app, _win = create_window(paths)
    return app.exec()


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv[1:]))
