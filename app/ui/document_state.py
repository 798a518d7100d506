"""Everything the window knows about one open photo: the document, its mask, hints and
settings, the last predicted colours, the display pyramid and its own undo stack."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.core.composite import compose_rgb8, dirty_rect
from app.ui.compositor import Compositor, Rect
from app.ui.project_io import DEFAULT_REGION
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


@dataclasses.dataclass(frozen=True, eq=False)
class RegionSlot:
    """One colour region as the window holds it: its own editable Mask (with its own stroke
    history) and how it is coloured. Replaced, never changed, so undo can keep the old ones."""

    name: str
    mask: Any  # app.core.mask.Mask
    source: str = "auto"  # auto (the network) | tint (a chosen colour at the photo's lightness)
    colour: str | None = None  # "#rrggbb" for a tint
    saturation: float = 1.0
    visible: bool = True

    def view(self, copy: bool = False):
        """The core's Region of this slot (``copy``: a snapshot for another thread)."""
        from app.core.regions import Region

        cover = self.mask.coverage
        data = cover.copy() if copy else cover
        return Region(self.name, data, self.source, self.colour, self.saturation, self.visible)


class DocumentState(QObject):
    edited = Signal()  # the model's inputs changed: schedule a preview
    display_updated = Signal(tuple)  # Rect to repaint
    hints_changed = Signal()
    settings_changed = Signal()
    dirty_changed = Signal(bool)
    regions_changed = Signal()  # the list, a region's settings or the selected region

    def __init__(self, document, settings, *, mask=None, hints=(), project_path: Path | None = None,
                 reference_lab: np.ndarray | None = None, reference_path: str | None = None,
                 initial_grey: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__()
        from app.core.mask import UNDO_LIMIT

        self.document = document
        self.settings = settings
        self.hints: tuple = tuple(hints)
        self.reference_lab = reference_lab
        self.reference_path = reference_path
        self.project_path = project_path
        H, W = document.size
        first = mask if mask is not None else self.new_mask()
        self.regions: tuple[RegionSlot, ...] = (RegionSlot(DEFAULT_REGION, first),)
        self.active = 0  # the region the mask tools edit
        self._watched: set[int] = set()
        self._mask_untouched_empty = mask is None
        self._snapshots: list[np.ndarray] = []  # reusable mask copies for preview jobs
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
        self._watch(first)

    # ---- regions --------------------------------------------------------------------------
    @property
    def mask(self):
        """The selected region's Mask: what the brush, lasso, segment and wand tools edit."""
        return self.regions[self.active].mask

    @property
    def simple(self) -> bool:
        """One visible region coloured by the network at full saturation: a plain mask."""
        if len(self.regions) != 1:
            return False
        r = self.regions[0]
        return r.source == "auto" and r.visible and r.saturation == 1.0

    def new_mask(self):
        from app.core.mask import UNDO_LIMIT, Mask

        H, W = self.shape
        return Mask(H, W, history_limit=UNDO_LIMIT)

    def _watch(self, mask) -> None:
        if id(mask) not in self._watched:
            self._watched.add(id(mask))
            mask.on_change.append(self._on_mask_change)

    def set_regions(self, regions, active: int) -> None:
        """Replace the regions (called by the undo commands and when a project opens)."""
        regions = tuple(regions)
        if not regions:
            raise ValueError("a photo keeps at least one region")
        for r in regions:
            self._watch(r.mask)
        self.regions, self.active = regions, min(max(int(active), 0), len(regions) - 1)
        self._mask_untouched_empty = False
        self.version += 1
        self.changed_since_autosave = True
        self.compositor.invalidate()
        self.regions_changed.emit()
        self.edited.emit()

    def select_region(self, index: int) -> None:
        """Which region the mask tools edit (not an edit: no undo step, no new preview)."""
        index = min(max(int(index), 0), len(self.regions) - 1)
        if index != self.active:
            self.active = index
            self.regions_changed.emit()

    def select_mask(self, mask) -> None:
        for i, r in enumerate(self.regions):
            if r.mask is mask:
                self.select_region(i)
                return

    def region_views(self, copy: bool = False) -> list:
        return [r.view(copy) for r in self.regions]

    def load_regions(self, regions) -> None:
        """A project's regions (app.core.regions.Region, bottom to top) become this photo's."""
        from app.core.mask import UNDO_LIMIT, Mask

        slots = [RegionSlot(r.name, Mask.from_array(r.mask, history_limit=UNDO_LIMIT), r.source, r.colour,
                            float(r.saturation), bool(r.visible)) for r in regions]
        self.set_regions(slots, len(slots) - 1)

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
        self.set_settings(dataclasses.replace(self.settings, **changes))

    def set_settings(self, new) -> None:
        """The photo's settings (undo and redo set them whole); the model runs again only where
        its input changed, the rest is a recomposite."""
        if new == self.settings:
            return
        old = self.settings
        rerun = any(getattr(new, k) != getattr(old, k) for k in ("model", "work_size", "device", "hint_reach"))
        self.settings = new
        self._settings_dirty = True
        self.changed_since_autosave = True
        self.dirty_changed.emit(True)
        self.settings_changed.emit()
        if (new.grade, new.feather) != (old.grade, old.feather):
            self.compositor.invalidate()  # saturation, colour balance and feather only need a recomposite
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
        if not self.simple:  # the network colours the visible auto regions; the display composes them all
            from app.core.regions import auto_mask

            data = auto_mask(self.region_views(), self.shape)
            return (data if data.any() else None), data
        cover = self.mask.coverage  # a soft mask's uint8 coverage: the model reads any coverage as inside
        data = self._snapshot_buffer(cover.dtype)
        np.copyto(data, cover)
        return (data if data.any() else None), data

    def _snapshot_buffer(self, dtype=bool) -> np.ndarray:
        """A mask-sized array no one else holds. Fresh 24 MB arrays cost page faults on every
        preview (tens to hundreds of ms on a busy machine, on the GUI thread), so a couple are kept
        and reused once the preview job that had one has let it go."""
        for buf in self._snapshots:
            # references: the list, this loop's name and getrefcount's own argument; a job adds more
            if buf.dtype == dtype and sys.getrefcount(buf) <= 3:
                return buf
        buf = np.empty(self.shape, dtype)
        if len(self._snapshots) < 2:
            self._snapshots.append(buf)
        else:  # the mask turned soft: trade a free buffer of the old kind for this one
            for i, old in enumerate(self._snapshots):
                if old.dtype != dtype and sys.getrefcount(old) <= 3:
                    self._snapshots[i] = buf
                    break
        return buf

    def apply_preview(self, version: int, ab_work: np.ndarray, ab_up: np.ndarray,
                      pyramid: Pyramid | None, display_key: tuple, seconds: float, device: str, message: str) -> None:
        self.ab_work, self.ab_up = ab_work, ab_up
        self.preview_version = version
        self.preview_seconds, self.preview_device, self.preview_message = seconds, device, message
        if pyramid is not None and display_key == self.display_key():
            self.compositor.replace(pyramid)
        else:  # the mask or sliders moved while the model ran: redraw with what is current
            if pyramid is not None and self.compositor.pyramid.is_proxy:
                self.compositor.replace(pyramid)  # redrawn over a full-size pyramid, not into the proxy
            self.compositor.invalidate()

    def apply_proxy(self, pyramid: Pyramid, display_key: tuple) -> bool:
        """Show a big photo's first preview (composed at a coarser pyramid level) until the
        full-size one arrives; only if nothing it depends on moved meanwhile (then the strokes
        already on screen are newer). The colours kept for redraws stay the last full-size ones."""
        if display_key != self.display_key():
            return False
        self.compositor.replace(pyramid)
        return True

    def display_key(self) -> tuple:
        """What the displayed composite depends on besides the predicted colours."""
        return (self.version, self.settings.feather, self.settings.grade)

    def _compose(self, rect: Rect) -> np.ndarray:
        s = self.settings
        if not self.simple:
            from app.core.regions import compose_regions_rgb8

            return compose_regions_rgb8(self.document.L, self.ab_up, self.region_views(), s.feather, s.grade, rect)
        return compose_rgb8(self.document.L, self.ab_up, self.mask.coverage, s.feather, s.grade, rect)
