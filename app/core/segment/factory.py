"""Pick the segmenter the user asked for: ``auto`` means the best imported checkpoint, else built-in.

``builtin`` is the learned click segmenter (learned.py, its weights ship with the app); ``classic``
is the earlier weight-free superpixel segmenter (builtin.py), also the fallback should the learned
one's weights be missing or damaged.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .builtin import BuiltinSegmenter
from .checkpoints import CheckpointError, find_checkpoint, installed_from_file
from .types import Segmenter

log = logging.getLogger(__name__)

KINDS = ("auto", "sam", "mobilesam", "builtin", "classic")


def builtin_segmenter(device: str = "cpu") -> Segmenter:
    """The learned segmenter, or the classic one (with a logged warning) when its weights cannot be loaded."""
    from models.types import ModelError

    from .learned import LearnedSegmenter

    try:
        return LearnedSegmenter(device=device)
    except ModelError as e:
        log.warning("the learned segmenter is unavailable (%s); using the classic one", e)
        return BuiltinSegmenter()


def create_segmenter(kind: str = "auto", checkpoint: str | Path | None = None, device: str = "cpu") -> Segmenter:
    if kind not in KINDS:
        raise CheckpointError(f"unknown segmenter {kind!r}; choose one of {', '.join(KINDS)}.")
    if kind == "classic":
        return BuiltinSegmenter()
    if kind == "builtin":
        return builtin_segmenter(device)
    ckpt = installed_from_file(checkpoint) if checkpoint else find_checkpoint(kind)
    if ckpt is not None and kind in ("sam", "mobilesam") and ckpt.family != kind:
        raise CheckpointError(f"{ckpt.name} is a {ckpt.family} checkpoint, not {kind}; "
                              f"pass --segmenter {ckpt.family} or another --checkpoint.")
    if ckpt is None:
        if kind == "auto":
            return builtin_segmenter(device)
        raise CheckpointError(f"no {kind} checkpoint is installed; import one with `huebrush models import FILE` "
                              "or pass --checkpoint FILE (or use --segmenter builtin).")
    from .sam import SamSegmenter

    return SamSegmenter(ckpt, device=device)
