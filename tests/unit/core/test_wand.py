"""Magic wand: lightness within a tolerance of the clicked pixel, joined to it or anywhere."""
from __future__ import annotations

import numpy as np
import pytest

from app.core.segment.wand import wand_select


def _scene():
    L = np.full((60, 80), 30.0, np.float32)
    L[10:30, 10:30] = 70.0  # a flat wall
    L[40:55, 50:75] = 71.0  # a second, separate area of nearly the same lightness
    L[10:30, 40:45] = 76.0  # a brighter strip
    return L


def test_contiguous_takes_only_the_joined_area():
    m = wand_select(_scene(), 15, 15, tolerance=3, smooth=0)
    assert m[10:30, 10:30].all() and m.sum() == 400


def test_not_contiguous_takes_every_similar_pixel():
    m = wand_select(_scene(), 15, 15, tolerance=3, contiguous=False, smooth=0)
    assert m[10:30, 10:30].all() and m[40:55, 50:75].all() and not m[10:30, 40:45].any()


def test_tolerance_widens_the_selection():
    L = _scene()
    assert not wand_select(L, 15, 15, tolerance=3, contiguous=False, smooth=0)[10:30, 40:45].any()
    assert wand_select(L, 15, 15, tolerance=7, contiguous=False, smooth=0)[10:30, 40:45].all()


def test_grain_does_not_punch_holes_and_works_on_16_bit_lightness():
    rng = np.random.default_rng(0)
    L = _scene() + rng.normal(0, 3, (60, 80)).astype(np.float32)
    m = wand_select(L, 15, 15, tolerance=5)
    assert m[12:28, 12:28].mean() > 0.98 and not m[40:55, 50:75].any()
    assert wand_select(L.astype(np.float64), 15, 15).shape == L.shape


def test_a_point_off_the_photo_is_refused():
    with pytest.raises(ValueError, match="outside"):
        wand_select(_scene(), 80, 5)
