"""QUndoStack commands. Mask commands wrap the core Mask's own per-stroke history (the Mask
stores the pixel diffs; the command only says "step back/forward"), so one stroke = one step."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand


class MaskEditCommand(QUndoCommand):
    """Pushed after Mask.end_edit(): the edit is already applied, so the first redo is skipped."""

    def __init__(self, state, label: str) -> None:
        super().__init__(label)
        self._state = state
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._state.mask.redo()

    def undo(self) -> None:
        self._state.mask.undo()


class HintsCommand(QUndoCommand):
    """Any change to the hints (add, move, recolour, delete) as before/after tuples."""

    def __init__(self, state, before: tuple, after: tuple, label: str) -> None:
        super().__init__(label)
        self._state, self._before, self._after = state, tuple(before), tuple(after)

    def redo(self) -> None:
        self._state.set_hints(self._after)

    def undo(self) -> None:
        self._state.set_hints(self._before)


def push_mask_edit(state, label: str, edit) -> None:
    """Run ``edit(mask)`` as one undo step (begin_edit/end_edit) and record it on the stack."""
    before = state.version
    state.mask.begin_edit(label)
    try:
        edit(state.mask)
    finally:
        state.mask.end_edit()
    if state.version != before:  # a no-op edit leaves the Mask's history alone, so no step here
        state.undo_stack.push(MaskEditCommand(state, label))
