"""Compositing: colour only inside the mask, the untouched original grey outside.

Output ab = (predicted ab + colour balance) x feathered mask x saturation. The feather only fades inwards
(weights come from the distance to the nearest unmasked pixel), so outside the mask the
weight - and therefore ab - is exactly 0 and those pixels stay exactly neutral grey.

The one finishing path: export writes ``composite_ab`` through ``export.result_rgb`` at 8 or 16
bits, and the window shows ``compose_rgb8`` of any rectangle, the same maths at 8 bits, with one
padding rule (``feather_margin``) for what a rectangle must see and what a mask edit dirties.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .mask import inside

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in full-size pixels
BAND_PIXELS = 1 << 20  # whole-photo work goes in bands: short GIL holds keep the window fluid


def feather_weights(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """Float32 weights in [0, 1]: 0 exactly outside the mask, rising to 1 over ``feather_px``
    pixels inside it. The photo's border does not count as outside.

    ``mask`` is bool, or a soft mask's uint8 coverage (0-255): then the weights are the feather's
    times the coverage (a soft brush's fall-off), still exactly 0 where the coverage is 0."""
    mask = np.asarray(mask)
    if mask.dtype == np.uint8:
        w = feather_weights(inside(mask), feather_px)
        w *= mask
        w *= np.float32(1.0 / 255.0)
        return w
    mask = mask.astype(bool, copy=False)
    if feather_px <= 0 or mask.all():
        return mask.astype(np.float32)
    # distance (px) from each masked pixel to the nearest unmasked one; 0 outside
    t = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    t *= np.float32(1.0 / feather_px)
    np.minimum(t, np.float32(1.0), out=t)
    # smoothstep t*t*(3 - 2t): no visible kink where the ramp meets full colour. In place,
    # because at 24 MP every temporary array costs ~100 MB and ~30 ms.
    ramp = np.multiply(t, np.float32(-2.0))
    ramp += np.float32(3.0)
    ramp *= t
    ramp *= t
    return ramp


@dataclass(frozen=True)
class Grade:
    """What the photo's settings do to the network's colour: its ab plus the colour balance
    (``tint`` on a: + magenta, - green; ``warmth`` on b: + yellow, - blue), times ``saturation``
    (0-2). The balance takes out a cast the network put on the whole photo, as a colour-balance
    control does in an editor; chosen colours (tinted regions, hints met exactly) keep their own."""

    saturation: float = 1.0
    tint: float = 0.0
    warmth: float = 0.0

    @property
    def factor(self) -> np.float32:
        """The saturation, held to 0-2."""
        return np.float32(min(max(float(self.saturation), 0.0), 2.0))

    def balance(self, ab: np.ndarray) -> np.ndarray:
        """ab plus the colour balance (``ab`` itself when there is none), float32."""
        ab = np.asarray(ab, np.float32)
        return ab + np.array([self.tint, self.warmth], np.float32) if (self.tint or self.warmth) else ab

    def apply(self, ab: np.ndarray, saturation: float = 1.0) -> np.ndarray:
        """(ab + balance) x this grade's saturation x ``saturation`` (a region's own), float32."""
        return self.balance(ab) * (self.factor * np.float32(saturation))


def as_grade(g: Grade | float) -> Grade:
    """A ``Grade``, or a bare saturation as one (no colour balance)."""
    return g if isinstance(g, Grade) else Grade(float(g))


def composite_ab(
    ab_full: np.ndarray, mask: np.ndarray | None, feather_px: float = 4.0, saturation: Grade | float = 1.0
) -> np.ndarray:
    """ab (H, W, 2) for display/export: (predicted ab + colour balance) x feathered mask x saturation
    (0-2); ``saturation`` is a number or a ``Grade`` (saturation and colour balance)."""
    grade = as_grade(saturation)
    ab = np.asarray(ab_full, dtype=np.float32)
    if mask is None:
        return grade.apply(ab)
    if not np.isfinite(ab).all():  # a broken prediction must not leak NaN through weight 0
        ab = np.nan_to_num(ab, nan=0.0, posinf=0.0, neginf=0.0)
    ab = grade.balance(ab)
    w = feather_weights(mask, feather_px)
    w *= grade.factor
    # weight 0 gives exactly +-0 (ab is finite), which is neutral: outside the mask R = G = B
    return np.multiply(ab, w[..., None])


def feather_margin(feather_px: float) -> int:
    """How far (px) a mask change reaches through the feather: a pixel's weight depends on the
    mask within ``feather_px`` of it (+5 % and 2 px: the 5x5 chamfer distance can undershoot)."""
    return int(math.ceil(float(feather_px) * 1.05)) + 2 if feather_px > 0 else 0


def dirty_rect(rect: Rect, feather_px: float, shape: tuple[int, int]) -> Rect:
    """The pixels whose composite a mask edit inside ``rect`` may change."""
    m = feather_margin(feather_px)
    H, W = shape
    x0, y0, x1, y1 = rect
    return (max(0, x0 - m), max(0, y0 - m), min(W, x1 + m), min(H, y1 + m))


def _grey_lut() -> np.ndarray:
    from models.colour import L_to_grey

    L = np.arange(0, 100 * 64 + 1, dtype=np.float32) / 64.0
    return (np.clip(L_to_grey(L), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


_GREY_LUT: np.ndarray | None = None


def grey8(L: np.ndarray) -> np.ndarray:
    """The untouched photo as 8-bit grey (R = G = B on screen), via a 1/64-L lookup table."""
    global _GREY_LUT
    if _GREY_LUT is None:
        _GREY_LUT = _grey_lut()
    H, W = L.shape
    out = np.empty((H, W), np.uint8)
    step = max(1, BAND_PIXELS // max(W, 1))
    for y in range(0, H, step):
        idx = np.clip(L[y : y + step] * 64.0 + 0.5, 0, 6400).astype(np.int32)
        out[y : y + step] = _GREY_LUT[idx]
    return out


def compose_rgb8(L: np.ndarray, ab_up: np.ndarray | None, mask: np.ndarray, feather: float, saturation: Grade | float,
                 rect: Rect | None = None) -> np.ndarray:
    """The result as uint8 RGB for ``rect`` (None: the whole photo, band by band): the same maths
    as export, at 8 bits. A rectangle reads the mask ``feather_margin`` beyond its edges, so
    rectangles composed apart (the window's tiles) agree exactly with the whole."""
    H, W = L.shape
    if rect is None:
        out = np.empty((H, W, 3), np.uint8)
        step = max(1, BAND_PIXELS // max(W, 1))
        for y in range(0, H, step):
            out[y : y + step] = compose_rgb8(L, ab_up, mask, feather, saturation, (0, y, W, min(H, y + step)))
        return out
    x0, y0, x1, y1 = rect
    if ab_up is None or not mask[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1].any():
        g = grey8(L[y0:y1, x0:x1])  # nothing masked here: exactly the original grey
        return np.repeat(g[:, :, None], 3, axis=2)
    px0, py0, px1, py1 = dirty_rect(rect, feather, (H, W))
    ab = composite_ab(ab_up[py0:py1, px0:px1], mask[py0:py1, px0:px1], feather, saturation)
    ab = ab[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]
    # Outside the mask the feather's weight is exactly 0 (the mask says where: no pass over the colours)
    return rgb8_with_grey(L[y0:y1, x0:x1], ab, ~inside(mask[y0:y1, x0:x1]))


def rgb8_with_grey(L: np.ndarray, ab: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """L and ab -> uint8 RGB (the export's maths), with the ``outside`` pixels exactly the untouched
    grey's own table, to the level, as where nothing is coloured."""
    from .export import result_rgb

    f = result_rgb(L, ab)
    np.clip(f, 0.0, 1.0, out=f)
    f *= np.float32(255.0)
    f += np.float32(0.5)
    out = f.astype(np.uint8)
    if outside.any():
        out[outside] = grey8(L[outside].reshape(1, -1))[0][:, None]
    return out
