"""GUI responsiveness while previews run (offscreen). Prints JSON.

- event-loop gap: a 10 ms QTimer records the longest time between its ticks while the user
  paints strokes and previews run in the worker (goal: under 50 ms), on a historical photo
  and on a 24 MP photo;
- mouse release -> updated preview: for a mask-only re-composite (no model run: the stroke is
  shown from the last predicted colours) and for a model run (the default model, maskgan-v2 since
  2026-12-07, at 512 px when its weights are installed, else maskgan, else the weight-free "hints" model), including the 300 ms debounce;
  and to the new colours' first look (a photo over ``PROXY_PIXELS`` is shown from a proxy first).
  ``--compare-proxy`` runs the 24 MP photo once more with the proxy off, for a ratio in one run.

``--hardness 1,0.5`` runs each photo once per brush hardness (a soft brush keeps an 8-bit
coverage beside the mask); results for a hardness below 1 are keyed ``<photo>_hardness<percent>``.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _isolate() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="huebrush-bench-"))
    for var in ("HUEBRUSH_CONFIG_DIR", "HUEBRUSH_DATA_DIR", "HUEBRUSH_CACHE_DIR"):
        os.environ[var] = str(tmp / var.lower())
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "qsettings"))
    os.environ["HUEBRUSH_BENCH_TMP"] = str(tmp)


class GapRecorder:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append((now - self._last) * 1000.0)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = None
        self.timer.start()

    def stop(self) -> dict:
        self.timer.stop()
        g = sorted(self.gaps)
        return {"max_gap_ms": round(g[-1], 1) if g else None,
                "p99_gap_ms": round(g[int(0.99 * (len(g) - 1))], 1) if g else None,
                "ticks": len(g)}


def pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def wait_until(app, cond, timeout: float) -> bool:
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


def open_photo(app, win, path: Path):
    got = []
    win.photo_opened.connect(got.append)
    win.open_paths([str(path)])
    if not wait_until(app, lambda: got or win.banner.isVisible(), 120):
        raise SystemExit(f"{path} did not open")
    if not got:
        raise SystemExit(win.banner.label.text())
    win.photo_opened.disconnect(got.append)
    return got[0]


def preview_done(win, st) -> bool:
    return st.preview_version == st.version and not win.executor.busy


def choose_model(app, win, st) -> str:
    """The default model when it runs here, else maskgan, else hints."""
    from models.registry import DEFAULT_MODEL

    failed: list[str] = []
    win.executor.preview_failed.connect(failed.append)
    for name in (DEFAULT_MODEL, "maskgan", "hints"):
        i = win.panel.model.findData(name)
        if i < 0:
            continue
        failed.clear()
        win.panel.model.setCurrentIndex(i)
        win.scheduler.submit_now()
        if wait_until(app, lambda: preview_done(win, st) or failed, 300) and not failed:
            return name
    raise SystemExit("no model could produce a preview")


def stroke(app, win, pts, step_s: float = 0.008) -> list[float]:
    """A real mouse drag; returns how long each move event took to handle (ms)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    c = win.canvas
    wp = [c.to_widget(x, y) for x, y in pts]
    wp = [QPoint(round(p.x()), round(p.y())) for p in wp]
    QTest.mousePress(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, wp[0])
    costs = []
    for p in wp[1:]:
        t = time.perf_counter()
        QTest.mouseMove(c, p)
        app.processEvents()
        costs.append((time.perf_counter() - t) * 1000)
        pump(app, step_s)
    QTest.mouseRelease(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, wp[-1])
    return costs


def line(x0, y0, x1, y1, n=25):
    return [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]


def scenario(app, win, photo: Path, label: str, strokes: int) -> dict:
    t = time.perf_counter()
    st = open_photo(app, win, photo)
    open_s = time.perf_counter() - t
    win.canvas.fit()
    model = choose_model(app, win, st)
    H, W = st.shape
    win.canvas.brush_radius = max(W, H) / 60
    # 1. mask-only: release -> the stroke is on screen from the last colours (no model run)

    recomposite, model_run, first_look, dab_costs = [], [], [], []
    rec = GapRecorder()
    rec.start()
    for i in range(strokes):
        y = H * (0.2 + 0.6 * i / max(1, strokes - 1))
        pts = line(W * 0.15, y, W * 0.85, y + H * 0.05)
        dab_costs += stroke(app, win, pts)
        t0 = time.perf_counter()
        app.processEvents()
        win.canvas.repaint()  # the release's redraw, as the user sees it
        recomposite.append((time.perf_counter() - t0) * 1000 + statistics.mean(dab_costs[-5:]))
        # 2. model: release -> preview_ready (debounce included); a big photo's proxy comes first
        ready: list[int] = []
        first: list[float] = []
        on_first = lambda _id: first or first.append((time.perf_counter() - t0) * 1000)  # noqa: E731
        win.executor.proxy_ready.connect(on_first)
        win.executor.preview_ready.connect(on_first)
        win.executor.preview_ready.connect(ready.append)
        ok = wait_until(app, lambda: ready and preview_done(win, st), 300)
        win.executor.preview_ready.disconnect(ready.append)
        win.executor.preview_ready.disconnect(on_first)
        win.executor.proxy_ready.disconnect(on_first)
        if ok:
            model_run.append((time.perf_counter() - t0) * 1000)
            first_look.append(first[0])
    gaps = rec.stop()
    st.undo_stack.setClean()
    return {
        "photo": f"{label} ({W}x{H})",
        "open_s": round(open_s, 2),
        "model": model,
        "work_size": st.settings.work_size,
        "device": st.preview_device,
        "event_loop": gaps,
        "brush_move_event_ms_mean": round(statistics.mean(dab_costs), 1),
        "brush_move_event_ms_max": round(max(dab_costs), 1),
        "release_to_mask_only_update_ms_median": round(statistics.median(recomposite), 1),
        "release_to_model_preview_ms_median": round(statistics.median(model_run), 0) if model_run else None,
        "model_preview_ms_excluding_300ms_debounce": round(statistics.median(model_run) - 300, 0) if model_run else None,
        # the new colours first on screen: a photo over preview_worker.PROXY_PIXELS shows them from a proxy
        "first_colour_ms_excluding_300ms_debounce": round(statistics.median(first_look) - 300, 0) if first_look else None,
        "preview_worker_seconds_last": round(st.preview_seconds or 0, 3),
    }


def big_photo(path: Path, size=(4000, 6000)) -> Path:
    import numpy as np
    from PIL import Image

    if not path.exists():
        h, w = size
        y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        g = 40 + 150 * x + 40 * np.sin(y * 40) * np.cos(x * 25)
        Image.fromarray(np.clip(g, 0, 255).astype(np.uint8), "L").save(path)
    return path


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardness", default="1", help="comma-separated brush hardness values, 0-1 (default 1)")
    ap.add_argument("--compare-proxy", action="store_true",
                    help="also run the 24 MP photo with the proxy preview off (the full size only, as before it), same run")
    args = ap.parse_args()
    hardness = [float(v) for v in args.hardness.split(",")]
    _isolate()
    from app.ui.main import create_window

    app, win = create_window([], warm_up=True, recover=False)
    win.resize(1400, 900)
    win.ask_save_changes = lambda dirty: "discard"
    data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))
    hist = data / "historical-bw" / "LC-USF34-012781.jpg"
    results = {}
    tmp = Path(os.environ["HUEBRUSH_BENCH_TMP"])
    for h in hardness:
        win.canvas.set_brush_hardness(h, show=False)
        key = "" if h >= 1 else f"_hardness{round(100 * h)}"
        if hist.exists():
            results["historical" + key] = scenario(app, win, hist, hist.name, strokes=6)
            win.close_current()
        results["24mp" + key] = scenario(app, win, big_photo(tmp / "big24mp.png"), "generated 24 MP", strokes=4)
        results["24mp" + key]["brush_hardness"] = h
        win.close_current()
        if args.compare_proxy:
            import app.ui.preview_worker as pw

            limit, pw.PROXY_PIXELS = pw.PROXY_PIXELS, 10**12
            results["24mp_no_proxy" + key] = scenario(app, win, big_photo(tmp / "big24mp.png"), "generated 24 MP", strokes=4)
            pw.PROXY_PIXELS = limit
            win.close_current()
    results["goal_max_gap_ms"] = 50
    print(json.dumps(results, indent=2))
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
