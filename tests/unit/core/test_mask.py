"""Mask editing and its undo history, as the painting tools use them."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.core.errors import HuebrushError
from app.core.mask import Mask, changed_bbox, read_mask_png


def test_brush_dab_is_a_disc_of_the_radius():
    m = Mask(41, 41)
    m.stroke([(20, 20)], radius=10)
    yy, xx = np.mgrid[:41, :41]
    expected = (xx - 20) ** 2 + (yy - 20) ** 2 <= 100
    assert np.array_equal(m.data, expected)


def test_stroke_covers_the_capsule_between_points_and_nothing_far_away():
    m = Mask(50, 100)
    m.stroke([(10, 25), (90, 25)], radius=5)
    assert m.data[25, 10:91].all()  # the whole segment
    assert m.data[20:31, 50].all() and not m.data[19, 50] and not m.data[31, 50]
    assert m.data[25, 5] and not m.data[25, 4]  # round cap
    assert m.data.sum() == pytest.approx(80 * 11 + np.pi * 25, rel=0.05)


def test_eraser_removes_only_along_the_stroke():
    m = Mask(30, 30)
    m.fill()
    m.stroke([(0, 15), (29, 15)], radius=2, erase=True)
    assert not m.data[13:18].any()
    assert m.data[:12].all() and m.data[19:].all()


def test_polygon_fill_and_erase():
    m = Mask(20, 20)
    m.polygon([(2, 2), (17, 2), (17, 17), (2, 17)])
    assert m.data[2:18, 2:18].all() and m.data.sum() == 16 * 16
    m.polygon([(5, 5), (10, 5), (10, 10), (5, 10)], erase=True)
    assert not m.data[5:11, 5:11].any() and m.data.sum() == 256 - 36


def test_invert_clear_fill():
    m = Mask(10, 10)
    m.stroke([(5, 5)], 2)
    before = m.data.copy()
    m.invert()
    assert np.array_equal(m.data, ~before)
    m.clear()
    assert not m.data.any()
    m.fill()
    assert m.data.all()


def test_grow_and_shrink_by_pixels():
    m = Mask(41, 41)
    m.stroke([(20, 20)], radius=5)
    m.grow(3)
    assert m.data[20, 12] and not m.data[20, 11]  # radius 5 + 3
    m.shrink(6)
    # radius 8 - 6 = 2, within a pixel of discretisation, and still round
    assert m.data[20, 19] and m.data[19, 20] and not m.data[20, 16] and not m.data[16, 20]
    assert np.array_equal(m.data, m.data.T)


def test_shrink_keeps_the_photo_border_when_everything_is_masked():
    m = Mask(20, 20)
    m.fill()
    m.shrink(3)
    assert m.data.all()


def test_combine_add_subtract_replace():
    m = Mask(10, 10)
    left = np.zeros((10, 10), bool)
    left[:, :5] = True
    top = np.zeros((10, 10), bool)
    top[:5] = True
    m.combine(left, "add")
    m.combine(top, "add")
    assert m.data.sum() == 75
    m.combine(top, "subtract")
    assert m.data.sum() == 25 and m.data[5:, :5].all()
    m.combine(top, "replace")
    assert np.array_equal(m.data, top)
    with pytest.raises(ValueError):
        m.combine(top, "xor")
    with pytest.raises(ValueError):
        m.combine(np.zeros((5, 5), bool), "add")


def test_undo_redo_restore_exact_states():
    m = Mask(30, 40)
    states = [m.data.copy()]
    m.stroke([(5, 5), (30, 20)], 4)
    states.append(m.data.copy())
    m.invert()
    states.append(m.data.copy())
    m.grow(2)
    states.append(m.data.copy())
    assert m.undo() == "Grow"
    assert np.array_equal(m.data, states[2])
    assert m.undo() == "Invert"
    assert m.undo() == "Brush"
    assert np.array_equal(m.data, states[0])
    assert m.undo() is None and not m.can_undo
    assert m.redo() == "Brush" and m.redo() == "Invert" and m.redo() == "Grow"
    assert np.array_equal(m.data, states[3])
    assert m.redo() is None


def test_one_undo_step_per_begin_end_group():
    m = Mask(50, 50)
    m.begin_edit("Brush")
    for x in range(5, 45, 3):
        m.stroke([(x, 10), (x + 3, 12)], 3)
    m.end_edit()
    assert m.data.any()
    assert m.undo_label == "Brush"
    assert m.undo() == "Brush"
    assert not m.data.any()
    assert not m.can_undo
    m.redo()
    assert m.data[10:13, 10:40].all()


def test_group_with_erase_inside_restores_pre_drag_state():
    m = Mask(30, 30)
    m.polygon([(0, 0), (29, 0), (29, 10), (0, 10)])
    before = m.data.copy()
    with m.edit("Eraser"):
        m.stroke([(5, 5)], 3, erase=True)
        m.stroke([(5, 20)], 3)
        m.stroke([(5, 20)], 2, erase=True)
    m.undo()
    assert np.array_equal(m.data, before)


def test_new_edit_clears_redo_and_noop_edit_does_not():
    m = Mask(20, 20)
    m.stroke([(5, 5)], 2)
    m.undo()
    assert m.can_redo
    m.clear()  # already empty: nothing changes, so redo survives
    assert m.can_redo
    m.stroke([(10, 10)], 2)
    assert not m.can_redo and m.redo() is None


def test_history_limit_drops_oldest_steps():
    m = Mask(20, 20, history_limit=3)
    for x in range(6):
        m.stroke([(2 + 3 * x, 5)], 1)
    n = 0
    while m.undo():
        n += 1
    assert n == 3
    assert m.data[5, 2] and m.data[5, 5] and m.data[5, 8]  # the first three stay painted
    assert not m.data[5, 11]


def test_stroke_step_on_a_24mp_mask_costs_little_memory():
    m = Mask(4000, 6000)
    with m.edit("Brush"):
        m.stroke([(1000, 1000), (1400, 1200)], 30)
    m.invert()  # full-size steps are packed: 2 x 3 MB, not 2 x 24 MB
    assert m.history_bytes < 7_000_000
    m.undo()
    assert m.history_bytes < 7_000_000
    m.clear_history()
    m.stroke([(3000, 2000), (3100, 2050)], 20)
    assert 0 < m.history_bytes < 1_000_000


def test_on_change_reports_the_changed_box():
    m = Mask(100, 100)
    boxes = []
    m.on_change.append(boxes.append)
    m.stroke([(50, 40)], 5)
    x0, y0, x1, y1 = boxes[-1]
    assert (x0, y0, x1, y1) == (45, 35, 56, 46)
    m.undo()
    assert boxes[-1] == (45, 35, 56, 46)
    assert changed_bbox(m.data, m.data) is None


def test_png_round_trip_and_nonzero_is_inside(tmp_path):
    m = Mask(30, 40)
    m.stroke([(10, 10), (30, 20)], 4)
    p = m.save_png(tmp_path / "mask.png")
    back = Mask.load_png(p, (30, 40))
    assert np.array_equal(back.data, m.data)
    grey = np.zeros((30, 40), np.uint8)
    grey[3, 4] = 1  # a barely visible value still counts
    Image.fromarray(grey).save(tmp_path / "faint.png")
    assert Mask.load_png(tmp_path / "faint.png", (30, 40)).data.sum() == 1
    rgba = np.zeros((30, 40, 4), np.uint8)
    rgba[5:8, 5:8, 3] = 255  # alpha-only mask
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    assert Mask.load_png(tmp_path / "alpha.png", (30, 40)).data.sum() == 9


def test_png_of_wrong_size_or_garbage_gives_one_clear_error(tmp_path):
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(HuebrushError, match="small.png.*10x10"):
        Mask.load_png(tmp_path / "small.png", (30, 40))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(HuebrushError, match="junk.png"):
        Mask.load_png(tmp_path / "junk.png", (30, 40))


# ----- soft brush (hardness) -------------------------------------------------------------------
def test_soft_dab_is_full_to_hardness_times_radius_then_falls_smoothly_to_zero_at_the_edge():
    m = Mask(100, 100)
    m.stroke([(50, 50)], 20, hardness=0.5)
    assert m.soft
    c = m.coverage
    assert c.dtype == np.uint8 and np.array_equal(m.data, c > 0)
    row = c[50, 50:75].astype(int)  # from the centre outwards
    assert (row[:11] == 255).all()  # within 0.5 x 20 px: full
    assert (np.diff(row[10:]) <= 0).all() and 0 < row[15] < 255  # then falling
    assert row[20] == 0 and c[50, 50 + 21 :].max() == 0  # nothing at or past the radius
    assert c[50, 40] == c[50, 60] == c[40, 50]  # round


def test_hard_strokes_keep_a_bool_mask_and_soft_ones_pile_up_by_maximum_not_sum():
    m = Mask(60, 60)
    m.stroke([(10, 10), (50, 10)], 5)
    assert not m.soft and m.coverage is m.data  # nothing extra held for a hard mask
    m.stroke([(30, 40)], 10, hardness=0.0)
    once = m.coverage.copy()
    m.stroke([(30, 40)], 10, hardness=0.0)  # the same dab again changes nothing
    assert np.array_equal(m.coverage, once)
    assert m.coverage[10, 30] == 255  # the earlier hard stroke is full coverage


def test_soft_eraser_removes_as_much_as_the_brush_covers():
    m = Mask(60, 60)
    m.fill()
    m.stroke([(30, 30)], 12, erase=True, hardness=0.0)
    c = m.coverage
    assert c[30, 30] == 0 and c[30, 41] > 200 and 0 < c[30, 36] < 255 and c[5, 5] == 255
    assert np.array_equal(m.data, c > 0)


def test_soft_steps_undo_and_redo_exactly_including_a_drag_that_turned_the_mask_soft():
    m = Mask(80, 80)
    m.stroke([(20, 20)], 6)  # hard era
    s0 = m.coverage.astype(np.uint8) * 255
    m.begin_edit("Paint mask")
    m.stroke([(40, 40)], 6)  # hard piece, then the first soft one in the same drag
    m.stroke([(40, 40), (60, 50)], 9, hardness=0.3)
    m.end_edit()
    s1 = m.coverage.copy()
    m.stroke([(50, 50)], 8, erase=True, hardness=0.6)
    s2 = m.coverage.copy()
    m.polygon([(0, 60), (30, 60), (30, 79), (0, 79)])
    s3 = m.coverage.copy()
    for want in (s2, s1, s0):
        m.undo()
        assert np.array_equal(m.coverage, want) and np.array_equal(m.data, m.coverage > 0)
    m.undo()  # the first hard dab
    assert m.coverage.max() == 0
    for want in (s0, s1, s2, s3):
        m.redo()
        assert np.array_equal(m.coverage, want)


def test_whole_mask_operations_on_a_soft_mask_keep_support_and_coverage_in_step():
    m = Mask(80, 80)
    m.stroke([(40, 40)], 15, hardness=0.2)
    soft = m.coverage.copy()
    m.grow(3)
    assert (m.coverage >= soft).all() and m.data.sum() > (soft > 0).sum()
    m.undo()
    m.shrink(3)
    assert (m.coverage <= soft).all()
    m.undo()
    m.invert()
    assert np.array_equal(m.coverage, 255 - soft)
    m.undo()
    m.smooth(2)
    assert np.array_equal(m.data, m.coverage > 0)
    m.combine(np.ones((80, 80), bool), "subtract")
    assert not m.data.any()
    m.set_data(soft)
    assert np.array_equal(m.coverage, soft)


def test_soft_mask_png_round_trip(tmp_path):
    m = Mask(40, 50)
    m.stroke([(10, 10), (40, 30)], 8, hardness=0.4)
    path = m.save_png(tmp_path / "soft.png")
    back = read_mask_png(path, (40, 50), soft=True)
    assert back.dtype == np.uint8 and np.array_equal(back, m.coverage)
    assert np.array_equal(read_mask_png(path, (40, 50)), m.data)  # read as a plain mask: any coverage is inside
    assert np.array_equal(Mask.from_array(back).coverage, m.coverage)
