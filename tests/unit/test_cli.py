"""`huebrush info` and `huebrush colorize` through app.cli.main, as a user runs them."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from app.cli import main
from models.colour import hex_to_rgb, rgb_to_ab, rgb_to_lab


def _grey_photo(path, h: int = 96, w: int = 128) -> None:
    grey = np.full((h, w), 150, np.uint8)
    grey[:, w // 2 :] = 110  # a lightness edge down the middle
    Image.fromarray(grey).save(path)


# ---------------------------------------------------------------- info

def test_info_prints_size_mode_depth_and_checksum(tmp_path, capsys):
    p = tmp_path / "scan.tif"
    tifffile.imwrite(p, np.zeros((30, 50), np.uint16))
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "50 x 30" in out and "bit depth:    16" in out and "TIFF" in out
    import hashlib

    assert hashlib.sha256(p.read_bytes()).hexdigest() in out


def test_info_json_reports_profile_and_orientation(tmp_path, capsys):
    from PIL import ImageCms

    p = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (40, 20), (90, 90, 90)).save(p, exif=exif.tobytes(), icc_profile=icc)
    assert main(["info", "--json", str(p)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["width"], info["height"]) == (20, 40)  # shown upright
    assert info["exif_orientation"] == 6 and info["bit_depth"] == 8 and info["format"] == "JPEG"
    assert info["icc_profile"] == "sRGB built-in"


@pytest.mark.parametrize("content", [b"", b"not an image at all\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00"])
def test_info_on_a_bad_file_prints_one_line_and_fails(tmp_path, capsys, content):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    assert main(["info", str(p)]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("huebrush: ") and str(p) in err
    assert "\n" not in err and "Traceback" not in captured.err + captured.out


# ---------------------------------------------------------------- colorize

def _hue_deg(a: float, b: float) -> float:
    return math.degrees(math.atan2(b, a))


def test_colorize_with_a_hint_colours_near_it_and_keeps_grey_outside_the_mask(tmp_path, capsys):
    src = tmp_path / "photo.png"
    _grey_photo(src)
    mask = np.zeros((96, 128), np.uint8)
    mask[:, :40] = 255  # colour only on the left
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask).save(mask_path)
    out = tmp_path / "out.png"
    code = main(["colorize", str(src), "-o", str(out), "--model", "hints", "--hint", "20,48,#3366cc",
                 "--mask", str(mask_path), "--feather", "2", "--work-size", "128", "--device", "cpu"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert str(out) in captured.out
    rgb = np.asarray(Image.open(out).convert("RGB")).astype(np.float32) / 255.0
    lab = rgb_to_lab(rgb[40:56, 12:28])
    a, b = float(lab[..., 1].mean()), float(lab[..., 2].mean())
    ha, hb = rgb_to_ab(hex_to_rgb("#3366cc"))
    assert math.hypot(a, b) > 5  # really coloured
    assert abs(_hue_deg(a, b) - _hue_deg(ha, hb)) < 20
    outside = (np.asarray(Image.open(out).convert("RGB"))[:, 48:]).astype(int)
    assert np.array_equal(outside[..., 0], outside[..., 1]) and np.array_equal(outside[..., 1], outside[..., 2])
    # outside the mask the photo's own grey comes back
    assert np.abs(outside[..., 0] - np.asarray(Image.open(src))[:, 48:]).max() <= 1


def test_colorize_hint_reach_decides_how_far_a_hint_carries(tmp_path, capsys):
    src = tmp_path / "flat.png"
    Image.fromarray(np.tile(np.linspace(120, 135, 320).astype(np.uint8), (120, 1))).save(src)
    b = {}
    for reach in ("0", "1"):
        out = tmp_path / f"out{reach}.png"
        code = main(["colorize", str(src), "-o", str(out), "--model", "maskgan", "--hint", "10,60,#2050d0",
                     "--hint-reach", reach, "--device", "cpu"])
        assert code == 0, capsys.readouterr().err
        lab = rgb_to_lab(np.asarray(Image.open(out).convert("RGB")).astype(np.float32) / 255.0)
        b[reach] = (float(lab[50:70, 5:15, 2].mean()), float(lab[:, 260:, 2].mean()))
    ha, hb = rgb_to_ab(hex_to_rgb("#2050d0"))
    assert b["0"][0] < hb / 2 and b["1"][0] < hb / 2  # blue at the hint either way
    assert b["1"][1] < b["0"][1] - 10  # the far end turns blue only with the whole photo in reach
    assert main(["colorize", str(src), "-o", str(tmp_path / "x.png"), "--hint-reach", "2"]) == 1
    assert "--hint-reach 2 is out of range" in capsys.readouterr().err


def test_colorize_keeps_16_bits_for_a_16bit_tiff(tmp_path, capsys):
    src = tmp_path / "scan.tif"
    tifffile.imwrite(src, np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1)))
    out = tmp_path / "scan_colour.tif"
    assert main(["colorize", str(src), "-o", str(out), "--model", "hints", "--hint", "10,10,#cc8844",
                 "--work-size", "64", "--device", "cpu"]) == 0, capsys.readouterr().err
    assert tifffile.imread(out).dtype == np.uint16


def test_colorize_refuses_to_overwrite_the_input(tmp_path, capsys):
    src = tmp_path / "photo.png"
    _grey_photo(src)
    before = src.read_bytes()
    assert main(["colorize", str(src), "-o", str(src), "--overwrite", "--model", "hints"]) == 1
    err = capsys.readouterr().err
    assert "input" in err and "\n" not in err.strip()
    assert src.read_bytes() == before


def test_colorize_keeps_an_existing_output_without_overwrite(tmp_path, capsys):
    src = tmp_path / "photo.png"
    _grey_photo(src)
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    assert main(["colorize", str(src), "-o", str(out), "--model", "hints"]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"old"


def test_colorize_unknown_model_is_one_sentence(tmp_path, capsys):
    src = tmp_path / "photo.png"
    _grey_photo(src)
    assert main(["colorize", str(src), "-o", str(tmp_path / "o.png"), "--model", "no-such-model"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no-such-model" in err and "hints" in err and "\n" not in err


def test_colorize_bad_hint_and_hint_outside_the_photo(tmp_path, capsys):
    src = tmp_path / "photo.png"
    _grey_photo(src)
    assert main(["colorize", str(src), "-o", str(tmp_path / "o.png"), "--model", "hints", "--hint", "5,5"]) == 1
    assert "X,Y,#RRGGBB" in capsys.readouterr().err
    assert main(["colorize", str(src), "-o", str(tmp_path / "o.png"), "--model", "hints",
                 "--hint", "500,5,#ff0000"]) == 1
    assert "outside the photo" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_colorize_corrupt_input_prints_one_line(tmp_path, capsys):
    src = tmp_path / "photo.jpg"
    src.write_text("this is not a photo")
    assert main(["colorize", str(src), "-o", str(tmp_path / "o.png"), "--model", "hints"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_an_unknown_command_is_named_not_opened_as_a_photo(capsys, monkeypatch):
    import app.cli as cli

    opened = []
    monkeypatch.setattr(cli, "_open_gui", lambda paths: opened.append(paths) or 0)
    assert main(["colorise", "x.png"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'colorise'" in err and "colorize" in err and not opened
    # a photo path (even a missing one) still opens the window, which reports it there
    assert main(["missing.png"]) == 0 and opened == [["missing.png"]]


def test_a_damaged_user_copy_of_a_model_does_not_hide_the_bundled_one(tmp_path, capsys):
    import os
    import shutil

    from models.checkpoint import bundled_weights_dir
    from models.engine import get_engine
    from models.registry import DEFAULT_MODEL

    get_engine().clear()  # a model loaded by an earlier test must not answer for this one
    user = Path(os.environ["HUEBRUSH_MODELS_DIR"])
    user.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundled_weights_dir() / f"{DEFAULT_MODEL}.json", user / f"{DEFAULT_MODEL}.json")
    (user / f"{DEFAULT_MODEL}.safetensors").write_bytes(b"\x00" * 1000)  # a broken download
    photo = tmp_path / "p.png"
    _grey_photo(photo)
    assert main(["colorize", str(photo), "-o", str(tmp_path / "o.png")]) == 0
    err = capsys.readouterr().err
    assert "cannot be used" in err and str(user / f"{DEFAULT_MODEL}.safetensors") in err and "hints model" not in err
    out = np.asarray(Image.open(tmp_path / "o.png").convert("RGB")).astype(int)
    assert np.ptp(out, axis=-1).max() > 3  # colour from the bundled network, not grey
    get_engine().clear()


@pytest.mark.parametrize("option,value,words", [("--saturation", "nan", "not a number"), ("--feather", "inf", "not a number"),
                                                 ("--work-size", "16", "from 32 to 4096"), ("--saturation", "2.5", "from 0 to 2"),
                                                 ("--warmth", "45", "from -30 to 30"), ("--tint", "nan", "not a number")])
def test_cli_settings_are_checked_against_the_same_bounds_settings_clamp_to(tmp_path, capsys, option, value, words):
    photo = tmp_path / "p.png"
    _grey_photo(photo)
    for cmd in (["colorize", str(photo), "-o", str(tmp_path / "o.png")], ["batch", str(photo), "-o", str(tmp_path / "out")]):
        assert main([*cmd, option, value]) in (1, 2)
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and option in err and words in err, err
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "out").exists()


def test_warmth_and_tint_balance_the_colour_on_the_command_line(tmp_path):
    """The hints model without hints gives no colour: what comes out is the balance alone,
    inside the mask only; batch takes the same options."""
    from models.colour import rgb_to_lab

    photo = tmp_path / "p.png"
    _grey_photo(photo)
    w, h = Image.open(photo).size
    mask = np.zeros((h, w), np.uint8)
    mask[:, : w // 2] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    out = tmp_path / "o.png"
    assert main(["colorize", str(photo), "-o", str(out), "--model", "hints", "--mask", str(tmp_path / "m.png"),
                 "--warmth", "-12", "--tint", "5", "--feather", "0"]) == 0
    lab = rgb_to_lab(np.asarray(Image.open(out).convert("RGB")).astype(np.float32) / 255.0)
    inside, outside = lab[:, : w // 2 - 1], lab[:, w // 2 + 1 :]
    mid = (inside[..., 0] > 25) & (inside[..., 0] < 75)  # where the sRGB gamut holds the shift
    assert np.allclose(np.median(inside[..., 1][mid]), 5.0, atol=1.5) and np.allclose(np.median(inside[..., 2][mid]), -12.0, atol=1.5)
    assert np.abs(outside[..., 1:]).max() < 1.0  # grey outside the mask
    assert main(["batch", str(photo), "-o", str(tmp_path / "b"), "--model", "hints", "--warmth", "8"]) == 0
    got = rgb_to_lab(np.asarray(Image.open(next((tmp_path / "b").glob("*.png"))).convert("RGB")).astype(np.float32) / 255.0)
    assert np.allclose(np.median(got[..., 2][(got[..., 0] > 25) & (got[..., 0] < 75)]), 8.0, atol=1.5)


def test_hints_given_to_a_model_that_takes_none_are_named_in_a_note(tmp_path, capsys):
    src, ref = tmp_path / "photo.png", tmp_path / "ref.png"
    _grey_photo(src)
    colour = np.zeros((96, 128, 3), np.uint8)
    colour[..., 0], colour[..., 2] = 180, 60
    Image.fromarray(colour).save(ref)
    out = tmp_path / "out.png"
    code = main(["colorize", str(src), "-o", str(out), "--model", "reference", "--reference", str(ref),
                 "--hint", "20,48,#3366cc", "--hint", "90,48,#33cc66", "--work-size", "64", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0 and out.is_file(), err
    assert "reference does not take hints, so the 2 given are not used" in err
    code = main(["colorize", str(src), "-o", str(tmp_path / "h.png"), "--model", "hints", "--hint", "20,48,#3366cc",
                 "--work-size", "64", "--device", "cpu"])
    assert code == 0 and "does not take hints" not in capsys.readouterr().err
