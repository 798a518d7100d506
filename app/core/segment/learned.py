"""The built-in click segmenter: the learned network of models/clickseg.py, shipped with the app.

Per photo the lightness is brought to the network's work size (about 0.25 MP) and embedded once
(cached per photo, a few hundred milliseconds on a CPU). Each set of clicks then costs one pass of
the small decoder, fed the answer for the same clicks minus the latest one (remembered per photo),
so a click corrects the previous answer instead of starting over, as the network was trained. The
answer is snapped to the photo's edges with a guided filter at the work size and carried to full
size. ``preview`` answers "what would a click here select" for the hover preview at the work size
without the filter: one decoder pass.

A box (drag) takes its centre as the include click when there is none, and nothing outside it.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from .imageprep import image_key, to_gray01
from .types import CancelCheck, ProgressCallback, Prompts, SegmentCancelled, SegmentResult

WEIGHTS_NAME = "clickseg"
# Both chosen on BSDS500 train photos 0-19, the trainer's validation photos (bench/segment_bsds.py
# --split train --limit 20), never on the test split the benchmark reports
GUIDED_RADIUS = 2  # work pixels: the guided filter that snaps the answer to the photo's edges
BAND_RADIUS = 4  # work pixels: GrabCut in a band around the outline (refine.py); 0 = off
BAND_ITERS = 1  # GrabCut iterations in the band (2 gave the same IoU on the validation photos, +0.0005 at 5 clicks)
KEEP_CLICKED = True  # keep only the connected pieces of the answer that hold an include click


def weights_path() -> Path | None:
    from models.checkpoint import find_weights

    return find_weights(WEIGHTS_NAME)


class LearnedSegmenter:
    name = "builtin"

    def __init__(self, weights: str | Path | None = None, device: str = "cpu", cache_size: int = 4,
                 guided: int = GUIDED_RADIUS, band: int = BAND_RADIUS, keep_clicked: bool = KEEP_CLICKED,
                 band_iters: int = BAND_ITERS) -> None:
        from models.clickseg import load_clickseg
        from models.types import ModelError

        path = Path(weights) if weights else weights_path()
        if path is None:
            raise ModelError("the built-in segmenter's weights (clickseg.safetensors) are missing: reinstall Huebrush.")
        self.runner, self.meta = load_clickseg(path, device)
        self.guided = guided
        self.band = band  # GrabCut band (work pixels) around the answer's outline; 0 = off
        self.keep_clicked = keep_clicked  # drop the answer's pieces that hold no include click
        self.band_iters = band_iters
        self._gc: tuple[object, np.ndarray] | None = None  # (Embedded, GrabCut image) of the current photo
        self._cache: OrderedDict[str, object] = OrderedDict()
        self._cache_size = cache_size
        self._e = None  # the current photo's Embedded
        self._full: tuple[int, int] | None = None
        self._full_gray: np.ndarray | None = None
        self._memo: OrderedDict[Prompts, np.ndarray] = OrderedDict()  # current photo: prompts -> prob at 1/4
        # a click and a hover preview may be answered by two workers at once: they share the memo
        self._lock = threading.RLock()

    # -- per photo ---------------------------------------------------------------------------
    def set_image(self, image: np.ndarray, key: str | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
        from models.clickseg import work_shape

        key = key or image_key(image)
        gray = to_gray01(image)
        e = self._cache.get(key)
        if e is None:
            if progress:
                progress(0.0, "reading the photo")
            if cancel and cancel():
                raise SegmentCancelled()
            h, w = work_shape(*gray.shape, self.runner.cfg.work_pixels)
            small = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA) if (h, w) != gray.shape else gray
            e = self.runner.embed(small)
            if cancel and cancel():
                raise SegmentCancelled()
            self._cache[key] = e
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        with self._lock:
            if e is not self._e:
                self._memo.clear()
            self._e, self._full, self._full_gray = e, gray.shape, gray
        if progress:
            progress(1.0, "ready")

    def has_image(self, key: str) -> bool:
        return key in self._cache

    # -- per click ---------------------------------------------------------------------------
    def _to_work(self, pts) -> list[tuple[float, float]]:
        (H, W), (h, w) = self._full, self._e.work  # type: ignore[misc,union-attr]
        return [((x + 0.5) * w / W - 0.5, (y + 0.5) * h / H - 0.5) for x, y in pts]

    def _clicks(self, prompts: Prompts) -> Prompts:
        if prompts.box is not None and not prompts.include:
            x0, y0, x1, y1 = prompts.box
            return replace(prompts, include=((0.5 * (x0 + x1), 0.5 * (y0 + y1)),))
        return prompts

    def _prob(self, prompts: Prompts) -> np.ndarray:
        """Probability at 1/4 for the clicks, each answer fed the one for the clicks before it."""
        key = replace(prompts, box=None)
        hit = self._memo.get(key)
        if hit is not None:
            self._memo.move_to_end(key)
            return hit
        if not key.include and not key.exclude:
            return np.zeros(self._e.grid, np.float32)  # type: ignore[union-attr]
        # the clicks before the latest: whichever of "without the last include" and "without the
        # last exclude" was answered before (the user's real order); replaying without a memo takes
        # the includes first, then the excludes
        parents = ([replace(key, exclude=key.exclude[:-1])] if key.exclude else []) + \
                  ([replace(key, include=key.include[:-1])] if key.include else [])
        parent = next((p for p in parents if p in self._memo), parents[0])
        prev = self._prob(parent) if (parent.include or parent.exclude) else None
        prob = self.runner.decode(self._e, self._to_work(key.include), self._to_work(key.exclude), prev)
        self._memo[key] = prob
        while len(self._memo) > 64:
            self._memo.popitem(last=False)
        return prob

    def _box_mask(self, box, shape: tuple[int, int], full: tuple[int, int]) -> np.ndarray:
        (h, w), (H, W) = shape, full
        x0, y0, x1, y1 = box
        m = np.zeros(shape, bool)
        m[max(0, int(y0 * h / H)):int(np.ceil((y1 + 1) * h / H)), max(0, int(x0 * w / W)):int(np.ceil((x1 + 1) * w / W))] = True
        return m

    def segment(self, prompts: Prompts) -> SegmentResult:
        if self._e is None or self._full is None:
            raise RuntimeError("call set_image before segment")
        t0 = time.perf_counter()
        if prompts.is_empty:
            return SegmentResult((np.zeros(self._full, bool),), (0.0,), 0, self.name, time.perf_counter() - t0, prompts)
        with self._lock:  # the photo's state, read once: a hover preview may run beside this
            clicks = self._clicks(prompts)
            prob4 = self._prob(clicks)
            e, (H, W) = self._e, self._full
            inc, exc = self._to_work(clicks.include), self._to_work(clicks.exclude)
        prob = self.runner.to_work(e, prob4, self.guided)
        if self.band > 0:
            prob = self._refine(e, prob, inc, exc)
        if self.keep_clicked:
            prob = self._clicked_pieces(prob, inc)
        if prob.shape != (H, W):
            prob = cv2.resize(prob, (W, H), interpolation=cv2.INTER_LINEAR)
        mask = prob > 0.5
        if prompts.box is not None:
            mask &= self._box_mask(prompts.box, (H, W), (H, W))
        score = float(np.mean(np.abs(prob4 - 0.5)) * 2)  # confidence: how far from undecided
        return SegmentResult((mask,), (score,), 0, self.name, time.perf_counter() - t0, prompts)

    def _refine(self, e, prob: np.ndarray, inc, exc) -> np.ndarray:
        from .refine import grabcut_image, refine_band

        if self._gc is None or self._gc[0] is not e:
            self._gc = (e, grabcut_image(e.grey))
        on = prob > 0.5
        out = refine_band(on, self._gc[1], inc, exc, self.band, self.band_iters)
        return prob if out is on else out.astype(np.float32)

    @staticmethod
    def _clicked_pieces(prob: np.ndarray, inc) -> np.ndarray:
        """``prob`` with the connected pieces of the answer that hold no include click set to 0."""
        on = (prob > 0.5).astype(np.uint8)
        n, labels = cv2.connectedComponents(on, connectivity=8)
        if n <= 2:
            return prob
        h, w = on.shape
        keep = {int(labels[min(max(int(round(y)), 0), h - 1), min(max(int(round(x)), 0), w - 1)]) for x, y in inc} - {0}
        if not keep:
            return prob
        return np.where(np.isin(labels, list(keep)), prob, np.float32(0.0)).astype(np.float32)

    def preview(self, prompts: Prompts) -> np.ndarray:
        """The answer at the work size (bool), quickly: for a hover preview. Scale by full/work to draw."""
        if self._e is None:
            raise RuntimeError("call set_image before preview")
        with self._lock:
            prob4 = self._prob(self._clicks(prompts))
            e = self._e
        prob = self.runner.to_work(e, prob4, 0)
        mask = prob > 0.5
        if prompts.box is not None:
            mask &= self._box_mask(prompts.box, mask.shape, self._full)  # type: ignore[arg-type]
        return mask

    @property
    def work_shape(self) -> tuple[int, int] | None:
        return None if self._e is None else self._e.work

    def everything(self, cancel: CancelCheck | None = None) -> list[np.ndarray]:
        from .everything import superpixel_proposals

        if self._full_gray is None:
            raise RuntimeError("call set_image before everything")
        return superpixel_proposals(self._full_gray, cancel=cancel)
