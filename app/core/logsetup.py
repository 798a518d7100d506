"""Library chatter goes to Huebrush's log file, not to the user's terminal.

A refused photo must read as one sentence, but decoders speak up first: libtiff and libpng
(inside Pillow and OpenCV) write warnings straight to file descriptor 2, tifffile and Pillow
through Python's ``logging`` and ``warnings``. ``route_library_output`` sends all of that to
``huebrush.log`` in the cache folder, while Huebrush's own messages (``sys.stderr`` in Python,
which keeps the terminal) still reach the user.
"""
from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path

LOG_NAME = "huebrush.log"
_routed: Path | None = None


def log_file() -> Path:
    from .paths import cache_dir

    return cache_dir() / LOG_NAME


def route_library_output(path: Path | None = None) -> Path | None:
    """Send Python warnings, library log records and C-level writes to fd 2 to the log file.

    Returns the log file, or None when it could not be opened or stderr is not the process's own
    (a test harness or an embedding program captures it); then nothing changes. Idempotent."""
    global _routed
    if _routed is not None:
        return _routed
    if sys.stderr is not sys.__stderr__:  # an embedding program or a test harness owns stderr
        return None
    try:
        path = Path(path) if path else log_file()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return None
    handler = logging.StreamHandler(io.TextIOWrapper(os.fdopen(os.dup(fd), "ab", buffering=0), write_through=True))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings.warn(...) -> the 'py.warnings' logger -> the file
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    try:
        real = sys.__stderr__
        if real is not None and real.fileno() == 2:
            sys.stderr.flush()
            terminal = os.dup(2)  # our own messages keep the terminal...
            sys.stderr = io.TextIOWrapper(os.fdopen(terminal, "wb", buffering=0), encoding=real.encoding,
                                          errors="backslashreplace", write_through=True)
            os.dup2(fd, 2)  # ...and whatever C code writes to fd 2 goes to the log
    except (OSError, ValueError, AttributeError):
        pass
    finally:
        os.close(fd)
    _routed = path
    return path
