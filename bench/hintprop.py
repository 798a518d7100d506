"""Hint propagation at a 512 px work size (goal: under 1 s), on a real photo's lightness.

    python bench/hintprop.py [--data DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.colour import rgb_to_lab  # noqa: E402
from models.hintprop import propagate  # noqa: E402


def scene(data: Path, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    photos = sorted((data / "photos" / "documerica").glob("*.jpg"))
    if photos:
        bgr = cv2.imread(str(photos[0]))
        src = photos[0].name
    else:  # no datasets: a synthetic photo with soft shading and edges
        rng = np.random.default_rng(0)
        bgr = cv2.resize(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), (600, 400), interpolation=cv2.INTER_CUBIC)
        src = "synthetic"
    lab = rgb_to_lab(bgr[..., ::-1].astype(np.float32) / 255)
    s = size / max(lab.shape[:2])
    lab = cv2.resize(lab, (round(lab.shape[1] * s), round(lab.shape[0] * s)), interpolation=cv2.INTER_AREA)
    L, ab = lab[..., 0], lab[..., 1:]
    # 30 hints taken from the true colour, as a user's scribbles would be
    rng = np.random.default_rng(1)
    hm = np.zeros(L.shape, np.float32)
    for _ in range(30):
        y, x = rng.integers(4, L.shape[0] - 4), rng.integers(4, L.shape[1] - 4)
        hm[y - 3 : y + 3, x - 3 : x + 3] = 1
    return L, ab * hm[..., None], hm, src


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("HUEBRUSH_DATA", str(REPO.parent / "shared" / "datasets")))
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    L, hint_ab, hint_mask, src = scene(Path(args.data), args.size)
    propagate(L[:64, :64], hint_ab[:64, :64], hint_mask[:64, :64])  # warm up imports
    times = []
    for _ in range(3):
        t = time.perf_counter()
        ab = propagate(L, hint_ab, hint_mask)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    direct = propagate(L, hint_ab, hint_mask, direct_limit=10**9)
    t_direct = time.perf_counter() - t
    print(json.dumps({
        "photo": src, "work_shape": list(L.shape), "hints": 30,
        "seconds": {"best": round(min(times), 3), "median": round(float(np.median(times)), 3)},
        "direct_solver_seconds": round(t_direct, 3),
        "mean_abs_diff_vs_direct_ab": round(float(np.abs(ab - direct).mean()), 3),
        "goal_seconds": 1.0,
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
