"""`.huebrush` project files: a zip holding manifest.json and mask.png.

The manifest records the source photo (path relative to the project when possible, plus
the absolute path, and its sha256), the settings, the hints and an optional reference
photo. The photo itself is never written or copied; loading tells the caller whether it
was found where it was, found beside the project (moved), changed or missing.

Masks are 8-bit grey PNGs: 255 inside, 0 outside, and in between a soft brush's partial coverage
(format 3; a project without a soft mask is written as format 2 so older releases open it).
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from app import __version__
from models.fileio import atomic_write, sha256_file

from .errors import ProjectError
from .hints import Hint, hints_from_json, hints_to_json
from .mask import mask_png_pixels, read_mask_png
from .pipeline import Settings

FORMAT = "huebrush-project"
FORMAT_VERSION = 3  # 2: colour regions (a project of version 1 opens as one region); 3: soft masks
HARD_MASKS_VERSION = 2  # what a project without a soft mask is written as, so older releases open it
MANIFEST = "manifest.json"
MASK = "mask.png"
_MEMBERS = {MANIFEST, MASK}
MAX_REGIONS = 64


def _region_member(i: int) -> str:
    return f"regions/{i}.png"
_MAX_MANIFEST_BYTES = 16 * 1024 * 1024


@dataclass
class Project:
    source_path: Path | None
    source_sha256: str = ""
    size: tuple[int, int] | None = None  # (H, W) of the photo, checks the mask on load
    settings: Settings = field(default_factory=Settings)
    hints: list[Hint] = field(default_factory=list)
    mask: np.ndarray | None = None  # bool (H, W), or uint8 coverage (soft); with regions: where any region is
    reference_path: Path | None = None
    regions: list | None = None  # app.core.regions.Region, bottom to top; None: the one mask
    # filled in by load_project
    source_status: str = "ok"  # ok | moved | changed | missing
    warnings: list[str] = field(default_factory=list)
    app_version: str = __version__


file_sha256 = sha256_file  # the photo's checksum, recorded in and checked against the manifest


def _rel(path: Path, base: Path) -> str | None:
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return None


def _path_entry(path: Path | None, base: Path) -> dict[str, Any] | None:
    if path is None:
        return None
    return {"relative": _rel(Path(path), base), "absolute": str(Path(path).resolve()), "name": Path(path).name}


def save_project(path: str | os.PathLike, project: Project) -> Path:
    """Write ``project`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    base = path.resolve().parent
    src = project.source_path
    if src is not None and Path(src).exists() and path.resolve() == Path(src).resolve():
        raise ProjectError(f"Refusing to save project {path} over its own photo: choose a .huebrush file name.")
    sha = project.source_sha256
    if not sha and src is not None and Path(src).is_file():
        sha = file_sha256(src)
    size = project.size
    if project.regions:
        from .regions import union

        size = tuple(project.regions[0].mask.shape)  # type: ignore[assignment]
        project.mask = union(project.regions, size)  # type: ignore[arg-type]
    if project.mask is not None:
        size = tuple(project.mask.shape)  # type: ignore[assignment]
    soft = any(np.asarray(m).dtype == np.uint8 for m in
               [project.mask, *(r.mask for r in project.regions or [])] if m is not None)
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION if soft else HARD_MASKS_VERSION,
        "app_version": __version__,
        "source": {**(_path_entry(src, base) or {}), "sha256": sha} if src is not None else None,
        "size": list(size) if size else None,
        "settings": project.settings.to_dict(),
        "hints": hints_to_json(project.hints),
        "reference": _path_entry(project.reference_path, base),
        "regions": [{"name": r.name, "source": r.source, "colour": r.colour, "saturation": r.saturation,
                     "visible": r.visible, "mask": _region_member(i)} for i, r in enumerate(project.regions or [])] or None,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(MANIFEST, json.dumps(manifest, indent=2))
        if project.mask is not None:
            from PIL import Image

            png = io.BytesIO()
            Image.fromarray(mask_png_pixels(project.mask), mode="L").save(png, "PNG")
            z.writestr(MASK, png.getvalue())
        for i, r in enumerate(project.regions or []):
            from PIL import Image

            png = io.BytesIO()
            Image.fromarray(mask_png_pixels(r.mask), mode="L").save(png, "PNG")
            z.writestr(_region_member(i), png.getvalue())
    try:
        atomic_write(path, lambda f: f.write(buf.getvalue()))
    except OSError as e:
        raise ProjectError(
            f"Could not save project {path} ({e.strerror or e}): choose a folder you can write to, with free space."
        ) from None
    return path


def _bad(path: Path, why: str) -> ProjectError:
    return ProjectError(f"Project {path} {why}")


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    regions = name.startswith("regions/") and name[8:-4].isdigit() and name.endswith(".png") and int(name[8:-4]) < MAX_REGIONS
    return not p.is_absolute() and ".." not in p.parts and ":" not in name and (name in _MEMBERS or regions)


def _find(entry: dict[str, Any] | None, base: Path) -> tuple[Path | None, bool]:
    """(path, moved): the recorded place first (relative, then absolute), then beside the project."""
    if not entry:
        return None, False
    for key in ("relative", "absolute"):
        v = entry.get(key)
        if isinstance(v, str) and v:
            p = Path(v) if key == "absolute" else base / v
            if p.is_file():
                return p.resolve(), False  # "autosave/../../photos/x.png" is shown and reused as /…/photos/x.png
    name = entry.get("name") or Path(str(entry.get("absolute", ""))).name
    if name and (base / name).is_file():
        return (base / name).resolve(), True
    return None, False


def peek_photo(path: str | os.PathLike) -> str | None:
    """The photo a project was saved for (its recorded path), from the manifest alone: quick, for
    lists such as the recovery prompt. None when the project cannot say."""
    try:
        with zipfile.ZipFile(path) as z:
            if z.getinfo(MANIFEST).file_size > _MAX_MANIFEST_BYTES:
                return None
            m = json.loads(z.read(MANIFEST).decode("utf-8"))
    except (OSError, KeyError, ValueError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    source = m.get("source") if isinstance(m, dict) else None
    if not isinstance(source, dict):
        return None
    name = source.get("absolute") or source.get("name") or source.get("relative")
    return str(name) if isinstance(name, str) and name else None


def load_project(path: str | os.PathLike) -> Project:
    """Read and validate a project; raises ProjectError (one sentence) when it cannot be used."""
    path = Path(path)
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise _bad(path, "does not exist: check the path.") from None
    except (zipfile.BadZipFile, OSError) as e:
        raise _bad(path, f"is not a Huebrush project ({e}): open the photo instead and save a new project.") from None
    with z:
        names = z.namelist()
        for n in names:
            if not _safe_member(n):
                raise _bad(path, f"contains an unexpected or unsafe member '{n}': it was not made by Huebrush, so it was not opened.")
        if MANIFEST not in names:
            raise _bad(path, "has no manifest.json: it is damaged; open the photo and save a new project.")
        if z.getinfo(MANIFEST).file_size > _MAX_MANIFEST_BYTES:
            raise _bad(path, "has an oversized manifest: it is damaged; open the photo and save a new project.")
        try:
            m = json.loads(z.read(MANIFEST).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as e:
            raise _bad(path, f"has an unreadable manifest ({e}): it is damaged; open the photo and save a new project.") from None
        mask_bytes = None
        if MASK in names:
            size = m.get("size") if isinstance(m, dict) else None
            if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and 0 < v <= 10**6 for v in size)):
                raise _bad(path, "has a mask but no valid photo size: it is damaged.")
            # a PNG mask of H x W pixels (8-bit grey, even RGBA) cannot honestly inflate beyond this
            if z.getinfo(MASK).file_size > _max_mask_bytes(size[0], size[1]):
                raise _bad(path, f"holds a mask far larger than a {size[1]}x{size[0]} photo needs: it is damaged or hostile, so it was not opened.")
            mask_bytes = z.read(MASK)
        region_bytes = {}
        size = m.get("size") if isinstance(m, dict) else None
        for name in names:
            if name.startswith("regions/"):
                if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and 0 < v <= 10**6 for v in size)):
                    raise _bad(path, "has regions but no valid photo size: it is damaged.")
                if z.getinfo(name).file_size > _max_mask_bytes(size[0], size[1]):
                    raise _bad(path, f"holds a region mask far larger than a {size[1]}x{size[0]} photo needs: it is damaged or hostile, so it was not opened.")
                region_bytes[name] = z.read(name)
    project = _from_manifest(path, m, mask_bytes)
    if isinstance(m, dict) and m.get("regions"):
        project.regions = _regions(path, m["regions"], region_bytes, project.size)
    return project


def _regions(path: Path, entries: Any, members: dict[str, bytes], size) -> list:
    """The project's colour regions, each checked: one sentence naming the project when damaged."""
    from .errors import HuebrushError
    from .regions import Region

    if not isinstance(entries, list) or len(entries) > MAX_REGIONS:
        raise _bad(path, "has an invalid list of regions: it is damaged.")
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or len(e["name"]) > 200:
            raise _bad(path, f"has an invalid region {i + 1}: it is damaged.")
        member = e.get("mask")
        if member not in members:
            raise _bad(path, f"lacks the mask of region '{e['name']}': it is damaged.")
        sat, vis = e.get("saturation", 1.0), e.get("visible", True)
        if isinstance(sat, bool) or not isinstance(sat, (int, float)) or not np.isfinite(sat) or not isinstance(vis, bool):
            raise _bad(path, f"has an invalid saturation or visibility for region '{e['name']}': it is damaged.")
        try:
            region = Region(e["name"], _read_mask(path, members[member], tuple(size)), str(e.get("source", "auto")),
                            e.get("colour"), float(sat), vis)
        except HuebrushError as err:
            raise _bad(path, f"has a region that cannot be used ({err})") from None
        out.append(region)
    return out


def _max_mask_bytes(h: int, w: int) -> int:
    return 4 * h * (w + 1) + (1 << 20)


def _from_manifest(path: Path, m: Any, mask_bytes: bytes | None) -> Project:
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise _bad(path, "is not a Huebrush project (wrong manifest format).")
    version = m.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(path, "has no valid format version: it is damaged; open the photo and save a new project.")
    if version > FORMAT_VERSION:
        raise _bad(path, f"was saved by a newer Huebrush (format {version}, this one reads {FORMAT_VERSION}): update Huebrush to open it.")
    base = path.resolve().parent
    size = m.get("size")
    if size is not None and not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise _bad(path, "has an invalid photo size in its manifest: it is damaged.")
    source = m.get("source")
    if source is not None and not isinstance(source, dict):
        raise _bad(path, "has an invalid source entry in its manifest: it is damaged.")
    reference = m.get("reference")
    if reference is not None and not isinstance(reference, dict):
        raise _bad(path, "has an invalid reference entry in its manifest: it is damaged.")
    settings = Settings.from_dict(m.get("settings") or {}, source=f"project {path}")
    hints = hints_from_json(m.get("hints") or [], source=f"project {path}")
    project = Project(
        source_path=None, settings=settings, hints=hints, size=tuple(size) if size else None,
        app_version=str(m.get("app_version", "")),
    )
    if mask_bytes is not None:
        if size is None:
            raise _bad(path, "has a mask but no photo size: it is damaged.")
        project.mask = _read_mask(path, mask_bytes, tuple(size))
    if source is not None:
        project.source_sha256 = str(source.get("sha256", ""))
        found, moved = _find(source, base)
        recorded = source.get("absolute") or source.get("relative")
        if found is None:
            project.source_status = "missing"
            project.warnings.append(f"The photo {recorded} was not found: locate it to continue.")
        else:
            project.source_path = found
            if project.source_sha256 and file_sha256(found) != project.source_sha256:
                project.source_status = "changed"
                project.warnings.append(f"The photo {found} has changed since the project was saved: the mask and hints may no longer fit.")
            elif moved:
                project.source_status = "moved"
                project.warnings.append(f"The photo was moved from {recorded}: using {found} beside the project.")
    ref_path, _ = _find(reference, base)
    project.reference_path = ref_path
    if reference is not None and ref_path is None:
        project.warnings.append(f"The reference photo {reference.get('absolute')} was not found; it was left out.")
    return project


def _read_mask(path: Path, data: bytes, size: tuple[int, int]) -> np.ndarray:
    """The project's mask, decoded from memory (never extracted to disk)."""
    try:
        return read_mask_png(data, size, name=f"{MASK} in {path.name}", soft=True)
    except ProjectError:
        raise _bad(path, f"holds a mask that does not match the photo size {size[1]}x{size[0]}: it is damaged.") from None
    except Exception as e:  # ImageLoadError and friends: still one sentence naming the project
        raise _bad(path, f"holds an unreadable mask ({e}): it is damaged.") from None
