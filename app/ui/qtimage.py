"""numpy <-> QImage at the edge of the UI. Nothing else in app.ui touches pixels by hand."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb8_to_qimage(rgb: np.ndarray) -> QImage:
    """(h, w, 3) uint8 -> QImage that owns a copy (the array may change afterwards)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def grey8_to_qimage(grey: np.ndarray) -> QImage:
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def rgba8_to_qimage(rgba: np.ndarray) -> QImage:
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def rgb8_view(rgb: np.ndarray) -> QImage:
    """A QImage over a C-contiguous (h, w, 3) uint8 array without copying: keep the array
    alive while the image is used (the canvas draws it at once and drops it)."""
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)


def grey8_view(grey: np.ndarray) -> QImage:
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8)


def qimage_to_rgb8(image: QImage) -> np.ndarray:
    """QImage -> (h, w, 3) uint8 copy (used by tests and the screenshot script)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


def float_rgb_to_u8(rgb: np.ndarray) -> np.ndarray:
    """sRGB floats in [0, 1] -> uint8 with rounding (display only; export keeps full depth)."""
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
