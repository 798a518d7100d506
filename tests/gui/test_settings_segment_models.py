"""Settings > Segmentation models: import, list, verify, remove and download checkpoints.

Checkpoints are tiny randomly initialised SAMs saved in the test's temp folder; downloads come
from an HTTP server on 127.0.0.1 (nothing leaves this machine).
"""
from __future__ import annotations

import http.server
import io
import socket
import threading
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("segment_anything")

from app.core.segment.checkpoints import list_checkpoints, segment_models_dir  # noqa: E402
from app.ui.dialogs.settings_dialog import SettingsDialog  # noqa: E402
from tests.gui.helpers import open_photo  # noqa: E402
from tests.unit.core.test_segment_sam import tiny_sam  # noqa: E402

pytestmark = pytest.mark.gui


def _checkpoint_bytes(pad_floats: int = 0) -> bytes:
    """A tiny SAM checkpoint; padding (an extra tensor) makes it span several download chunks."""
    sd = dict(tiny_sam().state_dict())
    if pad_floats:
        sd["extra.padding"] = torch.zeros(pad_floats)
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


@pytest.fixture
def tiny_ckpt(tmp_path):
    p = tmp_path / "my_tiny_sam.pth"
    p.write_bytes(_checkpoint_bytes())
    return p


@pytest.fixture
def page(qtbot, window):
    dlg = SettingsDialog(window.app_settings, ["hints"], window)
    qtbot.addWidget(dlg)
    dlg.tabs.setCurrentWidget(dlg.segment_models)
    dlg.show()
    yield dlg.segment_models
    dlg.segment_models.stop()


def _rows(page) -> list[list[str]]:
    t = page.table
    return [[t.topLevelItem(i).text(c) for c in range(t.columnCount())] for i in range(t.topLevelItemCount())]


def _wait_idle(qtbot, page, timeout=30_000):
    qtbot.waitUntil(lambda: not page.busy, timeout=timeout)


def _select_row(page, file_name: str) -> None:
    for i in range(page.table.topLevelItemCount()):
        item = page.table.topLevelItem(i)
        item.setSelected(item.text(1) == file_name)


def test_builtin_segmenter_is_the_default_without_checkpoints(page):
    rows = _rows(page)
    assert len(rows) == 1 and rows[0][0] == "Built-in segmenter" and "in use" in rows[0][3]
    assert not page.verify_button.isEnabled() and not page.remove_button.isEnabled()
    assert str(segment_models_dir()) in page.folder.text()


def test_import_lists_the_checkpoint_and_the_s_tool_switches_to_it(qtbot, window, page, photo, tiny_ckpt):
    open_photo(qtbot, window, photo)
    window.canvas.set_tool("segment")
    tool = window.canvas.tool
    qtbot.waitUntil(lambda: tool.ready, timeout=20_000)
    assert type(tool.segmenter).__name__ == "LearnedSegmenter"

    page.import_path(tiny_ckpt)
    assert page.busy and not page.import_button.isEnabled()  # hashing runs in a worker
    _wait_idle(qtbot, page)
    rows = _rows(page)
    assert rows[0][:2] == ["Segment Anything (custom size)", "my_tiny_sam.pth"]
    assert rows[0][3] == "no official hash known \u2014 in use"
    assert rows[1][0] == "Built-in segmenter" and "in use" not in rows[1][3]
    assert "Installed my_tiny_sam.pth" in page.message.text()
    # the next click uses the imported checkpoint: the tool re-picks its segmenter at once
    qtbot.waitUntil(lambda: tool.ready and tool.segmenter is not None, timeout=30_000)
    assert type(tool.segmenter).__name__ == "SamSegmenter"
    assert tool.segmenter is not None and tool.ready

    _select_row(page, "my_tiny_sam.pth")
    page.verify_selected()
    _wait_idle(qtbot, page)
    assert "is intact" in page.message.text()
    with open(list_checkpoints()[0].path, "ab") as f:
        f.write(b"tampered")
    page.verify_selected()
    _wait_idle(qtbot, page)
    assert "changed since it was imported" in page.message.text()


@pytest.mark.parametrize("content", ["not sam", "junk"])
def test_import_of_a_non_sam_file_shows_one_sentence(qtbot, page, tmp_path, content):
    p = tmp_path / "colorizer.pth"
    if content == "junk":
        p.write_bytes(b"not a zip or a pickle")
    else:
        torch.save({"conv.weight": torch.zeros(3, 3)}, p)
    page.import_path(p)
    _wait_idle(qtbot, page)
    text = page.message.text()
    assert text.startswith("colorizer.pth is not") and "\n" not in text and "Traceback" not in text
    assert "import" in text  # says what to do instead
    assert [r[0] for r in _rows(page)] == ["Built-in segmenter"]
    assert list(segment_models_dir().iterdir()) == []


def test_remove_asks_then_deletes_the_file_and_its_sidecar(qtbot, window, page, tiny_ckpt):
    page.import_path(tiny_ckpt)
    _wait_idle(qtbot, page)
    installed = list_checkpoints()[0]
    refreshed = []
    page.changed.connect(lambda: refreshed.append(True))
    tool = window.canvas.tools["segment"]
    tool.segmenter = object()  # stands for the SAM session the tool was using
    _select_row(page, installed.name)
    page.confirm_remove = lambda ck: False
    page.remove_selected()
    assert installed.path.exists() and len(_rows(page)) == 2 and not refreshed
    page.confirm_remove = lambda ck: True
    page.remove_selected()
    assert not installed.path.exists() and not installed.path.with_name(installed.name + ".json").exists()
    assert [r[0] for r in _rows(page)] == ["Built-in segmenter"] and "in use" in _rows(page)[0][3]
    assert refreshed and tool.segmenter is None  # the next click picks the built-in one again
    assert page.message.text() == f"Removed {installed.name}."


# ---- downloads from 127.0.0.1 ----------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    ranges: list = []
    piece, delay = 1 << 20, 0.0  # how fast the server sends

    def do_GET(self):  # noqa: N802 - http.server's name
        rng = self.headers.get("Range")
        type(self).ranges.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = self.payload[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), self.piece):
                self.wfile.write(body[i : i + self.piece])
                time.sleep(self.delay)
        except OSError:
            pass  # the client hung up (a cancelled download)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.ranges, _Handler.piece, _Handler.delay = [], 1 << 20, 0.0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/mobile_sam.pt"
    httpd.shutdown()
    httpd.server_close()


def test_download_shows_progress_and_installs(qtbot, page, server):
    _Handler.payload = _checkpoint_bytes(pad_floats=700_000)  # ~3 MB: several 1 MB chunks
    page.download_urls["vit_t"] = server
    values = []
    page.progress.valueChanged.connect(values.append)
    page.download_model.setCurrentIndex(page.download_model.findData("vit_t"))
    page.download_button.click()
    assert page.busy and page.cancel_button.isVisible() and page._progress_row.isVisible()
    _wait_idle(qtbot, page)
    assert values and values[-1] == 100 and values == sorted(values)
    assert any(0 < v < 100 for v in values)  # it moved, not just jumped to the end
    assert not page._progress_row.isVisible()
    assert _rows(page)[0][1] == "mobile_sam.pt" and "Installed mobile_sam.pt" in page.message.text()
    assert not (segment_models_dir() / "mobile_sam.pt.part").exists()


def test_cancel_keeps_the_part_and_the_next_download_resumes(qtbot, page, server):
    _Handler.payload = _checkpoint_bytes(pad_floats=700_000)
    _Handler.piece, _Handler.delay = 256 << 10, 0.1  # slow enough to cancel in the middle
    page.download_urls["vit_t"] = server
    page.start_download("vit_t")
    qtbot.waitUntil(lambda: 0 < page.progress.value() < 100, timeout=20_000)
    page.cancel_button.click()
    _wait_idle(qtbot, page)
    part = segment_models_dir() / "mobile_sam.pt.part"
    assert "cancelled" in page.message.text() and "resumes" in page.message.text()
    assert 0 < part.stat().st_size < len(_Handler.payload)
    assert [r[0] for r in _rows(page)] == ["Built-in segmenter"]

    have = part.stat().st_size
    _Handler.delay = 0.0
    page.start_download("vit_t")
    _wait_idle(qtbot, page)
    assert _Handler.ranges[-1] == f"bytes={have}-"
    assert (segment_models_dir() / "mobile_sam.pt").read_bytes() == _Handler.payload
    assert _rows(page)[0][1] == "mobile_sam.pt"


def test_download_without_network_says_how_to_import(qtbot, page):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page.download_urls["vit_b"] = f"http://127.0.0.1:{port}/sam_vit_b_01ec64.pth"
    page.start_download("vit_b")
    _wait_idle(qtbot, page)
    text = page.message.text()
    assert "could not reach the server" in text and "Import" in text and "\n" not in text


def test_closing_the_dialog_cancels_a_download(qtbot, window, server):
    _Handler.payload = _checkpoint_bytes(pad_floats=700_000)
    _Handler.piece, _Handler.delay = 256 << 10, 0.1
    dlg = SettingsDialog(window.app_settings, ["hints"], window)
    qtbot.addWidget(dlg)
    page = dlg.segment_models
    page.download_urls["vit_t"] = server
    page.start_download("vit_t")
    qtbot.waitUntil(lambda: 0 < page.progress.value() < 100, timeout=20_000)
    dlg.reject()
    _wait_idle(qtbot, page)
    assert (segment_models_dir() / "mobile_sam.pt.part").exists()
    assert not (segment_models_dir() / "mobile_sam.pt").exists()


def test_s_tool_status_tip_names_every_gesture(qtbot, window):
    window.canvas.set_tool("segment")
    tip = window.status.message.text()
    for words in ("click to include", "Alt/right click to exclude", "drag for a box", "Tab", "Enter adds",
                  "Shift/Alt+Enter subtracts", "Esc discards", "R all regions", "dashed outline previews"):
        assert words in tip


def test_grow_of_a_big_mask_runs_in_a_worker_as_one_undo_step(qtbot, window, photo, monkeypatch):
    import app.ui.main_window as mw
    from app.ui.undo_commands import push_mask_edit

    st = open_photo(qtbot, window, photo)
    window.mask_operation("fill")
    push_mask_edit(st, "Eraser", lambda m: m.stroke([(160, 120)], 30, erase=True))
    before = st.mask.data.copy()
    steps = st.undo_stack.count()
    monkeypatch.setattr(mw, "MASK_WORKER_PIXELS", 0)  # treat this photo as a 24 MP one
    window.mask_operation("grow", 10)
    assert window._mask_tasks  # the morphology is in flight off the GUI thread
    qtbot.waitUntil(lambda: st.undo_stack.count() == steps + 1, timeout=20_000)
    assert st.mask.data.sum() > before.sum() and (st.mask.data | before).sum() == st.mask.data.sum()
    assert st.undo_stack.undoText().startswith("Grow mask")
    st.undo_stack.undo()
    assert (st.mask.data == before).all()
