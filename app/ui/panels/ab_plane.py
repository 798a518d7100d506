"""The colours that exist at one lightness, as an ab plane to click (ideepcolor's gamut view).

Huebrush keeps the photo's lightness, so at a hint only the colours of that L can come out: the
plane shows them (a on the horizontal axis, b on the vertical, grey at the centre) and greys out
the rest; a click picks the colour under the pointer; the current colour is ringed.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

AB_RANGE = 110.0
OUTSIDE_RGB = (58, 58, 60)  # colours that cannot exist at this lightness


def ab_plane_rgb8(L: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 RGB (size, size, 3) of the plane at lightness L, bool (size, size) in gamut)."""
    from models.abbins import in_gamut
    from models.colour import lab_to_rgb

    axis = np.linspace(-AB_RANGE, AB_RANGE, size, dtype=np.float32)
    a, b = np.meshgrid(axis, axis[::-1])  # b grows upwards, as on every Lab chart
    ab = np.stack([a, b], -1)
    Lg = np.full((size, size), float(L), np.float32)
    ok = in_gamut(np.concatenate([Lg[..., None], ab], -1), tol=1e-3)
    rgb = (np.clip(lab_to_rgb(Lg, ab), 0, 1) * 255 + 0.5).astype(np.uint8)
    rgb[~ok] = OUTSIDE_RGB
    return rgb, ok


class AbPlane(QWidget):
    colour_picked = Signal(tuple)  # rgb floats

    def __init__(self, parent: QWidget | None = None, size: int = 132) -> None:
        super().__init__(parent)
        self.setFixedSize(size, size)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip("The colours that can exist at the hint's lightness (greyed: impossible there); click to pick.")
        self.setAccessibleName("Colours possible at this lightness")
        self.L: float | None = None
        self.current_ab: tuple[float, float] | None = None
        self._image: QImage | None = None
        self._ok: np.ndarray | None = None
        self._rgb: np.ndarray | None = None

    def set_lightness(self, L: float) -> None:
        self.L = float(L)
        self._rgb, self._ok = ab_plane_rgb8(self.L, self.width())
        h, w = self._rgb.shape[:2]
        self._image = QImage(self._rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.update()

    def set_current(self, rgb: tuple[float, float, float]) -> None:
        from models.colour import rgb_to_ab

        self.current_ab = rgb_to_ab(tuple(float(c) for c in rgb))
        self.update()

    def ab_at(self, x: float, y: float) -> tuple[float, float]:
        n = self.width() - 1
        return (-AB_RANGE + 2 * AB_RANGE * x / n, AB_RANGE - 2 * AB_RANGE * y / n)

    def _to_widget(self, a: float, b: float) -> QPointF:
        n = self.width() - 1
        return QPointF((a + AB_RANGE) / (2 * AB_RANGE) * n, (AB_RANGE - b) / (2 * AB_RANGE) * n)

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._ok is None or e.button() != Qt.MouseButton.LeftButton:
            return
        x = min(max(int(e.position().x()), 0), self.width() - 1)
        y = min(max(int(e.position().y()), 0), self.height() - 1)
        if not self._ok[y, x]:
            return  # that colour cannot exist here: nothing to pick
        r, g, b = (int(v) for v in self._rgb[y, x])
        self.colour_picked.emit((r / 255.0, g / 255.0, b / 255.0))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        if self._image is None:
            p.fillRect(self.rect(), QColor(*OUTSIDE_RGB))
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, "place or select a hint")
            return
        p.drawImage(0, 0, self._image)
        p.setPen(QPen(QColor(0, 0, 0, 90), 1))
        c = self._to_widget(0, 0)
        p.drawLine(QPointF(c.x(), 0), QPointF(c.x(), self.height()))
        p.drawLine(QPointF(0, c.y()), QPointF(self.width(), c.y()))
        if self.current_ab is not None:
            q = self._to_widget(*self.current_ab)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(0, 0, 0), 2))
            p.drawEllipse(q, 6, 6)
            p.setPen(QPen(QColor(255, 255, 255), 1))
            p.drawEllipse(q, 8, 8)
        p.setPen(QColor(230, 230, 230))
        p.drawText(4, self.height() - 4, f"L {self.L:.0f}")
