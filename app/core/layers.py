"""The colour as a layer for the restorer's editor.

``export_ora``: an OpenRaster file (the open layered format GIMP and Krita read): the untouched grey
photo as the base layer and the colour as a layer in Color blend mode above it (one layer per named
colour layer given), plus the merged image and a thumbnail as the format asks.
``export_colour_layer``: for Photoshop, a TIFF of the colour alone with alpha (transparent where no
colour was asked for), meant to be placed as a layer in Color mode over the photo.
Both keep the photo's size and bit depth; the TIFF carries the ICC profile and EXIF as other exports.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from models.fileio import atomic_write

from .errors import ExportError
from .export import check_output_path, quantised_rgb, write_png, write_tiff


def _png(pixels: np.ndarray, icc: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    write_png(buf, pixels, icc, None, 3)
    return buf.getvalue()


def export_ora(path: str | os.PathLike, L: np.ndarray, layers, *, bit_depth: int = 8,
               icc_profile: bytes | None = None, protect=()) -> Path:
    """``layers``: ``(name, ab (H, W, 2))`` or ``(name, ab, alpha (H, W))`` from the bottom up, any
    iterable (taken one at a time); each becomes a Color-mode layer of its colour over the grey photo,
    opaque where its ab is not 0 unless an alpha is given (a colour region's feathered coverage)."""
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() != ".ora":
        raise ExportError(f"{path} is not an OpenRaster name; use the .ora extension.")
    check_output_path(path, overwrite=True, protect=protect)
    H, W = L.shape
    zero = np.zeros((H, W, 2), np.float32)
    base = quantised_rgb(L, zero, None, bit_depth)
    members: list[tuple[str, bytes]] = [("data/photo.png", _png(base, icc_profile))]
    merged_ab = zero
    names: list[str] = []
    for i, layer in enumerate(layers):
        name, ab = layer[0], layer[1]
        alpha = layer[2] if len(layer) > 2 else np.any(ab != 0, axis=-1).astype(np.float32)
        members.append((f"data/colour{i}.png", _png(quantised_rgb(L, ab, alpha, bit_depth), icc_profile)))
        # Color mode: the upper layer's colour over the ones below, by its alpha
        merged_ab = merged_ab + alpha[..., None] * (ab - merged_ab)
        names.append(name)
        del ab, alpha, layer
    merged8 = quantised_rgb(L, merged_ab, None, 8)
    thumb = Image.fromarray(merged8)
    thumb.thumbnail((256, 256))
    stack = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<image version="0.0.5" w="{W}" h="{H}"><stack>']
    for i, name in reversed(list(enumerate(names))):  # OpenRaster lists the top layer first
        stack.append(f'<layer name={quoteattr(name)} src="data/colour{i}.png" composite-op="svg:color" '
                     f'opacity="1.0" visibility="visible" x="0" y="0"/>')
    stack.append('<layer name="Photo (grey original)" src="data/photo.png" opacity="1.0" visibility="visible" x="0" y="0"/>')
    stack.append("</stack></image>")
    buf = io.BytesIO()
    thumb.save(buf, "PNG")

    def write(fh) -> None:
        with zipfile.ZipFile(fh, "w") as z:
            z.writestr(zipfile.ZipInfo("mimetype"), "image/openraster", compress_type=zipfile.ZIP_STORED)  # first, stored
            z.writestr("stack.xml", "\n".join(stack), compress_type=zipfile.ZIP_DEFLATED)
            for name, data in members:
                z.writestr(name, data, compress_type=zipfile.ZIP_STORED)  # PNG is compressed already
            z.writestr("mergedimage.png", _png(merged8), compress_type=zipfile.ZIP_STORED)
            z.writestr("Thumbnails/thumbnail.png", buf.getvalue(), compress_type=zipfile.ZIP_STORED)

    try:
        return atomic_write(path, write)
    except OSError as e:
        raise ExportError(f"Could not write {path} ({e.strerror or e}); choose a folder you can write to, with free space.") from None


def colour_layer_path(output: str | os.PathLike) -> Path:
    """Where the colour layer of an export goes when it is written beside it: ``NAME_layer.tif``."""
    output = Path(output)
    return output.with_name(f"{output.stem}_layer.tif")


def export_colour_layer(path: str | os.PathLike, L: np.ndarray, ab: np.ndarray, *, bit_depth: int = 8,
                        icc_profile: bytes | None = None, exif: bytes | None = None, protect=()) -> Path:
    """A TIFF of the colour alone (RGB at the photo's lightness where colour was asked for) with
    alpha 0 elsewhere, for a Color-mode layer in Photoshop."""
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise ExportError(f"{path}: the colour layer is written as TIFF; use the .tif extension.")
    check_output_path(path, overwrite=True, protect=protect)
    alpha = np.any(ab != 0, axis=-1).astype(np.float32)
    pixels = quantised_rgb(L, ab, alpha, bit_depth)
    try:
        return atomic_write(path, lambda fh: write_tiff(fh, pixels, icc_profile, exif))
    except OSError as e:
        raise ExportError(f"Could not write {path} ({e.strerror or e}); choose a folder you can write to, with free space.") from None
