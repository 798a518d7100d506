"""Live preview on one worker thread: newest request wins, stale results are dropped.

Each edit (after a short debounce) submits an immutable PreviewJob with a rising id. The
worker builds the ColorizeRequest, runs the engine, upsamples the colours to full size and
composites the display off the GUI thread. Its cancel callback asks "is my job still the
newest?", so a newer edit stops the old one between model stages; if an old result still
arrives it is dropped by id. Errors come back as one sentence, never as an exception.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

log = logging.getLogger(__name__)

DEBOUNCE_MS = 300


@dataclass(frozen=True, eq=False)
class PreviewJob:
    job_id: int
    state: Any  # the DocumentState the result belongs to (only touched on the GUI thread)
    version: int
    L: np.ndarray
    mask: np.ndarray | None  # None: the whole photo
    display_mask: np.ndarray  # the mask to composite the display with
    hints: tuple
    settings: Any
    reference_lab: np.ndarray | None
    display_key: tuple
    regions: tuple | None = None  # colour regions (app.core.regions.Region copies); None: the plain mask


@dataclass(frozen=True, eq=False)
class PreviewOutcome:
    job: PreviewJob
    request_id: int
    ab_work: np.ndarray
    ab_up: np.ndarray
    pyramid: Any
    seconds: float
    device: str
    message: str


def default_engine():
    from models.engine import get_engine

    return get_engine()


def friendly_error(e: BaseException) -> str:
    """One sentence for the window's banner (one line, never a traceback)."""
    if is_user_error(e):
        return _one_line(str(e))
    if isinstance(e, MemoryError) or "out of memory" in str(e).lower():
        return "Out of memory while colourizing: lower the work size in the settings panel and try again."
    detail = _one_line(str(e), 160)
    return f"The preview failed ({type(e).__name__}: {detail}); try another model or a smaller work size."


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# A photo over this many pixels is first shown from a proxy of at most this size (the pyramid level
# that fits it), composed in a fraction of the full-size time; the full-size result follows.
PROXY_PIXELS = 3_000_000


@dataclass(frozen=True, eq=False)
class PreviewProxy:
    job: PreviewJob
    pyramid: Any  # app.ui.pyramid.Pyramid starting at a coarser level


def proxy_level(shape: tuple[int, int], limit: int | None = None) -> int:
    """The finest pyramid level of a ``shape`` photo with at most ``limit`` (``PROXY_PIXELS``)
    pixels (0: the photo is small enough to go straight to full size)."""
    from app.ui.pyramid import level_shape

    limit = PROXY_PIXELS if limit is None else limit
    k = 0
    while np.prod(level_shape(shape, k)) > limit:
        k += 1
    return k


def _shrunk_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A mask (bool, or uint8 coverage) averaged down to ``size`` (w, h) as uint8 coverage."""
    import cv2

    m = np.asarray(mask)
    m = m.view(np.uint8) * np.uint8(255) if m.dtype == bool else m
    return cv2.resize(m, size, interpolation=cv2.INTER_AREA)


def compose_proxy(job: PreviewJob, ab_work: np.ndarray, level: int):
    """The preview at pyramid ``level`` (a Pyramid.proxy): L, masks and feather scaled to it, the
    colours upsampled to it as to full size; the same maths as the full composite, at 1/2^level."""
    import cv2

    from app.core.composite import compose_rgb8
    from app.ui.pyramid import Pyramid, level_shape
    from models.upsample import upsample_ab

    h, w = level_shape(job.L.shape, level)
    L = cv2.resize(np.asarray(job.L, np.float32), (w, h), interpolation=cv2.INTER_AREA)
    ab = np.asarray(upsample_ab(ab_work, L), np.float32)
    feather = job.settings.feather / (1 << level)
    if job.regions is not None:
        from dataclasses import replace

        from app.core.regions import compose_regions_rgb8

        regions = [replace(r, mask=_shrunk_mask(r.mask, (w, h))) for r in job.regions]
        rgb8 = compose_regions_rgb8(L, ab, regions, feather, job.settings.grade)
    else:
        rgb8 = compose_rgb8(L, ab, _shrunk_mask(job.display_mask, (w, h)), feather, job.settings.grade)
    return Pyramid.proxy(rgb8, level, job.L.shape)


def run_job(job: PreviewJob, engine, cancel: Callable[[], bool],
            on_proxy: Callable[[PreviewProxy], None] | None = None) -> PreviewOutcome:
    """Everything heavy for one preview; runs on the worker thread (also usable directly).
    For a big photo, ``on_proxy`` first gets the preview composed at a few megapixels."""
    from app.core.composite import compose_rgb8
    from app.core.pipeline import make_request
    from app.ui.pyramid import Pyramid
    from models.types import Cancelled
    from models.upsample import upsample_ab

    t0 = time.perf_counter()
    request = make_request(job.L, job.mask, list(job.hints), job.settings, reference_lab=job.reference_lab)
    if cancel():
        raise Cancelled()
    result = engine.colorize(request, cancel)
    if cancel():
        raise Cancelled()
    level = proxy_level(job.L.shape)
    if on_proxy is not None and level > 0:
        on_proxy(PreviewProxy(job, compose_proxy(job, np.asarray(result.ab, np.float32), level)))
        if cancel():
            raise Cancelled()
    ab_up = np.asarray(upsample_ab(result.ab, job.L), np.float32)
    if cancel():
        raise Cancelled()
    if job.regions is not None:
        from app.core.regions import compose_regions_rgb8

        rgb8 = compose_regions_rgb8(job.L, ab_up, list(job.regions), job.settings.feather, job.settings.grade)
    else:
        rgb8 = compose_rgb8(job.L, ab_up, job.display_mask, job.settings.feather, job.settings.grade)
    pyramid = Pyramid(rgb8)
    return PreviewOutcome(job, request.id, np.asarray(result.ab), ab_up, pyramid,
                          time.perf_counter() - t0, result.device, result.message)


class _Worker(QThread):
    def __init__(self, executor: PreviewExecutor) -> None:
        super().__init__()
        self._ex = executor

    def run(self) -> None:
        # The worker keeps the window's priority. Lowered (it was nice +5), it held the GIL while
        # other programs' threads kept it off the CPU, and the window waited for it: 200-420 ms
        # stalls in 4 of 5 painting runs at 24 MP with two busy processes beside it, 51-97 ms
        # without the lowering (``bench/gui_latency.py``)
        ex = self._ex
        while True:
            with ex._cond:
                while ex._pending is None and not ex._stopping:
                    ex._cond.wait()
                if ex._stopping:
                    return
                job, ex._pending = ex._pending, None
            ex._run_one(job)
            del job  # let its mask copy go back to the document's pool while this thread waits


class PreviewExecutor(QObject):
    """One worker; submit() replaces any pending job and cancels the running one."""

    preview_ready = Signal(int)  # ColorizeRequest id, after the document got the new colours
    preview_failed = Signal(str)  # one sentence
    busy_changed = Signal(bool)
    proxy_ready = Signal(int)  # job id, after a big photo's first (proxy) preview went on screen
    _finished = Signal(object)  # worker -> GUI thread (queued)
    _proxy = Signal(object)  # worker -> GUI thread (queued): a PreviewProxy

    def __init__(self, engine_factory: Callable[[], Any] = default_engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine_factory = engine_factory
        self._engine = None
        self._cond = threading.Condition()
        self._pending: PreviewJob | None = None
        self._newest = 0
        self._next_id = 0
        self._stopping = False
        self._running = 0
        self._finished.connect(self._on_finished)
        self._proxy.connect(self._on_proxy)
        self._thread = _Worker(self)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._running > 0 or self._pending is not None

    def new_job_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def submit(self, job: PreviewJob) -> None:
        with self._cond:
            self._newest = job.job_id
            self._pending = job
            self._cond.notify()
        self.busy_changed.emit(True)

    def is_current(self, job_id: int) -> bool:
        return job_id == self._newest and not self._stopping

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._pending = None
            self._cond.notify()
        self._thread.wait(10_000)

    # ---- worker thread ---------------------------------------------------------------------
    def _run_one(self, job: PreviewJob) -> None:
        from models.types import Cancelled

        self._running += 1
        try:
            if self._engine is None:
                self._engine = self._engine_factory()
            outcome: Any = run_job(job, self._engine, lambda: not self.is_current(job.job_id), self._proxy.emit)
        except Cancelled:
            outcome = (job, None)
        except BaseException as e:  # noqa: BLE001 - any failure must reach the user as a sentence
            if is_user_error(e):
                log.warning("preview: %s", e)  # expected (missing weights...): the banner says it
            else:
                log.exception("preview failed")
            outcome = (job, friendly_error(e))
        finally:
            self._running -= 1
        self._finished.emit(outcome)

    # ---- GUI thread ------------------------------------------------------------------------
    def _on_proxy(self, proxy: Any) -> None:
        job = proxy.job
        if self.is_current(job.job_id) and job.state.apply_proxy(proxy.pyramid, job.display_key):
            self.proxy_ready.emit(job.job_id)

    def _on_finished(self, outcome: Any) -> None:
        if isinstance(outcome, PreviewOutcome):
            job = outcome.job
            if self.is_current(job.job_id):  # stale results are dropped
                job.state.apply_preview(job.version, outcome.ab_work, outcome.ab_up, outcome.pyramid,
                                        job.display_key, outcome.seconds, outcome.device, outcome.message)
                self.preview_ready.emit(outcome.request_id)
        else:
            job, message = outcome
            if message is not None and self.is_current(job.job_id):
                self.preview_failed.emit(message)
        if not self.busy:
            self.busy_changed.emit(False)


class PreviewScheduler(QObject):
    """Debounces edits of the current photo into preview jobs for the executor."""

    def __init__(self, executor: PreviewExecutor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.executor = executor
        self.state = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.submit_now)

    def set_state(self, state) -> None:
        if self.state is not None:
            self.state.edited.disconnect(self.schedule)
        self.state = state
        if state is not None:
            state.edited.connect(self.schedule)
            if state.preview_version != state.version:
                self.submit_now()

    def schedule(self) -> None:
        self._timer.start()  # restarts: the model runs once the user pauses

    def submit_now(self) -> None:
        self._timer.stop()
        st = self.state
        if st is None:
            return
        model_mask, display_mask = st.mask_snapshot()  # a copy: painting goes on meanwhile
        job = PreviewJob(
            job_id=self.executor.new_job_id(), state=st, version=st.version, L=st.document.L,
            mask=model_mask, display_mask=display_mask, hints=tuple(st.hints),
            settings=st.settings, reference_lab=st.reference_lab, display_key=st.display_key(),
            regions=None if st.simple else tuple(st.region_views(copy=True)),
        )
        self.executor.submit(job)


def is_user_error(e: BaseException) -> bool:
    """An error a user caused and can act on (one sentence, no traceback in the log)."""
    from models.types import UserError

    return isinstance(e, UserError)
