"""Atomic file writes: a user's file is either the old one or the complete new one, never half.

The data goes to a temporary file in the same folder (so the rename cannot cross file systems),
is flushed to disk, and is renamed over the target. On any failure the temporary file is removed
and the OSError reaches the caller, which turns it into one sentence for the user.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _read_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; done once at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        os.close(fd)  # reopened by name: tifffile wants a file object with a real name
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # the rename must never expose a half-written file after a crash
        # mkstemp makes the file private; keep an existing file's mode, else the usual one
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_stale_parts(targets) -> int:
    """Delete the temporary files a killed write left for these targets (``.NAME.xxxxxxxx.part``
    beside each, as ``atomic_write`` names them); other files stay. Returns how many went."""
    by_dir: dict[Path, set[str]] = {}
    for t in targets:
        t = Path(t)
        by_dir.setdefault(t.parent if str(t.parent) else Path("."), set()).add(t.name)
    removed = 0
    for folder, names in by_dir.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            n = e.name
            if n.startswith(".") and n.endswith(".part") and n[1:-5].rsplit(".", 1)[0] in names:
                try:
                    os.unlink(e.path)
                    removed += 1
                except OSError:
                    pass
    return removed
