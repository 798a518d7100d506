"""The colour as a layer: OpenRaster for GIMP and Krita, a colour-only TIFF for Photoshop."""
from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

import numpy as np
import tifffile
from PIL import Image

from app.cli import main


def _photo(tmp_path):
    grey = np.tile(np.linspace(30, 220, 64).astype(np.uint8), (48, 1))
    Image.fromarray(grey).save(tmp_path / "p.png")
    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    return tmp_path / "p.png", tmp_path / "m.png"


def test_ora_has_the_grey_photo_under_a_colour_layer_in_color_mode(tmp_path):
    photo, mask = _photo(tmp_path)
    out = tmp_path / "o.ora"
    assert main(["colorize", str(photo), "-o", str(out), "--mask", str(mask), "--hint", "10,20,#c03020",
                 "--model", "hints", "--hint-reach", "1"]) == 0
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert names[0] == "mimetype" and z.read("mimetype") == b"image/openraster"
        assert z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png", "data/photo.png", "data/colour0.png"} <= set(names)
        stack = ElementTree.fromstring(z.read("stack.xml"))
        layers = stack.findall("./stack/layer")
        assert [la.get("composite-op") for la in layers] == ["svg:color", None]  # colour on top, photo below
        base = np.asarray(Image.open(io.BytesIO(z.read("data/photo.png"))).convert("RGB"))
        colour = np.asarray(Image.open(io.BytesIO(z.read("data/colour0.png"))))
    original = np.asarray(Image.open(photo))
    assert np.abs(base[..., 0].astype(int) - original).max() <= 1 and (np.ptp(base, axis=-1) == 0).all()
    assert colour.shape[-1] == 4 and (colour[:, 40:, 3] == 0).all() and (colour[:, :20, 3] == 255).all()
    assert colour[:, :20, 0].mean() > colour[:, :20, 2].mean()  # the hint's red


def test_photoshop_colour_layer_is_a_16bit_tiff_with_alpha_for_a_16bit_photo(tmp_path):
    grey = (np.tile(np.linspace(0.1, 0.9, 64), (48, 1)) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "scan.tif", grey)
    _, mask = _photo(tmp_path)
    layer = tmp_path / "colour.tif"
    assert main(["colorize", str(tmp_path / "scan.tif"), "-o", str(tmp_path / "o.tif"), "--mask", str(mask),
                 "--hint", "10,20,#2050d0", "--model", "hints", "--hint-reach", "1", "--colour-layer", str(layer)]) == 0
    px = tifffile.imread(layer)
    assert px.dtype == np.uint16 and px.shape == (48, 64, 4)
    assert (px[:, 40:, 3] == 0).all() and (px[:, :20, 3] == 65535).all()
    assert px[:, :20, 2].mean() > px[:, :20, 0].mean()  # blue where the colour is


def test_ora_has_one_layer_per_region_named_after_it_and_flattens_like_the_plain_export(tmp_path):
    photo, _ = _photo(tmp_path)
    left = np.zeros((48, 64), np.uint8)
    left[:, :40] = 255
    right = np.zeros((48, 64), np.uint8)
    right[10:40, 30:] = 255  # overlaps the left region: the upper (right) one wins there
    Image.fromarray(left).save(tmp_path / "door.png")
    Image.fromarray(right).save(tmp_path / "wall.png")
    args = ["--region", f"{tmp_path / 'door.png'}=#a02020", "--region", f"{tmp_path / 'wall.png'}=#2040b0",
            "--model", "hints", "--feather", "3"]
    ora, flat = tmp_path / "o.ora", tmp_path / "o.png"
    assert main(["colorize", str(photo), "-o", str(ora), *args]) == 0
    assert main(["colorize", str(photo), "-o", str(flat), *args]) == 0
    with zipfile.ZipFile(ora) as z:
        stack = ElementTree.fromstring(z.read("stack.xml"))
        layers = stack.findall("./stack/layer")
        assert [la.get("name") for la in layers] == ["wall", "door", "Photo (grey original)"]  # top first
        assert [la.get("src") for la in layers[:2]] == ["data/colour1.png", "data/colour0.png"]
        door = np.asarray(Image.open(io.BytesIO(z.read("data/colour0.png"))))
        wall = np.asarray(Image.open(io.BytesIO(z.read("data/colour1.png"))))
        merged = np.asarray(Image.open(io.BytesIO(z.read("mergedimage.png"))).convert("RGB")).astype(int)
    assert (door[:, 45:, 3] == 0).all() and door[20, 10, 3] == 255 and door[20, 10, 0] > door[20, 10, 2]
    assert (wall[:5, :, 3] == 0).all() and wall[25, 50, 3] == 255 and wall[25, 50, 2] > wall[25, 50, 0]
    assert 0 < wall[25, 31, 3] < 255  # the feathered edge is the layer's alpha, not a paler colour
    assert np.abs(merged - np.asarray(Image.open(flat).convert("RGB")).astype(int)).max() <= 2
