"""Magic wand (W): click a flat area (sky, wall) to select every joined pixel of about its lightness.

A click replaces the mask, Shift+click adds to it, Alt+click (or a right click) subtracts from it:
one undo step each. The tolerance (L units) and "contiguous" are set in the Mask panel.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from app.core.segment.wand import DEFAULT_TOLERANCE, wand_select
from app.ui.tools.base import Tool
from app.ui.undo_commands import push_mask_edit


class WandTool(Tool):
    name, title, shortcut = "wand", "Magic wand", "W"

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.tolerance = DEFAULT_TOLERANCE
        self.contiguous = True

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None:
        if self.state is None or button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        H, W = self.state.shape
        x, y = pos.x(), pos.y()
        if not (0 <= x < W and 0 <= y < H):
            return
        subtract = button == Qt.MouseButton.RightButton or bool(modifiers & Qt.KeyboardModifier.AltModifier)
        mode = "subtract" if subtract else "add" if modifiers & Qt.KeyboardModifier.ShiftModifier else "replace"
        sel = wand_select(self.state.document.L, x, y, self.tolerance, self.contiguous)
        label = {"replace": "Magic wand", "add": "Magic wand add", "subtract": "Magic wand subtract"}[mode]
        push_mask_edit(self.state, label, lambda m: m.combine(sel, mode))
        self.canvas.update()
