"""Quantised ab: the colour distribution a network predicts per pixel (Zhang, Isola & Efros 2016).

The ab plane is cut into square bins (``step`` wide, 10 by default); only the bins whose centre
is a real sRGB colour at some lightness are kept (the in-gamut bins; 228 at step 10 with the
gamut test below). A network predicts a probability per bin; the colour shown is the
*annealed mean* (the mean of the distribution sharpened by a temperature T < 1): T = 1 is the
plain mean (safe and greyish, as a regression is), T -> 0 the mode (vivid, sometimes noisy).
The same distribution answers "which colours are likely here" for the suggested-colours
palette: ``top_colours``.
"""
from __future__ import annotations

import numpy as np
import torch

from .colour import lab_to_rgb, rgb_to_hex

AB_LIMIT = 110.0
GAMUT_TOLERANCE = 1e-3  # how far outside [0, 1] a linear sRGB channel may be and still count as in gamut


def in_gamut(lab: np.ndarray, tol: float = GAMUT_TOLERANCE) -> np.ndarray:
    """True where a Lab colour (..., 3) is a real sRGB colour (no channel clipped)."""
    from .colour import WHITE_D65, XYZ_TO_RGB, _f_inv

    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    xyz = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], -1) * WHITE_D65
    lin = xyz @ XYZ_TO_RGB.T
    return np.all((lin >= -tol) & (lin <= 1.0 + tol), axis=-1)


def gamut_bins(step: float = 10.0, limit: float = AB_LIMIT) -> np.ndarray:
    """Centres (Q, 2) of the ab bins that hold an sRGB colour at some lightness 1..99."""
    centres = np.arange(-limit, limit + 1e-6, step, dtype=np.float64)
    a, b = np.meshgrid(centres, centres, indexing="ij")
    ab = np.stack([a.ravel(), b.ravel()], -1)
    Ls = np.arange(1.0, 100.0, 1.0)
    lab = np.concatenate([np.broadcast_to(Ls[:, None, None], (len(Ls), len(ab), 1)),
                          np.broadcast_to(ab[None], (len(Ls), len(ab), 2))], -1)
    keep = in_gamut(lab).any(axis=0)
    return ab[keep].astype(np.float32)


def soft_encode(ab: torch.Tensor, bins: torch.Tensor, sigma: float = 5.0, k: int = 5) -> torch.Tensor:
    """True ab (B, 2, h, w) -> soft targets (B, Q, h, w): the ``k`` nearest bins, Gaussian-weighted."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, bins.to(flat)).pow(2)
    near_d2, near_i = d2.topk(k, dim=1, largest=False)
    wts = torch.softmax(-near_d2 / (2 * sigma * sigma), dim=1)
    out = torch.zeros(flat.shape[0], bins.shape[0], dtype=flat.dtype, device=flat.device)
    out.scatter_(1, near_i, wts)
    return out.reshape(b, h, w, -1).permute(0, 3, 1, 2)


def nearest_bin(ab: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """ab (B, 2, h, w) -> index of the nearest bin (B, h, w)."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    return torch.cdist(flat, bins.to(flat)).argmin(1).reshape(b, h, w)


def annealed_mean(logits: torch.Tensor, bins: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits (B, Q, h, w) -> ab (B, 2, h, w): the mean of softmax(logits / T) over the bin centres."""
    p = torch.softmax(logits.float() / max(float(temperature), 1e-3), dim=1)
    return torch.einsum("bqhw,qc->bchw", p, bins.to(p))


def rebalance_weights(counts: np.ndarray, bins: np.ndarray, lam: float = 0.5, sigma: float = 5.0) -> np.ndarray:
    """Per-bin loss weights (Q,) from how often each bin is the true colour: rare colours weigh
    more, w ~ 1 / ((1 - lam) * smoothed prior + lam / Q), normalised so the expected weight is 1."""
    p = np.asarray(counts, np.float64) + 1e-12
    p /= p.sum()
    d2 = ((bins[:, None, :] - bins[None, :, :]) ** 2).sum(-1)
    g = np.exp(-d2 / (2 * sigma * sigma))
    smooth = g @ p
    smooth /= smooth.sum()
    w = 1.0 / ((1 - lam) * smooth + lam / len(bins))
    w /= (smooth * w).sum()
    return w.astype(np.float32)


def top_colours(probs: np.ndarray, bins: np.ndarray, L: float, k: int = 5, reach: float = 12.0,
                separation: float = 20.0, sigma: float = 5.0) -> list[tuple[tuple[float, float, float], float]]:
    """The ``k`` colours at lightness ``L`` most likely to be right, from one pixel's bin
    probabilities (Q,): each within ``reach`` ab units of the true colour as often as possible.

    The bins' probabilities are spread into a density on a 1-unit ab grid (a Gaussian of ``sigma``,
    the width the training spread each true colour over its bins), then picked greedily: the colour
    (in the sRGB gamut at ``L``) whose disc of radius ``reach`` holds the most probability not yet
    held by an earlier pick, at least ``separation`` from every earlier pick (so the swatches look
    different). Its share is the probability its disc adds. Returned as (L, a, b) with the share,
    best first; fewer than ``k`` where fewer distinct colours exist at ``L``.
    """
    import cv2

    axis = np.arange(-AB_LIMIT, AB_LIMIT + 0.5, 1.0)
    n = len(axis)
    p = np.clip(np.nan_to_num(np.asarray(probs, np.float64)), 0.0, None)
    p = p / max(p.sum(), 1e-12)
    idx = np.clip(np.round(np.asarray(bins, np.float64) + AB_LIMIT).astype(int), 0, n - 1)
    density = np.zeros((n, n), np.float32)
    np.add.at(density, (idx[:, 0], idx[:, 1]), p.astype(np.float32))
    density = cv2.GaussianBlur(density, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    total = max(float(density.sum()), 1e-12)
    A, B = np.meshgrid(axis, axis, indexing="ij")
    free = in_gamut(np.stack([np.full(A.shape, float(L)), A, B], -1))
    if not free.any():
        return [((float(L), 0.0, 0.0), 1.0)]
    r = int(np.ceil(reach))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = (np.hypot(dy, dx) <= reach).astype(np.float32)
    out = []
    while len(out) < max(1, int(k)) and free.any():
        cover = cv2.filter2D(density, -1, disc, borderType=cv2.BORDER_CONSTANT)
        i, j = np.unravel_index(int(np.argmax(np.where(free, cover, -1.0))), cover.shape)
        out.append(((float(L), float(axis[i]), float(axis[j])), min(1.0, max(0.0, float(cover[i, j]) / total))))
        d = np.hypot(A - axis[i], B - axis[j])
        density[d <= reach] = 0.0
        free &= d >= separation
    return out


def lab_hex(lab: tuple[float, float, float]) -> str:
    """#rrggbb of an (L, a, b) colour (clipped to sRGB)."""
    L = np.full((1, 1), lab[0], np.float32)
    ab = np.asarray(lab[1:], np.float32).reshape(1, 1, 2)
    return rgb_to_hex(tuple(np.clip(lab_to_rgb(L, ab)[0, 0], 0.0, 1.0)))
