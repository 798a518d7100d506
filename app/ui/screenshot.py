"""Render the README screenshot: `python -m app.ui.screenshot [OUT.png] [--photo PATH] [--model NAME]`.

Opens a genuine 1935-45 photo from ../shared/datasets/historical-bw, selects the sky and the field
as a restorer would (the classic weight-free click-to-segment, whose clicks these are; lasso
outlines when it is missing), places colour hints there, makes the schoolhouse a second colour
region with a chosen colour, waits for the live preview and grabs the window. Runs offscreen with
throw-away settings, so it never touches the user's own preferences or autosaves.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PHOTO = "historical-bw/LC-USF34-012781.jpg"  # a schoolhouse, sky and field, 1940s
DEFAULT_OUT = REPO / "resources" / "screenshot.png"


def _wait(app, condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.01)
    return True


def _segment(L, include, exclude):
    """A mask from clicks with the classic segmenter (None when that module is unavailable)."""
    try:
        from app.core.segment.builtin import BuiltinSegmenter
        from app.core.segment.types import Prompts
    except ImportError:
        return None
    seg = BuiltinSegmenter()
    seg.set_image(L)
    return seg.segment(Prompts(include=tuple(include), exclude=tuple(exclude))).mask


def render(out: Path, photo: Path, size=(1440, 900), timeout: float = 300.0, model: str = "hints") -> Path:
    """model: "hints" (weight-free, follows the hints placed below; the default so the picture
    does not depend on how far the networks were trained) or a network name; a model that
    fails (missing weights) falls back to "hints"."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="huebrush-shot-"))
    for var in ("HUEBRUSH_CONFIG_DIR", "HUEBRUSH_DATA_DIR", "HUEBRUSH_CACHE_DIR"):
        os.environ[var] = str(tmp / var.lower())
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "qsettings"))

    import cv2
    import numpy as np

    from app.core.hints import Hint
    from app.ui.main import create_window
    from app.ui.undo_commands import HintsCommand, push_mask_edit

    app, win = create_window([], warm_up=False, recover=False)
    win.resize(*size)
    opened = []
    win.photo_opened.connect(opened.append)
    win.open_paths([str(photo)])
    if not _wait(app, lambda: opened or win.banner.isVisible(), 60):
        raise SystemExit("the photo did not open in time")
    if not opened:
        raise SystemExit(win.banner.label.text())
    st = opened[0]
    H, W = st.shape
    sx, sy = W / 640.0, H / 511.0  # the clicks below were placed on the 640 x 511 original

    def pt(x, y):
        return (x * sx, y * sy)

    # the restorer's work so far: sky and field selected and hinted; the schoolhouse still grey
    # exclude clicks on the scan's card mount, the schoolhouse and the tree keep the masks tight
    mount = [pt(50, 250), pt(600, 250), pt(320, 15), pt(320, 492), pt(60, 470), pt(585, 470), pt(585, 40)]
    house = [pt(310, 300), pt(200, 330), pt(300, 200), pt(380, 320)]
    sky = _segment(st.document.L, [pt(180, 120), pt(420, 100), pt(500, 60), pt(150, 220), pt(530, 175)],
                   mount + house + [pt(450, 200), pt(480, 250), pt(150, 280)])
    field = _segment(st.document.L, [pt(300, 430), pt(480, 400), pt(150, 440), pt(500, 460)],
                     mount + house + [pt(450, 280), pt(150, 270)])
    if sky is not None and field is not None:
        push_mask_edit(st, "Segment sky", lambda m: m.combine(sky, "add"))
        push_mask_edit(st, "Segment field", lambda m: m.combine(field, "add"))
        # and, as a restorer would, erase anything that crept onto the card mount
        for poly in ([pt(0, 0), pt(640, 0), pt(640, 30), pt(0, 30)], [pt(0, 0), pt(93, 0), pt(93, 511), pt(0, 511)],
                     [pt(542, 0), pt(640, 0), pt(640, 511), pt(542, 511)], [pt(0, 483), pt(640, 483), pt(640, 511), pt(0, 511)]):
            push_mask_edit(st, "Lasso erase", lambda m, poly=poly: m.polygon(poly, erase=True))
    else:
        push_mask_edit(st, "Lasso sky", lambda m: m.polygon([pt(95, 30), pt(540, 30), pt(540, 215), pt(420, 225),
                                                              pt(330, 190), pt(300, 120), pt(95, 250)]))
        push_mask_edit(st, "Lasso field", lambda m: m.polygon([pt(92, 380), pt(540, 335), pt(540, 480), pt(92, 480)]))
    # a second colour region: the schoolhouse, one chosen colour (a red-painted board wall)
    house_mask = _segment(st.document.L, house, mount + [pt(180, 120), pt(300, 430), pt(450, 200), pt(120, 270),
                                                         pt(130, 320), pt(160, 300), pt(110, 350)])
    if house_mask is None:
        house_mask = np.zeros((H, W), bool)
        cv2.fillPoly(house_mask.view(np.uint8), [np.array([pt(230, 180), pt(390, 180), pt(390, 360), pt(230, 360)],
                                                          np.int32)], 1)
    from app.ui.document_state import RegionSlot
    from app.ui.undo_commands import push_regions

    first = st.regions[0]
    import dataclasses

    house_slot = RegionSlot("Schoolhouse", st.new_mask(), "tint", "#a4453a")
    push_regions(st, (dataclasses.replace(first, name="Sky and field"), house_slot), 1, "Add region Schoolhouse")
    push_mask_edit(st, "Segment schoolhouse", lambda m: m.combine(house_mask & ~st.regions[0].mask.data, "add"))
    st.select_region(0)  # the hints belong to the sky and field
    r = max(4.0, min(H, W) / 90)
    hints = (
        Hint(points=(pt(160, 90),), rgb=(0.42, 0.62, 0.88), radius=r),
        Hint(points=(pt(470, 170),), rgb=(0.45, 0.66, 0.90), radius=r),
        Hint(points=(pt(200, 440), pt(320, 450), pt(450, 430)), rgb=(0.45, 0.58, 0.25), radius=r),
    )
    st.undo_stack.push(HintsCommand(st, (), hints, "Add hints"))

    failed: list[str] = []
    win.executor.preview_failed.connect(failed.append)
    win.panel.model.setCurrentIndex(max(0, win.panel.model.findData(model)))
    win.scheduler.submit_now()
    ok = _wait(app, lambda: (st.preview_version == st.version and not win.executor.busy) or failed, timeout)
    if failed or not ok:
        failed.clear()
        win.panel.model.setCurrentIndex(win.panel.model.findData("hints"))
        win.scheduler.submit_now()
        if not _wait(app, lambda: st.preview_version == st.version and not win.executor.busy, timeout):
            raise SystemExit("the preview did not finish in time")
    win.banner.hide()
    st.compositor.flush()
    win.set_view("mask", False)  # true colours in the picture; the overlay is one key (M) away
    win.canvas.set_tool("hint")
    win.canvas.tools["hint"].selected_id = hints[1].id
    win.set_hint_colour(hints[1].rgb)  # the picker shows the selected hint's colour
    # the hint panel's palette: the colours the model finds likely at the selected hint
    suggested: list = []
    win.hint_assist.suggestions_ready.connect(suggested.append)
    win.hint_assist.at_point(*hints[1].points[0])
    _wait(app, lambda: bool(suggested), 120)
    win.canvas.fit()
    win.strip.refresh(st)
    win.status.show_info("Sky and field (network colour, hints) and the schoolhouse (a chosen colour) as colour "
                         "regions. Hold \\ to compare.")
    win.status.set_cursor(int(300 * sx), int(420 * sy), float(st.document.L[int(420 * sy), int(300 * sx)]))
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(out)):
        raise SystemExit(f"could not write {out}")
    win.ask_save_changes = lambda dirty: "discard"
    win.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))
    ap.add_argument("--photo", type=Path, default=data / DEFAULT_PHOTO)
    ap.add_argument("--model", default="hints", help="hints (default), maskgan or iizuka")
    args = ap.parse_args(argv)
    if not args.photo.is_file():  # before any window (and its worker threads) exists
        ap.error(f"{args.photo} does not exist; pass --photo PATH (set HUEBRUSH_DATA to the datasets folder "
                 "for the default photo)")
    print(render(args.out, args.photo, model=args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
