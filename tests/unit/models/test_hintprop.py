"""Hint propagation (Levin et al. 2004): hints spread along similar lightness, not across edges."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from models import registry
from models.hintprop import HintPropagation, propagate
from models.types import Cancelled, ColorizeRequest

RED = (50.0, 40.0)
BLUE = (10.0, -50.0)


def _edge_scene(h=40, w=100, edge=40):
    L = np.full((h, w), 70.0, np.float32)
    L[:, edge:] = 25.0  # a strong lightness edge at x = edge
    hint_ab = np.zeros((h, w, 2), np.float32)
    hint_mask = np.zeros((h, w), np.float32)
    hint_mask[18:22, 3:6] = 1
    hint_ab[18:22, 3:6] = RED
    hint_mask[18:22, 94:97] = 1
    hint_ab[18:22, 94:97] = BLUE
    return L, hint_ab, hint_mask


def test_hint_colour_is_kept_near_the_hint_and_does_not_cross_a_strong_edge():
    L, hint_ab, hint_mask = _edge_scene()
    ab = propagate(L, hint_ab, hint_mask)
    assert np.allclose(ab[20, 4], RED, atol=1e-3)
    assert np.allclose(ab[20, 10], RED, atol=2)
    # each side of the edge takes its own hint's colour even right next to the edge,
    # although the edge is far from halfway between the hints
    assert np.allclose(ab[:, 36], RED, atol=5)
    assert np.allclose(ab[:, 44], BLUE, atol=5)


def test_without_an_edge_colours_blend_smoothly():
    L, hint_ab, hint_mask = _edge_scene()
    ab = propagate(np.full_like(L, 50.0), hint_ab, hint_mask)
    mid = ab[20, 50]
    assert 15 < mid[0] < 45  # between red and blue, not one of them


def test_no_hints_gives_grey_and_masked_out_pixels_stay_zero():
    L, hint_ab, hint_mask = _edge_scene()
    assert not propagate(L, hint_ab, np.zeros_like(hint_mask)).any()
    mask = np.ones_like(L)
    mask[:, 60:70] = 0  # a gap splits the photo: the right part has the blue hint only
    ab = propagate(L, hint_ab, hint_mask, mask)
    assert not ab[:, 60:70].any()
    assert np.allclose(ab[:, 75], BLUE, atol=2)


def test_region_no_hint_reaches_stays_grey():
    L, hint_ab, hint_mask = _edge_scene()
    hint_mask[:, 50:] = 0
    mask = np.ones_like(L)
    mask[:, 60:62] = 0
    ab = propagate(L, hint_ab, hint_mask, mask)
    assert np.abs(ab[:, 62:]).max() < 0.5


def test_coarse_to_fine_solution_is_close_to_the_direct_one():
    rng = np.random.default_rng(3)
    h, w = 150, 200
    # smooth shading plus one strong edge, like a figure against a wall
    L = cv2.resize(rng.uniform(30, 70, (6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    L[40:110, 60:120] -= 25
    hint_ab = np.zeros((h, w, 2), np.float32)
    hint_mask = np.zeros((h, w), np.float32)
    for _ in range(6):
        y, x = rng.integers(5, h - 5), rng.integers(5, w - 5)
        hint_mask[y - 2 : y + 2, x - 2 : x + 2] = 1
        hint_ab[y - 2 : y + 2, x - 2 : x + 2] = rng.uniform(-50, 50, 2)
    direct = propagate(L, hint_ab, hint_mask, direct_limit=10**9)
    fast = propagate(L, hint_ab, hint_mask, direct_limit=2000)
    assert np.abs(fast - direct).mean() < 1.0


def test_colorizer_from_the_registry_predicts_and_cancels():
    L, hint_ab, hint_mask = _edge_scene()
    req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hint_ab, hint_mask=hint_mask)
    model = registry.create("hints")
    assert isinstance(model, HintPropagation) and model.name == "hints"
    ab = model.predict(req)
    assert ab.shape == (40, 100, 2) and ab.dtype == np.float32
    with pytest.raises(Cancelled):
        model.predict(req, cancel=lambda: True)


def _big_edge_scene(scale=6):
    """The edge scene at 6x the size (600 px wide), so the coarse solve really downsamples."""
    L, hint_ab, hint_mask = _edge_scene()
    up = lambda a: cv2.resize(a, (a.shape[1] * scale, a.shape[0] * scale), interpolation=cv2.INTER_NEAREST)  # noqa: E731
    return up(L), up(hint_ab), up(hint_mask)


def test_coarse_solve_keeps_hints_exact_and_respects_the_edge():
    from models.hintprop import propagate_coarse

    L, hint_ab, hint_mask = _big_edge_scene()
    ab = propagate_coarse(L, hint_ab, hint_mask, side=128)
    assert ab.shape == (240, 600, 2)
    hinted = hint_mask > 0.5
    assert np.array_equal(ab[hinted], hint_ab[hinted])
    # the two sides of the strong edge (at x = 240) keep their own hint's colour up to it
    assert np.allclose(ab[:, 228], RED, atol=6)
    assert np.allclose(ab[:, 252], BLUE, atol=6)


def test_coarse_solve_is_close_to_the_full_solve_and_stays_inside_the_mask():
    from models.hintprop import propagate_coarse

    L, hint_ab, hint_mask = _big_edge_scene()
    mask = np.ones(L.shape, np.float32)
    mask[:, 420:] = 0
    full = propagate(L, hint_ab, hint_mask, mask)
    coarse = propagate_coarse(L, hint_ab, hint_mask, mask, side=128)
    assert np.abs(coarse[:, 420:]).max() == 0.0
    inside = mask > 0
    assert np.abs(coarse - full)[inside].mean() < 2.0
