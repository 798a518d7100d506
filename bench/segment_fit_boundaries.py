"""Fit the built-in segmenter's boundary model on BSDS500 TRAIN (never test).

For each pair of neighbouring superpixels the target is the share of human annotators for
whom the two lie in different segments; a logistic regression over the pair features in
app/core/segment/superpixels.py (PAIR_FEATURES) predicts it. The printed coefficients are
what BOUNDARY_COEF in app/core/segment/builtin.py holds: a dozen numbers, not a network.

    python bench/segment_fit_boundaries.py [--limit 200] [--offset 0]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.segment.builtin import BuiltinParams  # noqa: E402
from app.core.segment.imageprep import to_gray01  # noqa: E402
from app.core.segment.superpixels import PAIR_FEATURES, build_graph  # noqa: E402


def majority_label(labels: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Most common human label inside each superpixel."""
    k = int(seg.max()) + 1
    counts = np.bincount((labels.astype(np.int64) * k + seg).ravel(), minlength=n * k).reshape(n, k)
    return counts.argmax(axis=1)


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-3, iters: int = 30) -> np.ndarray:
    """IRLS (Newton) for soft targets y in [0, 1]; X already has a bias column."""
    w = np.zeros(X.shape[1])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-X @ w))
        grad = X.T @ (p - y) / len(y) + l2 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X / len(y) + l2 * np.eye(X.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets")) / "bsds500"
    ap.add_argument("--data", type=Path, default=data)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--offset", type=int, default=0)
    args = ap.parse_args()
    p = BuiltinParams()
    Xs, ys = [], []
    for img in sorted((args.data / "images" / "train").glob("*.jpg"))[args.offset: args.offset + args.limit]:
        gray = to_gray01(np.asarray(Image.open(img).convert("RGB")))
        g = build_graph(gray, p.work_pixels, p.n_segments, p.compactness)
        votes = np.zeros(len(g.pairs))
        files = sorted((args.data / "segmentations" / "train").glob(f"{img.stem}_*.png"))
        for f in files:
            seg = np.asarray(Image.open(f)).astype(np.int64)
            maj = majority_label(g.labels, seg, g.n)
            votes += maj[g.pairs[:, 0]] != maj[g.pairs[:, 1]]
        Xs.append(g.pair_features)
        ys.append(votes / max(len(files), 1))
    X = np.concatenate(Xs).astype(np.float64)
    y = np.concatenate(ys)
    Xb = np.concatenate([np.ones((len(X), 1)), X], axis=1)
    w = fit_logistic(Xb, y)
    pred = 1 / (1 + np.exp(-Xb @ w))
    print(json.dumps({"features": ["bias", *PAIR_FEATURES], "coef": [round(float(v), 4) for v in w],
                      "pairs": int(len(y)), "boundary_rate": round(float(y.mean()), 4),
                      "mean_abs_error": round(float(np.abs(pred - y).mean()), 4)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
