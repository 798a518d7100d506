"""Everything the window knows about one open photo: the document, its mask, hints and
settings, the last predicted colours, the display pyramid and its own undo stack."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.core.composite import compose_rgb8, dirty_rect
from app.ui.compositor import Compositor, Rect
from app.ui.pyramid import Pyramid


def bbox_to_rect(bbox: Any, shape: tuple[int, int]) -> Rect:
    """The Mask reports changed areas as (y0, y1, x0, x1)-style boxes or slices; None = all."""
    H, W = shape
    if bbox is None:
        return (0, 0, W, H)
    if isinstance(bbox, tuple) and len(bbox) == 2 and all(isinstance(s, slice) for s in bbox):
        ys, xs = bbox
        return (xs.start or 0, ys.start or 0, W if xs.stop is None else xs.stop, H if ys.stop is None else ys.stop)
    x0, y0, x1, y1 = (int(v) for v in bbox)
    return (x0, y0, x1, y1)


class DocumentState(QObject):
    edited = Signal()  # the model's inputs changed: schedule a preview
    display_updated = Signal(tuple)  # Rect to repaint
    hints_changed = Signal()
    settings_changed = Signal()
    dirty_changed = Signal(bool)

    def __init__(self, document, settings, *, mask=None, hints=(), project_path: Path | None = None,
                 reference_lab: np.ndarray | None = None, reference_path: str | None = None,
                 initial_grey: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__()
        from app.core.mask import UNDO_LIMIT, Mask

        self.document = document
        self.settings = settings
        self.hints: tuple = tuple(hints)
        self.reference_lab = reference_lab
        self.reference_path = reference_path
        self.project_path = project_path
        H, W = document.size
        self.mask = mask if mask is not None else Mask(H, W, history_limit=UNDO_LIMIT)
        self._mask_untouched_empty = mask is None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._settings_dirty = False
        self.version = 0  # rises with every change to the model's inputs
        self.ab_work: np.ndarray | None = None  # last prediction at the work size
        self.ab_up: np.ndarray | None = None  # ...upsampled to full size, not yet masked
        self.preview_version = -1  # self.version when that prediction was asked for
        self.preview_seconds: float | None = None
        self.preview_device = ""
        self.preview_message = ""
        self.changed_since_autosave = False
        self.view = None  # (zoom, origin) the canvas restores when switching back

        # (grey, grey RGB): made by the loading task so a 24 MP photo opens without a stall
        if initial_grey is None:
            from app.ui.compositor import grey_display

            initial_grey = grey_display(document.L)
        grey, grey_rgb = initial_grey
        self.before = Pyramid(grey)
        self.compositor = Compositor(self._compose, (H, W), grey_rgb)
        self.compositor.updated.connect(self.display_updated)
        self.mask.on_change.append(self._on_mask_change)

    # ---- identity -------------------------------------------------------------------------
    @property
    def title(self) -> str:
        if self.project_path is not None:
            return self.project_path.stem
        return self.document.name if self.document.path is not None else "Untitled"

    @property
    def shape(self) -> tuple[int, int]:
        return self.document.size

    @property
    def is_dirty(self) -> bool:
        return self._settings_dirty or not self.undo_stack.isClean()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.is_dirty)

    def mark_saved(self, project_path: Path | None = None) -> None:
        if project_path is not None:
            self.project_path = project_path
        self._settings_dirty = False
        self.undo_stack.setClean()
        self.dirty_changed.emit(False)

    def mark_unsaved(self) -> None:
        """A recovered autosave: the work exists only in memory until the user saves it."""
        self._settings_dirty = True
        self.changed_since_autosave = True
        self.dirty_changed.emit(True)

    # ---- edits ----------------------------------------------------------------------------
    def _on_mask_change(self, bbox: Any = None) -> None:
        self._mask_untouched_empty = False
        self.version += 1
        self.changed_since_autosave = True
        # the feather carries an edit's effect past its box: redraw what it reaches
        self.compositor.invalidate(dirty_rect(bbox_to_rect(bbox, self.shape), self.settings.feather, self.shape))
        self.edited.emit()

    def set_hints(self, hints) -> None:
        """Replace all hints (called by the undo commands, never directly by tools)."""
        self.hints = tuple(hints)
        self.version += 1
        self.changed_since_autosave = True
        self.hints_changed.emit()
        self.edited.emit()

    def update_settings(self, **changes) -> None:
        new = dataclasses.replace(self.settings, **changes)
        if new == self.settings:
            return
        old = self.settings
        rerun = any(getattr(new, k) != getattr(old, k) for k in ("model", "work_size", "device", "hint_reach"))
        self.settings = new
        self._settings_dirty = True
        self.changed_since_autosave = True
        self.dirty_changed.emit(True)
        self.settings_changed.emit()
        if (new.saturation, new.feather) != (old.saturation, old.feather):
            self.compositor.invalidate()  # saturation and feather only need a recomposite
        if rerun:
            self.version += 1
            self.edited.emit()

    def set_reference(self, L: np.ndarray | None, path: str | None) -> None:
        self.reference_lab, self.reference_path = L, path
        self._settings_dirty = True
        self.version += 1
        self.dirty_changed.emit(True)
        self.edited.emit()

    # ---- previews -------------------------------------------------------------------------
    def mask_snapshot(self) -> tuple[np.ndarray | None, np.ndarray]:
        """(mask for the model, mask for the display), one copy shared by both.

        An empty mask asks the model for the whole photo, so the first brush stroke reveals
        colour at once."""
        if self._mask_untouched_empty:  # a fresh photo: skip copying 24 MB of untouched zeros
            return None, np.zeros(self.shape, bool)
        data = self.mask.data.copy()
        return (data if data.any() else None), data

    def apply_preview(self, version: int, ab_work: np.ndarray, ab_up: np.ndarray,
                      pyramid: Pyramid | None, display_key: tuple, seconds: float, device: str, message: str) -> None:
        self.ab_work, self.ab_up = ab_work, ab_up
        self.preview_version = version
        self.preview_seconds, self.preview_device, self.preview_message = seconds, device, message
        if pyramid is not None and display_key == self.display_key():
            self.compositor.replace(pyramid)
        else:  # the mask or sliders moved while the model ran: redraw with what is current
            self.compositor.invalidate()

    def display_key(self) -> tuple:
        """What the displayed composite depends on besides the predicted colours."""
        return (self.version, self.settings.feather, self.settings.saturation)

    def _compose(self, rect: Rect) -> np.ndarray:
        s = self.settings
        return compose_rgb8(self.document.L, self.ab_up, self.mask.data, s.feather, s.saturation, rect)
