"""Projects, export, bad files, closing with unsaved changes, autosave and recovery."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.ui.dialogs.export_dialog import ExportOptions
from tests.gui.helpers import chroma, open_photo, paint_stroke, wait_preview

pytestmark = pytest.mark.gui

STROKE = [(60, 150), (200, 150)]


def test_save_and_reopen_project(qtbot, window, photo, tmp_path):
    st = open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    window.panel.saturation.setValue(130)
    version = st.version
    window.panel.hint_reach.setValue(60)
    assert st.settings.hint_reach == pytest.approx(0.6) and st.version > version  # the model runs again
    mask = st.mask.data.copy()
    target = tmp_path / "street.huebrush"
    assert window.save_project(path=target, wait=True)
    assert target.exists() and not st.is_dirty and st.project_path == target

    window.close_current()
    assert window.state is None
    with qtbot.waitSignal(window.photo_opened, timeout=20_000) as blocker:
        window.open_paths([str(target)])
    again = blocker.args[0]
    np.testing.assert_array_equal(again.mask.data, mask)
    assert again.settings.saturation == pytest.approx(1.3)
    assert again.settings.hint_reach == pytest.approx(0.6) and window.panel.hint_reach.value() == 60
    assert again.settings.model == "test-solid"
    assert not again.is_dirty


def test_export_writes_the_full_size_result(qtbot, window, photo, tmp_path):
    st = open_photo(qtbot, window, photo)
    window.panel.feather.setValue(0)
    paint_stroke(qtbot, window, STROKE)
    wait_preview(qtbot, window)
    out = tmp_path / "out" / "street_colour.png"
    out.parent.mkdir()
    task = window.export_to(ExportOptions(out, 8, 95))
    with qtbot.waitSignal(task.done, timeout=30_000):
        pass
    rgb = np.asarray(Image.open(out).convert("RGB"))
    assert rgb.shape[:2] == st.shape
    c = chroma(rgb)
    assert c[st.mask.data].mean() > 40 and c[~st.mask.data].max() == 0
    assert "Exported" in window.status.message.text()


def test_export_failure_is_one_sentence(qtbot, window, photo, tmp_path):
    open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    window.export_to(ExportOptions(tmp_path / "missing-folder" / "x.png", 8, 95))
    # The failure can come before anyone waits for the signal: wait for what the user sees.
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=30_000)
    message = window.banner.label.text()
    assert "x.png" in message or "missing-folder" in message
    assert "\n" not in message
    assert not (tmp_path / "missing-folder").exists()


def test_corrupt_file_shows_one_line_error(qtbot, window, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    window.open_paths([str(bad)])
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    text = window.banner.label.text()
    assert "broken.jpg" in text and "\n" not in text
    assert window.state is None and window.strip.count() == 0


def test_closing_with_unsaved_changes_asks(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    asked = []

    def answer(dirty):
        asked.append([s.title for s in dirty])
        return "cancel"

    window.ask_save_changes = answer
    assert not window.close()  # cancelled: the window stays open with the photo
    assert asked == [["street"]] and window.isVisible() and window.state is not None
    window.ask_save_changes = lambda dirty: "discard"


def test_autosave_and_recovery_after_a_crash(qtbot, window, photo):
    from app.ui.main_window import MainWindow

    st = open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    assert window.autosave_now(wait=True) == 1
    assert window.autosave_now(wait=True) == 0  # nothing new since
    assert len(window.pending_autosaves()) == 1
    mask = st.mask.data.copy()

    # a second window started after a "crash" (the first never closed cleanly) offers them
    other = MainWindow()
    qtbot.addWidget(other)
    other.ask_save_changes = lambda dirty: "discard"
    other.ask_recover = lambda files: True
    with qtbot.waitSignal(other.photo_opened, timeout=20_000) as blocker:
        other.offer_recovery()
    rec = blocker.args[0]
    np.testing.assert_array_equal(rec.mask.data, mask)
    assert rec.is_dirty  # recovered work must be saved by the user
    qtbot.waitUntil(lambda: not other.pending_autosaves(), timeout=5_000)
    other.close()


def test_a_photo_named_on_the_command_line_and_recovered_opens_once(qtbot, window, photo, tmp_path):
    """Start-up offers the autosaves, then opens the command line's photos: the photo being
    recovered is not opened a second time beside its recovered copy; the others open."""
    from app.ui.main_window import MainWindow
    from tests.gui.helpers import write_photo

    open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    assert window.autosave_now(wait=True) == 1
    other_photo = write_photo(tmp_path / "other.png", seed=3)

    after = MainWindow()
    qtbot.addWidget(after)
    after.ask_save_changes = lambda dirty: "discard"
    after.ask_recover = lambda files: True
    after.offer_recovery()
    after.open_paths([str(photo), str(other_photo)])  # as create_window does, right after
    qtbot.waitUntil(lambda: len(after.states) >= 2, timeout=20_000)
    qtbot.wait(1000)  # time for a second copy to arrive, were one opened
    names = sorted(st.document.path.name for st in after.states)
    assert names == sorted([photo.name, "other.png"])
    recovered = next(st for st in after.states if st.document.path.name == photo.name)
    assert recovered.mask.data.any() and recovered.is_dirty  # the recovered copy, not a fresh one
    after.close()


def test_ctrl_s_saves_in_the_background_then_marks_clean(qtbot, window, photo, tmp_path):
    st = open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    st.project_path = tmp_path / "bg.huebrush"  # as if saved before: Ctrl+S asks nothing
    assert window.save_project()
    qtbot.waitUntil(lambda: not st.is_dirty, timeout=20_000)
    assert (tmp_path / "bg.huebrush").exists() and "Saved bg.huebrush" in window.status.message.text()


def test_background_autosave_writes_a_recoverable_file(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    paint_stroke(qtbot, window, STROKE)
    assert window.autosave_now() == 1
    qtbot.waitUntil(lambda: len(window.pending_autosaves()) == 1 and not window._tasks, timeout=20_000)


def test_the_recovery_prompt_names_the_photos_and_recovers_only_the_ticked_ones(qtbot, window, tmp_path):
    from app.ui.dialogs.recovery_dialog import RecoveryDialog
    from app.ui.main_window import MainWindow
    from tests.gui.helpers import write_photo

    a = open_photo(qtbot, window, write_photo(tmp_path / "farm.png"))
    paint_stroke(qtbot, window, STROKE)
    open_photo(qtbot, window, write_photo(tmp_path / "harbour.png", seed=1))
    paint_stroke(qtbot, window, STROKE)
    assert window.autosave_now(wait=True) == 2
    files = window.pending_autosaves()
    dlg = RecoveryDialog(files)
    qtbot.addWidget(dlg)
    names = dlg.names()
    assert sorted(n.split(" ")[0] for n in names) == ["farm.png", "harbour.png"] and all("edited" in n for n in names)
    farm = next(i for i, n in enumerate(names) if n.startswith("farm.png"))
    dlg.set_ticked(1 - farm, False)
    picked = dlg.chosen()
    assert len(picked) == 1

    other = MainWindow()
    qtbot.addWidget(other)
    other.ask_save_changes = lambda dirty: "discard"
    other.ask_recover = lambda fs: picked
    with qtbot.waitSignal(other.photo_opened, timeout=20_000) as blocker:
        other.offer_recovery()
    assert blocker.args[0].document.path.name == "farm.png" and len(other.states) == 1
    np.testing.assert_array_equal(blocker.args[0].mask.data, a.mask.data)
    qtbot.waitUntil(lambda: not other.pending_autosaves(), timeout=5_000)  # the other one was discarded
    other.close()


def test_a_project_with_colour_regions_opens_as_regions_and_keeps_them_through_edits(qtbot, window, tmp_path):
    from app.core.project import Project, load_project, save_project
    from app.core.regions import Region
    from tests.gui.helpers import write_photo

    photo = write_photo(tmp_path / "farm.png")
    door = np.zeros((240, 320), bool)
    door[50:150, 40:120] = True
    sky = np.zeros((240, 320), bool)
    sky[:40] = True
    p = save_project(tmp_path / "farm.huebrush", Project(source_path=photo, size=(240, 320), regions=[
        Region("sky", sky), Region("door", door, "tint", "#c03020", saturation=0.8)]))
    with qtbot.waitSignal(window.photo_opened, timeout=20_000) as blocker:
        window.open_paths([str(p)])
    st = blocker.args[0]
    assert [r.name for r in st.regions] == ["sky", "door"] and st.active == 1  # the uppermost is selected
    assert st.mask.data.sum() == door.sum()
    panel = window.regions_panel
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == ["door", "sky"]  # uppermost first
    assert panel.source.currentData() == "tint" and panel.saturation.value() == 80
    assert window.save_project(wait=True)
    assert [(r.name, r.colour) for r in load_project(p).regions] == [("sky", None), ("door", "#c03020")]
    paint_stroke(qtbot, window, STROKE)  # edits the selected region only
    assert st.regions[0].mask.data.sum() == sky.sum() and st.mask.data.sum() > door.sum()
    assert window.save_project(wait=True)
    saved = load_project(p).regions
    assert [r.name for r in saved] == ["sky", "door"]
    assert saved[1].mask.sum() == st.mask.data.sum() and saved[0].mask.sum() == sky.sum()


def test_several_photos_open_in_the_order_given_with_the_first_shown(qtbot, window, tmp_path, monkeypatch):
    """They decode side by side; the one that decodes last (here the first, held back) still
    comes first in the list and is the one shown; a damaged one in between is skipped."""
    import threading

    import app.core.document as document
    from tests.gui.helpers import write_photo

    paths = [write_photo(tmp_path / f"{n}.png", seed=i) for i, n in enumerate("abc")]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a photo")
    release = threading.Event()
    real = document.load_image

    def load(path, *a, **k):
        if path.name == "a.png":
            release.wait(20)
        return real(path, *a, **k)

    monkeypatch.setattr(document, "load_image", load)
    window.open_paths([str(paths[0]), str(bad), str(paths[1]), str(paths[2])])
    qtbot.wait(300)
    assert window.states == []  # b and c are decoded, but wait for a
    release.set()
    qtbot.waitUntil(lambda: len(window.states) == 3, timeout=20_000)
    assert [st.document.path.name for st in window.states] == ["a.png", "b.png", "c.png"]
    assert window.state is window.states[0]
    assert window.strip.currentRow() == 0
    assert "bad.png" in window.banner.label.text()


def test_export_can_write_the_colour_as_a_layer_for_photoshop(qtbot, window, tmp_path):
    """The export dialog's "Also the colour as a layer": a TIFF beside the export with the colour
    alone, alpha 0 where the photo stays grey, at the photo's size and bit depth."""
    import tifffile

    from app.ui.dialogs.export_dialog import ExportDialog

    src = tmp_path / "scan.tif"
    y, x = np.mgrid[0:240, 0:320]
    tifffile.imwrite(src, (12000 + 150 * x + 50 * y).astype(np.uint16))
    st = open_photo(qtbot, window, src)
    window.panel.feather.setValue(0)
    paint_stroke(qtbot, window, STROKE)
    wait_preview(qtbot, window)
    dlg = ExportDialog(window.suggested_export_path(st), 16, window, source=src)
    qtbot.addWidget(dlg)
    assert dlg.options().colour_layer is None and not dlg.layer_name.isVisibleTo(dlg)
    dlg.colour_layer.setChecked(True)
    assert dlg.layer_name.text() == "scan_colour_layer.tif"
    dlg.format.setCurrentText("PNG")  # the layer stays a TIFF whatever the export's format
    opts = dlg.options()
    assert opts.path == tmp_path / "scan_colour.png" and opts.colour_layer == tmp_path / "scan_colour_layer.tif"
    opts.colour_layer.write_bytes(b"an earlier layer")
    asked = []
    dlg.confirm_replace = lambda p: asked.append(p) or False
    dlg.show()
    dlg.accept()
    assert asked == [opts.colour_layer] and dlg.isVisible()  # "no": still open, nothing replaced
    dlg.confirm_replace = lambda p: True
    dlg.accept()
    assert not dlg.isVisible()

    task = window.export_to(dlg.options())
    with qtbot.waitSignal(task.done, timeout=30_000):
        pass
    layer = tifffile.imread(opts.colour_layer)
    colour = tifffile.imread(opts.path) if opts.path.suffix == ".tif" else np.asarray(Image.open(opts.path))
    assert layer.shape == (*st.shape, 4) and layer.dtype == np.uint16  # 16-bit as the scan
    inside = st.mask.data
    assert inside.any() and not inside.all()
    assert (layer[..., 3][inside] == 65535).all() and (layer[..., 3][~inside] == 0).all()
    assert chroma(layer[..., :3][inside].reshape(-1, 1, 3) // 257).mean() > 40
    assert colour.shape[:2] == st.shape
    assert "colour layer scan_colour_layer.tif" in window.status.message.text()
