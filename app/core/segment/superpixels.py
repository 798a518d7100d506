"""Per-photo precompute of the built-in segmenter: superpixels and their neighbour graph.

Computed once per photo at a reduced work size (cached by the caller), so a click only
solves a small linear system over a few thousand superpixels instead of a million pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.segmentation import slic


@dataclass(frozen=True)
class SuperpixelGraph:
    full_shape: tuple[int, int]
    scale: float  # work pixels per full pixel
    gray: np.ndarray  # float32 (h, w) in [0, 1], the work-size photo
    labels: np.ndarray  # int32 (h, w) superpixel id per work pixel
    n: int
    features: np.ndarray  # float32 (n, F) appearance per superpixel, roughly unit scale
    centroid: np.ndarray  # float32 (n, 2) x, y in work pixels
    size: np.ndarray  # float32 (n,) pixel count
    border: np.ndarray  # bool (n,) touches the photo's edge
    pairs: np.ndarray  # int32 (m, 2) neighbouring superpixels i < j
    pair_edge: np.ndarray  # float32 (m,) mean edge strength along their shared boundary, ~0..1
    pair_length: np.ndarray  # float32 (m,) shared boundary length in pixels
    pair_features: np.ndarray  # float32 (m, K) what tells a real boundary from a split region


PAIR_FEATURES = ("edge_s1", "edge_s2", "edge_s4", "d_mean", "d_std", "d_texture", "hist_chi2",
                 "log_length", "log_min_size", "d_wide_mean", "d_wide_std", "d_wide_grad",
                 "wide_hist_chi2", "wide_grad_hist_chi2")


def _gradient(g: np.ndarray, sigma: float) -> np.ndarray:
    s = cv2.GaussianBlur(g, (0, 0), sigma)
    gx = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy) * sigma  # sigma-normalised so scales compare


def _edge_strength(g: np.ndarray) -> np.ndarray:
    """Multi-scale gradient magnitude scaled so typical strong edges are near 1."""
    acc = _gradient(g, 1.0) + _gradient(g, 2.0)
    scale = float(np.percentile(acc, 98)) or 1.0
    return np.clip(acc / scale, 0.0, 2.0).astype(np.float32)


def _along(values: np.ndarray, inv: np.ndarray, length: np.ndarray, cross_idx: np.ndarray) -> np.ndarray:
    """Mean over each shared boundary of max(value on either side)."""
    v = np.concatenate([np.maximum(values[:, :-1], values[:, 1:]).ravel(),
                        np.maximum(values[:-1, :], values[1:, :]).ravel()])
    return (np.bincount(inv, weights=v[cross_idx], minlength=length.size) / length).astype(np.float32)


def _node_means(labels: np.ndarray, n: int, values: np.ndarray, size: np.ndarray) -> np.ndarray:
    return (np.bincount(labels.ravel(), weights=values.ravel(), minlength=n) / size).astype(np.float32)


def build_graph(gray: np.ndarray, work_pixels: int = 200_000, n_segments: int = 2500,
                compactness: float = 0.08) -> SuperpixelGraph:
    """Superpixels of a [0, 1] grey photo and the graph the clicks are solved on."""
    H, W = gray.shape
    scale = min(1.0, float(np.sqrt(work_pixels / float(H * W))))
    h, w = max(1, round(H * scale)), max(1, round(W * scale))
    g = gray if (h, w) == (H, W) else cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA)
    g = np.ascontiguousarray(g, dtype=np.float32)
    labels = slic(g, n_segments=n_segments, compactness=compactness, channel_axis=None,
                  start_label=0, sigma=0.5, enforce_connectivity=True).astype(np.int32)
    n = int(labels.max()) + 1
    size = np.bincount(labels.ravel(), minlength=n).astype(np.float32)
    size = np.maximum(size, 1.0)
    edge = _edge_strength(g)

    # Appearance: brightness, local contrast and texture at two scales, each ~unit spread.
    blur2 = cv2.GaussianBlur(g, (0, 0), 2.0)
    detail = np.abs(g - blur2)
    texture = cv2.GaussianBlur(detail, (0, 0), 3.0)
    mean = _node_means(labels, n, g, size)
    sq = _node_means(labels, n, g * g, size)
    std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
    feats = np.stack([mean / 0.12, std / 0.05, _node_means(labels, n, texture, size) / 0.04,
                      _node_means(labels, n, edge, size) / 0.5], axis=1).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    centroid = np.stack([_node_means(labels, n, xx.astype(np.float32), size),
                         _node_means(labels, n, yy.astype(np.float32), size)], axis=1)
    border = np.zeros(n, dtype=bool)
    for line in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        border[line] = True

    # Neighbour pairs from horizontal and vertical pixel steps across superpixel borders.
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    e = np.concatenate([np.maximum(edge[:, :-1], edge[:, 1:]).ravel(),
                        np.maximum(edge[:-1, :], edge[1:, :]).ravel()])
    cross = a != b
    cross_idx = np.flatnonzero(cross)
    a, b, e = a[cross], b[cross], e[cross]
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    key = lo * n + hi
    uniq, inv = np.unique(key, return_inverse=True)
    length = np.bincount(inv).astype(np.float32)
    edge_mean = (np.bincount(inv, weights=e) / length).astype(np.float32)
    pairs = np.stack([uniq // n, uniq % n], axis=1).astype(np.int32)

    i, j = pairs[:, 0], pairs[:, 1]
    scales = []
    for sigma in (1.0, 2.0, 4.0):
        gm = _gradient(g, sigma)
        gm = gm / (float(np.percentile(gm, 98)) or 1.0)
        scales.append(_along(gm, inv, length, cross_idx))
    bins = np.minimum((g * 12).astype(np.int64), 11)
    hist = np.bincount((labels.astype(np.int64) * 12 + bins).ravel(), minlength=n * 12).reshape(n, 12)
    hist = hist / size[:, None]
    chi2 = 0.5 * np.sum((hist[i] - hist[j]) ** 2 / (hist[i] + hist[j] + 1e-6), axis=1)
    # Textured regions (grass, snow, foliage) only look uniform at a wider scale.
    wide = 6.0 * np.sqrt(h * w / 150_000.0)
    wmean = cv2.GaussianBlur(g, (0, 0), wide)
    wstd = np.sqrt(np.maximum(cv2.GaussianBlur(g * g, (0, 0), wide) - wmean * wmean, 0.0))
    wgrad = cv2.GaussianBlur(_gradient(g, 1.0), (0, 0), wide)
    wide_f = [_node_means(labels, n, v, size) for v in (wmean / 0.12, wstd / 0.05, wgrad / 0.1)]
    # texture gradients (as in Pb): histograms of lightness and of edge strength over a wide
    # window around each superpixel, compared across the shared boundary
    g1 = _gradient(g, 1.0)
    g1 = g1 / (float(np.percentile(g1, 98)) or 1.0)
    wide_chi = []
    for values in (g, np.clip(g1, 0, 0.999)):
        hb = np.minimum((values * 8).astype(np.int64), 7)
        hists = np.stack([_node_means(labels, n, cv2.GaussianBlur((hb == k).astype(np.float32), (0, 0), wide), size)
                          for k in range(8)], axis=1)
        hists = hists / np.maximum(hists.sum(axis=1, keepdims=True), 1e-6)
        wide_chi.append(0.5 * np.sum((hists[i] - hists[j]) ** 2 / (hists[i] + hists[j] + 1e-6), axis=1))
    pf = np.stack(scales + [np.abs(feats[i, 0] - feats[j, 0]), np.abs(feats[i, 1] - feats[j, 1]),
                            np.abs(feats[i, 2] - feats[j, 2]), chi2, np.log(length),
                            np.log(np.minimum(size[i], size[j]))]
                  + [np.abs(v[i] - v[j]) for v in wide_f] + wide_chi, axis=1).astype(np.float32)
    feats = np.concatenate([feats[:, :3], np.stack(wide_f, axis=1)], axis=1).astype(np.float32)
    return SuperpixelGraph((H, W), scale, g, labels, n, feats, centroid.astype(np.float32),
                           size, border, pairs, edge_mean, length, pf)
