"""The request/response types every colorizer, the engine, the GUI and batch export share."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

_ids = itertools.count(1)


def next_request_id() -> int:
    """A process-wide rising id: a result whose id is older than the newest request is stale."""
    return next(_ids)


class Cancelled(Exception):
    """The one "stopped on request" exception (a colorizer, a segmenter, a download, a task):
    whoever catches it reports "cancelled", never a failure."""


class UserError(Exception):
    """A failure a user caused and can act on (a bad file, missing weights, a full disk): its
    message is one sentence naming the file and the next step. Printed alone, no traceback."""


class ModelError(UserError):
    """A model could not be loaded or run. The message is one sentence a user can act on."""


CancelCheck = Callable[[], bool]


DEFAULT_HINT_REACH = 0.1  # a hint colours what is near it and alike, not the whole photo


@dataclass(frozen=True, eq=False)
class ColorizeRequest:
    """Everything a colorizer needs, at the work size (h, w).

    L          float32 (h, w), Lab lightness 0-100 of the user's photo.
    mask       float32 (h, w) in {0, 1}: where colour is wanted (ones = whole photo).
    hint_ab    float32 (h, w, 2): requested ab where hint_mask is 1, else 0.
    hint_mask  float32 (h, w) in {0, 1}.
    reference_L  optional float32 (h2, w2) L of a second photo (iizuka style transfer).
    reference_ab optional float32 (h2, w2, 2): that photo's colour (the reference model).
    hint_reach   0 (a hint colours what is near it and alike) .. 1 (hints speak for the whole
                 photo, e.g. true colours picked from a colour reference); see models.hintprop.
    """

    L: np.ndarray
    mask: np.ndarray
    hint_ab: np.ndarray
    hint_mask: np.ndarray
    model: str = "hints"
    device: str = "auto"
    reference_L: np.ndarray | None = None
    hint_reach: float = DEFAULT_HINT_REACH
    reference_ab: np.ndarray | None = None  # (h2, w2, 2): the reference photo's colour (the reference model)
    id: int = field(default_factory=next_request_id)

    def __post_init__(self) -> None:
        h, w = self.L.shape
        if self.mask.shape != (h, w) or self.hint_mask.shape != (h, w):
            raise ValueError("mask and hint_mask must match L's shape")
        if self.hint_ab.shape != (h, w, 2):
            raise ValueError("hint_ab must have shape (h, w, 2)")
        for a in (self.L, self.mask, self.hint_ab, self.hint_mask):
            a.setflags(write=False)

    @property
    def size(self) -> tuple[int, int]:
        return self.L.shape  # type: ignore[return-value]

    @classmethod
    def whole_photo(cls, L: np.ndarray, **kw) -> ColorizeRequest:
        h, w = L.shape
        return cls(
            L=np.asarray(L, np.float32),
            mask=np.ones((h, w), np.float32),
            hint_ab=np.zeros((h, w, 2), np.float32),
            hint_mask=np.zeros((h, w), np.float32),
            **kw,
        )


@dataclass(frozen=True, eq=False)
class ColorizeResult:
    """ab predicted at the request's work size, float32 (h, w, 2), channels last."""

    request_id: int
    ab: np.ndarray
    model: str
    device: str
    seconds: float
    message: str = ""  # e.g. "Out of GPU memory: fell back to the CPU."
