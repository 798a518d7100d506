"""Background tasks: a user's mistake is a sentence in the banner, not a traceback in the log."""
from __future__ import annotations

import logging

import pytest

from app.core.errors import ExportError, ImageLoadError
from app.ui.workers import Task

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("error", [ImageLoadError("/p/scan.tif is truncated (the file ends early); copy it again."),
                                   ExportError("Refusing to write over the input photo /p/scan.tif; choose another name.")])
def test_expected_user_errors_are_logged_without_a_traceback(qtbot, caplog, error):
    def fail(task):
        raise error

    task = Task(fail)
    with caplog.at_level(logging.INFO), qtbot.waitSignal(task.failed, timeout=5000) as sig:
        task.start()
    task.wait()
    assert sig.args[0] == str(error)
    assert not any(r.exc_info for r in caplog.records)


def test_a_bug_still_logs_its_traceback(qtbot, caplog):
    def fail(task):
        raise ZeroDivisionError("a bug")

    task = Task(fail)
    with caplog.at_level(logging.INFO), qtbot.waitSignal(task.failed, timeout=5000):
        task.start()
    task.wait()
    assert any(r.exc_info for r in caplog.records)


def test_a_cancelled_segmentation_reads_as_cancelled_in_a_task(qtbot):
    from app.core.segment.types import SegmentCancelled

    def work(task):
        raise SegmentCancelled()

    task = Task(work)
    failed = []
    task.failed.connect(failed.append)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.start()
    task.wait()
    assert not failed
