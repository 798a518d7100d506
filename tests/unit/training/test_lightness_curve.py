"""Fitting the chroma-by-lightness curve at export (training/calibrate_v1.py)."""
from __future__ import annotations

import numpy as np
import torch

from models.colour import lab_to_rgb
from training.calibrate_v1 import LIGHTNESS_CENTRES, fit_lightness_curve


def _item(true_gain_by_band, seed=0):
    """One photo whose true chroma is the prediction times a known gain per band of L."""
    rng = np.random.default_rng(seed)
    h, w = 40, 50
    L = rng.uniform(1, 99, (h, w)).astype(np.float32)
    pred = rng.normal(0, 3, (h, w, 2)).astype(np.float32)  # small: stays in the sRGB gamut
    band = np.clip((L // 10).astype(int), 0, 9)
    true = pred * np.asarray(true_gain_by_band, np.float32)[band][..., None]
    rgb = lab_to_rgb(L, true)
    # the photo goes through sRGB (in gamut by construction of small chroma), as in the exporter
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]  # noqa: E731
    return torch.from_numpy(L)[None, None], t(rgb), t(pred)


def test_the_fitted_curve_recovers_a_known_gain_per_band_of_lightness():
    gains = [0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.3]
    curve = fit_lightness_curve([_item(gains, s) for s in range(3)])
    assert [c for c, _ in curve] == list(LIGHTNESS_CENTRES)
    f = np.array([v for _, v in curve])
    # up to the overall gain the curve is divided by, the shape is recovered (sRGB rounding aside)
    ratio = f / np.array(gains)
    assert np.ptp(ratio) < 0.1 * ratio.mean(), (f, gains)
    assert f[0] < f[4] < f[9]


def test_the_curve_is_clipped_and_flat_when_the_prediction_is_uninformative():
    curve = fit_lightness_curve([_item([0.0] * 3 + [1.0] * 7, 1)])
    f = dict(curve)
    assert f[5.0] == 0.25 and f[15.0] == 0.25  # no correlation: clipped to the floor, not negative
    assert all(0.25 <= v <= 2.0 for v in f.values())
