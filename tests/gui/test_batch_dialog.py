"""File > Batch export: pick a folder, see the counts, run, follow progress, cancel, read the summary."""
from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.ui.dialogs import batch_dialog
from app.ui.dialogs.batch_dialog import BatchDialog
from tests.gui.helpers import write_photo

pytestmark = pytest.mark.gui


class _SlowColorizer:
    """Like the solid test model, but slow enough that Cancel lands mid-batch."""

    name = "test-slow"

    def predict(self, request, cancel=None):
        time.sleep(0.25)
        h, w = request.L.shape
        return np.full((h, w, 2), (38.0, 42.0), np.float32)


@pytest.fixture(autouse=True)
def _slow_model():
    from models.registry import ModelInfo, register

    register(ModelInfo("test-slow", "Slow (test)", "Sleeps, then paints one colour.", False), lambda d: _SlowColorizer())


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "series"
    d.mkdir()
    for i in range(4):
        write_photo(d / f"frame{i}.png", size=(60, 80), seed=i)
    return d


def _dialog(qtbot, **kw) -> BatchDialog:
    from app.core.pipeline import Settings

    kw.setdefault("default_settings", Settings(model="test-solid", work_size=64, feather=0.0, device="cpu"))
    dlg = BatchDialog(models=["test-solid", "test-slow"], **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _pick_folder(qtbot, dlg, folder, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    qtbot.mouseClick(dlg.add_folder_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "to colourize" in dlg.counts.text(), timeout=5000)


def _choose_model(dlg, name):
    dlg.model.setCurrentIndex(dlg.model.findData(name))


def test_pick_folder_run_progress_and_summary(qtbot, folder, tmp_path, monkeypatch):
    (folder / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00 torn off")
    dlg = _dialog(qtbot)
    _pick_folder(qtbot, dlg, folder, monkeypatch)
    assert dlg.output_dir.text() == str(folder / "colour")
    assert dlg.counts.text() == "5 to colourize, 0 to skip."
    _choose_model(dlg, "test-solid")

    seen = []
    dlg.progressed.connect(seen.append)
    with qtbot.waitSignal(dlg.state_changed, timeout=30_000, check_params_cb=lambda s: s != "running"):
        qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    assert dlg.state == "finished"

    finished = [p for p in seen if p.record is not None]
    assert [p.done for p in finished] == [1, 2, 3, 4, 5] and all(p.total == 5 for p in seen)
    assert any(p.current and p.current.endswith("frame0.png") for p in seen)
    assert dlg.progress_bar.value() == 5
    assert dlg.progress_label.text() == "Finished: 4 done, 0 skipped, 1 failed."
    summary = dlg.summary.toPlainText()
    assert "failed: damaged.png:" in summary and "damaged.png" in summary.split("failed: damaged.png:")[1]
    assert sorted(p.name for p in (folder / "colour").glob("*.png")) == [f"frame{i}_colour.png" for i in range(4)]
    with Image.open(folder / "colour" / "frame0_colour.png") as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    assert (rgb.max(-1) - rgb.min(-1)).mean() > 10  # coloured by the chosen model

    # afterwards the counts show what a second run would do: the 4 done photos are skipped
    qtbot.waitUntil(lambda: dlg.counts.text() == "1 to colourize, 4 to skip.", timeout=5000)
    opened = []
    monkeypatch.setattr(batch_dialog.QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url)))
    assert dlg.open_btn.isEnabled()
    qtbot.mouseClick(dlg.open_btn, Qt.MouseButton.LeftButton)
    assert [Path(u.toLocalFile()) for u in opened] == [(folder / "colour").resolve()]


def test_cancel_stops_after_the_current_photo(qtbot, folder, monkeypatch):
    for i in range(4, 8):
        write_photo(folder / f"frame{i}.png", size=(60, 80), seed=i)
    dlg = _dialog(qtbot)
    _pick_folder(qtbot, dlg, folder, monkeypatch)
    _choose_model(dlg, "test-slow")

    def cancel_after_first(p):
        if p.record is not None and dlg.cancel_btn.isEnabled():
            qtbot.mouseClick(dlg.cancel_btn, Qt.MouseButton.LeftButton)

    dlg.progressed.connect(cancel_after_first)
    with qtbot.waitSignal(dlg.state_changed, timeout=30_000, check_params_cb=lambda s: s != "running"):
        qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    assert dlg.state == "cancelled" and dlg.report.state == "cancelled"
    c = dlg.report.counts()
    assert 1 <= c["done"] < 8 and c["cancelled"] == 8 - c["done"]
    assert dlg.progress_label.text().startswith(f"Cancelled: {c['done']} done")
    out = folder / "colour"
    assert len(list(out.glob("*_colour.png"))) == c["done"]
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]  # no half-written files
    assert dlg.close_btn.isEnabled() and dlg.start_btn.isEnabled()
    qtbot.waitUntil(lambda: dlg.counts.text() == f"{8 - c['done']} to colourize, {c['done']} to skip.", timeout=5000)


def test_shared_mask_from_the_open_photo_colours_only_inside(qtbot, folder, tmp_path, monkeypatch):
    from app.core.mask import Mask
    from app.core.pipeline import Settings

    mask = np.zeros((30, 40), bool)  # drawn on a half-size copy: scaled to each photo
    mask[:, :20] = True
    current = SimpleNamespace(mask=Mask.from_array(mask), hints=(), simple=True,
                              settings=Settings(model="test-solid", work_size=64, feather=0.0, device="cpu"))
    dlg = _dialog(qtbot, current=current)
    _pick_folder(qtbot, dlg, folder, monkeypatch)
    dlg.mask_source.setCurrentIndex(dlg.mask_source.findData("shared"))
    with qtbot.waitSignal(dlg.state_changed, timeout=30_000, check_params_cb=lambda s: s != "running"):
        qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    assert dlg.report.counts()["done"] == 4
    with Image.open(folder / "colour" / "frame2_colour.png") as im:
        chroma = np.ptp(np.asarray(im.convert("RGB")).astype(int), -1)
    assert (chroma[:, :38] > 10).all() and (chroma[:, 42:] == 0).all()


def test_without_an_open_photo_the_shared_choice_is_off_and_errors_are_sentences(qtbot, tmp_path):
    dlg = _dialog(qtbot)
    shared = dlg.mask_source.model().item(dlg.mask_source.findData("shared"))
    assert not shared.isEnabled()
    dlg.update_counts()
    assert dlg.counts.text() == "Add photos or a folder of photos first." and not dlg.start_btn.isEnabled()
    dlg.add_paths([tmp_path / "missing"])
    dlg.update_counts()
    assert "does not exist" in dlg.counts.text() and not dlg.start_btn.isEnabled()


def test_file_menu_opens_the_batch_dialog(qtbot, window):
    act = window.actions["batch"]
    assert act.isEnabled()
    act.trigger()
    dlg = window.findChild(BatchDialog)
    assert dlg is not None and dlg.isVisible()
    dlg.close()


def test_colour_layers_for_photoshop_are_written_beside_each_output(qtbot, folder, monkeypatch):
    dlg = _dialog(qtbot)
    _pick_folder(qtbot, dlg, folder, monkeypatch)
    _choose_model(dlg, "test-solid")
    assert not dlg.colour_layers.isChecked()  # off unless asked for
    qtbot.mouseClick(dlg.colour_layers, Qt.MouseButton.LeftButton)
    assert dlg.colour_layers.isChecked()
    with qtbot.waitSignal(dlg.state_changed, timeout=30_000, check_params_cb=lambda s: s != "running"):
        qtbot.mouseClick(dlg.start_btn, Qt.MouseButton.LeftButton)
    assert dlg.state == "finished"
    layers = sorted(p.name for p in (folder / "colour").glob("*_layer.tif"))
    assert layers == [f"frame{i}_colour_layer.tif" for i in range(4)]
    import tifffile

    layer = tifffile.imread(folder / "colour" / "frame0_colour_layer.tif")
    assert layer.shape == (60, 80, 4) and (layer[..., 3] == 255).all()  # whole photo coloured: opaque
