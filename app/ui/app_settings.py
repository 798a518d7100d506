"""User preferences as JSON in app.core.paths.config_dir() (window geometry lives in QSettings).

Kept Qt-free and tolerant: a missing or damaged file gives the defaults, never a crash.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.core import paths
from app.core.pipeline import BOUNDS
from models.registry import DEFAULT_MODEL

MAX_RECENT = 10
# 2: only what differs from the defaults is written, so a later version's better default reaches
# everyone who never chose otherwise (version 1 wrote every field, the default model included)
SETTINGS_VERSION = 2
OLD_DEFAULT_MODEL = "maskgan"  # what every version-1 file holds unless its user chose another
log = logging.getLogger(__name__)


@dataclass
class AppSettings:
    default_model: str = DEFAULT_MODEL
    device: str = "auto"  # auto | cpu | cuda | mps
    work_size: int = 512
    autosave: bool = True
    autosave_seconds: int = 60
    recent_files: list[str] = field(default_factory=list)
    recent_colours: list[str] = field(default_factory=list)  # "#rrggbb", newest first
    overlay_colour: str = "#ff285a"  # the mask overlay's tint and edge
    overlay_opacity: int = 19  # percent: the tint inside the mask

    @staticmethod
    def file() -> Path:
        return paths.config_dir() / "settings.json"

    @classmethod
    def load(cls) -> AppSettings:
        """The saved preferences; a field with a wrong value keeps its default (logged as a
        warning), a missing or unreadable file gives all the defaults."""
        from app.core.config import fields_from_dict

        try:
            raw = json.loads(cls.file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        version = raw.pop("version", 1)
        if version == 1 and raw.get("default_model") == OLD_DEFAULT_MODEL:
            raw.pop("default_model")  # written by every save then, not a choice: today's default applies
        s = cls(**fields_from_dict(cls, raw, source=str(cls.file()), strict=False, warn=log.warning))
        lo, hi = BOUNDS["work_size"]
        s.work_size = int(min(max(s.work_size, lo), hi))
        s.autosave_seconds = min(max(s.autosave_seconds, 5), 24 * 3600)
        s.overlay_opacity = min(max(s.overlay_opacity, 0), 100)
        from models.colour import hex_to_rgb

        try:
            hex_to_rgb(s.overlay_colour)
        except ValueError:
            log.warning("%s: overlay_colour %r is not #rrggbb; using the default.", cls.file(), s.overlay_colour)
            s.overlay_colour = cls.overlay_colour
        return s

    def save(self) -> None:
        """Writes the preferences that differ from the defaults (and the format's version)."""
        from models.fileio import atomic_write_json

        default = asdict(type(self)())
        changed = {k: v for k, v in asdict(self).items() if v != default[k]}
        atomic_write_json(self.file(), {"version": SETTINGS_VERSION, **changed}, indent=2)

    def add_recent_file(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self.recent_files = [p] + [r for r in self.recent_files if r != p]
        del self.recent_files[MAX_RECENT:]

    def add_recent_colour(self, hex_colour: str) -> None:
        c = hex_colour.lower()
        self.recent_colours = [c] + [r for r in self.recent_colours if r != c]
        del self.recent_colours[12:]
