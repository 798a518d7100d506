"""Exports leave nothing stale: no temp file of a killed earlier write, no source-layout metadata."""
from __future__ import annotations

import numpy as np
import tifffile

from app.core.document import load_image
from app.core.export import export_result


def test_a_killed_writes_temp_file_is_removed_by_the_next_export_of_that_file(tmp_path):
    stale = tmp_path / ".out.png.k3j2h1x9.part"
    stale.write_bytes(b"")  # what kill -9 during a write leaves
    other = tmp_path / ".another.png.k3j2h1x9.part"
    other.write_bytes(b"")
    L = np.full((8, 10), 50, np.float32)
    export_result(tmp_path / "out.png", L, np.zeros((8, 10, 2), np.float32))
    assert (tmp_path / "out.png").is_file() and not stale.exists() and other.exists()


def test_a_16bit_tiff_export_drops_the_sources_layout_description_but_keeps_a_caption(tmp_path):
    a = (np.random.default_rng(0).random((30, 40)) * 65535).astype(np.uint16)
    ab = np.zeros((30, 40, 2), np.float32)
    ab[..., 0] = 20
    for desc, kept in (('{"shape": [30, 40]}', False), ("Farm in Iowa, 1939. Scanned from the negative.", True)):
        src = tmp_path / "src.tif"
        tifffile.imwrite(src, a, description=desc)
        doc = load_image(src)
        out = tmp_path / "out.tif"
        export_result(out, doc.L, ab, bit_depth=16, exif=doc.exif)
        with tifffile.TiffFile(out) as t:
            page = t.pages.first
            assert page.shape == (30, 40, 3) and page.dtype == np.uint16
            assert (page.description == desc) is kept and "shape" not in (page.description or "")
