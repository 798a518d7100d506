"""Interactive-segmentation benchmark of the built-in segmenters on BSDS500 human segments.

Protocol (models/clicks.py): every human segment covering >= 2% of the photo is a target. The
first click goes to the point farthest from the segment's boundary; each next click goes to
the centre (largest distance-transform value) of the largest error region, as an include click
if that region was missed and an exclude click if it was wrongly taken (up to 20 clicks; a
segment stops once it reached IoU 0.90 after at least 5). The segmenters see the photo's lightness
only, as Huebrush does with black-and-white photos.

Prints JSON per segmenter: mean IoU after 1, 3 and 5 clicks, NoC@85 and NoC@90 (mean clicks to
reach that IoU, 20 when never), how far clicks act (per click after the first, the share of the
photo that changed farther than 0.2 x the diagonal from it, and how often that exceeded 1 %), and
the mean time per click and per photo precompute.

    python bench/segment_bsds.py [--segmenter builtin,classic] [--split test] [--annotator 0|all]
                                 [--limit N] [--offset K] [--procs 2]

``builtin`` is the learned segmenter (its weights from resources/weights or --weights), ``classic``
the weight-free superpixel one. The learned one never saw the test split (it trained on train
photos 20-199; train photos 0-19 were its validation and tuning set).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.segment.builtin import BuiltinParams, BuiltinSegmenter  # noqa: E402
from app.core.segment.types import Prompts  # noqa: E402
from models.clicks import iou_at, noc, run_protocol  # noqa: E402

CAP = 20
STOP = 0.90


FAR = 0.2  # "far from the click": beyond this share of the photo's diagonal


def run_segment(seg, gt: np.ndarray, max_clicks: int = CAP) -> tuple[list[float], float, list[float]]:
    """IoU per click, mean time per click, and per click after the first the share of the photo
    that changed farther than FAR x the diagonal from that click (a click should act near itself)."""
    times: list[float] = []
    far: list[float] = []
    last: dict = {"mask": None}
    h, w = gt.shape
    yy, xx = np.mgrid[:h, :w]
    reach = FAR * float(np.hypot(h, w))

    def segment(clicks) -> np.ndarray:
        prompts = Prompts(include=[(x, y) for x, y, pos in clicks if pos],
                          exclude=[(x, y) for x, y, pos in clicks if not pos])
        t0 = time.perf_counter()
        mask = seg.segment(prompts).mask
        times.append(time.perf_counter() - t0)
        if last["mask"] is not None:
            x, y, _ = clicks[-1]
            away = (xx - x) ** 2 + (yy - y) ** 2 > reach * reach
            far.append(float(np.count_nonzero((mask != last["mask"]) & away)) / mask.size)
        last["mask"] = mask
        return mask

    ious = run_protocol(segment, gt, max_clicks=max_clicks, stop_at=STOP)
    return ious, float(np.mean(times)), far


def targets(seg_path: Path, min_fraction: float) -> list[np.ndarray]:
    lab = np.asarray(Image.open(seg_path)).astype(np.int64)
    counts = np.bincount(lab.ravel())
    return [lab == k for k in np.flatnonzero(counts >= min_fraction * lab.size)]


def make_segmenter(kind: str, args: argparse.Namespace, params: BuiltinParams):
    if kind == "classic":
        return BuiltinSegmenter(params, cache_size=1)
    from app.core.segment.learned import LearnedSegmenter

    extra = json.loads(args.learned)
    return LearnedSegmenter(args.weights, cache_size=1, **extra)


def _run_photos(job: tuple[str, list[Path], argparse.Namespace, BuiltinParams]) -> tuple[list, list, list, list]:
    """Run the protocol on some photos (one worker's share)."""
    kind, images, args, params = job
    seg = make_segmenter(kind, args, params)
    per_click: list[list[float]] = []
    click_times, prep_times, far = [], [], []
    for img_path in images:
        segs_dir = args.data / "segmentations" / args.split
        files = sorted(segs_dir.glob(f"{img_path.stem}_*.png"))
        if args.annotator != "all":
            files = [f for f in files if f.stem.endswith(f"_{args.annotator}")]
        if not files:
            continue
        rgb = np.asarray(Image.open(img_path).convert("RGB"))
        t0 = time.perf_counter()
        seg.set_image(rgb, key=img_path.stem)
        prep_times.append(time.perf_counter() - t0)
        for f in files:
            for gt in targets(f, args.min_fraction):
                ious, t, f = run_segment(seg, gt, args.max_clicks)
                per_click.append(ious)
                click_times.append(t)
                far += f
    return per_click, click_times, prep_times, far


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))
    ap.add_argument("--data", type=Path, default=default_data / "bsds500")
    ap.add_argument("--split", default="test", choices=["train", "test", "val"])
    ap.add_argument("--annotator", default="0", help="annotator index (0 = the first) or 'all'")
    ap.add_argument("--limit", type=int, default=0, help="photos to use (0 = all)")
    ap.add_argument("--offset", type=int, default=0, help="skip this many photos first")
    ap.add_argument("--min-fraction", type=float, default=0.02)
    ap.add_argument("--max-clicks", type=int, default=CAP, help="clicks per segment (NoC needs the default 20)")
    ap.add_argument("--params", default="{}", help="JSON overrides of BuiltinParams (classic; tuning)")
    ap.add_argument("--segmenter", default="builtin,classic", help="comma-separated: builtin (learned), classic")
    ap.add_argument("--weights", default=None, help="the learned segmenter's safetensors (default: the shipped one)")
    ap.add_argument("--learned", default="{}", help='JSON keyword overrides of LearnedSegmenter, e.g. {"guided": 0}')
    ap.add_argument("--procs", type=int, default=1, help="worker processes (timings are noisier above 1)")
    args = ap.parse_args(argv)

    images = sorted((args.data / "images" / args.split).glob("*.jpg"))[args.offset:]
    if args.limit:
        images = images[: args.limit]
    if not images:
        print(json.dumps({"error": f"no BSDS500 photos under {args.data}"}))
        return 1
    params = BuiltinParams(**json.loads(args.params))
    out: dict = {"dataset": "bsds500", "split": args.split, "annotator": args.annotator,
                 "min_fraction": args.min_fraction, "input": "lightness only (grey)", "max_clicks": CAP}
    for kind in args.segmenter.split(","):
        chunks = [(kind, images[k::args.procs], args, params) for k in range(args.procs)]
        if args.procs > 1:
            with multiprocessing.get_context("fork").Pool(args.procs) as pool:
                parts = pool.map(_run_photos, chunks)
        else:
            parts = [_run_photos(chunks[0])]
        curves = [s for part in parts for s in part[0]]
        click_times = [t for part in parts for t in part[1]]
        prep_times = [t for part in parts for t in part[2]]
        far = [f for part in parts for f in part[3]]
        res = {"photos": len(prep_times), "segments": len(curves),
               **{f"iou@{k}": round(iou_at(curves, k), 4) for k in (1, 3, 5)},
               "noc@85": round(noc(curves, 0.85, CAP), 3), "noc@90": round(noc(curves, 0.90, CAP), 3),
               "far_change_per_click": round(float(np.mean(far)), 5) if far else None,
               "clicks_changing_far_over_1pct": round(float(np.mean(np.array(far) > 0.01)), 4) if far else None,
               "mean_click_ms": round(1000 * float(np.mean(click_times)), 1),
               "mean_precompute_ms": round(1000 * float(np.mean(prep_times)), 1)}
        if kind == "classic":
            res["params"] = params.__dict__
        else:
            res["settings"] = json.loads(args.learned)
        out[kind] = res
        print(json.dumps({kind: res}), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
