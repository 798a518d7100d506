"""The interface every canvas tool implements (brush, eraser, lasso, hint, segment).

A tool receives pointer events already converted to full-size image coordinates (x, y floats)
and edits the current photo through its DocumentState:
  - mask edits go through ``app.ui.undo_commands.push_mask_edit`` or, for strokes that span
    several events, ``state.mask.begin_edit(label)`` ... ``end_edit()`` followed by pushing a
    ``MaskEditCommand`` so the edit is one undo step;
  - hint edits are pushed as ``HintsCommand``s.
Tools draw their own overlay (outlines, swatches, the candidate segment) in widget coordinates
with ``canvas.to_widget(x, y)`` and ask for a repaint with ``canvas.update()``.

To add a tool: subclass Tool, set ``name``, ``title`` and ``shortcut`` (one key), and list it in
``app.ui.tools.create_tools``. The segment tool (S) plugs in the same way.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeyEvent, QPainter


class Tool:
    name: str = "tool"
    title: str = "Tool"
    shortcut: str = ""
    uses_brush_size: bool = False  # shows the round size cursor, [ and ] resize it

    def __init__(self, canvas) -> None:
        self.canvas = canvas

    @property
    def state(self):
        return self.canvas.state

    def activate(self) -> None:
        """Called when the tool becomes current (or the photo changes)."""

    def deactivate(self) -> None:
        """Called when another tool takes over: finish or discard anything half-done."""

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None: ...

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        """Pointer moved while the button is held."""

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def hover(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        """Pointer moved with no button held (a rubber band, a hover preview)."""

    def double_click(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> bool:
        """Return True when the tool used the double-click (else it counts as a press)."""
        return False

    def key_press(self, event: QKeyEvent) -> bool:
        """Return True when the tool used the key (Enter, Esc, Delete, Tab...)."""
        return False

    def paint_overlay(self, painter: QPainter) -> None:
        """Draw on top of the photo, in widget coordinates."""
