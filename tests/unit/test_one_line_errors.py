"""A refused photo reads as one sentence on the terminal: decoder chatter goes to the log file."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

REPO = Path(__file__).resolve().parents[2]


def test_a_broken_lzw_tiff_gives_exactly_one_line_and_the_chatter_is_logged(tmp_path):
    a = (np.random.default_rng(0).random((200, 300)) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "ok.tif", a, compression="lzw")
    data = (tmp_path / "ok.tif").read_bytes()
    (tmp_path / "trunc.tif").write_bytes(data[: len(data) // 2])
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "app", "colorize", str(tmp_path / "trunc.tif"), "-o", str(tmp_path / "o.png"),
                        "--model", "hints"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("huebrush: ") and "trunc.tif" in lines[0], r.stderr
    log = Path(os.environ["HUEBRUSH_CACHE_DIR"]) / "huebrush.log"
    assert "TIFFFillStrip" in log.read_text()  # libtiff's own words, kept for a bug report
    assert not (tmp_path / "o.png").exists()
