"""Pixel-level refinement of a segment's outline: GrabCut in a band either side of it.

Used by both built-in segmenters: the classic one's superpixels cannot follow an outline finer than
themselves, and the learned one answers at a quarter of the work size. Only pixels within ``radius``
of the outline may change; GrabCut's colour models learn the inside and the outside from the answer
itself, on lightness, local texture and smoothed lightness (``grabcut_image``).
"""
from __future__ import annotations

import cv2
import numpy as np


def grabcut_image(gray: np.ndarray) -> np.ndarray:
    """What GrabCut's colour models see (uint8, 3 channels) for a lightness image in 0..1."""
    gray = np.asarray(gray, np.float32)
    blur = cv2.GaussianBlur(gray, (0, 0), 2.0)
    tex = cv2.GaussianBlur(np.abs(gray - blur), (0, 0), 2.0)
    tex = tex / (float(np.percentile(tex, 98)) or 1.0)
    img = np.stack([gray, np.clip(tex, 0, 1), cv2.GaussianBlur(gray, (0, 0), 3.0)], axis=2)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def refine_band(on: np.ndarray, image: np.ndarray, include, exclude, radius: int = 4,
                iters: int = 2) -> np.ndarray:
    """The bool answer ``on`` (work size) with its outline re-decided by GrabCut within ``radius``
    pixels; ``include``/``exclude`` are click positions in the same pixels (kept as they are)."""
    if radius <= 0 or on.all() or not on.any():
        return on
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    u8 = on.astype(np.uint8)
    band = (cv2.dilate(u8, k) > 0) & ~(cv2.erode(u8, k, borderType=cv2.BORDER_REPLICATE) > 0)
    mask = np.where(on, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
    mask[band & on] = cv2.GC_PR_FGD
    mask[band & ~on] = cv2.GC_PR_BGD
    h, w = on.shape
    for pts, label in ((include, cv2.GC_FGD), (exclude, cv2.GC_BGD)):
        for x, y in pts:
            mask[min(max(int(y), 0), h - 1), min(max(int(x), 0), w - 1)] = label
    # work on the band's bounding box and a margin (the colour models see that much)
    rows, cols = np.nonzero(band)
    m = 4 * radius
    y0, y1 = max(rows.min() - m, 0), min(rows.max() + m + 1, h)
    x0, x1 = max(cols.min() - m, 0), min(cols.max() + m + 1, w)
    sub = np.ascontiguousarray(mask[y0:y1, x0:x1])
    fg = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
    if fg.all() or not fg.any():
        return on
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut seeds its colour models by k-means from OpenCV's (per thread) random state:
    # fix it, so the same clicks always give the same mask
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(np.ascontiguousarray(image[y0:y1, x0:x1]), sub, None, bgd, fgd, iters, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # e.g. a colour model with too few samples
        return on
    out = on.copy()
    out[y0:y1, x0:x1] = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
    return out
