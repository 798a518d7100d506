"""Re-composite after a mask edit at a 2048 px view (goal: under 20 ms).

Times what paints the screen (``app.core.composite.compose_rgb8``, the export's maths at 8 bits):
the whole view, and the rectangle the window redraws after one brush dab (the dab's box grown
by the feather, ``dirty_rect``).

    python bench/recomposite.py
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.composite import compose_rgb8, dirty_rect  # noqa: E402
from app.core.mask import Mask  # noqa: E402


def best(fn, n=7):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(min(times) * 1000, 2), round(float(np.median(times)) * 1000, 2)


def main() -> int:
    h, w, feather = 1365, 2048, 4.0
    rng = np.random.default_rng(0)
    ab = rng.uniform(-50, 50, (h, w, 2)).astype(np.float32)
    L = rng.uniform(0, 100, (h, w)).astype(np.float32)
    mask = Mask(h, w)
    mask.polygon([(300, 200), (1700, 250), (1600, 1200), (400, 1100)])
    boxes = []
    mask.on_change.append(boxes.append)
    full_best, full_median = best(lambda: compose_rgb8(L, ab, mask.data, feather, 1.0))
    xs = iter(range(0, 100000, 7))

    def dab():
        x = 200 + next(xs) % 1600
        # a 50 px brush, one mouse move, always onto new pixels below the polygon
        n = len(boxes)
        mask.stroke([(x, 1280), (x + 6, 1284)], 25)
        assert len(boxes) == n + 1, "the dab must change the mask"
        compose_rgb8(L, ab, mask.data, feather, 1.0, dirty_rect(tuple(boxes[-1]), feather, (h, w)))

    inc_best, inc_median = best(dab, 30)
    print(json.dumps({
        "view": [h, w], "feather_px": feather,
        "full_view_rgb8_ms": {"best": full_best, "median": full_median},
        "brush_dab_update_ms": {"best": inc_best, "median": inc_median},
        "goal_ms": 20,
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
