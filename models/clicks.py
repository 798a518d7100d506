"""The standard interactive-segmentation click protocol (shared by the trainer, the benchmark and tests).

The first click goes to the point farthest from the target's boundary; each next click goes to
the centre (largest distance-transform value) of the largest error region, an include click if
that region was missed and an exclude click if it was wrongly taken. NoC@t is the number of
clicks until the IoU first reaches t (the cap when it never does).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.ndimage import distance_transform_edt, label

Click = tuple[float, float, bool]  # x, y, include?


def centre(region: np.ndarray) -> tuple[int, int, float]:
    """(x, y, depth) of the point farthest from the region's boundary (the photo's edge counts)."""
    dt = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    r, c = np.unravel_index(int(np.argmax(dt)), dt.shape)
    return int(c), int(r), float(dt[r, c])


def largest_error(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """The largest connected error region and whether it was missed (True) or wrongly taken."""
    best = None
    for err, positive in ((gt & ~pred, True), (pred & ~gt, False)):
        lab, n = label(err)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel())[1:]
        k = int(np.argmax(sizes)) + 1
        if best is None or sizes[k - 1] > best[0]:
            best = (sizes[k - 1], lab == k, positive)
    return None if best is None else (best[1], best[2])


def next_click(gt: np.ndarray, pred: np.ndarray) -> Click | None:
    """The protocol's next click, or None when the prediction is already exact."""
    err = largest_error(gt, pred)
    if err is None:
        return None
    x, y, _ = centre(err[0])
    return float(x), float(y), err[1]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def run_protocol(segment: Callable[[list[Click]], np.ndarray], gt: np.ndarray, max_clicks: int = 20,
                 stop_at: float | None = None, min_clicks: int = 5) -> list[float]:
    """IoU after each click; ``segment(clicks)`` returns the mask for the clicks so far.

    Stops early once ``min_clicks`` are done and the IoU reached ``stop_at``; the list is then
    shorter than ``max_clicks`` (callers carry the last value on). An exact answer fills the rest.
    """
    x, y, _ = centre(gt)
    clicks: list[Click] = [(float(x), float(y), True)]
    ious: list[float] = []
    for k in range(max_clicks):
        pred = segment(clicks)
        ious.append(iou(pred, gt))
        if stop_at is not None and k + 1 >= min_clicks and ious[-1] >= stop_at:
            break
        nxt = next_click(gt, pred)
        if nxt is None:
            ious += [1.0] * (max_clicks - len(ious))
            break
        clicks.append(nxt)
    return ious


def iou_at(curves: list[list[float]], k: int) -> float:
    """Mean IoU after k clicks (a curve that stopped early keeps its last value)."""
    return float(np.mean([c[min(k, len(c)) - 1] for c in curves]))


def noc(curves: list[list[float]], target: float, cap: int = 20) -> float:
    """Mean clicks to reach ``target`` (``cap`` for a curve that never does)."""
    return float(np.mean([next((i + 1 for i, v in enumerate(c) if v >= target), cap) for c in curves]))
