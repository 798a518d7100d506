"""The inference engine: one ``colorize(request) -> ColorizeResult`` for the CLI, GUI and batch.

It picks the device (CUDA, then Apple MPS, then the CPU, unless told otherwise), keeps loaded
colorizers cached per (model, device), runs GPU work under mixed precision, checks the cancel
callback between stages, and turns running out of GPU memory into a retry at a smaller work
size and then on the CPU, with a message, instead of a crash.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

import cv2
import numpy as np

from . import registry
from .types import CancelCheck, Cancelled, ColorizeRequest, ColorizeResult, ModelError

DEVICES = ("auto", "cpu", "cuda", "mps")
OOM_SHRINK = 0.5  # work size factor of the retry after running out of GPU memory


def available_devices() -> set[str]:
    """The devices torch can use on this machine ("cpu" always)."""
    found = {"cpu"}
    try:
        import torch
    except ImportError:
        return found
    if torch.cuda.is_available():
        found.add("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.add("mps")
    return found


def resolve_device(requested: str, available: set[str]) -> str:
    """"auto" -> cuda, mps, cpu (first available); a named device must exist, else ModelError."""
    requested = (requested or "auto").lower()
    if requested not in DEVICES:
        raise ModelError(f"Unknown device '{requested}': use auto, cpu, cuda or mps.")
    if requested == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if d in available)
    if requested not in available:
        raise ModelError(f"The device '{requested}' is not available on this computer: use --device auto or cpu.")
    return requested


def is_out_of_memory(exc: BaseException) -> bool:
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:
        pass
    return isinstance(exc, (RuntimeError, MemoryError)) and "out of memory" in str(exc).lower()


def shrink_request(request: ColorizeRequest, factor: float) -> ColorizeRequest:
    """The same request at a smaller work size (mask and hints stay where they were)."""
    h, w = request.L.shape
    nh, nw = max(1, int(round(h * factor))), max(1, int(round(w * factor)))
    rs = lambda a: cv2.resize(np.asarray(a, np.float32), (nw, nh), interpolation=cv2.INTER_AREA)  # noqa: E731
    hm = rs(request.hint_mask)
    # area-averaged hint colours are diluted by the zeros around them: renormalise by coverage
    hab = rs(request.hint_ab * request.hint_mask[..., None]) / np.maximum(hm, 1e-6)[..., None]
    keep = hm > 0
    # replace(): every other field (hint reach, model, device, reference, id) carries over as it is
    return replace(request, L=rs(request.L), mask=(rs(request.mask) > 0).astype(np.float32),
                   hint_ab=(hab * keep[..., None]).astype(np.float32), hint_mask=keep.astype(np.float32))


class Engine:
    """Runs registered colorizers. ``device``: "auto" (default), "cpu", "cuda" or "mps"."""

    def __init__(self, device: str = "auto", probe: Callable[[], Iterable[str]] = available_devices) -> None:
        self._available = set(probe())
        self._device = resolve_device(device, self._available)
        self._cache: dict[tuple[str, str], registry.Colorizer] = {}
        self._lock = threading.RLock()

    @property
    def device(self) -> str:
        return self._device

    def colorizer(self, name: str, device: str | None = None) -> registry.Colorizer:
        """The loaded colorizer for ``name`` on ``device`` (loaded once, then cached)."""
        device = device or self._device
        with self._lock:
            key = (name, device)
            if key not in self._cache:
                self._cache[key] = registry.create(name, device)
            return self._cache[key]

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
        _empty_gpu_cache()

    def colorize(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> ColorizeResult:
        t0 = time.perf_counter()
        device = self._device if request.device in ("auto", "", None) else resolve_device(request.device, self._available)
        _check(cancel)
        message = ""
        try:
            ab = self._predict(request, device, cancel)
        except Cancelled:
            raise
        except Exception as exc:  # only out-of-memory is recovered; everything else propagates
            if not is_out_of_memory(exc):
                raise
            _empty_gpu_cache()
            ab, device, message = self._recover(request, device, cancel)
        _check(cancel)
        load_note = getattr(self._cache.get((request.model, device)), "load_note", "")
        message = " ".join(m for m in (load_note, message) if m)
        return ColorizeResult(request_id=request.id, ab=ab, model=request.model, device=device,
                              seconds=time.perf_counter() - t0, message=message)

    def _recover(self, request: ColorizeRequest, device: str, cancel: CancelCheck | None) -> tuple[np.ndarray, str, str]:
        h, w = request.L.shape
        small = shrink_request(request, OOM_SHRINK)
        sh, sw = small.L.shape
        try:
            ab = self._predict(small, device, cancel)
            ab = cv2.resize(ab, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, 2)
            return ab.astype(np.float32), device, f"Out of {device.upper()} memory: used a smaller work size ({max(sh, sw)} px)."
        except Cancelled:
            raise
        except Exception as exc:
            if not is_out_of_memory(exc) or device == "cpu":
                raise
        _empty_gpu_cache()
        ab = self._predict(request, "cpu", cancel)
        return ab, "cpu", f"Out of {device.upper()} memory: fell back to the CPU."

    def _predict(self, request: ColorizeRequest, device: str, cancel: CancelCheck | None) -> np.ndarray:
        model = self.colorizer(request.model, device)
        _check(cancel)
        if device == "cuda" and _cuda_ready():
            import torch

            with torch.autocast("cuda", dtype=torch.float16):
                ab = model.predict(request, cancel)
        else:
            ab = model.predict(request, cancel)
        h, w = request.L.shape
        ab = np.asarray(ab, dtype=np.float32)
        if ab.shape != (h, w, 2):
            raise ModelError(f"The model '{request.model}' returned colours of shape {ab.shape}, not {(h, w, 2)}: report this bug.")
        if not np.isfinite(ab).all():
            raise ModelError(f"The model '{request.model}' produced invalid numbers: try the CPU device or re-install its weights.")
        return ab


def _cuda_ready() -> bool:
    import torch

    return torch.cuda.is_available()


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def _empty_gpu_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine on the automatically chosen device."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine("auto")
        return _engine
