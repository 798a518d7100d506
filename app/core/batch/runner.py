"""The threads of a batch run: I/O workers decode and export, the calling thread runs the model.

Kept apart from batch.py (the options and the plan) so each module stays readable on its own.
"""
from __future__ import annotations

import errno
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import HuebrushError
from .plan import PlannedPhoto, is_writable_dir, next_free
from .project_source import scale_hint, scale_mask
from .report import BatchProgress, BatchReport, PhotoRecord, write_report

# errno values that mean "nothing more can be written here": the batch stops instead of failing
# every remaining photo with the same message.
_FATAL_ERRNO = {errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", -1)}


@dataclass
class _Prepared:
    item: PlannedPhoto
    L: np.ndarray
    alpha: np.ndarray | None
    mask: np.ndarray | None
    settings: Any
    request: Any
    bit_depth: int
    icc: bytes | None
    exif: bytes | None
    t0: float
    note: str = ""  # e.g. a project applied although its photo changed
    regions: list | None = None  # a project's colour regions (app.core.regions), at L's size
    layer_depth: int = 8  # the colour layer's bit depth (the photo's, or the job's when given)


class _CoreForIO:
    """While decode/encode overlap inference on the CPU, torch's threads leave one core to them.

    On a 2-core machine two torch threads beside the I/O threads thrash: 78 vs 196 photos/min
    with one torch thread (``bench/batch_throughput.py --torch-threads``). Applied once torch
    is loaded (by the first inference; it is not imported here for this) and restored at the
    end, so the window's previews get every core back.
    """

    def __init__(self, engine: Any, io_workers: int) -> None:
        self.wanted = io_workers > 0 and (os.cpu_count() or 1) >= 2 and getattr(engine, "device", "cpu") == "cpu"
        self.torch: Any = None
        self.before: int | None = None

    def apply(self) -> None:
        import sys

        if not self.wanted or self.torch is not None:
            return
        self.torch = sys.modules.get("torch")
        if self.torch is not None:
            self.before = self.torch.get_num_threads()
            self.torch.set_num_threads(max(1, min(self.before, (os.cpu_count() or 1) - 1)))

    def restore(self) -> None:
        if self.torch is not None and self.before is not None:
            self.torch.set_num_threads(self.before)
        self.torch, self.before = None, None


class _Inline:
    """An executor that runs each task at once (io_workers=0: everything on one thread)."""

    def submit(self, fn: Callable, *args: Any) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args))
        except BaseException as e:  # the caller reads it from the future, as with a pool
            f.set_exception(e)
        return f

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


class BatchRunner:
    def __init__(
        self,
        job: Any,  # a BatchJob (not imported: the job imports this module to run)
        todo: list[PlannedPhoto],
        report: BatchReport,
        progress: Callable[[BatchProgress], None] | None,
        cancelled: Callable[[], bool],
        engine: Any,
        report_path: Path | None,
    ) -> None:
        self.job = job
        self.todo = todo
        self.report = report
        self.progress = progress
        self.cancelled = cancelled
        self.engine = engine
        self.report_path = Path(report_path) if report_path else None
        self.fatal: str | None = None
        self.handled = 0
        self.t_start = time.perf_counter()

    # ----- the loop -------------------------------------------------------------------------
    def run(self) -> BatchReport:
        job = self.job
        if self.todo:
            try:
                job.output_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                self.fatal = f"Could not create the output folder {job.output_dir} ({e.strerror}): choose another output folder."
            if not self.fatal and not is_writable_dir(job.output_dir):
                self.fatal = f"The output folder {job.output_dir} is read-only: choose another output folder or fix its permissions."
        if self.fatal:
            return self._finish(self.todo)
        _remove_stale_parts(self.todo)
        if self.engine is None:
            from models.engine import Engine, get_engine

            self.engine = get_engine() if job.device in ("auto", "", None) else Engine(job.device)
        pool: Any = ThreadPoolExecutor(job.io_workers, thread_name_prefix="huebrush-batch-io") if job.io_workers > 0 else _Inline()
        threads = _CoreForIO(self.engine, job.io_workers)
        ahead = max(1, job.io_workers)
        loads: deque[tuple[PlannedPhoto, Future]] = deque()
        exports: deque[Future] = deque()
        queue = iter(self.todo)
        not_started: list[PlannedPhoto] = []
        try:
            while True:
                while len(loads) < ahead and not self._stopping():
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    loads.append((nxt, pool.submit(self._prepare, nxt)))
                if not loads or self._stopping():
                    break
                item, fut = loads.popleft()
                self._emit(str(item.source), None)
                prepared = fut.result()
                if isinstance(prepared, PhotoRecord):
                    self._add(prepared)
                    continue
                threads.apply()
                try:
                    ab_work, note = self._infer(prepared)
                except Exception as e:  # a model error on one photo; the batch goes on
                    self._add(self._failed(prepared.item, e, prepared.t0, prepared.settings.model))
                    continue
                exports.append(pool.submit(self._export, prepared, ab_work, note))
                del prepared, ab_work
                # Bound what is in memory: wait for the oldest export once io_workers are busy.
                while exports and (len(exports) > max(1, job.io_workers) or exports[0].done()):
                    self._add(exports.popleft().result())
            while exports:
                self._add(exports.popleft().result())
            # Loads already decoded (or queued) when the batch was cancelled or stopped.
            for item, fut in loads:
                fut.cancel()
                not_started.append(item)
            not_started.extend(queue)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            threads.restore()
        return self._finish(not_started)

    def _stopping(self) -> bool:
        return self.fatal is not None or self.cancelled()

    def _finish(self, not_started: list[PlannedPhoto]) -> BatchReport:
        why = f"not started: {self.fatal}" if self.fatal else "not started: the batch was cancelled"
        for item in not_started:
            self.report.photos.append(PhotoRecord(str(item.source), "cancelled", why, str(item.output) if item.output else None, mask_source=item.mask_source))
        self.report.state = "stopped" if self.fatal else ("cancelled" if not_started else "finished")
        self.report.error = self.fatal or ""
        self.report.seconds = round(time.perf_counter() - self.t_start, 3)
        self.report.photos.sort(key=lambda r: r.input)
        if self.report_path and not self._write_report():
            note = f"The report {self.report_path} could not be written; the photos' outcomes are only shown here."
            self.report.error = f"{self.report.error} {note}".strip()
        return self.report

    def _write_report(self) -> bool:
        try:
            write_report(self.report_path, self.report)  # type: ignore[arg-type]
            return True
        except OSError:  # a read-only or full output folder: the batch result still stands
            return False

    def _add(self, record: PhotoRecord) -> None:
        self.report.photos.append(record)
        self.handled += 1
        self._emit(None, record)
        if self.report_path:
            # A report of the photos so far after each one (written atomically), so a killed run
            # still says exactly what it did.
            self._write_report()

    def _emit(self, current: str | None, record: PhotoRecord | None) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.t_start
        eta = elapsed / self.handled * (len(self.todo) - self.handled) if self.handled else None
        self.progress(BatchProgress(self.handled, len(self.todo), current, record, elapsed, eta))

    # ----- the per-photo work -------------------------------------------------------------------
    def _prepare(self, item: PlannedPhoto) -> _Prepared | PhotoRecord:
        """I/O worker: decode, find mask and hints, shrink to the output size, build the request."""
        from ..document import load_image
        from ..pipeline import make_request

        t0 = time.perf_counter()
        model = ""
        try:
            doc = load_image(item.source)
            notes: list[str] = []
            regions: list = []
            mask, hints, project_settings, reference_lab = self._mask_and_hints(item, doc.size, doc.sha256, notes, regions)
            settings = self.job.settings_for(project_settings)
            model = settings.model
            L, alpha = doc.L, doc.alpha
            if self.job.long_side and max(L.shape) > self.job.long_side:
                L_small = resize_long_side(L, self.job.long_side)
                sy, sx = L_small.shape[0] / L.shape[0], L_small.shape[1] / L.shape[1]
                hints = tuple(scale_hint(h, sx, sy) for h in hints)
                mask = resize_long_side(mask, self.job.long_side, nearest=True) if mask is not None else None
                regions = [r.with_mask(resize_long_side(r.mask, self.job.long_side, nearest=True)) for r in regions]
                alpha = resize_long_side(alpha, self.job.long_side) if alpha is not None else None
                L = L_small
            request = make_request(L, mask, list(hints), settings, reference_lab=reference_lab)
            depth = 8 if Path(item.output).suffix.lower() in (".jpg", ".jpeg") else (self.job.bit_depth or doc.bit_depth)
            keep = self.job.keep_metadata
            return _Prepared(item, L, alpha, mask, settings, request, depth, doc.icc_profile if keep else None,
                             doc.exif if keep else None, t0, " ".join(notes), regions or None,
                             self.job.bit_depth or doc.bit_depth)
        except Exception as e:
            return self._failed(item, e, t0, model)

    def _mask_and_hints(self, item: PlannedPhoto, shape: tuple[int, int], sha256: str = "",
                        notes: list[str] | None = None, regions: list | None = None) -> tuple[np.ndarray | None, tuple, Any, Any]:
        """(mask or None for the whole photo, hints, the project's settings or None, reference L or None)."""
        job = self.job
        if item.mask_source == "project":
            from .project_source import project_inputs

            return project_inputs(item.mask_path, item.source, shape, photo_sha256=sha256,  # type: ignore[arg-type]
                                  apply_changed=job.apply_changed, notes=notes, regions_out=regions)
        if item.mask_source == "masks":
            return _mask_file(item.mask_path, item.source, shape), (), None, None  # type: ignore[arg-type]
        if item.mask_source == "shared":
            ref_h, ref_w = job.shared_shape or shape
            sy, sx = shape[0] / ref_h, shape[1] / ref_w
            mask = scale_mask(job.shared_mask, shape) if job.shared_mask is not None else None
            if job.shared_regions and regions is not None:  # each region fitted to this photo
                from ..regions import auto_mask

                scaled = [r.with_mask(scale_mask(r.mask, shape)) for r in job.shared_regions]
                regions.extend(scaled)
                mask = auto_mask(scaled, shape)
            return mask, tuple(scale_hint(h, sx, sy) for h in job.shared_hints), None, None
        return None, (), None, None

    def _infer(self, p: _Prepared) -> tuple[np.ndarray, str]:
        """The model worker. Not cancelled mid-photo: Cancel means "stop after this one"."""
        result = self.engine.colorize(p.request)
        return result.ab, getattr(result, "message", "") or ""

    def _export(self, p: _Prepared, ab_work: np.ndarray, note: str) -> PhotoRecord:
        """I/O worker: full-size chroma, composite, atomic write."""
        from ..output import write_result
        from ..pipeline import finish

        item = p.item
        out = Path(item.output)  # type: ignore[arg-type]
        try:
            if p.regions:  # each colour region its own source over the network's colour; an .ora: one layer each
                from ..pipeline import finish_regions

                layer_list: list = []
                ab = finish_regions(p.L, ab_work, p.regions, p.settings, layer_list)
                layers = layer_list[0]
            else:
                ab, layers = finish(p.L, ab_work, p.mask, p.settings), None
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.exists():
                if self.job.existing == "skip":  # appeared since planning (another run)
                    return PhotoRecord(str(item.source), "skipped", "output exists (skip existing)", str(out),
                                       round(time.perf_counter() - p.t0, 3), p.item.mask_source, p.settings.model)
                if self.job.existing == "number":
                    out = next_free(out, set())
            written = write_result(
                out, p.L, ab, layers=layers, bit_depth=p.bit_depth, quality=self.job.quality, icc_profile=p.icc, exif=p.exif,
                alpha=p.alpha, overwrite=self.job.existing == "overwrite", protect=(item.source,),
                png_compression=1,  # batch throughput: ~1.5x faster PNG encoding for ~12% larger files
            )
            if self.job.colour_layers:
                from ..layers import colour_layer_path, export_colour_layer

                layer = export_colour_layer(colour_layer_path(written), p.L, ab,
                                            bit_depth=p.layer_depth, icc_profile=p.icc, exif=p.exif, protect=(item.source,))
                note = " ".join(n for n in (note, f"colour layer {layer.name}") if n)
            return PhotoRecord(str(item.source), "done", "", str(written), round(time.perf_counter() - p.t0, 3),
                               p.item.mask_source, p.settings.model, " ".join(n for n in (p.note, note) if n))
        except Exception as e:
            if self.fatal is None:
                self.fatal = fatal_reason(e, out.parent)
            return self._failed(item, e, p.t0, p.settings.model)

    def _failed(self, item: PlannedPhoto, e: BaseException, t0: float, model: str) -> PhotoRecord:
        reason = str(e) if isinstance(e, HuebrushError) or type(e).__name__ == "ModelError" else f"{type(e).__name__}: {e}"
        return PhotoRecord(str(item.source), "failed", reason, None, round(time.perf_counter() - t0, 3), item.mask_source, model)


def _mask_file(path: Path, photo: Path, shape: tuple[int, int]) -> np.ndarray:
    """A mask PNG for the photo; one drawn on a resized copy (same aspect ratio) is scaled to fit."""
    from ..errors import ProjectError
    from ..mask import read_mask_png

    mask = read_mask_png(path)
    (mh, mw), (h, w) = mask.shape, shape
    if (mh, mw) != (h, w) and abs(mw / mh - w / h) > 0.01 * (w / h):
        raise ProjectError(f"Mask {path} is {mw}x{mh} px but {photo.name} is {w}x{h} px: use a mask made for this photo.")
    return scale_mask(mask, shape)


def _remove_stale_parts(todo: list[PlannedPhoto]) -> None:
    """Delete temp files a killed run left for this run's outputs; only names this rank is about
    to write are touched, so other ranks' writes in progress and unrelated files stay."""
    from models.fileio import remove_stale_parts

    remove_stale_parts(item.output for item in todo if item.output is not None)


def fatal_reason(exc: BaseException, folder: Path) -> str | None:
    """One sentence when an export error means no later photo can be written either."""
    e: BaseException | None = exc
    seen = 0
    while e is not None and seen < 5:
        if isinstance(e, OSError) and e.errno in _FATAL_ERRNO:
            if e.errno == errno.EROFS:
                return f"The output folder {folder} is read-only: choose another output folder."
            return f"The disk holding {folder} is full: free some space or choose another output folder, then run again with skip existing to resume."
        e = e.__cause__ or e.__context__
        seen += 1
    text = str(exc).lower()
    if "no space" in text or "disk is full" in text or "disk full" in text:
        return f"The disk holding {folder} is full: free some space or choose another output folder, then run again with skip existing to resume."
    if folder.is_dir() and not is_writable_dir(folder):
        return f"The output folder {folder} is read-only: choose another output folder or fix its permissions."
    return None


def resize_long_side(a: np.ndarray, long_side: int | None, nearest: bool = False) -> np.ndarray:
    """Shrink (never enlarge) so the long side is at most long_side."""
    h, w = a.shape[:2]
    if not long_side or max(h, w) <= long_side:
        return a
    s = long_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    if nearest:  # a mask: a bool one stays bool, a soft one (uint8 coverage) is averaged
        if a.dtype == np.uint8:
            return cv2.resize(a, size, interpolation=cv2.INTER_AREA)
        return cv2.resize(a.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    return cv2.resize(a, size, interpolation=cv2.INTER_AREA)
