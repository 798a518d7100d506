"""The preview executor: newest request wins, stale results are dropped, errors are sentences."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests.gui.helpers import open_photo, paint_stroke

pytestmark = pytest.mark.gui


class SlowEngine:
    """Blocks the first request until released; records what the cancel callback said."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.cancel_seen: list[bool] = []
        self.calls = 0

    def colorize(self, request, cancel=None):
        from models.types import Cancelled, ColorizeResult

        self.calls += 1
        if self.calls == 1:
            self.release.wait(10)
            self.cancel_seen.append(bool(cancel()))
            if cancel():
                raise Cancelled()
        h, w = request.L.shape
        return ColorizeResult(request.id, np.full((h, w, 2), 20.0, np.float32), request.model, "cpu", 0.01)


def test_newer_request_cancels_the_pending_one(qtbot, photo):
    from app.ui.main_window import MainWindow

    engine = SlowEngine()
    win = MainWindow(engine_factory=lambda: engine)
    win.ask_save_changes = lambda dirty: "discard"
    qtbot.addWidget(win)
    win.show()
    ready: list[int] = []
    win.executor.preview_ready.connect(ready.append)
    st = open_photo(qtbot, win, photo, model=None)  # first job starts and blocks
    qtbot.waitUntil(lambda: engine.calls == 1, timeout=10_000)
    paint_stroke(qtbot, win, [(50, 50), (90, 50)])
    win.scheduler.submit_now()  # a newer request while the first still runs
    engine.release.set()
    qtbot.waitUntil(lambda: len(ready) == 1 and not win.executor.busy, timeout=10_000)
    time.sleep(0.2)
    qtbot.wait(50)
    assert engine.cancel_seen == [True]  # the old job learnt it was stale
    assert len(ready) == 1 and st.preview_version == st.version
    win.close()


def test_model_error_is_shown_in_the_window_not_raised(qtbot, window, photo):
    open_photo(qtbot, window, photo, model="test-broken")
    with qtbot.waitSignal(window.executor.preview_failed, timeout=20_000) as blocker:
        pass
    msg = blocker.args[0]
    assert "weights" in msg and "\n" not in msg
    assert window.banner.isVisible() and window.banner.label.text() == msg


def test_error_then_recovery_hides_banner(qtbot, window, photo):
    st = open_photo(qtbot, window, photo, model="test-broken")
    qtbot.waitUntil(window.banner.isVisible, timeout=20_000)
    window.panel.model.setCurrentIndex(window.panel.model.findData("test-solid"))
    qtbot.waitUntil(lambda: st.preview_version == st.version and not window.banner.isVisible(), timeout=20_000)
