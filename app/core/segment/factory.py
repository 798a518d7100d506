"""Pick the segmenter the user asked for: ``auto`` means the best imported checkpoint, else built-in."""
from __future__ import annotations

from pathlib import Path

from .builtin import BuiltinSegmenter
from .checkpoints import CheckpointError, find_checkpoint, installed_from_file
from .types import Segmenter

KINDS = ("auto", "sam", "mobilesam", "builtin")


def create_segmenter(kind: str = "auto", checkpoint: str | Path | None = None, device: str = "cpu") -> Segmenter:
    if kind not in KINDS:
        raise CheckpointError(f"unknown segmenter {kind!r}; choose one of {', '.join(KINDS)}.")
    if kind == "builtin":
        return BuiltinSegmenter()
    ckpt = installed_from_file(checkpoint) if checkpoint else find_checkpoint(kind)
    if ckpt is not None and kind in ("sam", "mobilesam") and ckpt.family != kind:
        raise CheckpointError(f"{ckpt.name} is a {ckpt.family} checkpoint, not {kind}; "
                              f"pass --segmenter {ckpt.family} or another --checkpoint.")
    if ckpt is None:
        if kind == "auto":
            return BuiltinSegmenter()
        raise CheckpointError(f"no {kind} checkpoint is installed; import one with `huebrush models import FILE` "
                              "or pass --checkpoint FILE (or use --segmenter builtin).")
    from .sam import SamSegmenter

    return SamSegmenter(ckpt, device=device)
