"""Which colours fit a point of the photo: the model's suggestions, and whether a chosen colour
can exist at that point's lightness (Huebrush keeps L, so a light spot cannot be a deep red).

Used by ``huebrush suggest`` and by the hint panel (suggested swatches, the gamut note).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pipeline import resize_to, work_shape

SUGGESTING_MODELS = ("maskgan-v2", "maskgan")  # the default, then maskgan should it hold a distribution network


def suggesting_model(get):
    """The first of ``SUGGESTING_MODELS`` whose installed weights predict a colour distribution;
    ``get(name)`` loads a model (the registry's ``create`` or an engine's ``colorizer``)."""
    from models.types import ModelError

    for name in SUGGESTING_MODELS:
        try:
            model = get(name)
        except (ModelError, KeyError):
            continue
        if hasattr(model, "suggest"):
            return model
    raise ModelError("No installed model predicts a colour distribution, so there are no suggested colours; "
                     "install maskgan-v2 weights.")


@dataclass(frozen=True)
class Suggestion:
    hex: str  # #rrggbb of the colour at the point's own lightness
    share: float  # the model's probability for it (shares of in-gamut colours, best first)


def suggest_at(model, L_full: np.ndarray, x: float, y: float, count: int = 5, work_size: int = 512) -> list[Suggestion]:
    """The ``count`` likeliest colours at photo pixel (x, y) from a model that predicts a colour
    distribution (``model.suggest``); ValueError when the model cannot say."""
    from models.abbins import lab_hex

    if not hasattr(model, "suggest"):
        raise ValueError("this model does not predict a colour distribution")
    H, W = L_full.shape
    if not (0 <= x < W and 0 <= y < H):
        raise ValueError(f"({x:g}, {y:g}) is outside the {W} x {H} photo")
    h, w = work_shape((H, W), work_size)
    L = resize_to(L_full, (h, w))
    px = min(max((x + 0.5) * w / W - 0.5, 0.0), w - 1.0)  # the same spot at the work size
    py = min(max((y + 0.5) * h / H - 0.5, 0.0), h - 1.0)
    return [Suggestion(lab_hex(lab), round(float(share), 4)) for lab, share in model.suggest(L, (px, py), k=count)]


@dataclass(frozen=True)
class HintOutcome:
    possible: bool  # the colour exists at this lightness
    shown_hex: str  # what the result will show there (the colour at the point's L, gamut-mapped)
    lightness: float


def hint_outcome(L: float, rgb: tuple[float, float, float]) -> HintOutcome:
    """What a hint of colour ``rgb`` becomes on a pixel of lightness ``L``: its hue and chroma at
    that L, pulled into the sRGB gamut with L kept (as the export does)."""
    from models.abbins import in_gamut
    from models.colour import lab_to_rgb, rgb_to_ab, rgb_to_hex

    a, b = rgb_to_ab(tuple(float(c) for c in rgb))
    possible = bool(in_gamut(np.array([float(L), a, b]), tol=1e-3))
    shown = lab_to_rgb(np.full((1, 1), L, np.float32), np.array([[[a, b]]], np.float32))[0, 0]
    return HintOutcome(possible, rgb_to_hex(tuple(float(c) for c in shown)), float(L))
