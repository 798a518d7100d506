"""Export: formats, bit depths, metadata, neutral grey outside the mask, atomic and safe writes."""
from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from app.core.document import document_from_L, load_image
from app.core.errors import ExportError
from app.core.export import default_bit_depth, export_result, result_rgb
from models.colour import L_to_grey, lab_to_rgb, rgb_to_lab


def _scene(h: int = 40, w: int = 60):
    """L ramp; colour (ab != 0) only in the left half, exactly zero on the right."""
    L = np.tile(np.linspace(5, 95, w, dtype=np.float32), (h, 1))
    ab = np.zeros((h, w, 2), np.float32)
    ab[:, : w // 2] = (30.0, -20.0)
    return L, ab


def _sRGB_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _gray_icc() -> bytes:
    # A real Gray profile header: device class 'mntr', colour space 'GRAY'.
    icc = bytearray(_sRGB_icc())
    icc[16:20] = b"GRAY"
    return bytes(icc)


def _no_temp_files(folder) -> bool:
    return not [n for n in os.listdir(folder) if n.endswith(".part")]


# ---------------------------------------------------------------- result_rgb

def test_result_rgb_matches_the_reference_conversion():
    rng = np.random.default_rng(0)
    L = rng.random((64, 80), dtype=np.float32) * 100
    ab = (rng.standard_normal((64, 80, 2)) * 40).astype(np.float32)  # many out of gamut
    ab[:, :20] = 0
    ab[:8, 20:] = 0  # a mostly-neutral block and a mostly-coloured one
    np.testing.assert_allclose(result_rgb(L, ab), lab_to_rgb(L, ab), atol=2e-5)


@pytest.mark.parametrize("depth,suffix", [(16, "tif"), (16, "png"), (8, "png")])
def test_exported_colours_match_the_reference_within_one_level(tmp_path, depth, suffix):
    rng = np.random.default_rng(1)
    L = rng.random((48, 64), dtype=np.float32) * 100
    ab = (rng.standard_normal((48, 64, 2)) * 30).astype(np.float32)
    ab[:, :16] = 0
    out = export_result(tmp_path / f"c.{suffix}", L, ab, bit_depth=depth)
    written = tifffile.imread(out) if suffix == "tif" else _read_png_any_depth(out)
    scale = 65535 if depth == 16 else 255
    expected = np.floor(lab_to_rgb(L, ab) * scale + 0.5)
    assert written.dtype == (np.uint16 if depth == 16 else np.uint8)
    assert np.abs(written.astype(np.int64) - expected).max() <= 1


def _read_png_any_depth(path) -> np.ndarray:
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]


def test_result_rgb_is_exactly_neutral_where_ab_is_zero_and_keeps_L():
    L, ab = _scene()
    rgb = result_rgb(L, ab)
    right = rgb[:, 30:]
    assert np.array_equal(right[..., 0], right[..., 1]) and np.array_equal(right[..., 1], right[..., 2])
    np.testing.assert_allclose(right[..., 0], L_to_grey(L[:, 30:]), atol=1e-6)
    # colour pixels keep their lightness (gamut mapping never shifts L)
    np.testing.assert_allclose(rgb_to_lab(rgb[:, :30])[..., 0], L[:, :30], atol=0.05)


# ---------------------------------------------------------------- formats and depths

def test_16bit_grey_in_gives_16bit_tiff_out_with_depth_preserved(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 3000).round().astype(np.uint16), (4, 1))
    src = tmp_path / "in16.tif"
    tifffile.imwrite(src, ramp)
    doc = load_image(src)
    out = tmp_path / "out.tif"
    depth = default_bit_depth(doc, out)
    assert depth == 16
    ab = np.zeros(doc.size + (2,), np.float32)
    export_result(out, doc.L, ab, bit_depth=depth)
    written = tifffile.imread(out)
    assert written.dtype == np.uint16 and written.shape == doc.size + (3,)
    assert len(np.unique(written[..., 0])) > 2000
    # neutral and equal to the original grey up to rounding
    assert np.array_equal(written[..., 0], written[..., 1]) and np.array_equal(written[..., 1], written[..., 2])
    assert np.abs(written[..., 0].astype(int) - ramp).max() <= 2


def test_16bit_png_round_trip(tmp_path):
    L, ab = _scene()
    out = export_result(tmp_path / "out.png", L, ab, bit_depth=16)
    doc = load_image(out)
    assert doc.bit_depth == 16 and doc.source_mode == "RGB;16"
    np.testing.assert_allclose(doc.L, L, atol=0.01)


@pytest.mark.parametrize("suffix", ["png", "tif", "tiff", "jpg", "jpeg"])
def test_8bit_exports_hold_colour_inside_and_grey_outside(tmp_path, suffix):
    L, ab = _scene()
    out = export_result(tmp_path / f"out.{suffix}", L, ab, bit_depth=8, quality=98)
    rgb = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert rgb.shape == (40, 60, 3)
    right = rgb[:, 36:]  # away from the colour edge (JPEG chroma is subsampled)
    tol = 2 if suffix.startswith("jp") else 0
    assert np.abs(right[..., 0] - right[..., 1]).max() <= tol and np.abs(right[..., 1] - right[..., 2]).max() <= tol
    lab = rgb_to_lab(rgb[:, :24] / 255.0)
    assert lab[..., 1].mean() > 20 and lab[..., 2].mean() < -12  # the colour asked for


def test_jpeg_quality_changes_the_file(tmp_path):
    rng = np.random.default_rng(3)
    L = rng.random((64, 64), dtype=np.float32) * 100
    ab = np.zeros((64, 64, 2), np.float32)
    lo = export_result(tmp_path / "lo.jpg", L, ab, quality=20).stat().st_size
    hi = export_result(tmp_path / "hi.jpg", L, ab, quality=95).stat().st_size
    assert hi > lo * 1.5


def test_jpeg_cannot_be_16bit(tmp_path):
    L, ab = _scene()
    with pytest.raises(ExportError, match="8 bits"):
        export_result(tmp_path / "x.jpg", L, ab, bit_depth=16)
    assert default_bit_depth(document_from_L(L, bit_depth=16), tmp_path / "x.jpg") == 8


def test_unknown_extension(tmp_path):
    L, ab = _scene()
    with pytest.raises(ExportError, match=r"\.gif"):
        export_result(tmp_path / "x.gif", L, ab)


@pytest.mark.parametrize("suffix,depth", [("png", 8), ("png", 16), ("tif", 8), ("tif", 16)])
def test_alpha_is_written_back(tmp_path, suffix, depth):
    L, ab = _scene()
    alpha = np.tile(np.linspace(0, 1, 60, dtype=np.float32), (40, 1))
    out = export_result(tmp_path / f"a.{suffix}", L, ab, bit_depth=depth, alpha=alpha)
    doc = load_image(out)
    assert doc.alpha is not None
    np.testing.assert_allclose(doc.alpha, alpha, atol=1.0 / (255 if depth == 8 else 65535) + 1e-6)


def test_rgba_png_alpha_survives_load_and_export(tmp_path):
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[..., :3] = 128
    rgba[..., 3] = np.linspace(0, 255, 20).astype(np.uint8)
    src = tmp_path / "in.png"
    Image.fromarray(rgba, "RGBA").save(src)
    doc = load_image(src)
    out = export_result(tmp_path / "out.png", doc.L, np.zeros(doc.size + (2,), np.float32), alpha=doc.alpha)
    assert np.array_equal(np.asarray(Image.open(out))[..., 3], rgba[..., 3])


# ---------------------------------------------------------------- metadata

@pytest.mark.parametrize("suffix", ["png", "jpg", "tif"])
def test_rgb_icc_profile_and_exif_are_carried_over(tmp_path, suffix):
    L, ab = _scene()
    icc = _sRGB_icc()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = 1
    out = export_result(tmp_path / f"m.{suffix}", L, ab, icc_profile=icc, exif=exif.tobytes())
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x010F) == "TestCam"
        assert im.getexif().get(0x0112, 1) == 1


def test_gray_profile_is_not_put_into_an_rgb_file(tmp_path):
    L, ab = _scene()
    out = export_result(tmp_path / "g.png", L, ab, icc_profile=_gray_icc())
    with Image.open(out) as im:
        assert "icc_profile" not in im.info


def test_exif_from_a_rotated_photo_exports_upright(tmp_path):
    a = np.zeros((20, 40), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    src = tmp_path / "rot.jpg"
    Image.fromarray(a).save(src, exif=exif.tobytes())
    doc = load_image(src)
    out = export_result(tmp_path / "out.jpg", doc.L, np.zeros(doc.size + (2,), np.float32), exif=doc.exif)
    with Image.open(out) as im:
        assert im.size == (20, 40)  # (width, height): already turned
        assert im.getexif().get(0x0112) == 1 and im.getexif().get(0x010F) == "TestCam"


# ---------------------------------------------------------------- safe writes

def test_refuses_to_overwrite_the_input(tmp_path):
    src = tmp_path / "photo.png"
    Image.new("L", (8, 8), 77).save(src)
    before = src.read_bytes()
    doc = load_image(src)
    with pytest.raises(ExportError, match="input"):
        export_result(tmp_path / "." / "photo.png", doc.L, np.zeros((8, 8, 2), np.float32), protect=[src])
    assert src.read_bytes() == before and _no_temp_files(tmp_path)


def test_overwrite_false_keeps_an_existing_file(tmp_path):
    L, ab = _scene()
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="exists"):
        export_result(out, L, ab, overwrite=False)
    assert out.read_bytes() == b"keep me"
    export_result(out, L, ab, overwrite=True)
    assert out.read_bytes() != b"keep me"


def test_missing_folder(tmp_path):
    L, ab = _scene()
    with pytest.raises(ExportError, match="does not exist") as e:
        export_result(tmp_path / "no" / "such" / "out.png", L, ab)
    assert "\n" not in str(e.value)


def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root), so a read-only folder cannot be tested")
        L, ab = _scene()
        with pytest.raises(ExportError, match="read-only"):
            export_result(folder / "out.png", L, ab)
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


def test_disk_full_leaves_no_temp_file_and_keeps_the_old_export(tmp_path, monkeypatch):
    L, ab = _scene()
    out = tmp_path / "out.tif"
    out.write_bytes(b"previous export")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match="disk is full") as e:
        export_result(out, L, ab)
    assert "\n" not in str(e.value)
    assert out.read_bytes() == b"previous export" and _no_temp_files(tmp_path)


def test_encoder_failure_leaves_no_temp_file(tmp_path, monkeypatch):
    L, ab = _scene()

    def broken(*a, **k):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(tifffile, "imwrite", broken)
    with pytest.raises(RuntimeError):
        export_result(tmp_path / "out.tif", L, ab)
    assert os.listdir(tmp_path) == []


def test_written_file_gets_normal_permissions(tmp_path):
    # mkstemp makes 0600 files; an export must get the usual umask-based mode instead.
    from models import fileio as atomic

    L, ab = _scene()
    out = export_result(tmp_path / "out.png", L, ab)
    assert out.stat().st_mode & 0o777 == 0o666 & ~atomic._UMASK


def test_read_only_folder_message_even_as_root(tmp_path, monkeypatch):
    # Root can write into a chmod 555 folder, so the refusal is simulated where it happens.
    import tempfile

    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    L, ab = _scene()
    with pytest.raises(ExportError, match="read-only") as e:
        export_result(tmp_path / "out.png", L, ab)
    assert str(tmp_path / "out.png") in str(e.value) and "\n" not in str(e.value)
    assert os.listdir(tmp_path) == []


def test_exif_of_a_tiff_keeps_its_exif_sub_ifd_but_not_strip_tags(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "ScanCam"
    exif.get_ifd(0x8769)[0x9003] = "1950:06:01 12:00:00"  # DateTimeOriginal
    src = tmp_path / "scan.tif"
    Image.new("L", (8, 6), 90).save(src, exif=exif.tobytes())
    doc = load_image(src)
    out = export_result(tmp_path / "out.jpg", doc.L, np.zeros(doc.size + (2,), np.float32), exif=doc.exif)
    written = Image.open(out).getexif()
    assert written.get(0x010F) == "ScanCam"
    assert written.get_ifd(0x8769).get(0x9003) == "1950:06:01 12:00:00"
    assert 0x0111 not in written and 0x0100 not in written  # no StripOffsets / ImageWidth from the TIFF
