"""Masks that would inflate to gigabytes are refused from their header, in one sentence (hardening)."""
from __future__ import annotations

import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.core.errors import HuebrushError
from app.core.mask import read_mask_png
from app.core.project import load_project


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h grey pixels with almost no data: decoding it would need w*h bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    idat = zlib.compress(b"\x00" * 1000)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_a_bomb_mask_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(60000, 60000))
    with pytest.raises(HuebrushError) as e:
        read_mask_png(bomb, (100, 120))  # against the photo: a size mismatch, found from the header
    assert "60000x60000" in str(e.value)
    with pytest.raises(HuebrushError) as e:
        read_mask_png(bomb)  # no photo to compare with (batch --shared-mask): the pixel limit
    assert "limit" in str(e.value) and "\n" not in str(e.value)


def test_colorize_with_a_bomb_mask_is_one_sentence(tmp_path, capsys):
    Image.fromarray(np.full((100, 120), 128, np.uint8)).save(tmp_path / "photo.png")
    (tmp_path / "bomb.png").write_bytes(_png_header_only(60000, 60000))
    rc = main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out.png"), "--mask", str(tmp_path / "bomb.png"),
               "--model", "hints"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err and not (tmp_path / "out.png").exists()


def test_a_project_whose_mask_member_inflates_far_beyond_its_photo_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "bomb.huebrush"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps({"format": "huebrush-project", "version": 1, "size": [10, 10], "settings": {}}))
        z.writestr("mask.png", b"\x00" * (8 << 20))  # 8 MiB of zeros: a few KiB in the zip
    assert path.stat().st_size < 100_000
    read = []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, *a: read.append(name) or real_read(self, name, *a))
    with pytest.raises(HuebrushError) as e:
        load_project(path)
    assert "mask" in str(e.value) and "mask.png" not in read


def test_a_project_mask_is_read_from_memory(tmp_path, monkeypatch):
    import tempfile

    from app.core.project import Project, save_project

    mask = np.zeros((12, 16), bool)
    mask[2:6, 3:9] = True
    p = save_project(tmp_path / "a.huebrush", Project(source_path=None, size=(12, 16), mask=mask))
    monkeypatch.setattr(tempfile, "TemporaryDirectory", lambda *a, **k: (_ for _ in ()).throw(AssertionError("disk")))
    assert np.array_equal(load_project(p).mask, mask)
