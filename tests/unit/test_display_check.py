"""Before the window opens on Linux: no display, or Qt's X11 plugin missing a system library, is one
sentence with the fix instead of Qt aborting with a message that names neither."""
from __future__ import annotations

import subprocess
import sys

import pytest

from app.ui.main import display_problem, xcb_missing_library

never = lambda: None  # noqa: E731  (the X11 plugin loads)


def test_no_display_on_linux_says_so_and_points_to_the_command_line():
    msg = display_problem({}, "linux", never)
    assert "no display" in msg and "huebrush batch" in msg
    # a chosen platform (offscreen, wayland) or a Wayland session is Qt's to judge
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", never) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", never) is None
    assert display_problem({}, "darwin", never) is None and display_problem({}, "win32", never) is None


def test_a_missing_x11_library_is_named_with_the_packages_to_install():
    msg = display_problem({"DISPLAY": ":0"}, "linux", lambda: "libxcb-icccm.so.4")
    assert "libxcb-icccm.so.4 is missing" in msg and "sudo apt install" in msg and "libxcb-icccm4" in msg
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", lambda: "libxcb-cursor.so.0")
    assert display_problem({"DISPLAY": ":0"}, "linux", never) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's display check")
def test_the_check_loads_the_real_plugin_and_names_a_library_if_any_is_missing():
    missing = xcb_missing_library()
    assert missing is None or (missing.startswith("lib") and ".so" in missing)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's display check")
def test_huebrush_without_a_display_exits_1_with_the_sentence(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "app"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("huebrush: There is no display") and "Aborted" not in r.stderr
