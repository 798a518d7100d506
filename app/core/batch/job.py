"""Batch export: colourize a folder or list of photos, headless (CLI) or under the batch dialog.

Flow per photo: an I/O worker decodes it and builds the request -> the one model worker (the
thread calling ``run``) predicts ab at the work size -> an I/O worker upsamples, composites and
exports it atomically. Decoding and encoding of neighbouring photos overlap with inference, and
at most a few photos are in memory at once, so memory stays flat over archives of any length.
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .plan import (
    EXISTING,
    FORMATS,
    MASK_SOURCES,
    BatchError,
    Plan,
    PlannedPhoto,
    check_template,
    next_free,
    output_ext,
    render_name,
    resolve_mask_source,
    scan_inputs,
)
from .report import BatchProgress, BatchReport, PhotoRecord  # noqa: F401  (BatchProgress: the runner's progress record)

__all__ = ["BatchJob", "BatchProgress", "BatchError", "Plan", "PlannedPhoto", "BatchReport", "PhotoRecord"]

@dataclass
class BatchJob:
    """What to colourize and how. ``plan()`` says what will happen; ``run()`` does it."""

    inputs: list[Path]
    output_dir: Path
    recursive: bool = False
    # Where a photo's mask and hints come from, first match wins: its project file, a mask PNG
    # in masks_dir, the shared mask/hints, or the whole photo. A photo no source covers is skipped.
    mask_sources: tuple[str, ...] = ("project", "masks", "whole")
    projects_dir: Path | None = None
    masks_dir: Path | None = None
    shared_mask: np.ndarray | None = None  # bool (h, w) of the reference photo; scaled to each photo
    shared_hints: tuple = ()  # Hints in the reference photo's pixels
    shared_shape: tuple[int, int] | None = None  # the reference photo's size (None: hints used as given)
    shared_regions: tuple = ()  # colour regions (app.core.regions) of the reference photo; scaled to each photo
    settings: Any = None  # app.core.pipeline.Settings for photos without a project (None: defaults)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # Settings fields that beat the project's
    format: str = "png"  # png | tif | jpg | same
    bit_depth: int | None = None  # None: the source's
    quality: int = 95
    long_side: int | None = None  # None: full size; else shrink so the long side is at most N
    name_template: str = "{name}_colour.{ext}"
    existing: str = "skip"  # skip | overwrite | number
    keep_metadata: bool = True
    # also the colour alone with alpha beside each output (OUTPUT-NAME_layer.tif), for a Color-mode
    # layer in Photoshop, at the photo's bit depth
    colour_layers: bool = False
    apply_changed: bool = False  # apply a photo's project even if the photo changed since it was saved
    io_workers: int = 2
    device: str = "auto"

    def __post_init__(self) -> None:
        self.inputs = [Path(p) for p in self.inputs]
        self.output_dir = Path(self.output_dir)
        self.projects_dir = Path(self.projects_dir) if self.projects_dir else None
        self.masks_dir = Path(self.masks_dir) if self.masks_dir else None
        self.mask_sources = tuple(self.mask_sources)
        bad = [s for s in self.mask_sources if s not in MASK_SOURCES]
        if bad or not self.mask_sources:
            raise BatchError(f"Unknown mask source '{bad[0] if bad else ''}': use one or more of {', '.join(MASK_SOURCES)}.")
        if self.format not in FORMATS:
            raise BatchError(f"Unknown output format '{self.format}': use {', '.join(FORMATS)}.")
        if self.existing not in EXISTING:
            raise BatchError(f"Unknown choice for existing files '{self.existing}': use {', '.join(EXISTING)}.")
        if self.bit_depth not in (None, 8, 16):
            raise BatchError(f"Bit depth {self.bit_depth} is not supported: use 8 or 16.")
        if self.long_side is not None and self.long_side < 16:
            raise BatchError(f"A long side of {self.long_side} px is too small: use at least 16 px, or full size.")
        if not 1 <= int(self.quality) <= 100:
            raise BatchError(f"JPEG quality {self.quality} is out of range: use 1-100.")
        if self.shared_mask is not None:
            from ..mask import as_mask

            self.shared_mask = as_mask(self.shared_mask)  # uint8 stays: a soft mask's coverage
            self.shared_shape = self.shared_mask.shape  # type: ignore[assignment]
        self.shared_regions = tuple(self.shared_regions or ())
        if self.shared_regions and self.shared_mask is None:
            from ..regions import union

            self.shared_shape = self.shared_regions[0].mask.shape
            self.shared_mask = union(list(self.shared_regions), self.shared_shape)  # type: ignore[arg-type]
        check_template(self.name_template)

    # ----- planning ------------------------------------------------------------------------
    def plan(self) -> Plan:
        """Every input photo with its output name and mask source, or why it will be skipped."""
        input_dirs = {p.resolve() for p in self.inputs if p.is_dir()}
        exclude = [d for d in (self.output_dir, self.masks_dir, self.projects_dir) if d and d.resolve() not in input_dirs]
        pairs, ignored = scan_inputs(self.inputs, self.recursive, exclude)
        sources = {p.resolve() for p, _ in pairs}
        has_shared = self.shared_mask is not None or bool(self.shared_hints)
        # When the masks folder is the photo folder, name_mask.png files are masks, not photos.
        if self.masks_dir and self.masks_dir.resolve() in input_dirs:
            pairs = [(p, b) for p, b in pairs if not (p.stem.endswith("_mask") and p.parent.resolve() == self.masks_dir.resolve())]
        def output_of(src: Path, base: Path) -> Path:
            rel = src.parent.relative_to(base) if src.is_relative_to(base) else Path()
            return self.output_dir / rel / render_name(self.name_template, src, output_ext(self.format, src))

        # With the outputs written beside the photos, an earlier run's results are not new photos
        # (and ranks starting at different moments must all see the same list).
        outputs = {output_of(src, base).resolve() for src, base in pairs}
        pairs = [(src, base) for src, base in pairs if src.resolve() not in outputs or output_of(src, base).resolve() == src.resolve()]
        taken: set[Path] = set()
        items: list[PlannedPhoto] = []
        for i, (src, base) in enumerate(pairs):
            out = output_of(src, base)
            mask_source, mask_path, why = resolve_mask_source(src, self.mask_sources, self.projects_dir, self.masks_dir, has_shared)
            if out in taken:  # two inputs (a.png, a.jpg) render to the same name: number the later one
                out = next_free(out, taken, on_disk=False)
            if not mask_source:
                taken.add(out)  # names depend on the inputs only, so a later run names photos alike
                items.append(PlannedPhoto(i, src, "skip", out, reason=why))
                continue
            if out.resolve() in sources:
                items.append(PlannedPhoto(i, src, "skip", None, reason=f"its output name {out.name} is an input photo; change the name template"))
                continue
            if out.exists():
                if self.existing == "skip":
                    items.append(PlannedPhoto(i, src, "skip", out, mask_source, mask_path, reason="output exists (skip existing)"))
                    taken.add(out)
                    continue
                if self.existing == "number":
                    out = next_free(out, taken)
            taken.add(out)
            items.append(PlannedPhoto(i, src, "do", out, mask_source, mask_path))
        return Plan(items, ignored)

    # ----- running ---------------------------------------------------------------------------
    def run(
        self,
        progress: Callable[[BatchProgress], None] | None = None,
        cancel: threading.Event | Callable[[], bool] | None = None,
        *,
        plan: Plan | None = None,
        engine: Any = None,
        report_path: Path | None = None,
        rank: int = 0,
        world_size: int = 1,
        run_id: str = "",
    ) -> BatchReport:
        """Colourize every planned photo (this rank's share when world_size > 1).

        Never raises for a bad photo: each outcome lands in the report. The report's state is
        "finished", "cancelled" (cancel() turned true; photos in flight were completed) or
        "stopped" (disk full / folder not writable; ``report.error`` says so in one sentence).
        """
        from .runner import BatchRunner  # the threads and the per-photo work

        plan = plan or self.plan()
        if world_size > 1:
            plan = plan.shard(rank, world_size)
        report = BatchReport(output_dir=str(self.output_dir), rank=rank, world_size=world_size, run_id=run_id)
        report.ignored = [str(p) for p in plan.ignored]
        for item in plan.skipped:
            report.photos.append(PhotoRecord(str(item.source), "skipped", item.reason, str(item.output) if item.output else None, mask_source=item.mask_source))
        runner = BatchRunner(self, plan.todo, report, progress, _as_check(cancel), engine, report_path)
        return runner.run()

    # ----- helpers the worker uses -------------------------------------------------------------
    def settings_for(self, project_settings: Any) -> Any:
        from ..pipeline import Settings

        base = project_settings or self.settings or Settings()
        return dataclasses.replace(base, **dict(self.overrides)) if self.overrides else base


def _as_check(cancel: threading.Event | Callable[[], bool] | None) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set  # type: ignore[union-attr]
    return cancel  # type: ignore[return-value]
