"""Photos in: decode a file into a `Document` (float32 Lab lightness L, 0-100, at full size).

Colour photos are used through their lightness; 16-bit files keep their tonal depth because
L is computed in float straight from the 16-bit values (never through 8 bits). The original's
bit depth, alpha, ICC profile and EXIF travel with the document so export can give them back.

Every problem a user's file can have ends in one `ImageLoadError` whose message names the
file, the problem and the next step. The file is only ever opened for reading.
"""
from __future__ import annotations

import io
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from app.core.errors import ImageLoadError
from models.colour import LUMA as _LUMA_ROW
from models.colour import Y_to_L, grey_to_L, srgb_to_linear

DEFAULT_MAX_PIXELS = 250_000_000
# Only decoders we trust with a user's file (Pillow's EPS plugin would run Ghostscript).
_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "DIB", "WEBP", "GIF", "PPM")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_ORIENTATION_TAG = 0x0112
_CHUNK_PIXELS = 1 << 21  # rows are converted in blocks of ~2 MP to bound float temporaries
_pil_limit_lock = threading.Lock()


@dataclass
class Document:
    """A photo as Huebrush works on it. ``L`` is already in display orientation."""

    path: Path | None
    L: np.ndarray  # float32 (H, W), 0-100
    bit_depth: int  # 8 or 16: what the original held per channel
    alpha: np.ndarray | None  # float32 (H, W) 0-1, or None
    icc_profile: bytes | None
    exif: bytes | None  # with Orientation reset to 1 (the pixels are already turned)
    source_mode: str  # e.g. "L", "I;16", "RGB", "RGB;16", "CMYK", "P"
    format: str  # "PNG", "JPEG", "TIFF", ...
    sha256: str  # of the file's bytes ("" for in-memory documents)
    orientation: int = 1  # the EXIF orientation the file had (already applied)

    @property
    def size(self) -> tuple[int, int]:
        return self.L.shape  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self.path.stem if self.path is not None else "untitled"


def document_from_L(L: np.ndarray, *, bit_depth: int = 8, path: Path | None = None) -> Document:
    """Wrap an in-memory lightness array (tests, generated images) as a Document."""
    L = np.ascontiguousarray(L, dtype=np.float32)
    if L.ndim != 2:
        raise ValueError("L must be a 2-D array")
    return Document(Path(path) if path else None, L, bit_depth, None, None, None,
                    "I;16" if bit_depth == 16 else "L", "RAW", "")


def load_reference(path: str | os.PathLike, max_side: int = 1024) -> np.ndarray:
    """A colour reference photo as Lab float32 (h, w, 3), upright, long side at most ``max_side``
    (the models use it at the work size); ImageLoadError (one sentence) when it does not open."""
    from PIL import ImageOps

    from models.colour import rgb_to_lab

    path = Path(path)
    _check_readable_file(path)
    try:
        with open_pil_header(path, DEFAULT_MAX_PIXELS) as im:
            _check_pixels(path, im.width, im.height, DEFAULT_MAX_PIXELS)
            im = ImageOps.exif_transpose(im).convert("RGB")
            im.thumbnail((max_side, max_side))
            rgb = np.asarray(im, np.float32) / 255.0
    except ImageLoadError:
        raise
    except Image.UnidentifiedImageError:
        raise _not_an_image(path) from None
    except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile bytes
        raise _decode_error(path, e) from None
    return rgb_to_lab(rgb).astype(np.float32)


def load_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Document:
    """Open a photo as a Document, or raise ImageLoadError with one line a user can act on."""
    path = Path(path)
    _check_readable_file(path)
    with open(path, "rb") as f:
        head = f.read(32)
    # hashlib releases the GIL: the checksum of a 24 MP file overlaps with decoding it.
    hasher = ThreadPoolExecutor(max_workers=1)
    digest = hasher.submit(_sha256, path)
    try:
        if head.startswith(_TIFF_MAGIC):
            doc = _load_tiff(path, max_pixels)
        else:
            doc = _load_with_pillow(path, head, max_pixels)
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(f"Not enough memory to open {path}; close other programs or use a smaller copy.") from None
    except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile bytes; none may crash us
        raise _decode_error(path, e) from None
    finally:
        hasher.shutdown(wait=True)
    try:
        doc.sha256 = digest.result()
    except OSError as e:
        raise ImageLoadError(f"{path} could not be read to the end ({e.strerror or e}); check the file.") from None
    return doc


# ---------------------------------------------------------------- checks before decoding

def _check_readable_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(f"{path} does not exist; check the path and the file name.") from None
    except PermissionError:
        raise ImageLoadError(f"{path} cannot be reached (permission denied); check the folder's permissions.") from None
    except OSError as e:
        raise ImageLoadError(f"{path} cannot be read ({e.strerror or e}); check the path.") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageLoadError(f"{path} is a folder, not a photo; choose a file inside it.")
    if not stat.S_ISREG(st.st_mode):
        raise ImageLoadError(f"{path} is not a regular file; choose a photo file.")
    if st.st_size == 0:
        raise ImageLoadError(f"{path} is empty (0 bytes); the copy may have failed, so copy it again from the original.")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise ImageLoadError(f"{path} cannot be read (permission denied); check the file's permissions.") from None
    except OSError as e:
        raise ImageLoadError(f"{path} cannot be read ({e.strerror or e}); check the file.") from None


def _check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{path} claims a size of {width} x {height} pixels, so it is corrupt; open another copy.")
    if width * height > max_pixels:
        raise ImageLoadError(
            f"{path} is {width} x {height} pixels ({width * height / 1e6:.0f} MP), above the "
            f"{max_pixels / 1e6:.0f} MP limit; downscale it in another program first."
        )


def _decode_error(path: Path, e: BaseException) -> ImageLoadError:
    detail = (str(e).splitlines() or [type(e).__name__])[0][:120]
    if isinstance(e, EOFError) or any(w in detail.lower() for w in ("truncat", "end of file", "failed to read")):
        return ImageLoadError(f"{path} is truncated (the file ends early); copy it again from the original.")
    return ImageLoadError(f"{path} is corrupt ({detail}); open another copy or re-save it in another program.")


def _not_an_image(path: Path) -> ImageLoadError:
    with open(path, "rb") as f:
        sample = f.read(512)
    try:
        looks_text = b"\x00" not in sample and sample.decode("utf-8", errors="strict").strip() != ""
    except UnicodeDecodeError:  # may also be a multi-byte character cut at byte 512
        looks_text = b"\x00" not in sample and sample[:-4].decode("utf-8", errors="ignore").isprintable()
    what = "a text file, not a photo" if looks_text else "not an image Huebrush can read"
    return ImageLoadError(f"{path} is {what}; choose a PNG, JPEG, TIFF, BMP or WebP photo.")


def _sha256(path: Path) -> str:
    from models.fileio import sha256_file

    return sha256_file(path)


# ---------------------------------------------------------------- Pillow (PNG, JPEG, BMP, WebP, ...)

def open_pil_header(path: Path, max_pixels: int) -> Image.Image:
    """Image.open reads only the header. Pillow's own bomb guard is switched off for the call
    (under a lock: it is a process-wide setting) because `_check_pixels` applies our limit,
    with the real dimensions in the message, before anything is decoded."""
    Image.init()  # registers MPO, WebP, ... so the `formats` allow-list can name them
    with _pil_limit_lock:  # with the guard off Pillow neither warns nor raises about size
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(path, formats=_PIL_FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = old


def _load_with_pillow(path: Path, head: bytes, max_pixels: int) -> Document:
    try:
        im = open_pil_header(path, max_pixels)
    except Image.UnidentifiedImageError:
        raise _not_an_image(path) from None
    with im:
        _check_pixels(path, im.width, im.height, max_pixels)
        icc = im.info.get("icc_profile") or None
        exif, orientation = _exif_of(im)
        fmt = im.format or "?"
        mode = im.mode
        bit_depth = 8
        if _is_16bit_colour_png(head):
            # Pillow reduces 16-bit RGB(A)/LA PNGs to 8 bits; OpenCV keeps all 16.
            L, alpha = _decode_png16_with_cv2(path)
            mode, bit_depth = {1: "L;16", 2: "LA;16", 3: "RGB;16", 4: "RGBA;16"}[_png16_channels(head)], 16
        else:
            im.load()
            L, alpha, bit_depth, icc = _pil_pixels_to_L(im, icc)
        todo = _orientation_left(im, orientation)
    L, alpha = _orient(L, todo), _orient(alpha, todo)
    return Document(path, L, bit_depth, alpha, icc, exif, mode, fmt, "", orientation)


def _pil_pixels_to_L(im: Image.Image, icc: bytes | None):
    """-> (L, alpha, bit_depth, icc kept for export)."""
    mode = im.mode
    alpha = None
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return _grey_to_L(np.asarray(im).astype(np.uint16, copy=False)), None, 16, icc
    if mode == "I":  # 32-bit int: old Pillow's 16-bit grey PNGs, some TIFFs
        return _grey_to_L(np.clip(np.asarray(im), 0, 65535).astype(np.uint16)), None, 16, icc
    if mode == "F":
        return _grey_to_L(np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)), None, 16, icc
    if mode == "CMYK":
        return _rgb_to_L(_cmyk_to_rgb(im, icc)), None, 8, None  # a CMYK profile fits no RGB output
    if mode == "LAB":
        return np.asarray(im)[..., 0].astype(np.float32) * (100.0 / 255.0), None, 8, None
    if mode in ("P", "PA"):
        im = im.convert("RGBA" if (mode == "PA" or "transparency" in im.info) else "RGB")
    elif mode in ("1", "La"):
        im = im.convert("L" if mode == "1" else "LA")
    elif mode in ("RGBa", "RGBX", "YCbCr", "HSV"):
        im = im.convert("RGBA" if mode == "RGBa" else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")
    a = np.asarray(im)
    if im.mode in ("LA", "RGBA"):
        alpha = a[..., -1].astype(np.float32) / 255.0
        a = a[..., :-1]
    L = _grey_to_L(a if a.ndim == 2 else a[..., 0]) if a.ndim == 2 or a.shape[-1] == 1 else _rgb_to_L(a)
    return L, alpha, 8, icc


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> np.ndarray:
    """A CMYK photo through its own profile when it has one, else the standard ink formula."""
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
            return np.asarray(rgb)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the formula below
    cmyk = np.asarray(im).astype(np.float32) / 255.0
    k = 1.0 - cmyk[..., 3:4]
    return np.clip((1.0 - cmyk[..., :3]) * k, 0.0, 1.0)


def _exif_of(im: Image.Image) -> tuple[bytes | None, int]:
    """EXIF bytes with the orientation reset to 1, and the orientation the file had."""
    try:
        exif = im.getexif()
    except Exception:  # a malformed EXIF block must not stop the photo from opening
        return None, 1
    orientation = exif.get(_ORIENTATION_TAG, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    if im.format == "TIFF":
        # A TIFF's IFD0 also holds strip offsets and sizes; keep only the descriptive tags.
        keep = {0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298, 0x8769, 0x8825}
        clean = Image.Exif()
        for tag in keep & set(exif):
            # sub-IFDs (EXIF, GPS) are copied as contents: their offsets mean nothing elsewhere
            clean[tag] = exif.get_ifd(tag) if tag in (0x8769, 0x8825) else exif[tag]
        exif = clean
    if not len(exif):
        return None, orientation
    if _ORIENTATION_TAG in exif or orientation != 1:
        exif[_ORIENTATION_TAG] = 1
    try:
        return exif.tobytes(), orientation
    except Exception:
        return None, orientation


# ---------------------------------------------------------------- 16-bit PNG through OpenCV

def _png16_channels(head: bytes) -> int:
    return {0: 1, 4: 2, 2: 3, 6: 4}.get(head[25], 0)


def _is_16bit_colour_png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 26 and head[24] == 16 and head[25] in (2, 4, 6)


def _decode_png16_with_cv2(path: Path):
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    a = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if a is None or a.dtype != np.uint16:
        raise ValueError("OpenCV could not decode the 16-bit PNG data")
    if a.ndim == 2:
        return _grey_to_L(a), None
    alpha = a[..., 3].astype(np.float32) / 65535.0 if a.shape[-1] == 4 else None
    rgb = a[..., 2::-1] if a.shape[-1] >= 3 else np.repeat(a[..., :1], 3, axis=-1)
    return _rgb_to_L(rgb), alpha


# ---------------------------------------------------------------- TIFF (tifffile, Pillow as fallback)

def _load_tiff(path: Path, max_pixels: int) -> Document:
    """tifffile first (16-bit RGB, extra samples, float); Pillow/OpenCV for what it cannot decode."""
    import tifffile

    arr, icc, orientation, photometric, samples = None, None, 1, 1, 1
    planar_deep = cmyk_deep = False
    tiff_error: Exception | None = None
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            _check_pixels(path, int(page.imagewidth), int(page.imagelength), max_pixels)
            photometric = int(page.photometric)
            tags = page.tags
            icc = bytes(tags[34675].value) if 34675 in tags else None
            orientation = int(tags[274].value) if 274 in tags else 1
            samples = int(page.samplesperpixel)
            planar_deep = int(page.planarconfig) == 2 and samples > 1 and int(page.bitspersample) > 8
            cmyk_deep = photometric == 5 and samples >= 4 and int(page.bitspersample) > 8
            if (photometric in (0, 1, 2) or cmyk_deep) and page.dtype is not None and page.dtype.kind in "uf":
                arr = page.asarray()
    except (ImageLoadError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - e.g. LZW/JPEG need imagecodecs here; Pillow may still manage
        tiff_error = e
    if arr is None and (planar_deep or cmyk_deep):
        # Pillow and OpenCV misread these (scrambled pixels, or 16 bits cut to 8): never guess
        detail = (str(tiff_error).splitlines() or ["unsupported compression"])[0][:100] if tiff_error else "unsupported layout"
        raise ImageLoadError(f"{path} is a {'planar' if planar_deep else 'CMYK'} TIFF of more than 8 bits that "
                             f"cannot be decoded here ({detail}); re-save it as an interleaved RGB TIFF.")
    exif = None
    try:
        with open_pil_header(path, max_pixels) as im:
            _check_pixels(path, im.width, im.height, max_pixels)
            exif, pil_orientation = _exif_of(im)
            if arr is None:
                return _tiff_via_pillow_or_cv2(path, im, icc, exif, pil_orientation)
    except (ImageLoadError, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - Pillow is only the fallback here
        if arr is None:
            raise tiff_error or ValueError("neither tifffile nor Pillow can decode this TIFF") from None
    if not 1 <= orientation <= 8:
        orientation = 1
    arr = _samples_last(arr, samples)
    L, alpha, bits, mode = _tiff_array_to_L(arr, photometric)
    L, alpha = _orient(L, orientation), _orient(alpha, orientation)
    return Document(path, L, bits, alpha, icc, exif, mode, "TIFF", "", orientation)


def _samples_last(arr: np.ndarray, samples: int) -> np.ndarray:
    """(h, w) or (h, w, samples) from what tifffile returns: singleton leading axes dropped, and
    planar (samples, h, w) data turned channels-last. The layout is read off the array's shape,
    not off ``page.axes``, which names the file's storage order (planar files say ``SYX`` while
    some tifffile versions already return them channels-last)."""
    arr = np.asarray(arr)
    while arr.ndim > (3 if samples > 1 else 2) and arr.shape[0] == 1:
        arr = arr[0]
    if samples > 1:
        if arr.ndim != 3:
            raise ValueError(f"a TIFF with {samples} samples per pixel decoded to shape {arr.shape}")
        if arr.shape[-1] != samples and arr.shape[0] == samples:
            arr = np.moveaxis(arr, 0, -1)
        if arr.shape[-1] != samples:
            raise ValueError(f"a TIFF with {samples} samples per pixel decoded to shape {arr.shape}")
    elif arr.ndim != 2:
        raise ValueError(f"a one-sample TIFF decoded to shape {arr.shape}")
    return arr


def _tiff_array_to_L(arr: np.ndarray, photometric: int):
    if arr.dtype.kind == "f":
        arr = np.clip(arr.astype(np.float32), 0.0, 1.0)
        bits, suffix = 16, ";F"
    elif arr.dtype.itemsize >= 2:
        # 32-bit integer samples are scaled to 16 bits: that is already beyond what a print shows.
        arr = (arr >> (8 * arr.dtype.itemsize - 16)).astype(np.uint16) if arr.dtype.itemsize > 2 else arr.astype(np.uint16, copy=False)
        bits, suffix = 16, ";16"
    else:
        arr = arr.astype(np.uint8, copy=False)
        bits, suffix = 8, ""
    alpha = None
    channels = 1 if arr.ndim == 2 else arr.shape[-1]
    if photometric == 5 and channels >= 4:  # CMYK deeper than 8 bits: the standard ink formula
        ink = _to_unit(arr[..., :4])
        rgb = (1.0 - ink[..., :3]) * (1.0 - ink[..., 3:4])
        return _rgb_to_L(rgb.astype(np.float32)), None, bits, "CMYK" + suffix
    if photometric == 2 and channels >= 3:
        if channels >= 4:
            alpha = _to_unit(arr[..., 3])
        L, mode = _rgb_to_L(arr[..., :3]), ("RGBA" if alpha is not None else "RGB")
    else:
        grey = arr if arr.ndim == 2 else arr[..., 0]
        if channels >= 2:
            alpha = _to_unit(arr[..., 1])
        if photometric == 0:  # min-is-white: 0 means white
            grey = (1.0 - _to_unit(grey)) if grey.dtype.kind == "f" else np.iinfo(grey.dtype).max - grey
        L, mode = _grey_to_L(grey), ("LA" if alpha is not None else "L")
    mode += suffix
    return L, alpha, bits, {"L;16": "I;16", "L;F": "F"}.get(mode, mode)  # Pillow's names for grey


def _tiff_via_pillow_or_cv2(path: Path, im: Image.Image, icc, exif, orientation: int) -> Document:
    """Compressed TIFFs tifffile cannot decode without imagecodecs."""
    import cv2

    if im.mode == "RGB" or im.mode == "RGBA":
        a = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        if a is not None and a.dtype == np.uint16 and a.ndim == 3:  # Pillow would cut 16 bits to 8
            alpha = _to_unit(a[..., 3]) if a.shape[-1] == 4 else None
            L = _rgb_to_L(a[..., 2::-1])
            L, alpha = _orient(L, orientation), _orient(alpha, orientation)
            return Document(path, L, 16, alpha, icc, exif, "RGB;16", "TIFF", "", orientation)
    im.load()
    L, alpha, bits, icc = _pil_pixels_to_L(im, icc)
    todo = _orientation_left(im, orientation)
    L, alpha = _orient(L, todo), _orient(alpha, todo)
    return Document(path, L, bits, alpha, icc, exif, im.mode, "TIFF", "", orientation)


def _orientation_left(im: Image.Image, orientation: int) -> int:
    """The orientation still to apply to pixels Pillow has loaded: Pillow (10.x and later) turns a
    TIFF upright itself while loading it and then drops the tag; turning it again would be wrong."""
    if im.format == "TIFF" and _ORIENTATION_TAG not in getattr(im, "tag_v2", {_ORIENTATION_TAG: None}):
        return 1
    return orientation


# ---------------------------------------------------------------- pixels -> L

@lru_cache(maxsize=4)
def _grey_lut(bits: int) -> np.ndarray:
    v = np.arange(2**bits, dtype=np.float64) / (2**bits - 1)
    return grey_to_L(v.astype(np.float32))


@lru_cache(maxsize=4)
def _linear_lut(bits: int) -> np.ndarray:
    v = np.arange(2**bits, dtype=np.float64) / (2**bits - 1)
    return srgb_to_linear(v.astype(np.float32))


def _to_unit(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        return np.clip(a, 0.0, 1.0).astype(np.float32)
    return a.astype(np.float32) / float(np.iinfo(a.dtype).max)


def _grey_to_L(a: np.ndarray) -> np.ndarray:
    """sRGB-encoded grey samples -> L. Integer input goes through a lookup table (exact, fast)."""
    if a.dtype == np.uint8:
        return _grey_lut(8)[a]
    if a.dtype == np.uint16:
        return _grey_lut(16)[a]
    return grey_to_L(np.clip(a, 0.0, 1.0).astype(np.float32))


def _rgb_to_L(a: np.ndarray) -> np.ndarray:
    """sRGB (H, W, 3) -> L, block by block so a 24 MP photo never needs 24 MP x 3 floats."""
    h, w = a.shape[:2]
    out = np.empty((h, w), dtype=np.float32)
    luma = np.asarray(_LUMA_ROW, dtype=np.float32)
    lut = _linear_lut(8) if a.dtype == np.uint8 else _linear_lut(16) if a.dtype == np.uint16 else None
    step = max(1, _CHUNK_PIXELS // max(w, 1))
    for y in range(0, h, step):
        block = a[y : y + step]
        lin = lut[block] if lut is not None else srgb_to_linear(np.clip(block, 0.0, 1.0))
        Y = lin[..., 0] * luma[0] + lin[..., 1] * luma[1] + lin[..., 2] * luma[2]
        out[y : y + step] = Y_to_L(np.clip(Y, 0.0, 1.0))
    return out


def _orient(a: np.ndarray | None, orientation: int) -> np.ndarray | None:
    """Turn pixels the way EXIF orientation says (same mapping as Pillow's exif_transpose)."""
    if a is None or orientation == 1:
        return a
    turned = {
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: x.swapaxes(0, 1),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: x.swapaxes(0, 1)[::-1, ::-1],
        8: lambda x: np.rot90(x, 1),
    }[orientation](a)
    return np.ascontiguousarray(turned)
