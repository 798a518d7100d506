"""How often the true colour is among the K colours ``suggest`` offers at a saturated point of a
held-out colour photo made grey (ab distance at most 12). Prints JSON.

    python bench/suggest_accuracy.py [--sets coco80,photos-large] [--points 4] [--count 5]

Beside it, a fixed palette of five everyday colours (sky blue, foliage green, skin, brick red, wood
brown) at the same points, as the colour-control issue measures it (goal: at least 0.65). Times:
the first point of a photo (the network runs) and the points after it (its distribution is kept).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PALETTE = ("#87b5e0", "#5f8a3c", "#e0ac8f", "#a0452f", "#8a6440")
HIT = 12.0
SATURATED = 20.0  # a point's true chroma must be at least this


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--sets", default="coco80,photos-large")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--points", type=int, default=4, help="saturated points per photo")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--work-size", type=int, default=512)
    args = ap.parse_args()
    import cv2

    from app.core.suggest import suggest_at, suggesting_model
    from models.colour import hex_to_rgb, rgb_to_ab, rgb_to_lab
    from models.registry import create
    from training.heldout import fit_work_size, iter_set

    model = suggesting_model(lambda name: create(name, "cpu"))
    palette_ab = np.array([rgb_to_ab(hex_to_rgb(h)) for h in PALETTE])
    rng = np.random.default_rng(0)
    out, times, times_next = {}, [], []  # the first point of a photo, the points after it (same photo)
    for name in [s for s in args.sets.split(",") if s]:
        hits = pal = n = 0
        for _, rgb8 in iter_set(args.data, name, args.limit):
            lab = rgb_to_lab(fit_work_size(rgb8, args.work_size))
            L, ab = lab[..., 0], lab[..., 1:]
            local = cv2.blur(ab, (5, 5))  # the colour of the patch a user would pick
            chroma = np.hypot(local[..., 0], local[..., 1])
            ys, xs = np.nonzero(chroma >= SATURATED)
            if len(ys) == 0:
                continue
            for j, i in enumerate(rng.choice(len(ys), size=min(args.points, len(ys)), replace=False)):
                y, x = int(ys[i]), int(xs[i])
                t = time.perf_counter()
                found = suggest_at(model, L.astype(np.float32), x, y, args.count, args.work_size)
                (times if j == 0 else times_next).append(time.perf_counter() - t)
                cand = np.array([rgb_to_lab(np.array([hex_to_rgb(s.hex)], np.float32))[0, 1:] for s in found])
                hits += bool((np.hypot(*(cand - local[y, x]).T) <= HIT).any())
                pal += bool((np.hypot(*(palette_ab - local[y, x]).T) <= HIT).any())
                n += 1
        out[name] = {"points": n, f"top{args.count}_hit_rate": round(hits / max(n, 1), 3),
                     "fixed_palette_hit_rate": round(pal / max(n, 1), 3)}
    print(json.dumps({"sets": out, "hit_distance_ab": HIT, "goal": 0.65,
                      "ms_first_point_of_a_photo_median": round(1000 * float(np.median(times)), 1) if times else None,
                      "ms_next_points_median": round(1000 * float(np.median(times_next)), 1) if times_next else None},
                     indent=2))


if __name__ == "__main__":
    main()
