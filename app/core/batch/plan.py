"""Planning a batch: which photos, where each one's mask comes from, and what each output is called.

Planning only looks at names and folders (no decoding), so the dialog can show "to do / to skip"
counts at once and every rank of a distributed run computes the same plan from the same inputs.
"""
from __future__ import annotations

import os
import string
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HuebrushError

PHOTO_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
FORMATS = ("png", "tif", "jpg", "webp", "bmp", "ora", "same")
MASK_SOURCES = ("project", "masks", "shared", "whole")
EXISTING = ("skip", "overwrite", "number")
TEMPLATE_FIELDS = ("name", "ext", "src_ext")
PROJECT_EXT = ".huebrush"


class BatchError(HuebrushError):
    """The batch as a whole cannot start or go on (bad options, output folder unusable)."""


@dataclass(frozen=True)
class PlannedPhoto:
    """One input photo and what the batch will do with it."""

    index: int  # position in the sorted list of all inputs (ranks share items index % world)
    source: Path
    action: str  # "do" or "skip"
    output: Path | None = None
    mask_source: str = ""  # which source gives this photo its mask: project/masks/shared/whole
    mask_path: Path | None = None  # the .huebrush or mask PNG, when the source is a file
    reason: str = ""  # why it is skipped


@dataclass
class Plan:
    items: list[PlannedPhoto]
    ignored: list[Path] = field(default_factory=list)  # files in input folders that are not photos

    @property
    def todo(self) -> list[PlannedPhoto]:
        return [p for p in self.items if p.action == "do"]

    @property
    def skipped(self) -> list[PlannedPhoto]:
        return [p for p in self.items if p.action == "skip"]

    def shard(self, rank: int, world: int) -> Plan:
        """The items rank `rank` of `world` handles: every world-th photo of the sorted list."""
        return Plan([p for p in self.items if p.index % world == rank], list(self.ignored) if rank == 0 else [])


def output_ext(fmt: str, source: Path) -> str:
    """The output extension for a format; "same" keeps the source's format (PNG for others)."""
    if fmt != "same":
        return fmt
    ext = source.suffix.lower()
    return {".tif": "tif", ".tiff": "tif", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp", ".bmp": "bmp"}.get(ext, "png")


def check_template(template: str) -> None:
    """Refuse a name template with unknown fields or one that leaves the output folder."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise BatchError(f"The name template '{template}' is malformed ({e}); use e.g. '{{name}}_colour.{{ext}}'.") from e
    unknown = [n for n in names if n not in TEMPLATE_FIELDS]
    if unknown:
        raise BatchError(
            f"The name template '{template}' has unknown field {{{unknown[0]}}}; "
            f"use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}."
        )
    if "name" not in names:
        raise BatchError(f"The name template '{template}' must contain {{name}}, or every photo would get the same name.")
    if ".." in Path(template).parts or Path(template).is_absolute():
        raise BatchError(f"The name template '{template}' must stay inside the output folder.")


def render_name(template: str, source: Path, ext: str) -> str:
    name = template.format(name=source.stem, ext=ext, src_ext=source.suffix.lower().lstrip("."))
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix != ext and not (suffix in ("tiff",) and ext == "tif") and not (suffix == "jpeg" and ext == "jpg"):
        name = f"{name}.{ext}"  # the format decides the file type, so the name must say it
    return name


def scan_inputs(
    inputs: list[Path], recursive: bool, exclude_dirs: list[Path]
) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """Expand files and folders into (photo, folder it is relative to) pairs, sorted and unique.

    Files named explicitly are always tried (a bad one is reported); files found in folders are
    taken by extension, and the rest are listed as ignored. Output/mask/project folders inside an
    input folder are not scanned, so a second run does not colourize its own outputs.
    """
    excluded = {d.resolve() for d in exclude_dirs}
    found: dict[Path, tuple[Path, Path]] = {}
    ignored: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            walker = item.rglob("*") if recursive else item.glob("*")
            for p in walker:
                if any(part.startswith(".") for part in p.relative_to(item).parts):
                    continue  # hidden files and folders (editor backups, .DS_Store, temp files)
                if not p.is_file() or any(d in excluded for d in p.resolve().parents):
                    continue
                if p.suffix.lower() in PHOTO_EXTS:
                    found.setdefault(p.resolve(), (p, item))
                elif p.suffix.lower() != PROJECT_EXT and not p.name.endswith((".part", ".tmp")):
                    ignored.append(p)
        elif item.exists() or item.is_symlink():
            found.setdefault(item.resolve(), (item, item.parent))
        else:
            raise BatchError(f"The input {item} does not exist; check the path.")
    pairs = sorted(found.values(), key=lambda pr: str(pr[0]))
    return pairs, sorted(ignored)


def find_project(photo: Path, projects_dir: Path | None) -> Path | None:
    """A .huebrush beside the photo or in the projects folder, named after the photo's stem or full name."""
    for folder in ([projects_dir] if projects_dir else []) + [photo.parent]:
        for name in (photo.stem + PROJECT_EXT, photo.name + PROJECT_EXT):
            p = folder / name
            if p.is_file():
                return p
    return None


def find_mask_file(photo: Path, masks_dir: Path | None) -> Path | None:
    """`name.png` or `name_mask.png` in the masks folder (never the photo itself)."""
    if masks_dir is None:
        return None
    for name in (photo.stem + ".png", photo.stem + "_mask.png"):
        p = masks_dir / name
        if p.is_file() and p.resolve() != photo.resolve():
            return p
    return None


def resolve_mask_source(
    photo: Path, order: tuple[str, ...], projects_dir: Path | None, masks_dir: Path | None, has_shared: bool
) -> tuple[str, Path | None, str]:
    """The first source in `order` that has something for this photo: (source, file, why-not)."""
    for src in order:
        if src == "project":
            p = find_project(photo, projects_dir)
            if p:
                return "project", p, ""
        elif src == "masks":
            p = find_mask_file(photo, masks_dir)
            if p:
                return "masks", p, ""
        elif src == "shared" and has_shared:
            return "shared", None, ""
        elif src == "whole":
            return "whole", None, ""
    tried = []
    if "project" in order:
        tried.append(f"no {photo.stem}{PROJECT_EXT} project" + (f" beside it or in {projects_dir}" if projects_dir else " beside it"))
    if "masks" in order:
        tried.append(f"no {photo.stem}.png or {photo.stem}_mask.png in {masks_dir}" if masks_dir else "no masks folder given")
    if "shared" in order and not has_shared:
        tried.append("no shared mask given")
    return "", None, "no mask: " + "; ".join(tried)


def next_free(path: Path, taken: set[Path], on_disk: bool = True) -> Path:
    """path, or path with _2, _3 ... before the extension: the first not taken (nor on disk, if asked).

    Collisions inside one batch are numbered without looking at the disk, so a resumed run gives
    every photo the same name as the first run did.
    """
    def free(p: Path) -> bool:
        return p not in taken and not (on_disk and p.exists())

    if free(path):
        return path
    n = 2
    while not free(path.with_name(f"{path.stem}_{n}{path.suffix}")):
        n += 1
    return path.with_name(f"{path.stem}_{n}{path.suffix}")


def is_writable_dir(folder: Path) -> bool:
    """Whether a file can really be created in `folder` (os.access lies for root and on read-only mounts)."""
    if not os.access(folder, os.W_OK):
        return False
    probe = folder / f".huebrush-probe-{os.getpid()}.tmp"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False
