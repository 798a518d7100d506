"""TIFFs as scanners write them: compressed, planar, CMYK, with an orientation (the hardening issue,
classes 1-3). Each file is made here; the expected pixels follow from the TIFF/EXIF rules alone."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from app.core.document import load_image
from app.core.errors import ImageLoadError

# display pixels for each EXIF/TIFF orientation, from the stored ones (TIFF 6.0, tag 274)
UPRIGHT = {1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.T, 6: lambda a: np.rot90(a, -1), 7: lambda a: a[::-1, ::-1].T, 8: lambda a: np.rot90(a, 1)}


def _marks() -> np.ndarray:
    a = np.zeros((20, 40), np.uint8)
    a[:5, :10] = 255  # a block at the top left and a bar at the bottom right: no symmetry
    a[15:, 30:34] = 255
    return a


@pytest.mark.parametrize("compression", ["tiff_lzw", "group4", "tiff_adobe_deflate", "packbits", None])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_applied_exactly_once_whatever_the_codec(tmp_path, compression, orientation):
    a = _marks()
    im = Image.fromarray(a).convert("1") if compression == "group4" else Image.fromarray(a)
    path = tmp_path / "scan.tif"
    im.save(path, compression=compression, tiffinfo={274: orientation})
    doc = load_image(path)
    want = UPRIGHT[orientation](a) > 128
    assert doc.L.shape == want.shape and np.array_equal(doc.L > 50, want)
    assert doc.orientation == orientation


def _rgb16(h: int = 30, w: int = 50) -> np.ndarray:
    rng = np.random.default_rng(0)
    rgb = (rng.random((h, w, 3)) * 65535).astype(np.uint16)
    rgb[:10] = 0
    return rgb


def test_planar_16bit_lzw_tiff_decodes_to_the_same_pixels_as_interleaved(tmp_path):
    rgb = _rgb16()
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(rgb, -1, 0), planarconfig="separate",
                     compression="lzw", photometric="rgb")
    tifffile.imwrite(tmp_path / "plain.tif", rgb, photometric="rgb")
    planar, plain = load_image(tmp_path / "planar.tif"), load_image(tmp_path / "plain.tif")
    assert planar.bit_depth == 16 and np.array_equal(planar.L, plain.L)


def test_a_deep_planar_tiff_that_cannot_be_decoded_is_refused_not_guessed(tmp_path, monkeypatch):
    rgb = _rgb16()
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), planarconfig="separate", compression="lzw", photometric="rgb")

    def no_codec(self, *a, **k):
        raise ValueError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", no_codec)
    with pytest.raises(ImageLoadError) as e:
        load_image(path)
    msg = str(e.value)
    assert "planar" in msg and str(path) in msg and "\n" not in msg


def test_16bit_cmyk_tiff_stays_16bit(tmp_path):
    rng = np.random.default_rng(1)
    cmyk = np.zeros((20, 30, 4), np.uint16)
    cmyk[..., 3] = np.linspace(0, 65535, 30).astype(np.uint16)  # a black-ink ramp: grey from white to black
    cmyk[:5, :, :3] = (rng.random((5, 30, 3)) * 20000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "cmyk.tif", cmyk, photometric="separated")
    doc = load_image(tmp_path / "cmyk.tif")
    assert doc.bit_depth == 16 and doc.source_mode == "CMYK;16"
    row = doc.L[10]
    assert row[0] > 99.0 and row[-1] < 1.0 and np.all(np.diff(row) < 0)  # white to black, in order
    # 16 bits of ramp give more distinct lightness values than 8 bits could
    assert len(np.unique(doc.L[10:])) == 30
