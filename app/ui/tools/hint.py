"""Colour hints (H): click to place the current colour, drag to draw a hint stroke; click a
swatch to select it, drag it to move it; Delete removes it, the panel recolours it."""
from __future__ import annotations

import dataclasses
import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPen

from app.ui.tools.base import Tool
from app.ui.undo_commands import HintsCommand

SWATCH_PX = 7  # swatch radius on screen, whatever the zoom
PICK_PX = 10


class HintTool(Tool):
    name, title, shortcut = "hint", "Colour hint", "H"

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.selected_id: int | None = None
        self._stroke: list[tuple[float, float]] = []
        self._drag_from: tuple[float, float] | None = None
        self._before: tuple = ()

    # ---- helpers used by the panel as well ---------------------------------------------------
    def hint_radius(self) -> float:
        H, W = self.state.shape
        return max(3.0, min(H, W) / 120.0)

    def hint_at(self, pos: QPointF):
        best, best_d = None, PICK_PX / max(self.canvas.zoom, 1e-6)
        for h in self.state.hints:
            for x, y in h.points:
                d = math.hypot(x - pos.x(), y - pos.y())
                if d <= max(best_d, h.radius) and (best is None or d < best_d):
                    best, best_d = h, d
        return best

    def selected(self):
        if self.state is None:
            return None
        return next((h for h in self.state.hints if h.id == self.selected_id), None)

    def delete_selected(self) -> None:
        h = self.selected()
        if h is None:
            return
        before = self.state.hints
        after = tuple(x for x in before if x.id != h.id)
        self.state.undo_stack.push(HintsCommand(self.state, before, after, "Delete hint"))
        self.selected_id = None
        self.canvas.update()

    def recolour_selected(self, rgb: tuple[float, float, float]) -> bool:
        h = self.selected()
        if h is None or tuple(h.rgb) == tuple(rgb):
            return False
        before = self.state.hints
        after = tuple(dataclasses.replace(x, rgb=tuple(rgb)) if x.id == h.id else x for x in before)
        self.state.undo_stack.push(HintsCommand(self.state, before, after, "Recolour hint"))
        return True

    # ---- events -------------------------------------------------------------------------------
    def activate(self) -> None:
        self.selected_id = None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None:
        if self.state is None or button != Qt.MouseButton.LeftButton:
            return
        hit = self.hint_at(pos)
        self._before = self.state.hints
        if hit is not None:
            self.selected_id = hit.id
            self._drag_from = (pos.x(), pos.y())
            self.canvas.hint_point_chosen.emit(*hit.points[0])
        else:
            self.selected_id = None
            self._stroke = [(pos.x(), pos.y())]
        self.canvas.update()

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._stroke:
            x0, y0 = self._stroke[-1]
            if math.hypot(pos.x() - x0, pos.y() - y0) >= 1.0:
                self._stroke.append((pos.x(), pos.y()))
        elif self._drag_from is not None:
            # live move without touching the model: only the overlay follows the pointer
            self._drag_to = (pos.x(), pos.y())
        self.canvas.update()

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        from app.core.hints import Hint

        st = self.state
        if self._stroke:
            pts = tuple(self._stroke)
            self._stroke = []
            hint = Hint(points=pts, rgb=tuple(self.canvas.hint_rgb), radius=self.hint_radius())
            st.undo_stack.push(HintsCommand(st, self._before, self._before + (hint,), "Add hint"))
            self.selected_id = hint.id
            self.canvas.hint_point_chosen.emit(*pts[0])
            self.canvas.hint_placed.emit(*pts[0])
        elif self._drag_from is not None:
            dx, dy = pos.x() - self._drag_from[0], pos.y() - self._drag_from[1]
            self._drag_from = None
            self._drag_to = None
            if math.hypot(dx, dy) * self.canvas.zoom >= 2:
                after = tuple(
                    dataclasses.replace(h, points=tuple((x + dx, y + dy) for x, y in h.points))
                    if h.id == self.selected_id else h
                    for h in self._before
                )
                st.undo_stack.push(HintsCommand(st, self._before, after, "Move hint"))
                moved = next(h for h in after if h.id == self.selected_id)
                self.canvas.hint_placed.emit(*moved.points[0])
        self.canvas.update()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected() is not None:
            self.delete_selected()
            return True
        return False

    def deactivate(self) -> None:
        self._stroke = []
        self._drag_from = None

    # ---- drawing --------------------------------------------------------------------------------
    def paint_overlay(self, painter: QPainter) -> None:
        if self.state is None:
            return
        offset = (0.0, 0.0)
        if self._drag_from is not None and getattr(self, "_drag_to", None):
            offset = (self._drag_to[0] - self._drag_from[0], self._drag_to[1] - self._drag_from[1])
        for h in self.state.hints:
            off = offset if h.id == self.selected_id else (0.0, 0.0)
            draw_hint(painter, self.canvas, h.points, h.rgb, h.id == self.selected_id, off)
        if self._stroke:
            draw_hint(painter, self.canvas, tuple(self._stroke), tuple(self.canvas.hint_rgb), True)


def draw_hint(painter: QPainter, canvas, points, rgb, selected: bool, offset=(0.0, 0.0)) -> None:
    """A hint as a small swatch (a line of swatches for a stroke) with a contrasting ring."""
    colour = QColor.fromRgbF(*[min(max(c, 0.0), 1.0) for c in rgb])
    wpts = [canvas.to_widget(x + offset[0], y + offset[1]) for x, y in points]
    if len(wpts) > 1:
        painter.setPen(QPen(QColor(0, 0, 0), 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawPolyline(wpts)
        painter.setPen(QPen(colour, 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawPolyline(wpts)
    p = wpts[0]
    r = SWATCH_PX + (2 if selected else 0)
    painter.setBrush(colour)
    painter.setPen(QPen(QColor(255, 255, 255), 2))
    painter.drawEllipse(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(255, 200, 0) if selected else QColor(0, 0, 0), 2 if selected else 1))
    painter.drawEllipse(QRectF(p.x() - r - 2, p.y() - r - 2, 2 * r + 4, 2 * r + 4))
