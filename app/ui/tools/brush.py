"""Brush (B) and eraser (E): paint or remove mask with a round brush, hard or soft-edged (the
canvas's ``brush_hardness``); one stroke = one undo step."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from app.ui.tools.base import Tool
from app.ui.undo_commands import MaskEditCommand


class BrushTool(Tool):
    name, title, shortcut = "brush", "Brush", "B"
    uses_brush_size = True
    erase = False

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._last: tuple[float, float] | None = None
        self._label = ""

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None:
        if self.state is None or button != Qt.MouseButton.LeftButton:
            return
        # Alt flips brush <-> eraser for a quick correction, as in most photo editors; Shift always
        # adds (Photoshop's "add to selection"), so Shift+drag with the eraser paints
        erase = self.erase != bool(modifiers & Qt.KeyboardModifier.AltModifier)
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            erase = False
        self._erase = erase
        self._label = "Erase mask" if erase else "Paint mask"
        self._version = self.state.version
        self.state.mask.begin_edit(self._label)
        self._last = (pos.x(), pos.y())
        self.state.mask.stroke([self._last], self.canvas.brush_radius, erase=erase, hardness=self.canvas.brush_hardness)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is None:
            return
        p = (pos.x(), pos.y())
        self.state.mask.stroke([self._last, p], self.canvas.brush_radius, erase=self._erase,
                               hardness=self.canvas.brush_hardness)
        self._last = p

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is None:
            return
        self.move(pos, modifiers)
        self._last = None
        self.state.mask.end_edit()
        if self.state.version != self._version:  # painting over painted mask adds no step
            self.state.undo_stack.push(MaskEditCommand(self.state, self._label))

    def deactivate(self) -> None:
        if self._last is not None:
            self.release(QPointF(*self._last), Qt.KeyboardModifier.NoModifier)


class EraserTool(BrushTool):
    name, title, shortcut = "eraser", "Eraser", "E"
    erase = True
