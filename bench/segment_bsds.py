"""Interactive-segmentation benchmark of the built-in segmenter on BSDS500 human segments.

Protocol (as in issue 5): every human segment covering >= 2% of the photo is a target. The
first click goes to the point farthest from the segment's boundary; each next click goes to
the centre (largest distance-transform value) of the largest error region, as an include
click if that region was missed and an exclude click if it was wrongly taken. The segmenter
sees the photo's lightness only, as Huebrush does with black-and-white photos.

Prints JSON: mean IoU after 1, 3 and 5 clicks and mean clicks to reach IoU 0.85 (cap 20).

    python bench/segment_bsds.py [--split test] [--annotator 0|all] [--limit N] [--offset K] [--procs 2]
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
from scipy.ndimage import distance_transform_edt, label

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.segment.builtin import BuiltinParams, BuiltinSegmenter  # noqa: E402
from app.core.segment.types import Prompts  # noqa: E402

CAP = 20
TARGET = 0.85


def _centre(region: np.ndarray) -> tuple[int, int, float]:
    """(x, y, depth) of the point farthest from the region's boundary (photo edge counts)."""
    dt = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    r, c = np.unravel_index(int(np.argmax(dt)), dt.shape)
    return int(c), int(r), float(dt[r, c])


def next_click(gt: np.ndarray, pred: np.ndarray) -> tuple[int, int, bool]:
    """Centre of the largest connected error region; True = include (a missed part)."""
    best = None
    for err, positive in ((gt & ~pred, True), (pred & ~gt, False)):
        lab, n = label(err)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel())[1:]
        k = int(np.argmax(sizes)) + 1
        if best is None or sizes[k - 1] > best[0]:
            best = (sizes[k - 1], lab == k, positive)
    assert best is not None
    x, y, _ = _centre(best[1])
    return x, y, best[2]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def run_segment(seg: BuiltinSegmenter, gt: np.ndarray) -> tuple[list[float], float]:
    prompts = Prompts()
    ious: list[float] = []
    times = []
    x, y, _ = _centre(gt)
    positive = True
    for k in range(CAP):
        prompts = prompts.add_include(x, y) if positive else prompts.add_exclude(x, y)
        t0 = time.perf_counter()
        pred = seg.segment(prompts).mask
        times.append(time.perf_counter() - t0)
        ious.append(iou(pred, gt))
        if k >= 4 and ious[-1] >= TARGET:
            break
        if ious[-1] >= 1.0:
            ious += [1.0] * (CAP - len(ious))
            break
        x, y, positive = next_click(gt, pred)
    return ious, float(np.mean(times))


def targets(seg_path: Path, min_fraction: float) -> list[np.ndarray]:
    lab = np.asarray(Image.open(seg_path)).astype(np.int64)
    counts = np.bincount(lab.ravel())
    return [lab == k for k in np.flatnonzero(counts >= min_fraction * lab.size)]


def _run_photos(job: tuple[list[Path], argparse.Namespace, BuiltinParams]) -> tuple[list, list, list]:
    """Run the protocol on some photos (one worker's share)."""
    images, args, params = job
    seg = BuiltinSegmenter(params, cache_size=1)
    per_click: list[list[float]] = []
    click_times, prep_times = [], []
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
                ious, t = run_segment(seg, gt)
                per_click.append(ious)
                click_times.append(t)
    return per_click, click_times, prep_times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))
    ap.add_argument("--data", type=Path, default=default_data / "bsds500")
    ap.add_argument("--split", default="test", choices=["train", "test", "val"])
    ap.add_argument("--annotator", default="0", help="annotator index (0 = the first) or 'all'")
    ap.add_argument("--limit", type=int, default=0, help="photos to use (0 = all)")
    ap.add_argument("--offset", type=int, default=0, help="skip this many photos first")
    ap.add_argument("--min-fraction", type=float, default=0.02)
    ap.add_argument("--params", default="{}", help="JSON overrides of BuiltinParams (tuning)")
    ap.add_argument("--procs", type=int, default=1, help="worker processes (timings are noisier above 1)")
    args = ap.parse_args(argv)

    images = sorted((args.data / "images" / args.split).glob("*.jpg"))[args.offset:]
    if args.limit:
        images = images[: args.limit]
    if not images:
        print(json.dumps({"error": f"no BSDS500 photos under {args.data}"}))
        return 1
    params = BuiltinParams(**json.loads(args.params))
    chunks = [(images[k::args.procs], args, params) for k in range(args.procs)]
    if args.procs > 1:
        with multiprocessing.get_context("fork").Pool(args.procs) as pool:
            parts = pool.map(_run_photos, chunks)
    else:
        parts = [_run_photos(chunks[0])]
    per_click = [s for part in parts for s in part[0]]
    click_times = [t for part in parts for t in part[1]]
    prep_times = [t for part in parts for t in part[2]]

    def at(k: int) -> float:
        # a segment that stopped early (>= 5 clicks, above target) keeps its last IoU
        return float(np.mean([s[min(k, len(s)) - 1] for s in per_click]))

    noc = [next((i + 1 for i, v in enumerate(s) if v >= TARGET), CAP) for s in per_click]
    out = {
        "dataset": "bsds500", "split": args.split, "annotator": args.annotator,
        "photos": len(prep_times), "segments": len(per_click), "min_fraction": args.min_fraction,
        "input": "lightness only (grey)",
        "iou@1": round(at(1), 4), "iou@3": round(at(3), 4), "iou@5": round(at(5), 4),
        "noc@0.85": round(float(np.mean(noc)), 3), "reached_0.85_within_20": round(float(np.mean([n < CAP or s[-1] >= TARGET for n, s in zip(noc, per_click)])), 4),
        "mean_click_ms": round(1000 * float(np.mean(click_times)), 1),
        "mean_precompute_ms": round(1000 * float(np.mean(prep_times)), 1),
        "params": params.__dict__,
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
