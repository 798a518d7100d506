"""Lasso (L): drag around an area to add it to the mask; Alt-drag removes it."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from app.ui.tools.base import Tool
from app.ui.undo_commands import push_mask_edit


class LassoTool(Tool):
    name, title, shortcut = "lasso", "Lasso fill", "L"

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._points: list[tuple[float, float]] = []
        self._erase = False

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None:
        if self.state is None or button != Qt.MouseButton.LeftButton:
            return
        self._erase = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        self._points = [(pos.x(), pos.y())]

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._points:
            self._points.append((pos.x(), pos.y()))
            self.canvas.update()

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        pts, self._points = self._points + [(pos.x(), pos.y())], []
        if len(pts) >= 3 and self.state is not None:
            label = "Lasso remove" if self._erase else "Lasso fill"
            push_mask_edit(self.state, label, lambda m: m.polygon(pts, erase=self._erase))
        self.canvas.update()

    def deactivate(self) -> None:
        self._points = []

    def paint_overlay(self, painter: QPainter) -> None:
        if len(self._points) < 2:
            return
        poly = QPolygonF([self.canvas.to_widget(x, y) for x, y in self._points])
        for colour, dash in ((QColor(0, 0, 0), Qt.PenStyle.SolidLine), (QColor(255, 255, 255), Qt.PenStyle.DashLine)):
            painter.setPen(QPen(colour, 1.5, dash))
            painter.drawPolygon(poly)
