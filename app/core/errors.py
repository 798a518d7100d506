"""Errors a user can cause. Each message is one sentence naming the file and the next step."""
from __future__ import annotations

from models.types import UserError


class HuebrushError(UserError):
    """Base class: the CLI prints str(error) alone (no traceback) and exits non-zero."""


class ImageLoadError(HuebrushError):
    """A photo could not be opened (missing, unreadable, corrupt, not an image, too large)."""


class ExportError(HuebrushError):
    """A result could not be written (folder missing or read-only, disk full, bad format)."""


class ProjectError(HuebrushError):
    """A .huebrush project could not be read or written."""
