""""Segment everything" without weights: region proposals covering the whole photo.

Felzenszwalb's graph segmentation at a reduced size gives regions that follow edges; regions
smaller than ``min_fraction`` of the photo are merged into the neighbour they share the most
border with, so the user gets a few dozen clickable regions rather than thousands of crumbs.
"""
from __future__ import annotations

import cv2
import numpy as np
from skimage.segmentation import felzenszwalb

from .types import CancelCheck, SegmentCancelled


def merge_small_regions(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Relabel 0..k-1 after merging every region under ``min_size`` pixels into its
    longest-bordering neighbour (smallest first, repeated until none is left)."""
    labels = labels.astype(np.int64)
    while True:
        n = int(labels.max()) + 1
        size = np.bincount(labels.ravel(), minlength=n)
        small = np.flatnonzero((size > 0) & (size < min_size))
        if small.size == 0 or np.count_nonzero(size) <= 1:
            break
        a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
        b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
        cross = a != b
        a, b = a[cross], b[cross]
        key = np.concatenate([a * n + b, b * n + a])
        uniq, count = np.unique(key, return_counts=True)
        src, dst = uniq // n, uniq % n
        target = np.arange(n)
        done = np.zeros(n, dtype=bool)
        for s in small[np.argsort(size[small])]:
            sel = np.flatnonzero(src == s)
            sel = sel[~done[dst[sel]]]  # don't chain merges within one pass
            if sel.size == 0:
                continue
            t = dst[sel[np.argmax(count[sel])]]
            target[s] = t
            done[s] = done[t] = True
        if np.array_equal(target, np.arange(n)):
            break
        labels = target[labels]
    _, labels = np.unique(labels, return_inverse=True)
    return labels.reshape(labels.shape).astype(np.int32)


def superpixel_proposals(gray: np.ndarray, *, work_pixels: int = 150_000, scale: float = 300.0,
                         min_fraction: float = 0.004, cancel: CancelCheck | None = None) -> list[np.ndarray]:
    """Full-size bool masks that partition a [0, 1] grey photo, largest first."""
    H, W = gray.shape
    s = min(1.0, float(np.sqrt(work_pixels / float(H * W))))
    h, w = max(1, round(H * s)), max(1, round(W * s))
    g = cv2.resize(gray.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) if s < 1 else gray.astype(np.float32)
    labels = felzenszwalb(g, scale=scale, sigma=0.8, min_size=20, channel_axis=None)
    if cancel and cancel():
        raise SegmentCancelled()
    labels = merge_small_regions(labels, max(1, int(min_fraction * h * w)))
    if (h, w) != (H, W):
        labels = cv2.resize(labels.astype(np.float32), (W, H), interpolation=cv2.INTER_NEAREST).astype(np.int32)
    sizes = np.bincount(labels.ravel())
    order = np.argsort(-sizes)
    return [labels == k for k in order if sizes[k] > 0]
