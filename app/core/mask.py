"""The mask: where colour goes. A bool image the size of the photo, edited by strokes,
polygons and whole-mask operations, with an undo history stored as small diffs.

Each undo step keeps only the bounding box that changed, before and after, packed eight
pixels to a byte, so a brush dab on a 24 MP mask costs a few kilobytes, not 24 MB.

A soft brush (hardness below 100 %) makes the mask soft: from the first soft dab on, the mask
also holds an 8-bit coverage (``coverage``: 0 outside, 255 fully coloured, in between a
partial colour), with ``data`` always its support (coverage > 0). Steps made while soft keep
the changed box's coverage, zlib-compressed. A mask never painted softly costs one bool per
pixel as before; everything that composes colour reads ``coverage`` (bool or uint8, see
``app.core.composite.feather_weights``).
Coordinates are image pixels (x, y) with the centre of pixel (i, j) at (j, i); bounding
boxes are (x0, y0, x1, y1) with x1, y1 exclusive.
"""
from __future__ import annotations

import os
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.fileio import atomic_write

from .errors import ImageLoadError, ProjectError

UNDO_LIMIT = 100  # undo steps kept per photo (the mask's history and the window's undo stack alike)

BBox = tuple[int, int, int, int]
_SHIFT = 4  # cv2 sub-pixel bits: strokes follow fractional pointer positions
_SCALE = 1 << _SHIFT


def _pack(a: np.ndarray) -> bytes:
    return np.packbits(a, axis=None).tobytes()


def _unpack(b: bytes, shape: tuple[int, int]) -> np.ndarray:
    n = shape[0] * shape[1]
    return np.unpackbits(np.frombuffer(b, np.uint8), count=n).reshape(shape).astype(bool)


def _union(a: BBox | None, b: BBox) -> BBox:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def changed_bbox(before: np.ndarray, after: np.ndarray) -> BBox | None:
    """The smallest box holding every pixel that differs, or None when nothing changed."""
    diff = before != after
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


@dataclass(frozen=True)
class _Diff:
    bbox: BBox
    before: bytes
    after: bytes
    soft: bool = False  # before/after are zlib-compressed uint8 coverage, not packed bits

    @property
    def nbytes(self) -> int:
        return len(self.before) + len(self.after)

    def state(self, which: str) -> np.ndarray:
        """The box's coverage (uint8, 0/255 for a hard step) before or after the step."""
        x0, y0, x1, y1 = self.bbox
        raw = self.before if which == "before" else self.after
        if self.soft:
            return np.frombuffer(zlib.decompress(raw), np.uint8).reshape(y1 - y0, x1 - x0).copy()
        return _unpack(raw, (y1 - y0, x1 - x0)).view(np.uint8) * np.uint8(255)


def _soft_diff(box: BBox, before: np.ndarray, after: np.ndarray) -> _Diff:
    return _Diff(box, zlib.compress(np.ascontiguousarray(before).tobytes(), 1),
                 zlib.compress(np.ascontiguousarray(after).tobytes(), 1), soft=True)


def inside(mask: np.ndarray) -> np.ndarray:
    """Where a mask (bool, or uint8 coverage) asks for any colour, as bool."""
    return mask if mask.dtype == bool else mask > 0


def as_mask(data) -> np.ndarray:
    """An array as a mask: a uint8 one is a soft mask's coverage and stays so, anything else is
    made bool (non-zero inside)."""
    data = np.asarray(data)
    return data if data.dtype == np.uint8 else data.astype(bool, copy=False)


@dataclass(frozen=True)
class _Step:
    label: str
    diff: _Diff


class Mask:
    """A bool (H, W) mask with grouped, diff-based undo/redo.

    Read ``data``; change it only through the methods so history and listeners stay right.
    ``on_change`` holds callables called with the changed bbox after every change
    (edits, undo, redo), so a canvas can redraw just that rectangle.
    """

    def __init__(self, height: int, width: int, history_limit: int = UNDO_LIMIT) -> None:
        if height <= 0 or width <= 0:
            raise ValueError("a mask needs a positive size")
        self._data = np.zeros((height, width), dtype=bool)
        self._alpha: np.ndarray | None = None  # uint8 coverage once the mask is soft, else None
        self.history_limit = max(0, int(history_limit))
        self._undo: deque[_Step] = deque()
        self._redo: list[_Step] = []
        self.on_change: list[Callable[[BBox], None]] = []
        self._group_label: str | None = None
        self._group_depth = 0
        self._group_pieces: list[_Diff] = []

    # ----- reading -------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        return self._data

    @property
    def coverage(self) -> np.ndarray:
        """What to compose with: the uint8 coverage of a soft mask, else the bool mask itself."""
        return self._alpha if self._alpha is not None else self._data

    @property
    def soft(self) -> bool:
        """True once a soft stroke (or a soft mask loaded) has given the mask partial coverage."""
        return self._alpha is not None

    @property
    def shape(self) -> tuple[int, int]:
        return self._data.shape  # type: ignore[return-value]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    @property
    def history_bytes(self) -> int:
        """Memory held by the undo and redo steps (the packed diffs)."""
        return sum(s.diff.nbytes for s in self._undo) + sum(s.diff.nbytes for s in self._redo)

    # ----- grouping ------------------------------------------------------------------
    def begin_edit(self, label: str) -> None:
        """Start a group (one mouse drag): every change until end_edit() is one undo step."""
        if self._group_depth == 0:
            self._group_label = label
            self._group_pieces = []
        self._group_depth += 1

    def end_edit(self) -> None:
        if self._group_depth == 0:
            return
        self._group_depth -= 1
        if self._group_depth:
            return
        pieces, self._group_pieces = self._group_pieces, []
        if not pieces:
            return
        box: BBox | None = None
        for p in pieces:
            box = _union(box, p.bbox)
        assert box is not None
        x0, y0, x1, y1 = box
        soft = self._alpha is not None  # soft: the group's step keeps coverage
        after = self.coverage[y0:y1, x0:x1].copy()
        before = after.copy()
        # Undo the pieces newest first inside the union box to recover the state before the drag.
        for p in reversed(pieces):
            px0, py0, px1, py1 = p.bbox
            before[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] = (
                p.state("before") if soft else _unpack(p.before, (py1 - py0, px1 - px0)))
        tight = changed_bbox(before, after)
        if tight is None:
            return  # the drag ended where it started
        tx0, ty0, tx1, ty1 = tight
        full = (x0 + tx0, y0 + ty0, x0 + tx1, y0 + ty1)
        b, a = before[ty0:ty1, tx0:tx1], after[ty0:ty1, tx0:tx1]
        diff = _soft_diff(full, b, a) if soft else _Diff(full, _pack(b), _pack(a))
        self._push(_Step(self._group_label or "Edit", diff))

    @contextmanager
    def edit(self, label: str) -> Iterator[Mask]:
        self.begin_edit(label)
        try:
            yield self
        finally:
            self.end_edit()

    # ----- edits ---------------------------------------------------------------------
    def stroke(self, points: Sequence[tuple[float, float]], radius: float, erase: bool = False,
               hardness: float = 1.0) -> None:
        """Paint (or erase) a round brush of ``radius`` px along the polyline ``points``.

        ``hardness`` (0-1) as in photo editors: 1 paints full colour to the brush's edge; below 1
        the coverage is full out to ``hardness * radius`` and fades smoothly to 0 at the edge.
        Painting keeps the higher coverage of old and new, erasing removes as much as the brush
        covers, so going over a spot twice does not pile up."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if pts.size == 0:
            return
        r = max(float(radius), 0.5)
        box = self._clip_box(pts, r + 1)
        if box is None:
            return
        h = min(max(float(hardness), 0.0), 1.0)
        label = "Eraser" if erase else "Brush"
        if h >= 1.0 and self._alpha is None:
            self._apply_crop(box, _capsules(pts, r, box), erase, label)
            return
        d = np.sqrt(_capsule_dist2(pts, r, box))
        ramp = max(r * (1.0 - h), 0.5)  # a hard brush on a soft mask: a half-pixel edge
        t = np.clip((r - d) / ramp, 0.0, 1.0)
        cover = np.round(t * t * (3.0 - 2.0 * t) * 255.0).astype(np.uint8)  # smoothstep fall-off
        self._apply_soft(box, cover, erase, label)

    def polygon(self, points: Sequence[tuple[float, float]], erase: bool = False) -> None:
        """Fill (or clear) the inside of a closed polygon / lasso."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3:
            return
        box = self._clip_box(pts, 1)
        if box is None:
            return
        x0, y0, x1, y1 = box
        canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
        fixed = np.round((pts - (x0, y0)) * _SCALE).astype(np.int32)
        cv2.fillPoly(canvas, [fixed], 1, cv2.LINE_8, _SHIFT)
        label = "Lasso erase" if erase else "Lasso"
        if self._alpha is not None:
            self._apply_soft(box, canvas * np.uint8(255), erase, label)
        else:
            self._apply_crop(box, canvas.astype(bool), erase, label)

    def invert(self) -> None:
        if self._alpha is not None:
            self._replace_soft(255 - self._alpha, "Invert")
        else:
            self._replace_all(~self._data, "Invert")

    def clear(self) -> None:
        self._replace_all(np.zeros_like(self._data), "Clear")

    def fill(self) -> None:
        self._replace_all(np.ones_like(self._data), "Fill")

    def grow(self, px: int) -> None:
        """Grow by ``px`` pixels (a soft edge moves outwards with its fall-off)."""
        if px > 0:
            if self._alpha is not None:
                self._replace_soft(cv2.dilate(self._alpha, _disc(px)), "Grow")
            else:
                self._replace_all(cv2.dilate(self._data.view(np.uint8), _disc(px)).astype(bool), "Grow")

    def shrink(self, px: int) -> None:
        if px > 0:
            # Pixels beyond the image border count as inside, so shrinking does not eat the frame edge.
            if self._alpha is not None:
                self._replace_soft(cv2.erode(self._alpha, _disc(px), borderType=cv2.BORDER_REPLICATE), "Shrink")
            else:
                eroded = cv2.erode(self._data.view(np.uint8), _disc(px), borderType=cv2.BORDER_REPLICATE)
                self._replace_all(eroded.astype(bool), "Shrink")

    def smooth(self, px: int) -> None:
        """Round off jagged edges and drop specks and pinholes smaller than about ``px``: the mask
        blurred over ``px`` pixels and cut at half (its area stays about the same). A soft mask
        keeps that outline and has its coverage blurred the same way inside it."""
        if px > 0:
            k = 2 * int(px) + 1

            def blur(a: np.ndarray) -> np.ndarray:
                return cv2.GaussianBlur(a.astype(np.float32), (k, k), px / 2.0, borderType=cv2.BORDER_REPLICATE)

            keep = blur(self._data.view(np.uint8)) >= 0.5
            if self._alpha is None:
                self._replace_all(keep, "Smooth")
                return
            cover = np.clip(np.round(blur(self._alpha)), 1, 255).astype(np.uint8)
            cover[~keep] = 0
            self._replace_soft(cover, "Smooth")

    def combine(self, other: np.ndarray, mode: str = "add") -> None:
        """Merge another mask (e.g. a click-to-segment result): add, subtract or replace."""
        other = np.asarray(other).astype(bool)
        if other.shape != self.shape:
            raise ValueError(f"mask of shape {other.shape} cannot be combined with {self.shape}")
        if mode not in ("add", "subtract", "replace"):
            raise ValueError(f"unknown combine mode {mode!r}: use add, subtract or replace")
        label = {"add": "Add to mask", "subtract": "Subtract from mask", "replace": "Replace mask"}[mode]
        if self._alpha is not None:
            new = self._alpha.copy() if mode != "replace" else np.zeros_like(self._alpha)
            new[other] = 0 if mode == "subtract" else 255
            self._replace_soft(new, label)
            return
        if mode == "add":
            new = self._data | other
        elif mode == "subtract":
            new = self._data & ~other
        else:
            new = other.copy()
        self._replace_all(new, label)

    def set_data(self, data: np.ndarray, label: str = "Load mask") -> None:
        """Replace the whole mask (loading a project or a mask file); undoable. A uint8 array is a
        coverage (0-255, a soft mask); anything else counts non-zero as inside."""
        data = np.asarray(data)
        if data.shape != self.shape:
            raise ValueError(f"mask of shape {data.shape} does not fit {self.shape}")
        if data.dtype == np.uint8 and _is_soft(data):
            self._replace_soft(data.copy(), label)
        else:
            self._replace_all(data.astype(bool), label)

    # ----- undo / redo ---------------------------------------------------------------
    def undo(self) -> str | None:
        """Undo the newest step; returns its label, or None when there is nothing to undo."""
        self._close_groups()
        if not self._undo:
            return None
        step = self._undo.pop()
        self._write(step.diff, "before")
        self._redo.append(step)
        return step.label

    def redo(self) -> str | None:
        self._close_groups()
        if not self._redo:
            return None
        step = self._redo.pop()
        self._write(step.diff, "after")
        self._undo.append(step)
        return step.label

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()

    # ----- files ---------------------------------------------------------------------
    def save_png(self, path: str | os.PathLike) -> Path:
        """Write the mask as an 8-bit PNG (255 = colour), atomically."""
        return save_mask_png(path, self.coverage)

    @classmethod
    def load_png(cls, path: str | os.PathLike, shape: tuple[int, int], history_limit: int = UNDO_LIMIT) -> Mask:
        return cls.from_array(read_mask_png(path, shape), history_limit)

    @classmethod
    def from_array(cls, data: np.ndarray, history_limit: int = UNDO_LIMIT) -> Mask:
        """A mask holding ``data``: bool, or a uint8 coverage (soft when it has partial values)."""
        data = np.asarray(data)
        m = cls(data.shape[0], data.shape[1], history_limit)
        if data.dtype == np.uint8 and _is_soft(data):
            m._alpha = data.copy()
            m._data[...] = data > 0
        else:
            m._data[...] = data.astype(bool)
        return m

    # ----- internals -----------------------------------------------------------------
    def _clip_box(self, pts: np.ndarray, margin: float) -> BBox | None:
        h, w = self.shape
        x0 = max(0, int(np.floor(pts[:, 0].min() - margin)))
        y0 = max(0, int(np.floor(pts[:, 1].min() - margin)))
        x1 = min(w, int(np.ceil(pts[:, 0].max() + margin)) + 1)
        y1 = min(h, int(np.ceil(pts[:, 1].max() + margin)) + 1)
        if x0 >= x1 or y0 >= y1:
            return None
        return (x0, y0, x1, y1)

    def _ensure_soft(self) -> None:
        if self._alpha is None:
            self._alpha = self._data.view(np.uint8) * np.uint8(255)

    def _apply_soft(self, box: BBox, cover: np.ndarray, erase: bool, label: str) -> None:
        """Lay a uint8 coverage on the crop ``box``: the higher of the two, or erase that much."""
        self._ensure_soft()
        assert self._alpha is not None
        x0, y0, x1, y1 = box
        before = self._alpha[y0:y1, x0:x1].copy()
        after = np.minimum(before, 255 - cover) if erase else np.maximum(before, cover)
        self._commit(box, before, after, label, soft=True)

    def _replace_soft(self, new: np.ndarray, label: str) -> None:
        self._ensure_soft()
        assert self._alpha is not None
        h, w = self.shape
        self._commit((0, 0, w, h), self._alpha.copy(), new.astype(np.uint8, copy=False), label, soft=True)

    def _apply_crop(self, box: BBox, shape: np.ndarray, erase: bool, label: str) -> None:
        x0, y0, x1, y1 = box
        before = self._data[y0:y1, x0:x1]
        after = before & ~shape if erase else before | shape
        self._commit(box, before.copy(), after, label)

    def _replace_all(self, new: np.ndarray, label: str) -> None:
        if self._alpha is not None:
            self._replace_soft(new.view(np.uint8) * np.uint8(255), label)
            return
        h, w = self.shape
        self._commit((0, 0, w, h), self._data.copy(), new, label)

    def _commit(self, box: BBox, before: np.ndarray, after: np.ndarray, label: str, soft: bool = False) -> None:
        """Write ``after`` (bool, or with ``soft`` the uint8 coverage) over ``box`` as one change."""
        tight = changed_bbox(before, after)
        if tight is None:
            return  # a no-op edit leaves history (and redo) alone
        tx0, ty0, tx1, ty1 = tight
        x0, y0 = box[0], box[1]
        bbox = (x0 + tx0, y0 + ty0, x0 + tx1, y0 + ty1)
        b = before[ty0:ty1, tx0:tx1]
        a = after[ty0:ty1, tx0:tx1]
        if soft:
            assert self._alpha is not None
            self._alpha[bbox[1] : bbox[3], bbox[0] : bbox[2]] = a
            self._data[bbox[1] : bbox[3], bbox[0] : bbox[2]] = a > 0
            diff = _soft_diff(bbox, b, a)
        else:
            self._data[bbox[1] : bbox[3], bbox[0] : bbox[2]] = a
            diff = _Diff(bbox, _pack(b), _pack(a))
        if self._group_depth:
            self._group_pieces.append(diff)
            self._redo.clear()
        else:
            self._push(_Step(label, diff))
        self._notify(bbox)

    def _push(self, step: _Step) -> None:
        self._redo.clear()
        self._undo.append(step)
        while len(self._undo) > self.history_limit:
            self._undo.popleft()

    def _write(self, diff: _Diff, which: str) -> None:
        x0, y0, x1, y1 = diff.bbox
        if diff.soft or self._alpha is not None:
            # a hard step undone on a mask that is soft now: it dates from before the first soft
            # dab, when every pixel was 0 or full, so 0/255 is exact
            cover = diff.state(which)
            self._ensure_soft()
            assert self._alpha is not None
            self._alpha[y0:y1, x0:x1] = cover
            self._data[y0:y1, x0:x1] = cover > 0
        else:
            raw = diff.before if which == "before" else diff.after
            self._data[y0:y1, x0:x1] = _unpack(raw, (y1 - y0, x1 - x0))
        self._notify(diff.bbox)

    def _close_groups(self) -> None:
        # Undo in the middle of a drag: finish the drag first so it becomes the step undone.
        while self._group_depth:
            self.end_edit()

    def _notify(self, box: BBox) -> None:
        for cb in list(self.on_change):
            cb(box)


def _is_soft(cover: np.ndarray) -> bool:
    """Whether a uint8 coverage has any partial value (else it is a hard mask in 0/255 form)."""
    return bool(((cover > 0) & (cover < 255)).any())


def _capsule_dist2(pts: np.ndarray, r: float, box: BBox) -> np.ndarray:
    """Squared distance from each pixel centre of the crop ``box`` to the polyline, exact within
    ``r`` of it (beyond that: at least r*r, maybe infinity)."""
    x0, y0, x1, y1 = box
    best = np.full((y1 - y0, x1 - x0), np.inf)
    segs = list(zip(pts[:-1], pts[1:])) if len(pts) > 1 else [(pts[0], pts[0])]
    for a, b in segs:
        sx0 = max(x0, int(np.floor(min(a[0], b[0]) - r)))
        sy0 = max(y0, int(np.floor(min(a[1], b[1]) - r)))
        sx1 = min(x1, int(np.ceil(max(a[0], b[0]) + r)) + 1)
        sy1 = min(y1, int(np.ceil(max(a[1], b[1]) + r)) + 1)
        if sx0 >= sx1 or sy0 >= sy1:
            continue
        px = np.arange(sx0, sx1, dtype=np.float64)[None, :] - a[0]
        py = np.arange(sy0, sy1, dtype=np.float64)[:, None] - a[1]
        dx, dy = b[0] - a[0], b[1] - a[1]
        seg2 = dx * dx + dy * dy
        if seg2 > 0:
            t = np.clip((px * dx + py * dy) / seg2, 0.0, 1.0)
            d2 = (px - t * dx) ** 2 + (py - t * dy) ** 2
        else:
            d2 = px * px + py * py
        view = best[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
        np.minimum(view, d2, out=view)
    return best


def _capsules(pts: np.ndarray, r: float, box: BBox) -> np.ndarray:
    """Pixels whose centre lies within ``r`` of the polyline, on the crop ``box``.

    Computed exactly per segment inside that segment's own bounding box (cv2's thick lines
    are lopsided by a pixel, which shows as a wobbly brush edge).
    """
    return _capsule_dist2(pts, r, box) <= r * r


def _disc(px: int) -> np.ndarray:
    # a true disc: cv2's MORPH_ELLIPSE kernel is flattened, so grow then shrink would drift
    r = int(px)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx * xx + yy * yy <= r * r + r).astype(np.uint8)


def read_mask_png(source: str | os.PathLike | bytes, shape: tuple[int, int] | None = None, *,
                  name: str | None = None, max_pixels: int | None = None, soft: bool = False) -> np.ndarray:
    """Read a mask image (a path, or the file's bytes): any non-zero pixel is inside (an alpha-only
    mask uses its alpha). The size in the header is checked against ``shape`` (or the pixel limit)
    before a single pixel is decoded, so a small file that inflates to gigabytes is refused.

    ``soft``: an 8-bit grey mask with partial values (a project's soft brush strokes) comes back as
    its uint8 coverage; otherwise, and always for other images, a bool mask."""
    import io

    from PIL import Image, UnidentifiedImageError

    from .document import DEFAULT_MAX_PIXELS, open_pil_header

    in_memory = isinstance(source, (bytes, bytearray))
    label = name or ("the mask" if in_memory else str(source))
    fp = io.BytesIO(source) if in_memory else Path(source)
    limit = max_pixels or DEFAULT_MAX_PIXELS
    try:
        with open_pil_header(fp, limit) as img:
            w, h = img.size
            if shape is not None and (h, w) != tuple(shape):
                raise ProjectError(
                    f"Mask {label} is {w}x{h} px but the photo is {shape[1]}x{shape[0]} px: use a mask made for this photo.")
            if w * h > limit:
                raise ImageLoadError(f"Mask {label} is {w} x {h} pixels, above the {limit / 1e6:.0f} MP limit: it cannot be a mask for a photo Huebrush opens.")
            if img.mode == "P":
                img = img.convert("RGBA")
            arr = np.asarray(img)
            bands = img.getbands()
    except (ProjectError, ImageLoadError):
        raise
    except FileNotFoundError:
        raise ImageLoadError(f"Mask file {label} does not exist: check the path.") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise ImageLoadError(f"Mask file {label} could not be read ({e}): save it as a PNG.") from None
    if arr.ndim == 2:
        if soft and arr.dtype == np.uint8 and _is_soft(arr):
            return np.ascontiguousarray(arr)
        data = arr != 0
    else:
        colour_idx = [i for i, b in enumerate(bands) if b != "A"]
        data = arr[..., colour_idx].any(axis=-1)
        if "A" in bands and not data.any():
            data = arr[..., bands.index("A")] != 0
    return data


def mask_png_pixels(data: np.ndarray) -> np.ndarray:
    """A mask as the 8-bit grey a mask PNG holds: 255 inside (or the coverage of a soft mask)."""
    data = np.asarray(data)
    return data if data.dtype == np.uint8 else data.astype(bool).view(np.uint8) * np.uint8(255)


def save_mask_png(path: str | os.PathLike, data: np.ndarray) -> Path:
    """Write a mask (bool, or uint8 coverage) as an 8-bit grey PNG, atomically."""
    from PIL import Image

    path = Path(path)
    img = Image.fromarray(mask_png_pixels(data), mode="L")
    try:
        atomic_write(path, lambda f: img.save(f, format="PNG"))
    except OSError as e:
        raise ProjectError(
            f"Could not write mask {path} ({e.strerror or e}): choose a folder you can write to, with free space."
        ) from None
    return path
