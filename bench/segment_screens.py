"""Click-to-segment in the real window on genuine 1935-45 photos: screenshots after every click.

Opens each photo in the main window (offscreen, throw-away settings), picks the S tool, sends
real mouse clicks to the canvas at the points below (photo pixels of the 640 px originals), waits
for each answer and grabs the window, with the candidate's outline, after every click. Prints JSON:
per scene the clicks used, the candidate's share of the photo after each, and the answer times.
There is no ground truth for these photos: look at the screenshots.

    python bench/segment_screens.py [--out DIR] [--segmenter builtin|classic]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# (name, photo, clicks): a click is (x, y, include?) on the 640 px original
SCENES = [
    ("person", "LC-USF33-011879.jpg", [(185, 265, True), (165, 400, True), (195, 160, True)]),
    ("person-bank", "LC-USF33-011361.jpg", [(180, 330, True), (215, 470, True), (235, 222, True)]),
    ("dress", "LC-USF33-011879.jpg", [(160, 380, True), (195, 240, True), (140, 230, False)]),
    ("sky", "LC-USF34-025298.jpg", [(200, 120, True), (480, 110, True), (560, 220, True)]),
    ("sky-school", "LC-USF34-012781.jpg", [(320, 80, True), (500, 130, True), (150, 160, True)]),
]


def _wait(app, cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.01)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))
    ap.add_argument("--data", type=Path, default=default_data / "historical-bw")
    ap.add_argument("--out", type=Path, default=Path("segment_screens"))
    ap.add_argument("--segmenter", default="builtin", choices=["builtin", "classic"])
    ap.add_argument("--scenes", default="", help="comma-separated scene names (default: all)")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="huebrush-seg-"))
    for var in ("HUEBRUSH_CONFIG_DIR", "HUEBRUSH_DATA_DIR", "HUEBRUSH_CACHE_DIR"):
        os.environ[var] = str(tmp / var.lower())
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "qsettings"))
    from app.core.segment.factory import create_segmenter
    from app.ui.main import create_window

    app, win = create_window([], warm_up=False, recover=False)
    win.resize(1280, 860)
    win.show()
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = set(filter(None, args.scenes.split(",")))
    report = {"segmenter": args.segmenter, "scenes": []}
    for name, photo, clicks in SCENES:
        if wanted and name not in wanted:
            continue
        opened = []
        win.photo_opened.connect(opened.append)
        win.open_paths([str(args.data / photo)])
        def current():  # a photo opened before is switched to, not opened again
            st = getattr(win, "state", None)
            doc = getattr(st, "document", None)
            return st if doc is not None and doc.path is not None and Path(doc.path).name == photo else None

        if not _wait(app, lambda: opened or current() is not None or win.banner.isVisible(), 60):
            raise SystemExit(f"{photo} did not open")
        win.photo_opened.disconnect(opened.append)
        st = opened[0] if opened else current()
        if st is None:
            raise SystemExit(f"{photo} did not open")
        win.canvas.set_tool("segment")
        tool = win.canvas.tool
        tool.set_segmenter(create_segmenter(args.segmenter))
        tool.discard()
        if not _wait(app, lambda: tool.ready, 120):
            raise SystemExit("the segmenter did not get ready")
        H, W = st.shape
        s = max(H, W) / 640.0
        shares, times = [], []
        for k, (x, y, inc) in enumerate(clicks, start=1):
            p = win.canvas.to_widget(x * s, y * s)
            mods = Qt.KeyboardModifier.NoModifier if inc else Qt.KeyboardModifier.AltModifier
            t0 = time.perf_counter()
            QTest.mouseClick(win.canvas, Qt.MouseButton.LeftButton, mods, QPoint(round(p.x()), round(p.y())))
            _wait(app, lambda: not tool.busy and tool.result is not None and tool.result.prompts == tool.prompts, 60)
            times.append(round(1000 * (time.perf_counter() - t0), 1))
            shares.append(round(float(tool.result.mask.mean()), 4))
            app.processEvents()
            win.grab().save(str(args.out / f"{name}_{args.segmenter}_{k}.png"))
        report["scenes"].append({"scene": name, "photo": photo, "clicks": clicks, "mask_share": shares,
                                 "answer_ms": times})
        tool.discard()
    print(json.dumps(report, indent=1), flush=True)  # before closing: the window may end the process
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
