"""Hint values are checked where they enter: a hints file, the CLI, a project (the hardening issue)."""
from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import HuebrushError
from app.core.hints import hints_from_json, parse_hint_arg


@pytest.mark.parametrize("text", [
    '[{"points": [[10, 10]], "color": "#ff0000", "radius": 1e30}]',
    '[{"points": [[10, 10]], "color": "#ff0000", "radius": 1e400}]',
    '[{"points": [[10, 10]], "color": "#ff0000", "radius": -3}]',
    '[{"points": [[10, 10]], "color": "#ff0000", "radius": NaN}]',
    '[{"points": [[NaN, NaN]], "color": "#ff0000"}]',
    '[{"points": [[Infinity, 4]], "color": "#ff0000"}]',
    '[{"points": [[1e300, 4]], "color": "#ff0000"}]',
    '[{"points": [[1, 4]], "color": "#ff0000", "radius": "big"}]',
])
def test_bad_hint_values_are_one_sentence_naming_the_file(text):
    with pytest.raises(HuebrushError) as e:
        hints_from_json(text, source="hints.json")
    msg = str(e.value)
    assert "hints.json" in msg and "Hint 1" in msg and "\n" not in msg


@pytest.mark.parametrize("arg", ["nan,nan,#ff0000", "inf,3,#ff0000", "1e400,3,#00ff00"])
def test_bad_cli_hints_are_refused(arg):
    with pytest.raises(HuebrushError):
        parse_hint_arg(arg)


def test_good_hints_still_load():
    (h,) = hints_from_json('[{"points": [[10.5, 3]], "color": "#00ff00", "radius": 12}]')
    assert h.points == ((10.5, 3.0),) and h.radius == 12.0


def test_hint_outcome_says_when_a_colour_cannot_exist_at_a_lightness():
    from app.core.suggest import hint_outcome
    from models.colour import hex_to_rgb, rgb_to_lab

    red = hex_to_rgb("#ff0000")
    assert hint_outcome(53.2, red).possible  # red's own lightness
    light = hint_outcome(92.0, red)
    assert not light.possible
    shown = rgb_to_lab(np.array([hex_to_rgb(light.shown_hex)], np.float32))[0]
    assert abs(shown[0] - 92.0) < 1.0 and shown[1] > 5  # kept light, still reddish: pink
