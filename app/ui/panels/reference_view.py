"""A colour photo of the same scene beside the grey one: click in it to take its colour as the hint
colour (an eyedropper; the 5 x 5 pixels around the click are averaged, as a restorer samples a
patch, not one noisy pixel)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SAMPLE = 2  # 5 x 5 pixels around the click


def lab_to_rgb8(lab: np.ndarray) -> np.ndarray:
    """The reference as the models have it (Lab, long side at most 1024 px) -> uint8 RGB to show."""
    from models.colour import lab_to_rgb

    return (np.clip(lab_to_rgb(lab[..., 0], lab[..., 1:]), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class ReferenceView(QWidget):
    colour_picked = Signal(tuple)  # rgb floats

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Click to take a colour from the reference photo as the hint colour.")
        self.setAccessibleName("Reference photo")
        self.rgb: np.ndarray | None = None
        self._image: QImage | None = None
        self.picked: tuple[int, int] | None = None

    def set_photo(self, rgb: np.ndarray | None) -> None:
        self.rgb = None if rgb is None else np.ascontiguousarray(rgb, np.uint8)
        self.picked = None
        if self.rgb is None:
            self._image = None
        else:
            h, w = self.rgb.shape[:2]
            self._image = QImage(self.rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.update()

    def _frame(self) -> QRectF:
        """Where the photo is drawn: fitted, centred."""
        h, w = self.rgb.shape[:2]
        s = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * s) / 2, (self.height() - h * s) / 2, w * s, h * s)

    def photo_pixel(self, pos: QPointF) -> tuple[int, int] | None:
        if self.rgb is None:
            return None
        f = self._frame()
        if not f.contains(pos):
            return None
        h, w = self.rgb.shape[:2]
        x = int((pos.x() - f.x()) / f.width() * w)
        y = int((pos.y() - f.y()) / f.height() * h)
        return min(max(x, 0), w - 1), min(max(y, 0), h - 1)

    def colour_at(self, x: int, y: int) -> tuple[float, float, float]:
        patch = self.rgb[max(0, y - SAMPLE) : y + SAMPLE + 1, max(0, x - SAMPLE) : x + SAMPLE + 1]
        return tuple(float(v) / 255.0 for v in patch.reshape(-1, 3).mean(0))

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        p = self.photo_pixel(e.position()) if e.button() == Qt.MouseButton.LeftButton else None
        if p is None:
            return
        self.picked = p
        self.colour_picked.emit(self.colour_at(*p))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(48, 48, 50))
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "File > Open reference photo: a colour photo of the same scene to take colours from")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        f = self._frame()
        painter.drawImage(f, self._image)
        if self.picked is not None:
            h, w = self.rgb.shape[:2]
            c = QPointF(f.x() + (self.picked[0] + 0.5) / w * f.width(), f.y() + (self.picked[1] + 0.5) / h * f.height())
            painter.setPen(QPen(QColor(0, 0, 0), 2))
            painter.drawEllipse(c, 6, 6)
            painter.setPen(QPen(QColor(255, 255, 255), 1))
            painter.drawEllipse(c, 8, 8)
