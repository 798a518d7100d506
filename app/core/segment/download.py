"""Download a segmentation checkpoint: progress, resume, cancel, sha256 check.

The file grows as ``NAME.part`` in the models folder (so an interrupted download resumes with
an HTTP Range request), is hashed when complete, and only then renamed into place; a wrong
hash deletes the part file. Nothing here runs unless the user asks for a download.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from models.fileio import commit_part, sha256_file
from models.types import Cancelled

from .checkpoints import OFFICIAL, CheckpointError, InstalledCheckpoint, import_checkpoint, segment_models_dir

DownloadProgress = Callable[[int, int | None], None]  # bytes done, total bytes (None: unknown)


class DownloadError(CheckpointError):
    """The download failed; the message says how to import the file by hand instead."""


class DownloadCancelled(Cancelled):
    """The user cancelled; the .part file stays so the next download resumes."""


def _inside(folder: Path, name: str) -> Path:
    dest = (folder / Path(name).name).resolve()
    if dest.parent != folder.resolve() or not Path(name).name or Path(name).name.startswith("."):
        raise DownloadError(f"refusing to save {name!r} outside the models folder {folder}.")
    return dest


def _offline_hint(name: str, url: str) -> str:
    return (f"download {url} on a computer with internet access and import {name} with "
            "`huebrush models import FILE` (or Settings > Segmentation models > Import)")


def download_file(url: str, name: str, *, sha256: str | None = None, folder: Path | None = None,
                  progress: DownloadProgress | None = None, cancel: Callable[[], bool] | None = None,
                  chunk_size: int = 1 << 20, timeout: float = 30.0) -> Path:
    """Fetch ``url`` into ``folder/name`` (default: the segmentation models folder)."""
    folder = Path(folder) if folder else segment_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    dest = _inside(folder, name)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "huebrush"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - URL comes from our table or the user
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the part is already whole; go on to the hash check
            resp = None
        else:
            raise DownloadError(f"the server refused {name} (HTTP {e.code}); {_offline_hint(name, url)}.") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"could not reach the server for {name} ({reason}); {_offline_hint(name, url)}.") from e
    if resp is not None:
        with resp:
            resumed = have and resp.status == 206
            if not resumed:
                have = 0  # the server ignored Range: start over
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            done = have
            try:
                with open(part, "ab" if resumed else "wb") as f:
                    if progress:
                        progress(done, total)
                    while True:
                        if cancel and cancel():
                            raise DownloadCancelled(f"download of {name} cancelled; it resumes next time")
                        block = resp.read(chunk_size)
                        if not block:
                            break
                        f.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            except OSError as e:
                raise DownloadError(f"could not write {part} ({e.strerror}); free some disk space and try again.") from e
            if total is not None and done < total:
                raise DownloadError(f"the download of {name} stopped early ({done} of {total} bytes); "
                                    "try again to resume it.")
    if sha256:
        if sha256_file(part) != sha256:
            part.unlink(missing_ok=True)
            raise DownloadError(f"{name} arrived damaged or altered (sha256 mismatch) and was deleted; "
                                f"download it again, or {_offline_hint(name, url)}.")
    return commit_part(part, dest)


def download_official(model: str, *, progress: DownloadProgress | None = None,
                      cancel: Callable[[], bool] | None = None, url: str | None = None) -> InstalledCheckpoint:
    """Download an official checkpoint (vit_b / vit_l / vit_h / vit_t) and import it."""
    if model not in OFFICIAL:
        raise DownloadError(f"no official checkpoint called {model!r}; choose one of {', '.join(OFFICIAL)}.")
    name, official_url, digest = OFFICIAL[model]
    path = download_file(url or official_url, name, sha256=digest, progress=progress, cancel=cancel)
    return import_checkpoint(path, sha256=digest)
