"""Turn what the app holds (L 0-100, or sRGB) into what segmenters eat."""
from __future__ import annotations

import hashlib

import numpy as np


def to_gray01(image: np.ndarray) -> np.ndarray:
    """float32 (H, W) in [0, 1]. L (0-100) is taken as is, scaled; RGB becomes its Lab L.

    Huebrush photos are black-and-white, so segmenters see lightness only; an RGB input
    (tests, benchmarks on colour datasets) is reduced to the same lightness the app would see.
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        from models.colour import rgb_to_L  # lazy: keeps `import app.core.segment` light

        rgb = a[..., :3]
        rgb = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
        return (np.asarray(rgb_to_L(np.clip(rgb, 0.0, 1.0)), dtype=np.float32) / 100.0).clip(0, 1)
    if a.ndim != 2:
        raise ValueError(f"expected an (H, W) lightness or (H, W, 3) image, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535.0
    return np.clip(a.astype(np.float32) / 100.0, 0.0, 1.0)


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) as SAM expects; lightness is shown as neutral grey (L -> sRGB grey)."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        rgb = a[..., :3]
        if rgb.dtype == np.uint8:
            return np.ascontiguousarray(rgb)
        return (np.clip(rgb.astype(np.float32), 0, 1) * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 2 and a.dtype not in (np.uint8, np.uint16):
        from models.colour import L_to_grey  # sRGB-encoded grey for a given L

        g = np.asarray(L_to_grey(a.astype(np.float32)), dtype=np.float32)
    else:
        g = to_gray01(a)
    g8 = (np.clip(g, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    return np.repeat(g8[..., None], 3, axis=2)


def image_key(image: np.ndarray) -> str:
    """sha256 of the pixels, for caching when the caller has no document hash."""
    a = np.ascontiguousarray(image)
    h = hashlib.sha256()
    h.update(str((a.shape, a.dtype.str)).encode())
    h.update(a.tobytes())
    return h.hexdigest()
