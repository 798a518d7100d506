"""Click-to-segment values: the prompts a user gives and the masks a segmenter returns.

Both are frozen so a GUI worker can hand them between threads without copies going stale;
arrays inside a result are made read-only for the same reason.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from models.types import Cancelled

Point = tuple[float, float]  # image coordinates (x, y), full resolution
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (any corner order)
ProgressCallback = Callable[[float, str], None]  # fraction 0..1, short message
CancelCheck = Callable[[], bool]


class SegmentCancelled(Cancelled):
    """The per-photo precompute or a click was cancelled because a newer one replaced it."""


@dataclass(frozen=True)
class Prompts:
    include: tuple[Point, ...] = ()
    exclude: tuple[Point, ...] = ()
    box: Box | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "include", tuple((float(x), float(y)) for x, y in self.include))
        object.__setattr__(self, "exclude", tuple((float(x), float(y)) for x, y in self.exclude))
        if self.box is not None:
            x0, y0, x1, y1 = (float(v) for v in self.box)
            object.__setattr__(self, "box", (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))

    @property
    def is_empty(self) -> bool:
        return not self.include and not self.exclude and self.box is None

    def add_include(self, x: float, y: float) -> Prompts:
        return replace(self, include=self.include + ((x, y),))

    def add_exclude(self, x: float, y: float) -> Prompts:
        return replace(self, exclude=self.exclude + ((x, y),))

    def with_box(self, box: Box | None) -> Prompts:
        return replace(self, box=box)


@dataclass(frozen=True)
class SegmentResult:
    """Candidate masks for one set of prompts, best first by the segmenter's own score.

    ``chosen`` is the alternative the user is looking at (Tab cycles it).
    """

    masks: tuple[np.ndarray, ...]
    scores: tuple[float, ...]
    chosen: int = 0
    segmenter: str = ""
    seconds: float = 0.0
    prompts: Prompts = field(default_factory=Prompts)

    def __post_init__(self) -> None:
        if not self.masks:
            raise ValueError("a SegmentResult needs at least one mask")
        if len(self.scores) != len(self.masks):
            raise ValueError("one score per mask")
        masks = []
        for m in self.masks:
            m = np.asarray(m, dtype=bool)
            if m.flags.writeable:
                m = m.copy()
                m.flags.writeable = False
            masks.append(m)
        object.__setattr__(self, "masks", tuple(masks))
        object.__setattr__(self, "scores", tuple(float(s) for s in self.scores))
        object.__setattr__(self, "chosen", int(self.chosen) % len(masks))

    @property
    def mask(self) -> np.ndarray:
        return self.masks[self.chosen]

    @property
    def count(self) -> int:
        return len(self.masks)

    def next_alternative(self) -> SegmentResult:
        return replace(self, chosen=(self.chosen + 1) % len(self.masks))


class Segmenter(Protocol):
    """What the CLI and the S tool use; the built-in segmenter and SAM sessions both fit it."""

    name: str

    def set_image(self, image: np.ndarray, key: str | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
        """Per-photo precompute (superpixels or SAM embedding); cached by ``key``."""

    def segment(self, prompts: Prompts) -> SegmentResult:
        """Masks for the prompts on the current photo (call set_image first)."""

    def everything(self, cancel: CancelCheck | None = None) -> list[np.ndarray]:
        """Region proposals covering the photo, for click-in/click-out selection."""
