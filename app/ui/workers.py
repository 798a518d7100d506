"""A cancellable background task for one-off long work (export, loading a big photo).

Reports progress and ends in exactly one of: done(result), failed(sentence), cancelled().
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

log = logging.getLogger(__name__)


class Task(QThread):
    progress = Signal(int, str)  # percent, what is happening
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable[[Task], Any], parent=None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def is_cancelled(self) -> bool:
        return self._cancel

    def report(self, percent: int, text: str) -> None:
        self.progress.emit(int(percent), text)

    def run(self) -> None:
        from app.ui.preview_worker import friendly_error, is_user_error
        from models.types import Cancelled

        try:
            result = self._fn(self)
        except Cancelled:
            self.cancelled.emit()
            return
        except BaseException as e:  # noqa: BLE001 - reported to the user as one sentence
            if is_user_error(e):  # a truncated photo, a refused overwrite: the banner says it all
                log.warning("background task: %s", e)
            else:
                log.exception("background task failed")
            self.failed.emit(friendly_error(e))
            return
        if self._cancel:
            self.cancelled.emit()
        else:
            self.done.emit(result)
