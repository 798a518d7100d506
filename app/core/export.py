"""Export: the full-size result (original L + composited ab) written to PNG, TIFF, JPEG, WebP or BMP.

The Lab -> sRGB conversion here is the same maths as `models.colour.lab_to_rgb` (gamut mapped
so that L is kept, exactly neutral where ab == 0) rewritten for speed on 24 MP photos: pixels
without colour take the cheap grey path, the rest are converted in row blocks (shared by a few
threads) so no 24 MP float temporaries pile up, and integer output goes through lookup tables
that stay within one level of the exact curve. Files are written atomically and never over
the input.
"""
from __future__ import annotations

import errno
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from app.core.errors import ExportError

# The same constants as models.colour, so both conversions agree to float rounding.
from models.colour import WHITE_D65, XYZ_TO_RGB, gamut_map_keep_L
from models.fileio import atomic_write, remove_stale_parts

_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
            ".ora": "ORA"}  # ORA: OpenRaster layers (app.core.layers)
EIGHT_BIT_ONLY = ("JPEG", "WEBP", "BMP")  # formats that hold 8 bits per channel at most
FORMAT_NAMES = {"JPEG": "JPEG", "WEBP": "WebP", "BMP": "BMP", "PNG": "PNG", "TIFF": "TIFF", "ORA": "OpenRaster"}
_BLOCK_PIXELS = 1 << 18  # ~0.25 MP per block keeps temporaries in cache and memory bounded
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_DELTA = 6.0 / 29.0
_KAPPA = 3.0 * _DELTA**2
# Lab (f-space) -> linear RGB with the D65 white folded into the matrix columns.
_M = (np.asarray(XYZ_TO_RGB, dtype=np.float64) * np.asarray(WHITE_D65, dtype=np.float64)[None, :]).astype(np.float32)


# ---------------------------------------------------------------- Lab -> sRGB, fast

def _f_inv(t: np.ndarray) -> np.ndarray:
    """Inverse Lab companding of float32 ``t``: t**3 above 6/29, the linear toe below."""
    out = t * t
    out *= t
    if t.size and t.min() <= _DELTA:  # most photos' pixels never reach the toe: skip the mask
        toe = t <= np.float32(_DELTA)
        np.copyto(out, t * np.float32(_KAPPA) - np.float32(_KAPPA * 4.0 / 29.0), where=toe)
    return out


def _encode_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear -> sRGB-encoded float32 (the IEC 61966-2-1 curve), clipped to [0, 1], in place."""
    np.clip(lin, 0.0, 1.0, out=lin)
    toe = lin <= np.float32(0.0031308)
    dark = lin * np.float32(12.92) if toe.any() else None
    np.power(lin, np.float32(1.0 / 2.4), out=lin)
    lin *= np.float32(1.055)
    lin -= np.float32(0.055)
    if dark is not None:
        np.copyto(lin, dark, where=toe)
    return lin


def _grey_block(L: np.ndarray) -> np.ndarray:
    """L -> the sRGB grey that R = G = B takes (same maths as models.colour.L_to_grey)."""
    fy = L.astype(np.float32, copy=True)
    fy += np.float32(16.0)
    fy *= np.float32(1.0 / 116.0)
    return _encode_srgb(_f_inv(fy))


def _linear_pixels(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L (...) and ab (..., 2) -> linear RGB (n, 3) in [0, 1], gamut-mapped keeping L.

    The XYZ -> RGB matrix runs through cv2.transform (plain float maths, vectorised); the
    companding and gamut steps work on one (n, 3) array to keep memory traffic low.
    """
    import cv2

    fy = L.reshape(-1, 1).astype(np.float32, copy=True)
    fy += np.float32(16.0)
    fy *= np.float32(1.0 / 116.0)
    ab = ab.reshape(-1, 2)
    fx = ab[:, :1] * np.float32(1.0 / 500.0)
    fx += fy
    fz = ab[:, 1:] * np.float32(-1.0 / 200.0)
    fz += fy
    y = _f_inv(fy)
    xyz = cv2.merge([_f_inv(fx), y, _f_inv(fz)])  # (n, 1, 3)
    lin = cv2.transform(xyz, _M).reshape(-1, 3)
    if lin.size and (lin.min() < 0.0 or lin.max() > 1.0):  # two fast reductions before any mask
        bad = (lin < 0.0) | (lin > 1.0)
        outside = bad[:, 0] | bad[:, 1] | bad[:, 2]
        lin[outside] = gamut_map_keep_L(lin[outside], y[outside, 0])
    return lin


@lru_cache(maxsize=2)
def _int_luts(bit_depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Tables straight to output integers: linear -> sRGB code and L -> grey code.

    2**21 steps for 16-bit output keep the table's own error under 0.5 level even on the
    steep dark end of the sRGB curve; a lookup is ~4 passes over memory where the exact
    power curve plus rounding is ~12.
    """
    dtype, scale = (np.uint16, 65535.0) if bit_depth == 16 else (np.uint8, 255.0)
    n = (1 << 21) if bit_depth == 16 else (1 << 16)
    lin = np.linspace(0.0, 1.0, n, dtype=np.float64).astype(np.float32)
    lin_lut = (_encode_srgb(lin) * np.float32(scale) + np.float32(0.5)).astype(dtype)
    L = np.linspace(0.0, 100.0, n, dtype=np.float64).astype(np.float32)
    grey_lut = (_grey_block(L) * np.float32(scale) + np.float32(0.5)).astype(dtype)
    return lin_lut, grey_lut


def _lookup(values: np.ndarray, lut: np.ndarray, top: float, clip: bool = True) -> np.ndarray:
    idx = values * np.float32((len(lut) - 1) / top)
    idx += np.float32(0.5)
    if clip:  # linear RGB from _linear_pixels is already inside [0, 1]
        np.clip(idx, 0.0, np.float32(len(lut) - 1), out=idx)
    return lut.take(idx.astype(np.intp))


def _convert_into(out: np.ndarray, L: np.ndarray, ab: np.ndarray, grey, colour) -> None:
    """Fill out[..., :3] block by block: grey(L) where ab == 0, colour(linear rgb) elsewhere.

    Blocks are independent and numpy/OpenCV release the GIL, so a few threads share them.
    """
    h, w = L.shape
    step = max(1, _BLOCK_PIXELS // max(w, 1))

    def one(y0: int) -> None:
        y1 = min(h, y0 + step)
        Lb, abb, o = L[y0:y1], ab[y0:y1], out[y0:y1, :, :3]
        neutral = (abb[..., 0] == 0) & (abb[..., 1] == 0)
        n_neutral = int(np.count_nonzero(neutral))
        if n_neutral * 2 > neutral.size:  # mostly grey: convert only the coloured pixels
            o[...] = grey(Lb)[..., None]
            if n_neutral < neutral.size:
                coloured = ~neutral
                o[coloured] = colour(_linear_pixels(Lb[coloured], abb[coloured]))
        else:  # mostly coloured: convert all, then make the neutral ones exactly grey
            o[...] = colour(_linear_pixels(Lb, abb)).reshape(o.shape)
            if n_neutral:
                o[neutral] = grey(Lb[neutral])[:, None]

    starts = range(0, h, step)
    workers = min(_WORKERS, len(starts))
    if workers <= 1:
        for y0 in starts:
            one(y0)
        return
    for _ in _pool().map(one, starts):
        pass  # re-raises the first error


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One shared pool: previews call this many times a second, so threads are not re-made."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="huebrush-rgb")
        return _POOL


def result_rgb(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """The result as sRGB float32 (H, W, 3) in [0, 1]; exactly neutral where ab == 0."""
    _check_shapes(L, ab, None)
    out = np.empty(L.shape + (3,), dtype=np.float32)
    _convert_into(out, L, ab, _grey_block, _encode_srgb)
    return out


def quantised_rgb(L: np.ndarray, ab: np.ndarray, alpha: np.ndarray | None, bit_depth: int) -> np.ndarray:
    """The result as 8/16-bit RGB(A) straight from L and ab (never a full-size float RGB array)."""
    dtype, scale = (np.uint16, 65535.0) if bit_depth == 16 else (np.uint8, 255.0)
    lin_lut, grey_lut = _int_luts(bit_depth)
    out = np.empty(L.shape + (4 if alpha is not None else 3,), dtype=dtype)
    _convert_into(out, L, ab, lambda Lb: _lookup(Lb, grey_lut, 100.0), lambda lin: _lookup(lin, lin_lut, 1.0, clip=False))
    if alpha is not None:
        out[..., 3] = np.clip(alpha, 0.0, 1.0) * np.float32(scale) + np.float32(0.5)
    return out


# ---------------------------------------------------------------- public API

def default_bit_depth(doc, path: str | os.PathLike | None = None) -> int:
    """16 for a 16-bit original (so its tonal depth survives), 8 otherwise or for an 8-bit-only format."""
    if path is not None and _FORMATS.get(Path(path).suffix.lower()) in EIGHT_BIT_ONLY:
        return 8
    return 16 if getattr(doc, "bit_depth", 8) == 16 else 8


def export_result(
    path: str | os.PathLike,
    L: np.ndarray,
    ab: np.ndarray,
    *,
    bit_depth: int = 8,
    quality: int = 95,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    alpha: np.ndarray | None = None,
    overwrite: bool = True,
    protect: Iterable[str | os.PathLike] = (),
    png_compression: int = 3,
) -> Path:
    """Write the result to ``path`` (format from its extension) atomically; raise ExportError.

    ``png_compression`` is zlib's level 0-9: batch export uses 1, which encodes about 1.5x
    faster for files about 12% larger.
    """
    path = Path(path)
    fmt = _format_of(path)
    if bit_depth not in (8, 16):
        raise ExportError(f"Cannot write {path} with {bit_depth} bits per channel; choose 8 or 16.")
    if fmt in EIGHT_BIT_ONLY and bit_depth == 16:
        raise ExportError(f"{FORMAT_NAMES[fmt]} holds only 8 bits per channel, so {path} cannot be 16-bit; use .png or .tif instead.")
    if not 1 <= int(quality) <= 100:
        raise ExportError(f"{FORMAT_NAMES.get(fmt, 'JPEG')} quality {quality} for {path} is out of range; choose 1-100.")
    _check_shapes(L, ab, alpha)
    check_output_path(path, overwrite=overwrite, protect=protect)
    if fmt == "ORA":
        raise ExportError(f"{path}: OpenRaster layers are written by app.core.output.write_result, not as one image.")
    icc = icc_profile if _icc_fits_rgb(icc_profile) else None  # e.g. a grey photo's Gray profile
    try:
        pixels = quantised_rgb(L, ab, alpha if fmt != "JPEG" else None, bit_depth)
    except MemoryError:
        raise ExportError(f"Not enough memory to export {path}; close other programs and try again.") from None
    if fmt == "PNG":
        write = lambda fh: write_png(fh, pixels, icc, exif, png_compression)  # noqa: E731
    elif fmt == "TIFF":
        write = lambda fh: write_tiff(fh, pixels, icc, exif)  # noqa: E731
    elif fmt in ("WEBP", "BMP"):
        write = lambda fh: _write_pillow(fh, pixels, fmt, icc, exif, int(quality))  # noqa: E731
    else:
        write = lambda fh: _write_jpeg(fh, pixels, icc, exif, int(quality))  # noqa: E731
    remove_stale_parts([path])  # what a killed earlier write of this file left behind
    _atomic_write(path, write)
    return path


def check_output_path(
    path: str | os.PathLike, *, overwrite: bool = True, protect: Iterable[str | os.PathLike] = ()
) -> Path:
    """Everything about an output path that can be refused before any work is done."""
    path = Path(path)
    _format_of(path)
    for p in protect:
        if _same_file(path, Path(p)):
            raise ExportError(f"Refusing to write over the input photo {path}; choose another output name.")
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name for the export.")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; choose another name or allow overwriting (--overwrite).")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist; create it or choose another folder for {path.name}.")
    return path


def _format_of(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path} has an unsupported extension; use .png, .tif, .tiff, .jpg, .jpeg, .webp, .bmp or .ora.")
    return fmt


# ---------------------------------------------------------------- writers

def write_png(fh: BinaryIO, pixels: np.ndarray, icc: bytes | None, exif: bytes | None, level: int = 3) -> None:
    import cv2

    bgr = pixels[..., [2, 1, 0, 3][: pixels.shape[-1]]]
    ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, int(min(max(level, 0), 9))])
    if not ok:
        raise OSError(errno.EIO, "the PNG encoder failed")
    data = memoryview(data.reshape(-1))  # written in pieces: no second copy of a 100 MB PNG
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        extra += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC: metadata goes before IDAT
    fh.write(data[:ihdr_end])
    fh.write(extra)
    fh.write(data[ihdr_end:])


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


_TIFF_TEXT_TAGS = {0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x013B: "Artist", 0x8298: "Copyright"}


def write_tiff(fh: BinaryIO, pixels: np.ndarray, icc: bytes | None, exif: bytes | None) -> None:
    import tifffile

    tags, when = [], None
    if exif:
        # TIFF keeps the descriptive IFD0 fields; the EXIF sub-IFD (exposure data) is not carried.
        ifd0 = _exif_ifd0(exif)
        for code in _TIFF_TEXT_TAGS:
            if isinstance(ifd0.get(code), str) and ifd0[code] and not (code == 0x010E and _machine_description(ifd0[code])):
                tags.append((code, "s", 0, ifd0[code], True))
        when = ifd0.get(0x0132) if isinstance(ifd0.get(0x0132), str) else None
    tifffile.imwrite(
        fh,
        pixels,
        photometric="rgb",
        extrasamples=("unassalpha",) if pixels.shape[-1] == 4 else None,
        iccprofile=icc,
        software="Huebrush",  # the program that made this file, not the scanner's
        datetime=when,
        metadata=None,
        extratags=tags,
    )


def _write_pillow(fh: BinaryIO, pixels: np.ndarray, fmt: str, icc: bytes | None, exif: bytes | None, quality: int) -> None:
    """WebP (lossy at ``quality``, lossless at 100; ICC and EXIF kept) and BMP (no metadata: the
    format has no place for it)."""
    from PIL import Image

    mode = "RGBA" if pixels.shape[-1] == 4 else "RGB"
    im = Image.fromarray(np.ascontiguousarray(pixels), mode)
    opts: dict = {}
    if fmt == "WEBP":
        opts = {"quality": quality, "lossless": quality >= 100, "method": 4}
        if icc:
            opts["icc_profile"] = icc
        if exif:
            opts["exif"] = exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif
    im.save(fh, format=fmt, **opts)


def _machine_description(text: str) -> bool:
    """An ImageDescription that describes the source file's layout for a program (tifffile's JSON
    shape, ImageJ's header, OME-XML), not the photo for a person: it would be wrong for the
    colour file, and readers trust it, so it is not carried over."""
    t = text.lstrip()
    if t.startswith(("ImageJ=", "<?xml", "<OME")):
        return True
    if t.startswith("{"):
        import json

        try:
            return isinstance(json.loads(t), dict)
        except ValueError:
            return False
    return False


def _write_jpeg(fh: BinaryIO, pixels: np.ndarray, icc: bytes | None, exif: bytes | None, quality: int) -> None:
    from PIL import Image

    opts = {"quality": quality}
    if icc:
        opts["icc_profile"] = icc
    if exif:
        opts["exif"] = exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif
    Image.fromarray(pixels[..., :3], "RGB").save(fh, format="JPEG", **opts)


def _exif_ifd0(exif: bytes) -> dict:
    from PIL import Image

    try:
        e = Image.Exif()
        e.load(exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif)
        return dict(e)
    except Exception:  # metadata is a courtesy: a malformed block must not stop the export
        return {}


def icc_for_rgb(icc: bytes | None) -> bytes | None:
    """The profile when it describes RGB pixels (a grey photo's Gray profile does not)."""
    return icc if _icc_fits_rgb(icc) else None


def _icc_fits_rgb(icc: bytes | None) -> bool:
    """An ICC profile may go into an RGB file only if it describes RGB device data."""
    if not icc or len(icc) < 128:
        return False
    device_class, colour_space = icc[12:16], icc[16:20]
    return colour_space == b"RGB " and device_class in (b"mntr", b"scnr", b"spac")


# ---------------------------------------------------------------- atomic write

def _atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist; create it or choose another folder for {path.name}.")
    try:
        atomic_write(path, write)
    except OSError as e:
        raise _os_error(path, e) from None


def _os_error(path: Path, e: OSError) -> ExportError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExportError(f"The disk is full, so {path} was not written; free some space or choose another drive.")
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"Cannot write {path}: the folder is read-only; choose another folder.")
    return ExportError(f"Could not write {path} ({e.strerror or e}); check the folder and try again.")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_shapes(L: np.ndarray, ab: np.ndarray, alpha: np.ndarray | None) -> None:
    if L.ndim != 2 or ab.shape != L.shape + (2,):
        raise ValueError(f"L must be (H, W) and ab (H, W, 2); got {L.shape} and {ab.shape}")
    if alpha is not None and alpha.shape != L.shape:
        raise ValueError(f"alpha must be (H, W) = {L.shape}; got {alpha.shape}")


__all__ = ["check_output_path", "default_bit_depth", "export_result", "result_rgb"]
