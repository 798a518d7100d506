"""Training masks: where the generator is asked to put colour.

The mix teaches every way the app uses the model: the whole photo (automatic colorization,
the most common case), brush strokes and blobs as an artist paints them, rectangles, stripes
and grids (hard straight borders), the empty mask (nothing may be coloured), and real object
outlines from the BSDS500 human segmentations (what click-to-segment produces).
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# kind -> probability (whole photo often, so automatic colorization gets most of the signal)
MASK_KINDS: dict[str, float] = {
    "whole": 0.35,
    "strokes": 0.14,
    "blobs": 0.12,
    "rects": 0.08,
    "stripes": 0.06,
    "bsds": 0.20,
    "empty": 0.05,
}


def load_bsds_masks(root: str | os.PathLike, split: str = "train", max_side: int = 160) -> list[np.ndarray]:
    """BSDS500 human segmentations (16-bit label maps) shrunk (nearest) to ``max_side``.

    ``root`` is the shared datasets folder (or its bsds500 folder). Returns [] when absent.
    """
    root = Path(root)
    seg = (root / "bsds500" if (root / "bsds500").is_dir() else root) / "segmentations" / split
    out = []
    for p in sorted(seg.glob("*.png")):
        with Image.open(p) as im:
            lab = np.asarray(im).astype(np.int32)
        h, w = lab.shape
        s = max_side / max(h, w)
        if s < 1:
            lab = cv2.resize(lab.astype(np.float32), (round(w * s), round(h * s)), interpolation=cv2.INTER_NEAREST)
        out.append(lab.astype(np.uint16))
    return out


def sample_mask(h: int, w: int, rng: np.random.Generator, bsds_masks: list[np.ndarray] | None = None) -> np.ndarray:
    """One random training mask, bool (h, w)."""
    kinds = list(MASK_KINDS)
    p = np.array([MASK_KINDS[k] for k in kinds])
    if not bsds_masks:
        p[kinds.index("bsds")] = 0.0
    kind = kinds[rng.choice(len(kinds), p=p / p.sum())]
    if kind == "whole":
        return np.ones((h, w), bool)
    if kind == "empty":
        return np.zeros((h, w), bool)
    m = _DRAW[kind](h, w, rng) if kind != "bsds" else _bsds(h, w, rng, bsds_masks)  # type: ignore[arg-type]
    # Sometimes the artist masks everything except a region (inverted masks).
    if rng.random() < 0.2:
        m = ~m
    return m


def _strokes(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    s = max(h, w)
    for _ in range(rng.integers(1, 5)):
        n = rng.integers(2, 7)
        pts = np.cumsum(rng.normal(0, s * 0.25, (n, 2)), axis=0) + rng.uniform(0, 1, 2) * (w, h)
        pts = np.clip(pts, 0, (w - 1, h - 1)).astype(np.int32)
        thick = max(1, int(s * rng.uniform(0.04, 0.2)))
        cv2.polylines(m, [pts.reshape(-1, 1, 2)], False, 1, thickness=thick, lineType=cv2.LINE_8)
    return m.astype(bool)


def _blobs(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    s = max(h, w)
    for _ in range(rng.integers(1, 4)):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (max(1, int(s * rng.uniform(0.08, 0.4))), max(1, int(s * rng.uniform(0.08, 0.4))))
        cv2.ellipse(m, c, axes, float(rng.uniform(0, 180)), 0, 360, 1, thickness=-1)
    return m.astype(bool)


def _rects(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((h, w), bool)
    for _ in range(rng.integers(1, 3)):
        y0, y1 = np.sort(rng.integers(0, h + 1, 2))
        x0, x1 = np.sort(rng.integers(0, w + 1, 2))
        m[y0 : max(y1, y0 + 2), x0 : max(x1, x0 + 2)] = True
    return m


def _stripes(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    period = int(rng.integers(max(4, min(h, w) // 8), max(6, min(h, w) // 2)))
    width = max(1, int(period * rng.uniform(0.3, 0.7)))
    yy, xx = np.mgrid[0:h, 0:w]
    off = int(rng.integers(0, period))
    rows = (yy + off) % period < width
    cols = (xx + off) % period < width
    kind = rng.integers(0, 3)
    return rows if kind == 0 else cols if kind == 1 else (rows | cols)


def _bsds(h: int, w: int, rng: np.random.Generator, bsds_masks: list[np.ndarray]) -> np.ndarray:
    lab = bsds_masks[int(rng.integers(len(bsds_masks)))]
    H, W = lab.shape
    # a random crop with the training aspect ratio, then nearest resize to (h, w)
    scale = rng.uniform(0.5, 1.0)
    ch = max(2, int(min(H, W * h / w) * scale))
    cw = max(2, int(ch * w / h))
    y = int(rng.integers(0, H - ch + 1))
    x = int(rng.integers(0, W - cw + 1))
    crop = lab[y : y + ch, x : x + cw]
    segs = np.unique(crop)
    chosen = rng.choice(segs, size=int(rng.integers(1, min(3, len(segs)) + 1)), replace=False)
    m = np.isin(crop, chosen).astype(np.uint8)
    return cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)


_DRAW = {"strokes": _strokes, "blobs": _blobs, "rects": _rects, "stripes": _stripes}
