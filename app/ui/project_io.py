"""Between a DocumentState and the core's .huebrush project (app.core.project).

A project stores where the photo is, the mask, hints and settings; opening one loads the photo
again. Autosaves are ordinary projects plus a small sidecar naming the user's own project file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_REGION = "Region 1"  # a photo's first region; one such region is saved as a plain mask

@dataclass
class LoadedProject:
    document: Any
    settings: Any
    mask: Any  # app.core.mask.Mask
    hints: tuple
    reference_lab: np.ndarray | None = None
    reference_path: str | None = None
    original_project: Path | None = None  # autosaves: the project the user was working on
    warnings: list[str] = field(default_factory=list)
    regions: list | None = None  # colour regions (app.core.regions), bottom to top; None: one plain mask


def snapshot(state):
    """The project as it is now (GUI thread; copies the mask so editing can go on)."""
    from app.core.project import Project

    doc = state.document
    regions, mask = None, state.mask.coverage.copy()
    if not (state.simple and state.regions[0].name == DEFAULT_REGION):  # named or several: keep them all
        from app.core.regions import union

        regions = state.region_views(copy=True)
        mask = union(regions, doc.size)
    return Project(
        source_path=doc.path, source_sha256=doc.sha256 or "", size=doc.size, settings=state.settings,
        hints=list(state.hints), mask=mask,
        reference_path=Path(state.reference_path) if state.reference_path else None, regions=regions,
    )


def save(path: Path, state, original_project: Path | None = None) -> Path:
    return write(path, snapshot(state), original_project)


def write(path: Path, project, original_project: Path | None = None) -> Path:
    """Write a snapshot (any thread: encoding a 24 MP mask takes a moment)."""
    from app.core.project import save_project

    out = save_project(path, project)
    sidecar = Path(path).with_suffix(".json")
    if original_project is not None:
        _write_json(sidecar, {"project": str(original_project)})
    else:
        sidecar.unlink(missing_ok=True)
    return out


def load(path: Path) -> LoadedProject:
    """Read a project and its photo (raises ProjectError / ImageLoadError as one sentence)."""
    from app.core.document import load_image, load_reference
    from app.core.errors import ProjectError
    from app.core.mask import UNDO_LIMIT, Mask
    from app.core.project import load_project

    path = Path(path)
    project = load_project(path)
    if project.source_path is None:
        why = project.warnings[0] if project.warnings else "it does not say which photo it belongs to."
        raise ProjectError(f"Cannot open project {path.name}: {why}")
    doc = load_image(project.source_path)
    H, W = doc.size
    if project.mask is not None and project.mask.shape == (H, W):
        mask = Mask.from_array(project.mask, history_limit=UNDO_LIMIT)
    else:
        mask = Mask(H, W, history_limit=UNDO_LIMIT)
        if project.mask is not None:
            project.warnings.append(f"The mask in {path.name} does not fit the photo's size; it was left out.")
    ref_lab, ref_path = None, None
    if project.reference_path is not None:
        try:
            ref_lab, ref_path = load_reference(project.reference_path), str(project.reference_path)
        except Exception as e:  # noqa: BLE001 - a missing reference must not block the project
            project.warnings.append(f"The reference photo could not be opened ({e}).")
    original = None
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        try:
            original = Path(json.loads(sidecar.read_text(encoding="utf-8"))["project"])
        except (OSError, ValueError, KeyError, TypeError):
            original = None
    return LoadedProject(doc, project.settings, mask, tuple(project.hints), ref_lab, ref_path, original,
                         list(project.warnings), project.regions)


def _write_json(path: Path, data: dict) -> None:
    from models.fileio import atomic_write_json

    atomic_write_json(path, data, indent=None)
