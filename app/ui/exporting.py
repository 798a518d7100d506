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
    regions: tuple | None = None  # colour regions (app.core.regions.Region copies); None: the plain mask
    colour_layer: Path | None = None  # also the colour alone with alpha (TIFF, for Photoshop)

    @classmethod
    def of(cls, state, options) -> ExportSnapshot:
        current = state.ab_work is not None and state.preview_version == state.version
        regions = None if state.simple else tuple(state.region_views(copy=True))
        if regions is not None:
            from app.core.regions import auto_mask

            mask = auto_mask(list(regions), state.shape)
        else:
            mask = state.mask.coverage.copy()
        return cls(state.document, mask, tuple(state.hints), state.settings, state.reference_lab,
                   state.ab_work if current else None, Path(options.path), options.bit_depth, options.quality,
                   regions, options.colour_layer)


def export_snapshot(snap: ExportSnapshot, engine_factory: Callable[[], Any],
                    report: Callable[[int, str], None], cancelled: Callable[[], bool]) -> Path:
    from app.core.output import write_result
    from app.core.pipeline import finish, finish_regions, make_request
    from app.core.regions import needs_network
    from models.types import Cancelled

    doc = snap.document
    ab_work = snap.ab_work
    if ab_work is None and (snap.regions is None or needs_network(list(snap.regions))):
        report(10, "Colourizing")
        mask = snap.mask if snap.mask.any() else None
        request = make_request(doc.L, mask, list(snap.hints), snap.settings, reference_lab=snap.reference_lab)
        ab_work = engine_factory().colorize(request, cancelled).ab
    if cancelled():
        raise Cancelled()
    report(50, "Upsampling colours")
    layers = None
    if snap.regions is not None:  # an .ora gets one Color-mode layer per region
        layer_list: list = []
        ab_full = finish_regions(doc.L, ab_work, list(snap.regions), snap.settings, layer_list)
        layers = layer_list[0]
    else:
        ab_full = finish(doc.L, ab_work, snap.mask, snap.settings)
    if cancelled():
        raise Cancelled()
    report(80, "Writing")
    protect = tuple(p for p in (doc.path,) if p is not None)
    written = write_result(snap.path, doc.L, ab_full, layers=layers, bit_depth=snap.bit_depth, quality=snap.quality,
                           icc_profile=doc.icc_profile, exif=doc.exif, alpha=doc.alpha, protect=protect)
    if snap.colour_layer is not None:
        from app.core.layers import export_colour_layer

        report(90, "Writing the colour layer")
        export_colour_layer(snap.colour_layer, doc.L, ab_full, bit_depth=16 if doc.bit_depth == 16 else 8,
                            icc_profile=doc.icc_profile, exif=doc.exif, protect=protect)
    return written
