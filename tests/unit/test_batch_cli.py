"""`huebrush batch` on the command line, including the 2-rank torchrun scale-out."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from models.registry import ModelInfo, register

REPO = Path(__file__).resolve().parents[2]
FAKE = "batch-cli-fake"


class _Fake:
    name = FAKE

    def predict(self, request, cancel=None):
        h, w = request.L.shape
        return np.full((h, w, 2), (30.0, -20.0), np.float32)


register(ModelInfo(FAKE, "fake", "test colorizer", False), lambda device: _Fake())


def _photos(folder: Path, n: int, size=(40, 30)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        # mid greys only: pure black or white pixels cannot carry colour, which would muddle the checks
        g = (60 + np.arange(size[0] * size[1]).reshape(size[1], size[0]) * (i + 3) % 131).astype(np.uint8)
        p = folder / f"photo{i:02d}.png"
        Image.fromarray(g, "L").save(p)
        paths.append(p)
    return paths


def test_batch_lists_failures_at_the_end_and_exits_non_zero(tmp_path, capsys):
    src = tmp_path / "in"
    _photos(src, 3)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    out = tmp_path / "out"
    code = main(["batch", str(src), "-o", str(out), "--model", FAKE, "--work-size", "32", "--feather", "0"])
    text = capsys.readouterr().out
    assert code == 1
    assert "3 done, 0 skipped, 1 failed" in text
    assert "Failed:" in text and "broken.jpg" in text.split("Failed:")[1]
    assert sorted(p.name for p in out.glob("*.png")) == [f"photo{i:02d}_colour.png" for i in range(3)]
    report = json.loads((out / "huebrush-batch-report.json").read_text())
    assert report["counts"]["failed"] == 1
    # again with skip-existing (the default) and without the broken photo: all skipped, exit 0
    (src / "broken.jpg").unlink()
    assert main(["batch", str(src), "-o", str(out), "--model", FAKE, "--report", str(tmp_path / "r2.json")]) == 0
    assert json.loads((tmp_path / "r2.json").read_text())["counts"]["skipped"] == 3


def test_batch_options_reach_the_job(tmp_path, capsys):
    src = tmp_path / "in"
    photos = _photos(src, 2)
    masks = tmp_path / "masks"
    masks.mkdir()
    m = np.zeros((30, 40), np.uint8)
    m[:, :20] = 255
    Image.fromarray(m).save(masks / "photo00_mask.png")
    out = tmp_path / "out"
    code = main(["batch", *map(str, photos), "-o", str(out), "--model", FAKE, "--masks", str(masks),
                 "--mask-source", "masks", "--format", "jpg", "--quality", "80", "--long-side", "20",
                 "--name-template", "{name}-{src_ext}.{ext}", "--io-workers", "0", "--feather", "0"])
    assert code == 0
    assert [p.name for p in sorted(out.glob("*.jpg"))] == ["photo00-png.jpg"]  # photo01 has no mask: skipped
    with Image.open(out / "photo00-png.jpg") as im:
        assert im.size == (20, 15) and im.format == "JPEG"
    assert "1 done, 1 skipped" in capsys.readouterr().out


def test_batch_writes_each_photos_colour_as_a_layer_at_its_bit_depth(tmp_path):
    import tifffile

    src = tmp_path / "in"
    _photos(src, 1)
    scan = src / "scan16.tif"
    tifffile.imwrite(scan, (20000 + 9 * np.arange(30 * 40).reshape(30, 40)).astype(np.uint16))
    m = np.zeros((30, 40), np.uint8)
    m[:, 20:] = 255
    Image.fromarray(m).save(tmp_path / "shared.png")
    out = tmp_path / "out"
    code = main(["batch", str(src), "-o", str(out), "--model", FAKE, "--shared-mask", str(tmp_path / "shared.png"),
                 "--feather", "0", "--format", "jpg", "--colour-layers", "--io-workers", "0"])
    assert code == 0
    for name, dtype, top in (("photo00", np.uint8, 255), ("scan16", np.uint16, 65535)):
        layer = tifffile.imread(out / f"{name}_colour_layer.tif")  # beside the JPEG, the photo's depth
        assert (out / f"{name}_colour.jpg").exists() and layer.shape == (30, 40, 4) and layer.dtype == dtype
        assert (layer[:, :20, 3] == 0).all() and (layer[:, 20:, 3] == top).all()
        rgb = layer[:, 20:, :3].astype(float) / top
        assert (rgb.max(-1) - rgb.min(-1)).mean() > 0.05  # the fake's colour (+a, -b: purple), not grey
    report = json.loads((out / "huebrush-batch-report.json").read_text())
    assert all("colour layer" in r["note"] for r in report["photos"])
    # without the option no layer is written
    assert main(["batch", str(src), "-o", str(tmp_path / "plain"), "--model", FAKE]) == 0
    assert not list((tmp_path / "plain").glob("*_layer.tif"))


def test_dry_run_counts_without_writing(tmp_path, capsys):
    src = tmp_path / "in"
    _photos(src, 4)
    out = tmp_path / "out"
    assert main(["batch", str(src), "-o", str(out), "--dry-run"]) == 0
    assert "4 to colourize, 0 to skip" in capsys.readouterr().out
    assert not out.exists()


def test_user_errors_are_one_line(tmp_path, capsys):
    _photos(tmp_path / "in", 1)
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--model", "no-such-model"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("huebrush: Unknown model 'no-such-model'") and err.count("\n") == 1
    assert main(["batch", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_two_torchrun_ranks_do_every_photo_exactly_once(tmp_path):
    src = tmp_path / "in"
    photos = _photos(src, 7)
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "app", "batch", str(src), "-o", str(out), "--model", "hints", "--work-size", "32",
           "--io-workers", "1", "--report", str(out / "report.json")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ranks = [json.loads((out / f"report.rank{r}.json").read_text()) for r in (0, 1)]
    mine = [{p["input"] for p in rep["photos"]} for rep in ranks]
    assert mine[0] and mine[1] and not (mine[0] & mine[1])  # shared, no photo on both ranks
    merged = json.loads((out / "report.json").read_text())
    assert merged["world_size"] == 2 and merged["state"] == "finished"
    assert sorted(p["input"] for p in merged["photos"]) == sorted(str(p) for p in photos)
    assert all(p["outcome"] == "done" for p in merged["photos"])
    assert sorted(p.name for p in out.glob("*_colour.png")) == [f"photo{i:02d}_colour.png" for i in range(7)]


def test_shared_mask_applies_to_every_photo_scaled(tmp_path):
    src = tmp_path / "in"
    _photos(src, 2, size=(40, 30))
    Image.fromarray((60 + np.arange(80 * 60).reshape(60, 80) % 131).astype(np.uint8)).save(src / "big.png")
    m = np.zeros((15, 20), np.uint8)
    m[:, 10:] = 255  # right half of a small reference frame
    Image.fromarray(m).save(tmp_path / "shared.png")
    out = tmp_path / "out"
    code = main(["batch", str(src), "-o", str(out), "--model", FAKE, "--shared-mask", str(tmp_path / "shared.png"),
                 "--feather", "0", "--work-size", "64"])
    assert code == 0
    for name, w in (("photo00", 40), ("big", 80)):
        with Image.open(out / f"{name}_colour.png") as im:
            chroma = np.ptp(np.asarray(im.convert("RGB")).astype(int), -1)
        assert (chroma[:, : w // 2 - 1] == 0).all() and (chroma[:, w // 2 + 1:] > 10).all()


def test_shared_hints_for_a_model_that_takes_none_are_named_in_a_note(tmp_path, capsys):
    src = tmp_path / "in"
    _photos(src, 2)
    hints = tmp_path / "hints.json"
    hints.write_text('[{"points": [[5, 5]], "color": "#3366cc"}]')
    assert main(["batch", str(src), "-o", str(tmp_path / "out"), "--model", "iizuka", "--hints", str(hints),
                 "--dry-run"]) == 0
    assert "iizuka does not take hints, so the 1 shared ones are not used" in capsys.readouterr().err
    assert main(["batch", str(src), "-o", str(tmp_path / "out"), "--model", "hints", "--hints", str(hints),
                 "--dry-run"]) == 0
    assert "does not take hints" not in capsys.readouterr().err
