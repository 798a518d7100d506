"""The display pyramid stays equal to a fresh build after partial updates; errors are one line."""
from __future__ import annotations

import numpy as np
import pytest

from app.ui.pyramid import Pyramid

pytestmark = pytest.mark.gui


def test_partial_updates_match_a_rebuilt_pyramid():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 255, size=(1000, 1500, 3), dtype=np.uint8)
    pyr = Pyramid(base.copy())
    patch = rng.integers(0, 255, size=(300, 200, 3), dtype=np.uint8)
    pyr.update(641, 255, 841, 555, patch)  # deliberately not aligned to any level
    base[255:555, 641:841] = patch
    fresh = Pyramid(base)
    assert len(pyr.levels) == len(fresh.levels) > 2
    for k, (a, b) in enumerate(zip(pyr.levels, fresh.levels)):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b, err_msg=f"level {k}")


def test_level_for_zoom_never_shows_fewer_pixels_than_the_screen():
    pyr = Pyramid(np.zeros((4000, 6000), np.uint8))
    assert pyr.level_for_zoom(1.0) == 0 and pyr.level_for_zoom(2.0) == 0
    for zoom in (0.6, 0.25, 0.1, 0.03):
        k = pyr.level_for_zoom(zoom)
        assert 1 / (1 << k) >= zoom and (k == len(pyr.levels) - 1 or 1 / (1 << (k + 1)) < zoom)


def test_unexpected_errors_become_one_line():
    from app.ui.preview_worker import friendly_error
    from models.types import ModelError

    assert friendly_error(ModelError("No weights:\n  import them.")) == "No weights: import them."
    msg = friendly_error(RuntimeError("CUDA error\nline two " + "x" * 500))
    assert "\n" not in msg and len(msg) < 300 and "RuntimeError" in msg
    assert "work size" in friendly_error(MemoryError())


def test_a_proxy_pyramid_starts_coarser_and_takes_aligned_updates_like_the_full_one():
    rng = np.random.default_rng(4)
    base = rng.integers(0, 255, size=(1001, 1503, 3), dtype=np.uint8)  # odd sides: the borders repeat
    full = Pyramid(base.copy())
    proxy = Pyramid.proxy(full.levels[2].copy(), 2, base.shape[:2])
    assert proxy.is_proxy and proxy.shape == full.shape and proxy.levels[:2] == [None, None]
    assert len(proxy.levels) == len(full.levels)
    assert proxy.level_for_zoom(1.0) == 2 and proxy.level_for_zoom(0.1) == full.level_for_zoom(0.1)
    rect = proxy.align(641, 255, 1503, 555)
    assert rect == (640, 252, 1503, 556) and full.align(641, 255, 841, 555) == (641, 255, 841, 555)
    x0, y0, x1, y1 = rect
    patch = rng.integers(0, 255, size=(y1 - y0, x1 - x0, 3), dtype=np.uint8)
    proxy.update(x0, y0, x1, y1, patch)
    base[y0:y1, x0:x1] = patch
    fresh = Pyramid(base)
    for k in range(2, len(fresh.levels)):
        np.testing.assert_array_equal(proxy.levels[k], fresh.levels[k], err_msg=f"level {k}")
    with pytest.raises(ValueError, match="aligned"):
        proxy.update(641, 255, 841, 555, base[255:555, 641:841])
    with pytest.raises(ValueError, match="level 2"):
        Pyramid.proxy(np.zeros((10, 10, 3), np.uint8), 2, base.shape[:2])
