"""Training hints: a few points or short strokes carrying the true colour, often none.

The colour of a hint is the local mean of the true ab around it, because a user picks one
colour for a small patch, not the exact value of a single pixel.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def sample_hints(
    ab: torch.Tensor,
    rng: np.random.Generator,
    max_points: int = 20,
    p_none: float = 0.5,
    n_points: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hints from the true ab (2, h, w): returns ``(hint_ab (2, h, w), hint_mask (1, h, w))``.

    ``n_points`` forces an exact count (evaluation: "10 hints from the truth").
    """
    _, h, w = ab.shape
    hint_ab = torch.zeros_like(ab)
    hint_mask = torch.zeros((1, h, w), dtype=ab.dtype, device=ab.device)
    if n_points is None:
        if rng.random() < p_none:
            return hint_ab, hint_mask
        # few hints are more common than many (geometric-ish)
        n_points = int(min(max_points, 1 + rng.geometric(0.15)))
    if n_points <= 0:
        return hint_ab, hint_mask
    # local mean colour (5x5 box) for every pixel, computed once
    mean = F.avg_pool2d(ab[None], 5, stride=1, padding=2, count_include_pad=False)[0]
    for _ in range(n_points):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        colour = mean[:, y, x]
        r = int(rng.integers(0, 2)) if max(h, w) <= 96 else int(rng.integers(0, 4))
        pts = [(y, x)]
        if rng.random() < 0.3:  # a short stroke
            n = int(rng.integers(2, 6))
            d = rng.normal(0, 1, 2)
            d = d / (np.linalg.norm(d) + 1e-6) * max(1.0, max(h, w) / 40)
            pts += [(int(np.clip(y + d[0] * k, 0, h - 1)), int(np.clip(x + d[1] * k, 0, w - 1))) for k in range(1, n)]
        for py, px in pts:
            y0, y1, x0, x1 = max(0, py - r), min(h, py + r + 1), max(0, px - r), min(w, px + r + 1)
            hint_ab[:, y0:y1, x0:x1] = colour[:, None, None]
            hint_mask[:, y0:y1, x0:x1] = 1.0
    return hint_ab, hint_mask
