"""sRGB <-> CIE Lab (D65) colour maths, vectorised with numpy.

Shared by the app (compositing, export), the models (inputs/outputs) and the trainer,
so it lives in ``models`` which depends on nothing else in the project.

Conventions: sRGB values are float in [0, 1] with channels last; ``L`` is in [0, 100];
``ab`` is the pair of Lab chroma channels, roughly in [-128, 127], channels last.
"""
from __future__ import annotations

import numpy as np

# sRGB primaries, D65 white (IEC 61966-2-1).
RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float64,
)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
WHITE_D65 = RGB_TO_XYZ.sum(axis=1)  # D65 white point, Y = 1
LUMA = RGB_TO_XYZ[1]  # linear-RGB weights giving Y (and therefore L)
_EPS = (6.0 / 29.0) ** 3
_KAPPA = 3.0 * (6.0 / 29.0) ** 2


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float32)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(np.asarray(lin, dtype=np.float32), 0.0, 1.0)
    return np.where(
        lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1.0 / 2.4) - 0.055
    ).astype(np.float32)


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), t / _KAPPA + 4.0 / 29.0)


def _f_inv(t: np.ndarray) -> np.ndarray:
    return np.where(t > 6.0 / 29.0, t**3, _KAPPA * (t - 4.0 / 29.0))


def Y_to_L(Y: np.ndarray) -> np.ndarray:
    """Relative luminance (0-1) to Lab lightness (0-100)."""
    return (116.0 * _f(np.asarray(Y, dtype=np.float32)) - 16.0).astype(np.float32)


def L_to_Y(L: np.ndarray) -> np.ndarray:
    """Lab lightness (0-100) to relative luminance (0-1)."""
    return _f_inv((np.asarray(L, dtype=np.float32) + 16.0) / 116.0).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1], shape (..., 3) -> Lab float32 (..., 3)."""
    lin = srgb_to_linear(rgb)
    xyz = lin @ (RGB_TO_XYZ / WHITE_D65[:, None]).T.astype(np.float32)
    fx, fy, fz = (_f(xyz[..., i]) for i in range(3))
    lab = np.empty(xyz.shape, dtype=np.float32)
    lab[..., 0] = 116.0 * fy - 16.0
    lab[..., 1] = 500.0 * (fx - fy)
    lab[..., 2] = 200.0 * (fy - fz)
    return lab


def rgb_to_L(rgb: np.ndarray) -> np.ndarray:
    """Lightness only (cheaper than a full conversion): sRGB (..., 3) -> L (...)."""
    lin = srgb_to_linear(rgb)
    return Y_to_L(lin @ LUMA.astype(np.float32))


def grey_to_L(grey: np.ndarray) -> np.ndarray:
    """A single-channel sRGB-encoded grey value in [0, 1] -> L."""
    return Y_to_L(srgb_to_linear(grey))


def L_to_grey(L: np.ndarray) -> np.ndarray:
    """Lab lightness -> sRGB-encoded grey in [0, 1] (what R = G = B becomes)."""
    return linear_to_srgb(L_to_Y(L))


def lab_to_linear_rgb(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Lab -> linear RGB, unclipped (may be out of gamut). ``ab`` has shape (..., 2)."""
    L = np.asarray(L, dtype=np.float32)
    ab = np.asarray(ab, dtype=np.float32)
    fy = (L + 16.0) / 116.0
    fx = fy + ab[..., 0] / 500.0
    fz = fy - ab[..., 1] / 200.0
    xyz = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], axis=-1) * WHITE_D65.astype(np.float32)
    return (xyz @ XYZ_TO_RGB.T.astype(np.float32)).astype(np.float32)


def gamut_map_keep_L(lin: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Pull out-of-gamut linear RGB towards the grey of the same luminance.

    Mixing a colour with the grey (Y, Y, Y) keeps Y, so L is unchanged exactly while the
    hue is kept; only chroma drops, and only as far as needed to fit in [0, 1].
    """
    Y = np.clip(np.asarray(Y, dtype=np.float32), 0.0, 1.0)[..., None]
    d = lin - Y
    with np.errstate(divide="ignore", invalid="ignore"):
        t_hi = np.where(lin > 1.0, (1.0 - Y) / d, 1.0)
        t_lo = np.where(lin < 0.0, Y / -d, 1.0)
    t = np.clip(np.minimum(t_hi, t_lo).min(axis=-1, keepdims=True), 0.0, 1.0)
    return np.clip(Y + t * d, 0.0, 1.0).astype(np.float32)


def lab_to_rgb(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Lab -> sRGB float32 in [0, 1], gamut-mapped so that lightness is kept.

    ``L`` has shape (...), ``ab`` (..., 2). Where ab == 0 the result is exactly neutral.
    """
    lin = lab_to_linear_rgb(L, ab)
    Y = L_to_Y(L)
    lin = gamut_map_keep_L(lin, Y)
    # The matrices do not map white exactly, so grey would be off by an ulp between channels;
    # pixels outside the mask must be exactly R = G = B.
    ab = np.asarray(ab)
    neutral = (ab[..., 0] == 0) & (ab[..., 1] == 0)
    if neutral.any():
        lin = np.where(neutral[..., None], np.clip(Y, 0.0, 1.0)[..., None], lin)
    return linear_to_srgb(lin)


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    s = colour.strip().lstrip("#")
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    if len(s) != 6:
        raise ValueError(f"not a colour: {colour!r} (expected #RRGGBB)")
    try:
        return tuple(int(s[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        raise ValueError(f"not a colour: {colour!r} (expected #RRGGBB)") from None


def rgb_to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{int(round(min(max(c, 0.0), 1.0) * 255)):02x}" for c in rgb)


def rgb_to_ab(rgb: tuple[float, float, float]) -> tuple[float, float]:
    lab = rgb_to_lab(np.asarray(rgb, dtype=np.float32)[None, :])[0]
    return float(lab[1]), float(lab[2])


CAST_LIMIT = 30.0  # ab units: a network's cast correction beyond this is a damaged sidecar, not a cast


def cast_pair(value) -> tuple[float, float]:
    """A cast correction (an ab pair added to a network's colour) as read from a sidecar: two finite
    numbers within ``CAST_LIMIT``; ValueError otherwise."""
    try:
        cast = tuple(float(c) for c in value)
    except (TypeError, ValueError):
        raise ValueError(f"cast {value!r} is not an ab pair within {CAST_LIMIT:g} units") from None
    if len(cast) != 2 or not all(abs(c) <= CAST_LIMIT for c in cast):  # NaN fails the test too
        raise ValueError(f"cast {value!r} is not an ab pair within {CAST_LIMIT:g} units")
    return cast
