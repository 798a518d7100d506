"""The colour balance (Warmth, Tint): moves the network's colour at once, kept in projects."""
from __future__ import annotations

import numpy as np
import pytest

from tests.gui.helpers import SOLID_AB, display, open_photo, paint_stroke, wait_preview

pytestmark = pytest.mark.gui


def _mean_ab(rgb8: np.ndarray, where) -> np.ndarray:
    from models.colour import rgb_to_lab

    return rgb_to_lab(rgb8[where].astype(np.float32) / 255.0)[..., 1:].reshape(-1, 2).mean(0)


def test_warmth_and_tint_move_the_colour_inside_the_mask_and_survive_a_project(qtbot, window, photo, tmp_path):
    st = open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, [(60, 150), (200, 150)])
    wait_preview(qtbot, window)
    where = (slice(146, 154), slice(90, 170))
    before = _mean_ab(display(st), where)
    outside = display(st)[20:40, 20:300].copy()
    version = st.version
    window.panel.warmth.setValue(-20)  # cooler: less yellow
    window.panel.tint.setValue(-6)  # greener
    assert (st.settings.warmth, st.settings.tint) == (-20.0, -6.0)
    assert st.version == version  # a recomposite, not another run of the model
    assert window.panel.warmth_label.text() == "-20"
    qtbot.waitUntil(lambda: abs(_mean_ab(display(st), where)[1] - before[1] + 20) < 4, timeout=10_000)
    after = _mean_ab(display(st), where)
    assert after[0] < before[0] - 3  # and greener
    assert np.array_equal(display(st)[20:40, 20:300], outside)  # outside the mask: untouched grey
    assert before[1] == pytest.approx(SOLID_AB[1], abs=8)

    target = tmp_path / "balanced.huebrush"
    assert window.save_project(path=target, wait=True)
    window.close_current()
    with qtbot.waitSignal(window.photo_opened, timeout=20_000) as blocker:
        window.open_paths([str(target)])
    again = blocker.args[0]
    assert (again.settings.warmth, again.settings.tint) == (-20.0, -6.0)
    assert window.panel.warmth.value() == -20 and window.panel.tint.value() == -6


def test_setting_changes_are_undo_steps_a_slider_drag_one_step(qtbot, window, photo):
    st = open_photo(qtbot, window, photo)
    panel = window.panel
    for v in (-2, -5, -9, -12):  # one drag of the Warmth slider
        panel.warmth.setValue(v)
    panel.saturation.setValue(140)
    assert st.undo_stack.count() == 2
    assert window.actions["undo"].text() == "Undo Saturation 140%"
    window.actions["undo"].trigger()
    assert st.settings.saturation == 1.0 and panel.saturation.value() == 100  # the panel follows
    assert window.actions["undo"].text() == "Undo Warmth -12"
    window.actions["undo"].trigger()
    assert st.settings.warmth == 0.0 and panel.warmth.value() == 0 and panel.warmth_label.text() == "0"
    window.actions["redo"].trigger()
    assert st.settings.warmth == -12.0 and panel.warmth.value() == -12
    version = st.version
    panel.model.setCurrentIndex(panel.model.findData("hints"))
    assert st.settings.model == "hints" and st.version > version  # the model runs again
    window.actions["undo"].trigger()
    assert st.settings.model == "test-solid" and panel.model.currentData() == "test-solid"
