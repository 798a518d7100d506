"""Random walker over the superpixel graph (Grady 2006), with soft priors.

Each superpixel gets the probability that a random walk started there reaches an include
click before an exclude click, where steps across likely outlines are rare. Unlike a
nearest-seed (geodesic) answer, every click pulls on the whole neighbourhood it sits in,
so a correction click flips the region around it even when another click is close.
Soft priors (a "ground" term per node) stand in for what no click says: the photo's
border and, weakly, everything far from the clicks lean to the background; regions that
look like the clicks lean their way.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve


def random_walker(n: int, pairs: np.ndarray, weights: np.ndarray, fg: np.ndarray, bg: np.ndarray,
                  prior_fg: np.ndarray | None = None, prior_bg: np.ndarray | None = None) -> np.ndarray:
    """Probability (n,) of reaching ``fg`` before ``bg`` nodes.

    ``weights`` (m,) are the conductances of ``pairs``; ``prior_fg``/``prior_bg`` (n,) are
    extra conductances to a virtual object / background node. Seeds win over priors; a
    node that is in both ``fg`` and ``bg`` counts as object (the include click).
    """
    x = np.full(n, np.nan)
    x[bg] = 0.0
    x[fg] = 1.0
    seeded = ~np.isnan(x)
    pf = np.zeros(n) if prior_fg is None else np.asarray(prior_fg, dtype=np.float64)
    pb = np.zeros(n) if prior_bg is None else np.asarray(prior_bg, dtype=np.float64)
    if not seeded.any() and not (pf.any() or pb.any()):
        return np.zeros(n)
    i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    w = np.asarray(weights, dtype=np.float64)
    A = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    deg = np.asarray(A.sum(axis=1)).ravel() + pf + pb
    free = np.flatnonzero(~seeded)
    if free.size == 0:
        return x
    # A tiny ground term keeps the system regular on islands with no seed and no prior.
    L = sp.diags(deg[free] + 1e-9) - A[free][:, free]
    seeds = np.flatnonzero(seeded)
    rhs = pf[free] + (A[free][:, seeds] @ x[seeds] if seeds.size else 0.0)
    x[free] = spsolve(L.tocsc(), rhs)
    return np.clip(x, 0.0, 1.0)
