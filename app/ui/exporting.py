"""Full-size export off the GUI thread: reuse the preview's colours when they are current,
otherwise colourize again at the work size; then upsample, composite and write atomically."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class ExportSnapshot:
    """Everything the export needs, copied on the GUI thread so editing can go on meanwhile."""

    document: Any
    mask: np.ndarray
    hints: tuple
    settings: Any
    reference_lab: np.ndarray | None
    ab_work: np.ndarray | None  # the preview's colours if they match the current edits
    path: Path
    bit_depth: int
    quality: int

    @classmethod
    def of(cls, state, options) -> ExportSnapshot:
        current = state.ab_work is not None and state.preview_version == state.version
        return cls(state.document, state.mask.data.copy(), tuple(state.hints), state.settings, state.reference_lab,
                   state.ab_work if current else None, Path(options.path), options.bit_depth, options.quality)


def export_snapshot(snap: ExportSnapshot, engine_factory: Callable[[], Any],
                    report: Callable[[int, str], None], cancelled: Callable[[], bool]) -> Path:
    from app.core.output import write_result
    from app.core.pipeline import finish, make_request
    from models.types import Cancelled

    doc = snap.document
    ab_work = snap.ab_work
    if ab_work is None:
        report(10, "Colourizing")
        mask = snap.mask if snap.mask.any() else None
        request = make_request(doc.L, mask, list(snap.hints), snap.settings, reference_lab=snap.reference_lab)
        ab_work = engine_factory().colorize(request, cancelled).ab
    if cancelled():
        raise Cancelled()
    report(50, "Upsampling colours")
    ab_full = finish(doc.L, ab_work, snap.mask, snap.settings)
    if cancelled():
        raise Cancelled()
    report(80, "Writing")
    protect = tuple(p for p in (doc.path,) if p is not None)
    return write_result(snap.path, doc.L, ab_full, bit_depth=snap.bit_depth, quality=snap.quality,
                         icc_profile=doc.icc_profile, exif=doc.exif, alpha=doc.alpha, protect=protect)
