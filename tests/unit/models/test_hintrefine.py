import numpy as np

from models.hintrefine import refine_with_hints


def _two_regions(h=48, w=64):
    L = np.full((h, w), 30.0, np.float32)
    L[:, w // 2 :] = 80.0  # a strong lightness edge down the middle
    return L


def test_without_hints_the_prediction_is_unchanged():
    L = _two_regions()
    pred = np.random.default_rng(0).normal(0, 10, L.shape + (2,)).astype(np.float32)
    out = refine_with_hints(L, pred, np.zeros_like(pred), np.zeros(L.shape, np.float32))
    assert out is pred


def test_hint_colour_is_met_and_spreads_within_its_region_only():
    L = _two_regions()
    h, w = L.shape
    pred = np.zeros((h, w, 2), np.float32)
    pred[...] = (5.0, -5.0)  # the network's guess everywhere
    hint_ab = np.zeros_like(pred)
    hint_mask = np.zeros((h, w), np.float32)
    hint_ab[20:23, 8:11] = (40.0, 30.0)
    hint_mask[20:23, 8:11] = 1.0
    out = refine_with_hints(L, pred, hint_ab, hint_mask)
    np.testing.assert_allclose(out[21, 9], (40.0, 30.0), atol=1e-3)
    # the dark left region takes the hinted colour far from the hint ...
    assert np.abs(out[40, 25] - (40.0, 30.0)).max() < 3.0
    # ... while the bright right region, behind the edge, keeps the network's colour
    assert np.abs(out[20, 50] - (5.0, -5.0)).max() < 2.0
