"""sRGB <-> Lab: every 8-bit colour survives a round trip; gamut mapping keeps lightness."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.colour import L_to_grey, lab_to_rgb, rgb_to_L, rgb_to_lab


def _round_trip_levels(rgb8: np.ndarray) -> np.ndarray:
    lab = rgb_to_lab(rgb8.astype(np.float32) / 255.0)
    back = lab_to_rgb(lab[..., 0], lab[..., 1:])
    return np.abs(np.round(back * 255.0) - rgb8)


def test_dense_grid_of_8bit_colours_round_trips_within_one_level():
    levels = np.unique(np.r_[np.arange(0, 256, 3), 1, 2, 254, 255])
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    rgb8 = np.stack([r, g, b], axis=-1).reshape(-1, 3)
    assert _round_trip_levels(rgb8).max() <= 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=1, max_size=64))
def test_any_8bit_colour_round_trips_within_one_level(colours):
    assert _round_trip_levels(np.array(colours)).max() <= 1


def test_out_of_gamut_ab_is_mapped_without_changing_lightness():
    rng = np.random.default_rng(0)
    L = rng.uniform(1, 99, 5000).astype(np.float32)
    ab = rng.uniform(-128, 127, (5000, 2)).astype(np.float32)  # mostly out of gamut
    rgb = lab_to_rgb(L, ab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert np.abs(rgb_to_L(rgb) - L).max() < 0.05
    # the hue survives: strongly +a stays reddish rather than clipping to grey
    red = lab_to_rgb(np.float32(50), np.array([120.0, 0.0], np.float32))
    assert red[0] > red[1] + 0.2


def test_zero_ab_is_exactly_neutral_grey():
    L = np.linspace(0, 100, 1001, dtype=np.float32)
    rgb = lab_to_rgb(L, np.zeros((1001, 2), np.float32))
    assert np.array_equal(rgb[:, 0], rgb[:, 1]) and np.array_equal(rgb[:, 1], rgb[:, 2])
    assert np.abs(rgb[:, 0] - L_to_grey(L)).max() < 1e-6
