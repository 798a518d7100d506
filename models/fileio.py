"""Writing and checking files, the one way every package does it (``models`` is the lowest layer
that the app, the trainer and the benches all import).

``atomic_write``: a user's file is either the old one or the complete new one, never half. The
data goes to a temporary file in the same folder (so the rename cannot cross file systems), is
flushed to disk, and is renamed over the target; on any failure the temporary file is removed
and the error reaches the caller, which turns it into one sentence for the user.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO


def _read_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; done once at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path`` (``.NAME.xxxxxxxx.part``), fsync
    it, give it the target's mode (or the usual one), then rename it into place."""
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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_json(path: str | os.PathLike, data: Any, indent: int | None = 1) -> Path:
    text = json.dumps(data, indent=indent)
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_copy(src: str | os.PathLike, dest: str | os.PathLike) -> Path:
    def copy(f: BinaryIO) -> None:
        with open(src, "rb") as s:
            shutil.copyfileobj(s, f, 1 << 20)

    return atomic_write(dest, copy)


def remove_stale_parts(targets: Iterable[str | os.PathLike]) -> int:
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


def commit_part(part: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Put a finished, checked ``.part`` file (a resumable download) in place: flushed to disk,
    then renamed, so ``dest`` is never a half file."""
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)
    return Path(dest)


def sha256_file(path: str | os.PathLike) -> str:
    """The file's SHA-256, hex (read in chunks; hashlib releases the GIL meanwhile)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
