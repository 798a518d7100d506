"""The hint panel suggests the colours likely at a hint and warns when a colour cannot exist there."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from tests.gui.helpers import image_to_widget, open_photo, wait_preview, write_photo
from tests.v2weights import install_v2_weights

pytestmark = pytest.mark.gui


def test_a_placed_hint_gets_suggested_swatches_and_a_gamut_note(qtbot, window, tmp_path):
    from models.engine import get_engine

    get_engine().clear()
    install_v2_weights()
    grey = np.full((120, 160), 60, np.uint8)
    grey[:, 80:] = 250  # the right half is nearly white
    Image.fromarray(grey).save(tmp_path / "wall.png")
    state = open_photo(qtbot, window, tmp_path / "wall.png")
    panel = window.panel
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_H)
    window.set_hint_colour((0.5, 0.0, 0.0))  # a dark red: exists at the dark half's L 25
    with qtbot.waitSignal(window.hint_assist.suggestions_ready, timeout=30_000):
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 40, 60))
    assert len(panel.suggest_buttons) == 6 and panel.suggest_label.isVisibleTo(panel)
    assert not panel.gamut_note.isVisibleTo(panel)
    (hint,) = state.hints
    chosen = panel.suggest_buttons[0].toolTip().split(":")[0]
    panel.suggest_buttons[0].click()
    from PySide6.QtGui import QColor

    assert QColor.fromRgbF(*window.hint_rgb).name() == chosen
    assert QColor.fromRgbF(*state.hints[0].rgb).name() == chosen  # the selected hint took it
    window.set_hint_colour((1.0, 0.0, 0.0))  # pure red cannot be nearly white
    with qtbot.waitSignal(window.hint_assist.suggestions_ready, timeout=30_000):
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 120, 60))
    note = panel.gamut_note.text()
    assert panel.gamut_note.isVisibleTo(panel) and "cannot" in note and "#" in note
    window.hint_assist.wait()
    get_engine().clear()


def test_the_ab_plane_shows_only_colours_possible_at_the_hints_lightness(qtbot, window, tmp_path):
    from app.core.suggest import hint_outcome
    from app.ui.panels.ab_plane import ab_plane_rgb8
    from models.abbins import in_gamut
    from models.colour import rgb_to_lab

    rgb, ok = ab_plane_rgb8(92.0, 64)
    assert ok[32, 32] and not ok.all()  # grey exists; deep colours do not at L 92
    labs = rgb_to_lab(rgb[ok].astype(np.float32) / 255.0)
    assert np.abs(labs[:, 0] - 92.0).max() < 1.5  # every shown colour is at that lightness
    assert in_gamut(np.array([92.0, 0.0, 0.0]))

    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))  # the panel works with a photo open
    panel = window.panel
    panel.show_hint_outcome(hint_outcome(92.0, (1.0, 0.0, 0.0)))
    plane = panel.ab_plane
    assert plane.isVisibleTo(panel) and plane.L == 92.0
    picked = []
    panel.suggestion_chosen.connect(picked.append)
    qtbot.mouseClick(plane, Qt.MouseButton.LeftButton, pos=plane.rect().center())  # grey: possible
    qtbot.mouseClick(plane, Qt.MouseButton.LeftButton, pos=QPoint(1, 1))  # a=-110, b=110: impossible
    assert len(picked) == 1 and abs(picked[0][0] - picked[0][2]) < 0.05


def test_a_reference_photo_beside_the_grey_one_gives_colours_by_click(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QFileDialog

    from tests.gui.helpers import write_photo

    state = open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    ref = np.zeros((60, 80, 3), np.uint8)
    ref[:, :40] = (200, 40, 30)  # a red door on the left
    ref[:, 40:] = (40, 90, 200)  # a blue wall on the right
    Image.fromarray(ref).save(tmp_path / "colour.png")
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: asked.append(a[2]) or (str(tmp_path / "colour.png"), "")))
    assert not window.reference_use.isEnabled()
    window.actions["open_reference"].trigger()
    assert asked == [str(tmp_path)]  # the dialog starts beside the photo
    view = window.reference_view
    assert window.reference_dock.isVisible() and view.rgb is not None and state.reference_path
    assert window.reference_use.isEnabled()  # "Colour the photo from it": the reference model, one click
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_H)
    f = view._frame()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPointF(f.x() + f.width() * 0.8, f.y() + f.height() / 2).toPoint())
    assert QColor.fromRgbF(*window.hint_rgb).name() == "#285ac8"  # the wall's blue, into the hint colour
    window.reference_use.click()
    assert state.settings.model == "reference" and window.panel.model.currentData() == "reference"
    assert not window.reference_use.isEnabled()
    window.panel.model.setCurrentIndex(window.panel.model.findData("test-solid"))
    assert window.reference_use.isEnabled()
    window.panel.reference_clear.click()
    assert view.rgb is None and state.reference_path is None
    assert not window.reference_use.isEnabled()


def test_the_reference_button_stays_usable_whatever_the_model(qtbot, window, tmp_path):
    from tests.gui.helpers import write_photo

    open_photo(qtbot, window, write_photo(tmp_path / "a.png"))
    panel = window.panel
    for name in ("hints", "maskgan", "test-solid"):
        i = panel.model.findData(name)
        if i >= 0:
            panel.model.setCurrentIndex(i)
            assert panel.reference.isEnabled()
    panel.model.setCurrentIndex(panel.model.findData("maskgan-v2"))
    assert panel.hint_reach.isEnabled()


def test_the_window_still_fits_a_laptop_screen_with_the_palette_shown(qtbot, window, tmp_path):
    """The hint panel grows by the swatches, the gamut note and the ab plane; the settings column
    scrolls instead of pushing the window past a 1366 x 768 screen (its status bar off the bottom)."""
    from app.core.suggest import Suggestion

    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    panel = window.panel
    before = window.minimumSizeHint().height()
    panel.show_suggestions([Suggestion(f"#{40 * i:02x}6040", 0.1) for i in range(6)])
    panel.ab_plane.show()
    panel.gamut_note.setText("That colour cannot exist at this lightness; it will show as #aa7766.")
    panel.gamut_note.show()
    hint = window.minimumSizeHint()
    assert hint.height() <= before and hint.height() <= 700 and hint.width() <= 1300, (before, hint)
    window.resize(1300, 700)
    qtbot.waitUntil(lambda: window.height() <= 700)
    assert panel.ab_plane.isVisibleTo(window)


def test_the_first_window_fits_the_screen(qtbot, window):
    """With no saved geometry the window opens at 1400 x 900 or nine tenths of a smaller screen."""
    avail = window.screen().availableGeometry()
    window._restore_geometry()
    assert window.width() == min(1400, int(avail.width() * 0.9)) or window.width() == window.minimumSizeHint().width()
    assert window.width() <= max(avail.width(), window.minimumSizeHint().width())
    assert window.height() <= max(int(avail.height() * 0.9), window.minimumSizeHint().height()), (avail, window.size())


def test_choosing_the_hint_tool_reads_the_photo_so_the_first_hint_does_not_wait_for_the_network(qtbot, window, tmp_path):
    from app.core.suggest import suggesting_model
    from models.engine import get_engine

    get_engine().clear()
    install_v2_weights()
    state = open_photo(qtbot, window, write_photo(tmp_path / "street.png"))  # previews with a test model
    wait_preview(qtbot, window)  # the opening preview (the default model) is done
    model = suggesting_model(lambda name: get_engine().colorizer(name, "cpu"))
    runs = []
    hook = model.net.register_forward_hook(lambda *a: runs.append(1))
    try:
        window.canvas.setFocus()
        qtbot.keyClick(window.canvas, Qt.Key.Key_H)  # the hint tool: the distribution is read now
        window.hint_assist.wait()
        warmed = len(runs)
        assert warmed == 1
        with qtbot.waitSignal(window.hint_assist.suggestions_ready, timeout=30_000):
            qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=image_to_widget(window, 100, 80))
        window.hint_assist.wait()
        assert len(runs) == warmed and len(state.hints) == 1  # the hint's swatches came from what was read
    finally:
        hook.remove()
        get_engine().clear()
