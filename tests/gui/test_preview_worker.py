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


class GradientEngine:
    """Colour that varies across the photo (a proxy must put it in the same places)."""

    def colorize(self, request, cancel=None):
        from models.types import ColorizeResult

        h, w = request.L.shape
        ab = np.zeros((h, w, 2), np.float32)
        ab[..., 0] = np.linspace(-30, 30, w)[None, :]
        ab[..., 1] = np.linspace(40, -20, h)[:, None]
        return ColorizeResult(request.id, ab, request.model, "cpu", 0.01)


def _job(L, mask, feather=8.0):
    from app.core.pipeline import Settings
    from app.ui.preview_worker import PreviewJob

    return PreviewJob(job_id=1, state=None, version=1, L=L, mask=mask, display_mask=mask, hints=(),
                      settings=Settings(feather=feather), reference_lab=None, display_key=(1,))


def test_a_big_photo_is_shown_first_from_a_proxy_that_matches_the_full_preview():
    from app.ui.preview_worker import PROXY_PIXELS, proxy_level, run_job

    H, W = 1700, 2300  # 3.9 MP: over the proxy limit
    L = np.tile(np.linspace(20, 90, W, dtype=np.float32), (H, 1))
    L[400:900, 600:1500] = 70
    mask = np.zeros((H, W), bool)
    mask[200:1400, 300:2000] = True  # colour inside, the untouched grey outside
    proxies = []
    out = run_job(_job(L, mask), GradientEngine(), lambda: False, proxies.append)
    level = proxy_level((H, W))
    assert level == 1 and np.prod(proxies[0].pyramid.levels[1].shape[:2]) <= PROXY_PIXELS
    assert len(proxies) == 1 and proxies[0].pyramid.first == level and proxies[0].pyramid.shape == (H, W)
    full, proxy = out.pyramid.levels[level].astype(int), proxies[0].pyramid.levels[level].astype(int)
    assert full.shape == proxy.shape
    # the same picture: colour in the same places, off by a level or two of 255 at most on average
    assert np.abs(full - proxy).mean() < 1.5
    assert np.percentile(np.abs(full - proxy), 99) <= 12  # the mask's edge, feathered at half size
    # a photo under the limit goes straight to full size
    small = []
    run_job(_job(L[:800, :1200], mask[:800, :1200]), GradientEngine(), lambda: False, small.append)
    assert small == []


def test_the_window_shows_the_proxy_then_the_full_preview(qtbot, tmp_path):
    from app.ui.main_window import MainWindow
    from tests.gui.helpers import wait_preview, write_photo

    big = write_photo(tmp_path / "scan.png", size=(1700, 2300))
    engine = GradientEngine()
    win = MainWindow(engine_factory=lambda: engine)
    win.ask_save_changes = lambda dirty: "discard"
    qtbot.addWidget(win)
    win.show()
    try:
        st = open_photo(qtbot, win, big, model=None)
        wait_preview(qtbot, win)  # the opening preview (nothing masked yet) is done
        seen = []
        win.executor.proxy_ready.connect(lambda _id: seen.append(("proxy", st.compositor.pyramid.is_proxy, win.canvas.grab())))
        win.executor.preview_ready.connect(lambda _id: seen.append(("full", st.compositor.pyramid.is_proxy, None)))
        next(b for b in win.panel.mask_buttons if b.text() == "Fill").click()  # the whole photo, as a user does
        qtbot.waitUntil(lambda: any(k == "full" for k, _, _ in seen), timeout=30_000)
        wait_preview(qtbot, win)
        kinds = [(k, p) for k, p, _ in seen]
        assert kinds == [("proxy", True), ("full", False)]
        # the canvas drew the proxy (colour on screen at the fitted zoom) without the full-size level
        img = seen[0][2].toImage()
        px = [img.pixelColor(x, y) for x in range(40, img.width() - 40, 97) for y in range(40, img.height() - 40, 83)]
        assert max(abs(c.red() - c.blue()) for c in px) > 10
    finally:
        win.close()


def test_a_full_preview_that_arrives_after_a_slider_moved_still_replaces_the_proxy(qtbot, window, photo):
    from app.ui.pyramid import Pyramid
    from tests.gui.helpers import display, wait_preview

    st = open_photo(qtbot, window, photo)
    next(b for b in window.panel.mask_buttons if b.text() == "Fill").click()
    wait_preview(qtbot, window)
    shown = display(st).copy()
    full = Pyramid(shown.copy())
    st.compositor.replace(Pyramid.proxy(full.levels[1].copy(), 1, st.shape))  # a big photo's first look
    st.apply_preview(st.version, st.ab_work, st.ab_up, full, ("a slider moved",), 0.1, "cpu", "")
    st.compositor.flush()
    assert not st.compositor.pyramid.is_proxy  # redrawn over the full size, not into the proxy
    np.testing.assert_array_equal(display(st), shown)


def test_a_big_photo_with_colour_regions_gets_a_proxy_that_matches_too():
    from dataclasses import replace

    from app.core.regions import Region
    from app.ui.preview_worker import run_job

    H, W = 1700, 2300
    L = np.tile(np.linspace(20, 90, W, dtype=np.float32), (H, 1))
    sky = np.zeros((H, W), bool)
    sky[:800] = True
    door = np.zeros((H, W), np.uint8)  # a soft-brushed region: uint8 coverage
    door[900:1500, 1000:1600] = 180
    regions = (Region("sky", sky), Region("door", door, source="tint", colour="#aa3322", saturation=1.5))
    job = replace(_job(L, sky | (door > 0)), regions=regions)
    proxies = []
    out = run_job(job, GradientEngine(), lambda: False, proxies.append)
    full, proxy = out.pyramid.levels[1].astype(int), proxies[0].pyramid.levels[1].astype(int)
    assert np.abs(full - proxy).mean() < 1.5
    # the tinted door is red in both, the untouched band between the regions grey in both
    assert (proxy[500:700, 550:750, 0] - proxy[500:700, 550:750, 2]).mean() > 20
    band = proxy[420:440, 100:200]
    assert np.abs(band[..., 0] - band[..., 2]).max() <= 1
