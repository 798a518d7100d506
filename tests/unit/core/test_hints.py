"""Colour hints: stored as ab, rasterised at any work size, read from JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.errors import HuebrushError
from app.core.hints import Hint, hints_from_json, hints_to_json, load_hints_file, parse_hint_arg, rasterize_hints
from models.colour import rgb_to_lab


def test_hint_stores_its_colour_as_ab_and_hex():
    h = Hint.at(10, 20, "#cc3322")
    lab = rgb_to_lab(np.array([[0xCC, 0x33, 0x22]], np.float32) / 255)[0]
    assert h.ab == pytest.approx((lab[1], lab[2]), abs=1e-4)
    assert h.hex == "#cc3322"
    assert h.ab[0] > 30  # red is strongly +a
    with pytest.raises(ValueError):
        Hint(((0, 0),), (1.5, 0, 0))


def test_rasterize_at_full_size_draws_a_disc_of_the_radius():
    h = Hint.at(30, 20, (0.1, 0.4, 0.9), radius=5)
    ab, m = rasterize_hints([h], (40, 60), (40, 60))
    assert ab.shape == (40, 60, 2) and m.shape == (40, 60)
    assert m[20, 30] == 1 and m[20, 25] == 1 and m[20, 24] == 0 and m[15, 30] == 1 and m[14, 30] == 0
    assert np.allclose(ab[m > 0], h.ab, atol=1e-4)
    assert not ab[m == 0].any()


def test_rasterize_scales_position_and_radius_to_the_work_size():
    h = Hint.at(600, 200, "#2255ee", radius=40)
    ab, m = rasterize_hints([h], (800, 1200), (200, 300))
    ys, xs = np.nonzero(m)
    assert abs(xs.mean() - 150) < 1 and abs(ys.mean() - 50) < 1
    assert 8 <= (xs.max() - xs.min()) / 2 <= 11  # radius 40 / 4


def test_a_tiny_hint_still_covers_one_pixel_at_a_small_work_size():
    ab, m = rasterize_hints([Hint.at(500, 500, "#ff0000", radius=1)], (1000, 1000), (64, 64))
    assert m.sum() >= 1 and m[32, 32] == 1


def test_stroke_hint_covers_the_line_and_later_hints_win():
    stroke = Hint(((10, 10), (50, 10)), (1, 0, 0), radius=2)
    dot = Hint.at(30, 10, "#0000ff", radius=2)
    ab, m = rasterize_hints([stroke, dot], (20, 60), (20, 60))
    assert m[10, 10:51].all()
    assert np.allclose(ab[10, 30], dot.ab, atol=1e-4)
    assert np.allclose(ab[10, 12], stroke.ab, atol=1e-4)


def test_hint_outside_the_photo_is_ignored():
    ab, m = rasterize_hints([Hint.at(-100, -100, "#00ff00", radius=3)], (50, 50), (50, 50))
    assert not m.any()


def test_json_round_trip_and_file(tmp_path):
    hints = [Hint(((1.5, 2.0), (8.0, 9.0)), (1.0, 0.5, 0.0), 7.0), Hint.at(3, 4, "#123456")]
    back = hints_from_json(json.dumps(hints_to_json(hints)))
    assert [h.points for h in back] == [h.points for h in hints]
    assert [h.hex for h in back] == ["#ff8000", "#123456"]
    assert [h.radius for h in back] == [7.0, 6.0]
    p = tmp_path / "hints.json"
    p.write_text(json.dumps([{"points": [[5, 6]], "color": "#abcdef"}]))
    (h,) = load_hints_file(p)
    assert h.points == ((5.0, 6.0),) and h.hex == "#abcdef" and h.radius == 6.0


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"points": []}', '[{"points": [[1, 2]], "color": "red"}]', '[{"color": "#ff0000"}]', '[{"points": [[1]], "color": "#ff0000"}]'],
)
def test_bad_hints_json_gives_one_clear_error(tmp_path, text):
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(HuebrushError, match="bad.json"):
        load_hints_file(p)


def test_command_line_hint():
    h = parse_hint_arg("120,80.5,#3366cc")
    assert h.points == ((120.0, 80.5),) and h.hex == "#3366cc"
    with pytest.raises(HuebrushError, match="X,Y,#RRGGBB"):
        parse_hint_arg("120,#3366cc")
