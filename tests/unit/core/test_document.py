"""Opening photos: every format and mode the issue names, made for real in tmp_path."""
from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from app.core.document import Document, document_from_L, load_image
from app.core.errors import ImageLoadError
from models.colour import grey_to_L, rgb_to_L


def _ramp16(h: int = 8, w: int = 2000) -> np.ndarray:
    return np.tile(np.linspace(0, 65535, w).round().astype(np.uint16), (h, 1))


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- good files

def test_grey_8bit_png_gives_L_of_its_grey(tmp_path):
    grey = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    p = tmp_path / "grey.png"
    Image.fromarray(grey).save(p)
    doc = load_image(p)
    assert isinstance(doc, Document)
    assert doc.size == (4, 256) and doc.bit_depth == 8 and doc.format == "PNG" and doc.source_mode == "L"
    assert doc.L.dtype == np.float32
    np.testing.assert_allclose(doc.L, grey_to_L(grey / 255.0), atol=1e-4)
    assert doc.L[0, 0] == pytest.approx(0.0, abs=1e-4) and doc.L[0, -1] == pytest.approx(100.0, abs=1e-3)
    assert doc.name == "grey" and doc.sha256 == _sha(p) and doc.alpha is None


@pytest.mark.parametrize("kind", ["png", "tiff"])
def test_16bit_grey_keeps_its_tonal_depth(tmp_path, kind):
    ramp = _ramp16()
    p = tmp_path / f"grey16.{'png' if kind == 'png' else 'tif'}"
    if kind == "png":
        Image.fromarray(ramp).save(p)
    else:
        tifffile.imwrite(p, ramp)
    doc = load_image(p)
    assert doc.bit_depth == 16
    assert len(np.unique(doc.L)) > 256  # an 8-bit detour would leave at most 256 levels
    np.testing.assert_allclose(doc.L, grey_to_L(ramp / 65535.0), atol=1e-3)


@pytest.mark.parametrize("suffix", ["tif", "png"])
def test_16bit_rgb_keeps_its_tonal_depth(tmp_path, suffix):
    ramp = _ramp16()
    rgb = np.stack([ramp, ramp, ramp], axis=-1)
    p = tmp_path / f"rgb16.{suffix}"
    if suffix == "tif":
        tifffile.imwrite(p, rgb, photometric="rgb")
    else:
        import cv2

        cv2.imwrite(str(p), rgb[..., ::-1])
    doc = load_image(p)
    assert doc.bit_depth == 16 and doc.size == ramp.shape
    assert len(np.unique(doc.L)) > 256
    np.testing.assert_allclose(doc.L, grey_to_L(ramp / 65535.0), atol=2e-3)


def test_rgb_photo_is_used_through_its_lightness(tmp_path):
    rgb = np.zeros((10, 30, 3), np.uint8)
    rgb[:, :10] = (200, 30, 30)
    rgb[:, 10:20] = (30, 200, 30)
    rgb[:, 20:] = (30, 30, 200)
    p = tmp_path / "colour.png"
    Image.fromarray(rgb).save(p)
    doc = load_image(p)
    np.testing.assert_allclose(doc.L, rgb_to_L(rgb / 255.0), atol=1e-3)
    # green is far lighter than blue at the same code value: lightness, not an average
    assert doc.L[0, 15] > doc.L[0, 25] + 30


def test_cmyk_jpeg_is_converted_to_rgb_before_lightness(tmp_path):
    rgb = np.zeros((16, 32, 3), np.uint8)
    rgb[:, :16] = 40
    rgb[:, 16:] = 220
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(p, quality=95)
    assert Image.open(p).mode == "CMYK"
    doc = load_image(p)
    assert doc.source_mode == "CMYK" and doc.icc_profile is None
    # dark stays dark, light stays light (an uninverted CMYK read would swap them)
    assert doc.L[8, 4] < 30 and doc.L[8, 28] > 80


def test_cmyk_with_a_foreign_profile_still_opens(tmp_path):
    # A CMYK-looking file whose embedded profile is plain sRGB-like would be refused by LCMS;
    # what matters: a broken/foreign profile never stops the photo from opening.
    rgb = np.full((8, 8, 3), 128, np.uint8)
    p = tmp_path / "cmyk_profile.jpg"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(rgb).convert("CMYK").save(p, icc_profile=srgb)
    doc = load_image(p)
    assert 40 < float(doc.L.mean()) < 70 and doc.icc_profile is None


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_pillow(tmp_path, orientation):
    a = np.zeros((20, 40), np.uint8)
    a[:6, :6] = 255  # a bright corner shows which way the photo was turned
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    p = tmp_path / f"o{orientation}.png"
    Image.fromarray(a).save(p, exif=exif.tobytes())
    doc = load_image(p)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(p)))
    assert doc.size == expected.shape
    np.testing.assert_allclose(doc.L, grey_to_L(expected / 255.0), atol=1e-3)
    assert doc.orientation == orientation
    kept = Image.Exif()
    kept.load(doc.exif)
    assert kept.get(0x0112) == 1 and kept.get(0x010F) == "TestCam"


def test_exif_rotated_jpeg_has_swapped_dimensions_and_right_pixels(tmp_path):
    a = np.zeros((40, 80), np.uint8)
    a[:12, :12] = 255  # top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    p = tmp_path / "rotated.jpg"
    Image.fromarray(a).save(p, exif=exif.tobytes(), quality=95)
    doc = load_image(p)
    assert doc.size == (80, 40)
    # after a clockwise turn the stored top-left corner sits top-right
    assert doc.L[:10, -10:].mean() > 90 and doc.L[:10, :10].mean() < 10
    assert doc.L[-10:, -10:].mean() < 10


def test_rgba_png_keeps_alpha(tmp_path):
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = np.linspace(0, 255, 20).astype(np.uint8)
    p = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(p)
    doc = load_image(p)
    assert doc.alpha is not None and doc.alpha.dtype == np.float32
    np.testing.assert_allclose(doc.alpha, rgba[..., 3] / 255.0, atol=1e-6)


def test_la_png_keeps_alpha(tmp_path):
    la = np.zeros((6, 6, 2), np.uint8)
    la[..., 0] = 90
    la[..., 1] = 200
    p = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(p)
    doc = load_image(p)
    np.testing.assert_allclose(doc.alpha, 200 / 255.0, atol=1e-6)
    np.testing.assert_allclose(doc.L, grey_to_L(np.full((6, 6), 90 / 255.0)), atol=1e-3)


def test_palette_png(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, 4:] = 250
    p = tmp_path / "palette.png"
    rgb[:, 4:] = (250, 40, 40)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(p)
    doc = load_image(p)
    assert doc.source_mode == "P"
    np.testing.assert_allclose(doc.L, rgb_to_L(rgb / 255.0), atol=1e-3)


@pytest.mark.parametrize("fmt,suffix", [("BMP", "bmp"), ("WEBP", "webp"), ("TIFF", "tiff"), ("JPEG", "jpeg")])
def test_other_formats_open(tmp_path, fmt, suffix):
    grey = np.tile(np.linspace(20, 230, 64).astype(np.uint8), (32, 1))
    p = tmp_path / f"photo.{suffix}"
    opts = {"lossless": True} if fmt == "WEBP" else {}
    Image.fromarray(grey).convert("RGB").save(p, format=fmt, **opts)
    doc = load_image(p)
    assert doc.format == fmt and doc.size == (32, 64)
    np.testing.assert_allclose(doc.L, grey_to_L(grey / 255.0), atol=1.0)


def test_lzw_tiff_falls_back_to_pillow(tmp_path):
    grey = np.tile(np.arange(0, 65535, 300, dtype=np.uint16), (4, 1))
    p = tmp_path / "lzw.tif"
    Image.fromarray(grey).save(p, compression="tiff_lzw")
    doc = load_image(p)
    assert doc.bit_depth == 16 and len(np.unique(doc.L)) == grey.shape[1]


def test_icc_profile_is_kept(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = tmp_path / "icc.png"
    Image.new("RGB", (4, 4), (100, 100, 100)).save(p, icc_profile=icc)
    assert load_image(p).icc_profile == icc


def test_png_with_wrong_extension_still_opens(tmp_path):
    p = tmp_path / "really_a_png.jpg"
    Image.fromarray(np.full((5, 7), 128, np.uint8)).save(p, format="PNG")
    doc = load_image(p)
    assert doc.format == "PNG" and doc.size == (5, 7)


def test_loading_never_changes_the_file(tmp_path):
    p = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("L", (30, 20), 100).save(p, exif=exif.tobytes())
    before, mtime = p.read_bytes(), p.stat().st_mtime_ns
    load_image(p)
    assert p.read_bytes() == before and p.stat().st_mtime_ns == mtime


def test_document_from_L():
    L = np.linspace(0, 100, 12, dtype=np.float32).reshape(3, 4)
    doc = document_from_L(L, bit_depth=16)
    assert doc.size == (3, 4) and doc.bit_depth == 16 and doc.name == "untitled"
    np.testing.assert_array_equal(doc.L, L)


# ---------------------------------------------------------------- bad files

def _assert_one_line(err: ImageLoadError, path, *words: str) -> None:
    msg = str(err)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg.lower(), msg


def test_missing_file(tmp_path):
    p = tmp_path / "nope.png"
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "does not exist")


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "empty")


def test_truncated_png(tmp_path):
    p = tmp_path / "cut.png"
    Image.fromarray((np.random.default_rng(0).random((200, 200)) * 255).astype(np.uint8)).save(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "truncated")


def test_truncated_tiff(tmp_path):
    p = tmp_path / "cut.tif"
    tifffile.imwrite(p, _ramp16(200, 200))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p)


def test_corrupt_png(tmp_path):
    p = tmp_path / "corrupt.png"
    Image.fromarray(np.full((50, 50), 10, np.uint8)).save(p)
    data = bytearray(p.read_bytes())
    data[40:60] = b"\xff" * 20  # smash the IDAT header and CRC
    p.write_bytes(bytes(data))
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p)


def test_text_file_named_jpg(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("shopping list: milk, eggs\n")
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "text file")


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.png"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "not an image")


def _png_with_header(w: int, h: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_bomb_sized_header_is_refused_before_decoding(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_with_header(100_000, 100_000))
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "100000 x 100000", "limit")


def test_pixel_limit_is_configurable(tmp_path):
    p = tmp_path / "small.png"
    Image.new("L", (100, 100)).save(p)
    with pytest.raises(ImageLoadError):
        load_image(p, max_pixels=5_000)
    assert load_image(p, max_pixels=10_000).size == (100, 100)


def test_pillow_bomb_guard_does_not_cut_below_our_limit(tmp_path, monkeypatch):
    # Pillow refuses images above 2x its own limit; ours (here 1 MP) decides instead.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    p = tmp_path / "medium.png"
    Image.new("L", (100, 100), 50).save(p)
    assert load_image(p, max_pixels=1_000_000).size == (100, 100)
    assert Image.MAX_IMAGE_PIXELS == 1000  # the process-wide setting is restored


def test_tiff_bomb_header(tmp_path):
    p = tmp_path / "bomb.tif"
    tifffile.imwrite(p, np.zeros((4, 4), np.uint8))
    data = bytearray(p.read_bytes())
    tif = tifffile.TiffFile(p)
    for tag in (tif.pages[0].tags[256], tif.pages[0].tags[257]):  # ImageWidth, ImageLength
        off = tag.valueoffset
        fmt = "<I" if tag.dtype == 4 else "<H"
        value = 60_000
        data[off : off + struct.calcsize(fmt)] = struct.pack(fmt, value)
    tif.close()
    p.write_bytes(bytes(data))
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "limit")


def test_directory(tmp_path):
    with pytest.raises(ImageLoadError) as e:
        load_image(tmp_path)
    _assert_one_line(e.value, tmp_path, "folder")


def test_unreadable_file(tmp_path):
    p = tmp_path / "secret.png"
    Image.new("L", (4, 4)).save(p)
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user who can read any file (root), so permissions cannot be tested")
        with pytest.raises(ImageLoadError) as e:
            load_image(p)
        _assert_one_line(e.value, p, "permission")
    finally:
        p.chmod(0o644)


def test_tiff_orientation_alpha_and_profile(tmp_path):
    rgba = np.zeros((20, 40, 4), np.uint16)
    rgba[..., :3] = 30000
    rgba[:5, :5, :3] = 65535  # bright stored top-left corner
    rgba[..., 3] = 65535
    rgba[:, :20, 3] = 0
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = tmp_path / "turned.tif"
    tifffile.imwrite(p, rgba, photometric="rgb", extrasamples=("unassalpha",), iccprofile=icc,
                     extratags=[(274, "H", 1, 6, True)])
    doc = load_image(p)
    assert doc.size == (40, 20) and doc.orientation == 6 and doc.bit_depth == 16
    assert doc.icc_profile == icc
    assert doc.L[:5, -5:].min() > 99  # stored top-left shows top-right after a clockwise turn
    assert doc.alpha is not None and doc.alpha[:20].max() == 0 and doc.alpha[20:].min() == 1


def test_min_is_white_tiff_is_not_inverted(tmp_path):
    a = np.zeros((4, 4), np.uint8)  # 0 means white in a min-is-white scan
    p = tmp_path / "miniswhite.tif"
    tifffile.imwrite(p, a, photometric="miniswhite")
    assert load_image(p).L.min() > 99


def test_permission_denied_message_even_as_root(tmp_path, monkeypatch):
    # Root reads any file, so the refusal is simulated at the open() the loader makes.
    import builtins

    p = tmp_path / "locked.png"
    Image.new("L", (4, 4)).save(p)
    real_open = builtins.open

    def guarded(file, *a, **k):
        if str(file) == str(p):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", guarded)
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    _assert_one_line(e.value, p, "permission")


def test_16bit_grey_alpha_png_keeps_depth_and_alpha(tmp_path):
    # Pillow would reduce a 16-bit grey+alpha PNG to 8 bits; write one by hand.
    h, w = 4, 300
    grey = np.tile(np.linspace(0, 65535, w).astype(np.uint16), (h, 1))
    alpha = np.full((h, w), 30000, np.uint16)
    rows = np.dstack([grey, alpha]).astype(">u2")
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    p = tmp_path / "la16.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    doc = load_image(p)
    assert doc.bit_depth == 16 and len(np.unique(doc.L)) == w
    np.testing.assert_allclose(doc.alpha, 30000 / 65535, atol=1e-6)
