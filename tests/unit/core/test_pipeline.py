"""The photo -> request -> model -> full-size ab path."""
from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import HuebrushError
from app.core.hints import Hint
from app.core.pipeline import Settings, colorize_array, finish, make_request, work_shape
from models import registry
from models.colour import lab_to_rgb
from models.types import DEFAULT_HINT_REACH, ColorizeResult


class _HintsEngine:
    """Stands in for models.engine: runs the weight-free "hints" colorizer."""

    def __init__(self):
        self.model = registry.create("hints")
        self.requests = []

    def colorize(self, request, cancel=None):
        self.requests.append(request)
        ab = self.model.predict(request, cancel)
        return ColorizeResult(request.id, ab, "hints", "cpu", 0.0)


def test_settings_round_trip_and_clamping():
    s = Settings(model="hints", saturation=1.4, feather=2.5, work_size=384, device="cpu", hint_reach=0.7)
    assert Settings.from_dict(s.to_dict()) == s
    assert Settings(saturation=9).saturation == 2.0 and Settings(feather=-1).feather == 0.0
    assert Settings(hint_reach=3).hint_reach == 1.0 and Settings().hint_reach == DEFAULT_HINT_REACH
    assert Settings.from_dict({"saturation": 0.5, "from_the_future": 1}).saturation == 0.5
    with pytest.raises(HuebrushError, match="saturation"):
        Settings.from_dict({"saturation": "lots"})


def test_work_shape_keeps_aspect_and_never_upscales():
    assert work_shape((4000, 6000), 512) == (341, 512)
    assert work_shape((6000, 4000), 512) == (512, 341)
    assert work_shape((300, 200), 512) == (300, 200)


def test_make_request_shrinks_everything_to_the_work_size():
    L = np.tile(np.linspace(0, 100, 1200, dtype=np.float32), (800, 1))
    mask = np.zeros((800, 1200), bool)
    mask[100:300, 200:500] = True
    mask[700, 1100] = True  # one pixel: still gets a prediction at the work size
    req = make_request(L, mask, [Hint.at(300, 200, "#ff0000", 20)], Settings(model="hints", work_size=300))
    assert req.L.shape == (200, 300) and req.mask.shape == (200, 300)
    assert abs(req.L[0, 150] - 50) < 1
    assert set(np.unique(req.mask)) == {0.0, 1.0}
    assert req.mask[25:75, 50:125].all() and req.mask[175, 275] == 1 and req.mask.sum() < 50 * 75 + 10
    assert req.hint_mask[50, 75] == 1 and req.hint_ab[50, 75, 0] > 40
    assert req.model == "hints" and req.hint_reach == DEFAULT_HINT_REACH
    assert make_request(L, None, [], Settings(hint_reach=0.5)).hint_reach == 0.5
    assert make_request(L, None, [], Settings()).mask.all()


def test_colorize_array_with_hints_colours_inside_the_mask_only():
    H, W = 300, 400
    L = np.full((H, W), 60.0, np.float32)
    L[:, 200:] = 30.0
    mask = np.zeros((H, W), bool)
    mask[50:250, 50:350] = True
    engine = _HintsEngine()
    s = Settings(model="hints", work_size=128, feather=3)
    ab = colorize_array(L, mask, [Hint.at(100, 150, "#d03020", 10)], s, engine=engine)
    assert ab.shape == (H, W, 2)
    assert np.all(ab[~mask] == 0)
    rgb = lab_to_rgb(L, ab)
    assert np.array_equal(rgb[~mask][:, 0], rgb[~mask][:, 2])
    assert ab[150, 120, 0] > 30  # reddish where the hint was
    assert engine.requests[0].L.shape == (96, 128)


def test_finish_upsamples_and_composites():
    L = np.full((100, 100), 50.0, np.float32)
    ab_work = np.full((25, 25, 2), 20.0, np.float32)
    mask = np.zeros((100, 100), bool)
    mask[:, :50] = True
    out = finish(L, ab_work, mask, Settings(feather=0, saturation=0.5))
    assert np.allclose(out[:, :50], 10.0, atol=1e-3) and not out[:, 50:].any()
