"""A photo's saved project as a batch mask source: mask, hints, settings, reference photo."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import ProjectError


def scale_hint(hint: Any, sx: float, sy: float) -> Any:
    """A hint placed on one photo, moved to the same relative place on a photo of another size."""
    if sx == 1.0 and sy == 1.0:
        return hint
    points = tuple(((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5) for x, y in hint.points)
    return dataclasses.replace(hint, points=points, radius=max(0.5, hint.radius * (sx + sy) / 2))


def scale_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if mask.shape == tuple(shape):
        return mask
    if mask.dtype == np.uint8:  # a soft mask's coverage: scaled smoothly, still uint8
        return cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)


def project_inputs(project_path: Path, photo: Path, shape: tuple[int, int], *, photo_sha256: str = "",
                   apply_changed: bool = False, notes: list[str] | None = None,
                   regions_out: list | None = None) -> tuple[np.ndarray | None, tuple, Any, np.ndarray | None]:
    """(mask, hints, settings, reference_lab) from a project, fitted to the photo's size.

    A project made on a resized copy of the photo (same aspect ratio) is scaled to fit; one made
    for a differently shaped photo is refused, since its mask would land in the wrong place. A
    project whose photo has changed since it was saved (another checksum) is refused unless
    ``apply_changed``, and then a sentence saying so goes to ``notes``. A project with colour
    regions puts them (fitted to the photo) in ``regions_out`` and returns, as the mask, where the
    network's colour is wanted (its ``auto`` regions).
    """
    from ..project import load_project

    project = load_project(project_path)
    if photo_sha256 and project.source_sha256 and project.source_sha256 != photo_sha256:
        msg = f"{photo.name} has changed since the project {project_path.name} was saved"
        if not apply_changed:
            raise ProjectError(f"{msg}, so it was skipped: open it to check the mask and hints, or pass --apply-changed.")
        if notes is not None:
            notes.append(f"{msg}; applied anyway (--apply-changed).")
    mask, hints = project.mask, tuple(project.hints)
    size = tuple(project.size) if project.size else (mask.shape if mask is not None else None)
    if size is not None and size != tuple(shape):
        (ph, pw), (h, w) = size, shape
        if abs(pw / ph - w / h) > 0.01 * (w / h):
            raise ProjectError(
                f"Project {project_path} was made for a {pw}x{ph} photo but {photo.name} is {w}x{h}: "
                "open the photo and save its project again."
            )
        sy, sx = h / ph, w / pw
        hints = tuple(scale_hint(hint, sx, sy) for hint in hints)
        mask = scale_mask(mask, shape) if mask is not None else None
        if project.regions:
            project.regions = [r.with_mask(scale_mask(r.mask, shape)) for r in project.regions]
    if project.regions and regions_out is not None:
        from ..regions import auto_mask

        regions_out.extend(project.regions)
        mask = auto_mask(project.regions, tuple(shape))
    reference_lab = None
    if project.reference_path is not None:  # style transfer (iizuka); other models ignore it
        from ..document import load_reference

        reference_lab = load_reference(project.reference_path)
    return mask, hints, project.settings, reference_lab


def shared_from_project(project_path: Path) -> tuple[np.ndarray | None, tuple, tuple[int, int] | None, tuple]:
    """The mask, hints, photo size and colour regions (empty: a plain mask) of a project, to apply
    to every photo of a series."""
    from ..project import load_project

    project = load_project(project_path)
    shape = tuple(project.size) if project.size else (project.mask.shape if project.mask is not None else None)
    return project.mask, tuple(project.hints), shape, tuple(project.regions or ())  # type: ignore[return-value]
