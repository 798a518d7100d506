"""QUndoStack commands. Mask commands wrap the core Mask's own per-stroke history (the Mask
stores the pixel diffs; the command only says "step back/forward"), so one stroke = one step."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand


class MaskEditCommand(QUndoCommand):
    """Pushed after Mask.end_edit(): the edit is already applied, so the first redo is skipped."""

    def __init__(self, state, label: str) -> None:
        super().__init__(label)
        self._state = state
        self._mask = state.mask  # the region edited: undo reaches it even when another is selected
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._state.select_mask(self._mask)
        self._mask.redo()

    def undo(self) -> None:
        self._state.select_mask(self._mask)
        self._mask.undo()


class _BeforeAfter(QUndoCommand):
    """A change kept as before/after values, applied by ``_apply``; with a ``merge`` key, consecutive
    changes with that key (a slider's drag) merge into one step."""

    MERGE_ID = -1

    def __init__(self, state, before, after, label: str, merge: str | None = None) -> None:
        super().__init__(label)
        self._state, self._before, self._after, self._merge = state, before, after, merge

    def id(self) -> int:
        return self.MERGE_ID if self._merge else -1

    def mergeWith(self, other) -> bool:
        if type(other) is not type(self) or other._merge != self._merge or self._merge is None:
            return False
        self._after = other._after
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self._apply(self._after)

    def undo(self) -> None:
        self._apply(self._before)

    def _apply(self, value) -> None:
        raise NotImplementedError


class RegionsCommand(_BeforeAfter):
    """Any change to the colour regions (add, delete, rename, reorder, colour, saturation,
    visibility) as before/after (regions, selected) pairs; the masks themselves are kept."""

    MERGE_ID = 7301

    def _apply(self, value) -> None:
        self._state.set_regions(*value)


def push_regions(state, regions, active: int, label: str, merge: str | None = None) -> None:
    """Replace the regions as one undo step (``merge``: consecutive steps with this key merge)."""
    before = (state.regions, state.active)
    state.undo_stack.push(RegionsCommand(state, before, (tuple(regions), active), label, merge))


class SettingsCommand(_BeforeAfter):
    """A change to the photo's settings (model, saturation, colour balance, feather, work size,
    reach) as before/after ``Settings``; a slider's moves merge into one step."""

    MERGE_ID = 7302

    def _apply(self, value) -> None:
        self._state.set_settings(value)


# how each setting reads in Edit > Undo, and whether a slider drives it (its moves merge)
SETTING_LABELS = {"saturation": ("Saturation {:.0%}", True), "warmth": ("Warmth {:+g}", True),
                  "tint": ("Tint {:+g}", True), "feather": ("Feather {:g} px", True),
                  "hint_reach": ("Reach {:.0%}", True), "work_size": ("Work size {} px", False),
                  "model": ("Model {}", False), "device": ("Device {}", False)}


def push_settings(state, changes: dict) -> None:
    """Apply ``changes`` to the photo's settings as one undo step (nothing when they change nothing)."""
    import dataclasses

    after = dataclasses.replace(state.settings, **changes)
    if after == state.settings:
        return
    key = next(iter(changes))
    fmt, slider = SETTING_LABELS.get(key, (key.replace("_", " ").capitalize() + " {}", False))
    state.undo_stack.push(SettingsCommand(state, state.settings, after, fmt.format(getattr(after, key)),
                                          merge=key if slider and len(changes) == 1 else None))


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
