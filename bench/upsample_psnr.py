"""Chroma upsampling quality and speed: guided (models.upsample) vs plain bilinear.

On real colour photos the true ab is downsampled to 256 px long side (what a model would
predict at that work size, at best), upsampled back with each method and compared with the
truth (PSNR over the ab range 255). Also times a 512 px -> 24 MP upsample.

    python bench/upsample_psnr.py [--data DIR] [--limit N] [--sweep]
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
from models.upsample import upsample_ab  # noqa: E402


def psnr(x: np.ndarray, y: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((x.astype(np.float64) - y) ** 2))
    return 10 * np.log10(peak * peak / max(mse, 1e-12))


def photos(data: Path, limit: int) -> list[Path]:
    out = sorted((data / "photos" / "documerica").glob("*.jpg"))[:limit]
    out += sorted((data / "bsds500" / "images" / "test").glob("*.jpg"))[:limit]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("HUEBRUSH_DATA", str(REPO.parent / "shared" / "datasets")))
    ap.add_argument("--limit", type=int, default=100, help="photos per folder")
    ap.add_argument("--work", type=int, default=256)
    ap.add_argument("--sweep", action="store_true", help="also try other radius/eps settings")
    args = ap.parse_args()
    files = photos(Path(args.data), args.limit)
    if not files:
        print(json.dumps({"error": f"no photos under {args.data}"}))
        return 1
    configs: dict[str, dict] = {"guided": {}}
    if args.sweep:
        for r in (1, 2):
            for eps in (1e-3, 1e-2, 3e-2):
                configs[f"r{r}_eps{eps:g}"] = {"radius": r, "eps": eps}
    scores: dict[str, list[float]] = {"bilinear": [], **{k: [] for k in configs}}
    for f in files:
        bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
        lab = rgb_to_lab(bgr[..., ::-1].astype(np.float32) / 255.0)
        L, ab = lab[..., 0], lab[..., 1:]
        H, W = L.shape
        s = args.work / max(H, W)
        w, h = max(1, round(W * s)), max(1, round(H * s))
        ab_small = cv2.resize(ab, (w, h), interpolation=cv2.INTER_AREA)
        scores["bilinear"].append(psnr(cv2.resize(ab_small, (W, H), interpolation=cv2.INTER_LINEAR), ab))
        for name, kw in configs.items():
            scores[name].append(psnr(upsample_ab(ab_small, L, **kw), ab))
    result = {
        "photos": len(files),
        "work_size": args.work,
        "psnr_ab_db": {k: round(float(np.mean(v)), 3) for k, v in scores.items()},
    }
    result["guided_wins_on"] = int(np.sum(np.array(scores["guided"]) > np.array(scores["bilinear"])))
    # speed at 24 MP (6000 x 4000) from a 512 px work size
    rng = np.random.default_rng(0)
    L_big = cv2.resize(rng.uniform(0, 100, (400, 600)).astype(np.float32), (6000, 4000))
    ab_work = rng.uniform(-40, 40, (341, 512, 2)).astype(np.float32)
    upsample_ab(ab_work, L_big[:400, :600])  # warm up
    times = []
    for _ in range(3):
        t = time.perf_counter()
        upsample_ab(ab_work, L_big)
        times.append(time.perf_counter() - t)
    result["seconds_512_to_24MP"] = round(min(times), 3)
    result["cv2_threads"] = cv2.getNumThreads()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
