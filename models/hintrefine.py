"""Make a network's prediction honour the user's colour hints exactly, edge-aware.

A network conditioned on hints follows them only approximately (and, after a short CPU
training run, weakly). The user asked for a colour at a point, so the difference between
what they asked for and what the network predicted there is spread over pixels of similar
lightness with the same Levin et al. (2004) affinities as the ``hints`` model, and added to
the prediction. Without hints the prediction is returned unchanged.
"""
from __future__ import annotations

import numpy as np

from .hintprop import propagate
from .types import CancelCheck


def refine_with_hints(
    L: np.ndarray,
    ab_pred: np.ndarray,
    hint_ab: np.ndarray,
    hint_mask: np.ndarray,
    mask: np.ndarray | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """ab (h, w, 2): ``ab_pred`` plus the propagated hint residual; equal to the hints at hint pixels."""
    hint_mask = np.asarray(hint_mask, np.float32)
    if not (hint_mask > 0.5).any():
        return ab_pred
    residual = (np.asarray(hint_ab, np.float32) - ab_pred) * (hint_mask > 0.5)[..., None]
    correction = propagate(L, residual, hint_mask, mask, cancel)
    return (ab_pred + correction).astype(np.float32)
