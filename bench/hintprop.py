"""Hint propagation at a 512 px work size (goal: under 1 s), on a real photo's lightness.

    python bench/hintprop.py [--data DIR] [--residual [--photos 20]]

With ``--residual``: how maskgan follows hints, before/after in one run. On BSDS500 training
photos at 512 px with 10 hints sampled from the true colours and a flat warm prediction, the
residual (hint - prediction) is spread at the work size (``propagate``, before) and at 128 px,
upsampled edge-aware (``propagate_coarse``, after): seconds per photo and ab RMSE to the truth.
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


def residual_bench(data: Path, size: int, photos: int) -> dict:
    import torch

    from models.hintprop import propagate_coarse
    from training.hints import sample_hints

    paths = sorted((data / "bsds500" / "images" / "train").glob("*.jpg"))[:photos]
    if not paths:
        return {"error": f"no BSDS500 training photos under {data}"}
    rng = np.random.default_rng(0)
    rows = {"full": [], "coarse_128": []}
    for p in paths:
        rgb = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        s = size / max(h, w)
        rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
        lab = rgb_to_lab(rgb.astype(np.float32) / 255.0)
        L, ab = lab[..., 0], lab[..., 1:]
        pred = np.zeros_like(ab)
        pred[..., 1] = 8.0  # a warm guess, as an under-trained network makes
        hab, hm = sample_hints(torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1))), rng, n_points=10)
        hab, hm = hab.numpy().transpose(1, 2, 0), hm[0].numpy()
        resid = (hab - pred) * hm[..., None]
        for name, fn in (("full", propagate), ("coarse_128", propagate_coarse)):
            t = time.perf_counter()
            out = pred + fn(L, resid, hm)
            rows[name].append((time.perf_counter() - t, float(np.sqrt(np.mean((out - ab) ** 2)))))
    res = {name: {"seconds_median": round(float(np.median([r[0] for r in v])), 3),
                  "ab_rmse_to_truth": round(float(np.mean([r[1] for r in v])), 3)} for name, v in rows.items()}
    res["speedup"] = round(res["full"]["seconds_median"] / max(res["coarse_128"]["seconds_median"], 1e-9), 1)
    return {"photos": len(paths), "work_long_side": size, "hints": 10, **res}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("HUEBRUSH_DATA", str(REPO.parent / "shared" / "datasets")))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--residual", action="store_true", help="maskgan's hint residual: full vs 128 px solve")
    ap.add_argument("--photos", type=int, default=20)
    args = ap.parse_args()
    if args.residual:
        print(json.dumps({"bench": "hint_residual", "load_average": os.getloadavg(),
                          **residual_bench(Path(args.data), args.size, args.photos)}, indent=2))
        return 0
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
