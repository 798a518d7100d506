"""Chroma upsampling follows the photo's own edges better than bilinear."""
from __future__ import annotations

import cv2
import numpy as np

from models.upsample import upsample_ab


def _two_regions(H=240, W=320):
    # a dark object on a light background, its edge not aligned with the 8x work grid
    yy, xx = np.mgrid[:H, :W]
    inside = (xx - 157) ** 2 + (yy - 118) ** 2 < 83**2
    L = np.where(inside, 30.0, 80.0).astype(np.float32)
    ab = np.zeros((H, W, 2), np.float32)
    ab[inside] = (45.0, 30.0)
    ab[~inside] = (-20.0, -35.0)
    return L, ab, inside


def test_guided_beats_bilinear_at_an_edge():
    L, ab, inside = _two_regions()
    small = cv2.resize(ab, (40, 30), interpolation=cv2.INTER_AREA)
    guided = upsample_ab(small, L)
    bilinear = cv2.resize(small, (320, 240), interpolation=cv2.INTER_LINEAR)
    err_g = np.abs(guided - ab).mean()
    err_b = np.abs(bilinear - ab).mean()
    assert guided.shape == ab.shape and guided.dtype == np.float32
    assert err_g < 0.6 * err_b
    # colour does not bleed: just inside the edge the object keeps its own colour
    edge_in = inside & ~cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert np.abs(guided[edge_in] - ab[edge_in]).mean() < np.abs(bilinear[edge_in] - ab[edge_in]).mean()


def test_flat_colour_and_zero_stay_exact():
    L = np.random.default_rng(0).uniform(0, 100, (90, 120)).astype(np.float32)
    flat = np.full((30, 40, 2), (12.0, -7.0), np.float32)
    assert np.allclose(upsample_ab(flat, L), (12.0, -7.0), atol=1e-3)
    assert not upsample_ab(np.zeros((30, 40, 2), np.float32), L).any()


def test_same_size_is_a_copy():
    L = np.zeros((10, 10), np.float32)
    ab = np.ones((10, 10, 2), np.float32)
    out = upsample_ab(ab, L)
    assert np.array_equal(out, ab) and out is not ab
