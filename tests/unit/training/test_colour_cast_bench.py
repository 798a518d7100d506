"""bench/colour_cast.py: the cast analysis on photos whose answers are known."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
import colour_cast  # noqa: E402

from models.colour import lab_to_rgb  # noqa: E402


def _photo(rng, cast) -> tuple:
    L = rng.uniform(30, 80, (24, 32)).astype(np.float32)
    local = rng.normal(0, 8, (24, 32, 2)).astype(np.float32)
    local -= local.reshape(-1, 2).mean(0)
    ab = local + np.asarray(cast, np.float32)
    return L, ab, np.clip(lab_to_rgb(L, ab), 0, 1)


def test_perfect_local_colour_with_a_wrong_cast_and_the_offset_that_fixes_it():
    rng = np.random.default_rng(0)
    items = []
    for _ in range(6):
        L, ab, rgb = _photo(rng, (rng.uniform(-5, 5), rng.uniform(-12, -4)))  # bluish casts
        pred = ab - ab.reshape(-1, 2).mean(0) + np.array([3.0, 9.0], np.float32)  # right local colour, warm cast
        items.append((L, ab, rgb, pred))
    r = colour_cast.analyse(items)
    assert r["photos"] == 6
    # the model's local colour on the true cast is the truth itself: far above the shipped output
    assert r["model_local_with_true_cast"]["psnr_gain"] > r["as_shipped"]["psnr_gain"] + 5
    assert r["model_local_with_true_cast"]["cf_ratio"] == pytest.approx(1.0, abs=0.02)
    assert r["set_mean_cast"]["predicted"] == pytest.approx([3.0, 9.0], abs=0.01)
    assert r["set_mean_cast"]["true"][1] < -3
    assert 0 < r["cast_share"] < 1
    # one fixed offset learned on the other half moves every cast by the same amount: it recovers
    # most of the gap, not all (the true casts differ per photo)
    off = r["set_offset_2fold"]
    assert off["psnr_gain"] > r["as_shipped"]["psnr_gain"] + 2
    assert off["psnr_gain"] < r["model_local_with_true_cast"]["psnr_gain"]
    for o in off["offsets"]:
        assert o[1] < -10  # from warm (b +9) towards the true bluish casts


def test_cast_agreement_when_predicted_casts_point_the_right_way():
    rng = np.random.default_rng(1)
    items = []
    for _ in range(8):
        cast = rng.uniform(-10, 10, 2)
        L, ab, rgb = _photo(rng, cast)
        items.append((L, ab, rgb, (ab * 0.5).astype(np.float32)))  # right direction, half the strength
    r = colour_cast.analyse(items)
    agree = r["cast_agreement"]
    assert agree["median_cosine"] == pytest.approx(1.0, abs=1e-3)
    assert agree["corr_a"] > 0.99 and agree["corr_b"] > 0.99
    assert agree["ls_gain"] == pytest.approx(2.0, rel=1e-3)  # the true cast is twice the predicted
    assert r["true_cast_only"]["psnr_gain"] > 0
