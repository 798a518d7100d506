"""Lasso (L): drag around an area to add it to the mask; or click corner after corner for a
polygon (double-click, Enter or a click on the first corner closes it; Backspace takes the last
corner back, Esc drops it). Alt removes the area instead; Shift adds (the default)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPen, QPolygonF

from app.ui.tools.base import Tool
from app.ui.undo_commands import push_mask_edit

CLICK_PX = 4.0  # a press and release closer than this (screen px) is a click: a polygon corner
CLOSE_PX = 7.0  # a click this close to the first corner closes the polygon


class LassoTool(Tool):
    name, title, shortcut = "lasso", "Lasso fill", "L"

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._points: list[tuple[float, float]] = []  # a freehand drag in progress
        self._poly: list[tuple[float, float]] | None = None  # polygon corners in progress
        self._hover: tuple[float, float] | None = None
        self._erase = False

    @property
    def polygon_in_progress(self) -> list[tuple[float, float]] | None:
        return None if self._poly is None else list(self._poly)

    def _screen_dist(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        return math.hypot(a[0] - b[0], a[1] - b[1]) * self.canvas.zoom

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None:
        if self.state is None or button != Qt.MouseButton.LeftButton:
            return
        p = (pos.x(), pos.y())
        if self._poly is not None:
            if len(self._poly) >= 3 and self._screen_dist(p, self._poly[0]) <= CLOSE_PX:
                self.close_polygon()
            elif not self._poly or self._screen_dist(p, self._poly[-1]) > 1.0:
                self._poly.append(p)
            self.canvas.update()
            return
        self._erase = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        self._points = [p]

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._points:
            self._points.append((pos.x(), pos.y()))
            self.canvas.update()

    def hover(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._poly is not None:
            self._hover = (pos.x(), pos.y())
            self.canvas.update()

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._poly is not None or not self._points:
            return
        pts, self._points = self._points + [(pos.x(), pos.y())], []
        if max(self._screen_dist(q, pts[0]) for q in pts) <= CLICK_PX:
            self._poly = [pts[0]]  # a click, not a drag: a polygon starts here
            self._hover = pts[0]
        elif len(pts) >= 3 and self.state is not None:
            self._fill(pts)
        self.canvas.update()

    def double_click(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> bool:
        if self._poly is None:
            return False
        p = (pos.x(), pos.y())
        if not self._poly or self._screen_dist(p, self._poly[-1]) > 1.0:
            self._poly.append(p)
        self.close_polygon()
        return True

    def close_polygon(self) -> None:
        pts, self._poly, self._hover = self._poly or [], None, None
        if len(pts) >= 3 and self.state is not None:
            self._fill(pts)
        self.canvas.update()

    def _fill(self, pts: list[tuple[float, float]]) -> None:
        erase = self._erase
        label = "Lasso remove" if erase else "Lasso fill"
        push_mask_edit(self.state, label, lambda m: m.polygon(pts, erase=erase))

    def key_press(self, event: QKeyEvent) -> bool:
        if self._poly is None:
            return False
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close_polygon()
        elif key == Qt.Key.Key_Escape:
            self._poly, self._hover = None, None
        elif key == Qt.Key.Key_Backspace:
            self._poly.pop()
            if not self._poly:
                self._poly, self._hover = None, None
        else:
            return False
        self.canvas.update()
        return True

    def deactivate(self) -> None:
        self._points, self._poly, self._hover = [], None, None

    def paint_overlay(self, painter: QPainter) -> None:
        if self._poly is not None:
            pts = self._poly + ([self._hover] if self._hover else [])
            line = QPolygonF([self.canvas.to_widget(x, y) for x, y in pts])
            for colour, dash in ((QColor(0, 0, 0), Qt.PenStyle.SolidLine), (QColor(255, 255, 255), Qt.PenStyle.DashLine)):
                painter.setPen(QPen(colour, 1.5, dash))
                painter.drawPolyline(line)
            painter.setPen(QPen(QColor(255, 255, 255), 1.5))
            first = self.canvas.to_widget(*self._poly[0])
            painter.drawEllipse(first, CLOSE_PX, CLOSE_PX)  # click here to close
            return
        if len(self._points) < 2:
            return
        poly = QPolygonF([self.canvas.to_widget(x, y) for x, y in self._points])
        for colour, dash in ((QColor(0, 0, 0), Qt.PenStyle.SolidLine), (QColor(255, 255, 255), Qt.PenStyle.DashLine)):
            painter.setPen(QPen(colour, 1.5, dash))
            painter.drawPolygon(poly)
