"""Checkpoint downloads against a local HTTP server on 127.0.0.1 (nothing leaves this machine)."""
from __future__ import annotations

import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from app.core.segment.download import DownloadCancelled, DownloadError, download_file

PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges: list[str | None] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        rng = self.headers.get("Range")
        type(self).ranges.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = PAYLOAD[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    _Handler.ranges = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/weights.pth"
    httpd.shutdown()
    httpd.server_close()


def test_download_reports_progress_checks_hash_and_renames(server, tmp_path):
    seen = []
    path = download_file(server, "weights.pth", sha256=DIGEST, folder=tmp_path,
                         progress=lambda done, total: seen.append((done, total)), chunk_size=65536)
    assert path == tmp_path / "weights.pth" and path.read_bytes() == PAYLOAD
    assert not (tmp_path / "weights.pth.part").exists()
    assert seen[0] == (0, len(PAYLOAD)) and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cancel_keeps_the_part_and_the_next_download_resumes(server, tmp_path):
    chunks = []

    def cancel():
        return len(chunks) >= 2

    with pytest.raises(DownloadCancelled):
        download_file(server, "weights.pth", sha256=DIGEST, folder=tmp_path, chunk_size=50_000,
                      progress=lambda d, t: chunks.append(d), cancel=cancel)
    part = tmp_path / "weights.pth.part"
    assert not (tmp_path / "weights.pth").exists()
    assert 0 < part.stat().st_size < len(PAYLOAD)
    have = part.stat().st_size
    seen = []
    path = download_file(server, "weights.pth", sha256=DIGEST, folder=tmp_path,
                         progress=lambda d, t: seen.append(d))
    assert path.read_bytes() == PAYLOAD
    assert _Handler.ranges[-1] == f"bytes={have}-" and seen[0] == have


def test_wrong_hash_deletes_the_download(server, tmp_path):
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download_file(server, "weights.pth", sha256="0" * 64, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_no_network_says_how_to_import_instead(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="huebrush models import"):
        download_file(f"http://127.0.0.1:{port}/sam.pth", "sam.pth", folder=tmp_path, timeout=2)


def test_names_cannot_escape_the_models_folder(server, tmp_path):
    folder = tmp_path / "models"
    path = download_file(server, "../../escape.pth", sha256=DIGEST, folder=folder)
    assert path.parent == folder.resolve() and not (tmp_path / "escape.pth").exists()
    with pytest.raises(DownloadError, match="outside the models folder"):
        download_file(server, "..", folder=folder)
