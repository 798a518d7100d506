"""Compositing: colour inside the mask, the exact original grey outside."""
from __future__ import annotations

import numpy as np
import pytest

from app.core.composite import Grade, composite_ab, feather_weights
from app.core.mask import Mask
from models.colour import L_to_grey, lab_to_rgb


def _scene(h=64, w=80, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.uniform(5, 95, (h, w)).astype(np.float32)
    ab = rng.uniform(-60, 60, (h, w, 2)).astype(np.float32)
    mask = np.zeros((h, w), bool)
    mask[10:50, 15:60] = True
    return L, ab, mask


def test_outside_the_mask_ab_is_exactly_zero_and_rgb_exactly_neutral():
    L, ab, mask = _scene()
    out = composite_ab(ab, mask, feather_px=6, saturation=1.7)
    assert np.all(out[~mask] == 0)
    rgb = lab_to_rgb(L, out)
    outside = rgb[~mask]
    assert np.array_equal(outside[:, 0], outside[:, 1]) and np.array_equal(outside[:, 1], outside[:, 2])
    # and that grey is the original grey, up to rounding
    assert np.abs(outside[:, 0] - L_to_grey(L[~mask])).max() < 1e-5
    assert np.abs(rgb[mask].max(axis=-1) - rgb[mask].min(axis=-1)).max() > 0.1  # colour inside


def test_feather_fades_inward_over_the_radius():
    mask = np.zeros((40, 100), bool)
    mask[:, 50:] = True
    w = feather_weights(mask, 10)
    assert np.all(w[:, :50] == 0)
    row = w[20]
    assert 0 < row[50] < 0.1 and np.all(np.diff(row[50:62]) >= 0) and row[62] == 1.0
    assert np.array_equal(feather_weights(mask, 0), mask.astype(np.float32))
    # the photo's border is not an edge of the mask
    assert np.all(feather_weights(np.ones((20, 20), bool), 5) == 1)


def test_saturation_scales_chroma_and_is_clamped():
    L, ab, mask = _scene()
    inner = (slice(30, 31), slice(35, 36))
    one = composite_ab(ab, mask, 2, 1.0)
    assert np.allclose(one[inner], ab[inner])
    assert np.allclose(composite_ab(ab, mask, 2, 0.5)[inner], 0.5 * ab[inner])
    assert np.allclose(composite_ab(ab, mask, 2, 5.0)[inner], 2.0 * ab[inner])
    assert not composite_ab(ab, mask, 2, 0.0).any()


def test_colour_balance_shifts_the_colour_inside_only_before_the_saturation():
    L, ab, mask = _scene()
    inner = (slice(30, 31), slice(35, 36))
    out = composite_ab(ab, mask, 6, Grade(0.5, tint=4.0, warmth=-10.0))
    assert np.allclose(out[inner], 0.5 * (ab[inner] + (4.0, -10.0)))
    assert np.all(out[~mask] == 0)  # outside: exactly grey, balance or not
    assert np.allclose(composite_ab(ab, None, 4, Grade(1.0, 0.0, 5.0)), ab + (0.0, 5.0))
    assert not composite_ab(ab, mask, 2, Grade(0.0, 3.0, 3.0)).any()  # saturation 0: grey
    assert np.array_equal(composite_ab(ab, mask, 2, Grade(1.3)), composite_ab(ab, mask, 2, 1.3))


def test_no_mask_means_the_whole_photo():
    _, ab, _ = _scene()
    assert np.allclose(composite_ab(ab, None, 4, 1.0), ab)


def test_nan_from_a_model_does_not_leak_outside_the_mask():
    _, ab, mask = _scene()
    ab[0, 0] = np.nan
    assert np.all(composite_ab(ab, mask, 3, 1.0)[~mask] == 0)


@pytest.mark.parametrize("feather", [0.0, 3.0, 12.5])
def test_any_rectangle_composes_exactly_as_the_whole_photo(feather):
    """The window draws tiles and brush boxes apart; each must match the whole composite."""
    from app.core.composite import compose_rgb8

    L, ab, _ = _scene(120, 160, seed=1)
    m = Mask(120, 160)
    m.stroke([(40, 40), (100, 70)], 15)
    m.stroke([(5, 5), (20, 110)], 9)
    whole = compose_rgb8(L, ab, m.data, feather, 1.3)
    for rect in [(0, 0, 160, 120), (30, 30, 64, 64), (90, 50, 91, 51), (0, 100, 37, 120), (55, 0, 160, 17)]:
        x0, y0, x1, y1 = rect
        assert np.array_equal(compose_rgb8(L, ab, m.data, feather, 1.3, rect), whole[y0:y1, x0:x1]), rect
    # outside the mask: the untouched photo's grey, to the level, as where no mask is near
    from app.core.composite import grey8

    g = grey8(L)
    assert np.array_equal(whole[~m.data], np.repeat(g[~m.data][:, None], 3, axis=1))


@pytest.mark.parametrize("feather", [0.0, 3.0, 12.5])
def test_an_edit_changes_nothing_outside_its_dirty_rectangle(feather):
    """What a mask edit can change reaches no further than ``dirty_rect`` says (the window
    redraws exactly that)."""
    from app.core.composite import compose_rgb8, dirty_rect

    L, ab, _ = _scene(120, 160, seed=2)
    m = Mask(120, 160)
    m.stroke([(40, 40), (100, 70)], 15)
    boxes = []
    m.on_change.append(boxes.append)
    before = compose_rgb8(L, ab, m.data, feather, 1.0)
    m.stroke([(60, 60), (140, 100)], 9)
    after = compose_rgb8(L, ab, m.data, feather, 1.0)
    x0, y0, x1, y1 = dirty_rect(tuple(int(v) for v in boxes[-1]), feather, (120, 160))
    outside = np.ones((120, 160), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(before[outside], after[outside])


@pytest.mark.parametrize("feather", [0.0, 4.0])
def test_a_soft_mask_colours_in_proportion_to_its_coverage_and_leaves_the_rest_exactly_grey(feather):
    from app.core.composite import compose_rgb8, grey8

    L, ab, _ = _scene(120, 160, seed=3)
    m = Mask(120, 160)
    m.stroke([(80, 60)], 30, hardness=0.2)
    cover = m.coverage
    w = feather_weights(cover, feather)
    hard = feather_weights(m.data, feather)
    np.testing.assert_allclose(w, hard * cover / 255.0, atol=1e-6)
    assert (w[cover == 0] == 0).all()
    out = composite_ab(ab, cover, feather, 1.0)
    assert (out[cover == 0] == 0).all()
    # chroma grows with coverage along the brush's radius
    chroma = np.hypot(out[..., 0], out[..., 1]) / np.maximum(np.hypot(ab[..., 0], ab[..., 1]), 1e-6)
    row = chroma[60, 80:111]
    assert row[0] == pytest.approx(1.0, abs=1e-5) and (np.diff(row) <= 1e-6).all() and row[-1] == 0
    whole = compose_rgb8(L, ab, cover, feather, 1.0)
    g = grey8(L)
    assert np.array_equal(whole[cover == 0], np.repeat(g[cover == 0][:, None], 3, axis=1))
    for rect in [(60, 40, 100, 80), (0, 0, 81, 61)]:  # tiles agree with the whole photo
        x0, y0, x1, y1 = rect
        assert np.array_equal(compose_rgb8(L, ab, cover, feather, 1.0, rect), whole[y0:y1, x0:x1])
