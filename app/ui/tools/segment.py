"""Click-to-segment (S): left click includes, Alt/right click excludes, drag draws a box.

The candidate mask is shown live as an outline; Tab cycles SAM's alternatives; Enter adds it
to the mask, Shift+Enter or Alt+Enter subtracts it, Esc discards it. Each accepted segment is one undo step.
R proposes every region of the photo ("segment everything"); clicks then take regions in
(left) or out (Alt/right) of the candidate.
Hover preview (the learned built-in segmenter): after the first click, pointing somewhere shows
as a dashed outline what a click there would select (with Alt: what an exclude click would leave),
computed from the cached features in a worker; only the newest pointer position is answered.
The per-photo precompute (superpixels or the SAM embedding) and every click run in a worker;
a click made while another is being answered replaces it (stale answers are dropped).
"""
from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPen, QTransform

from app.core.segment.types import Prompts, SegmentResult
from app.ui.tools.base import Tool
from app.ui.undo_commands import push_mask_edit
from app.ui.workers import Task

log = logging.getLogger(__name__)
DRAG_PX = 5  # screen pixels before a press becomes a box drag


def _default_segmenter():
    from app.core.segment.factory import create_segmenter

    try:
        return create_segmenter("auto")
    except Exception as e:  # noqa: BLE001 - a broken checkpoint must not take the tool away
        log.warning("falling back to the built-in segmenter: %s", e)
        return create_segmenter("builtin")


def outline_path(mask: np.ndarray) -> QPainterPath:
    """The mask's outlines as a path in image coordinates."""
    import cv2

    path = QPainterPath()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    for c in contours:
        pts = c[:, 0, :]
        path.moveTo(float(pts[0, 0]), float(pts[0, 1]))
        for x, y in pts[1:]:
            path.lineTo(float(x), float(y))
        path.closeSubpath()
    return path


class SegmentTool(Tool):
    name, title, shortcut = "segment", "Click to segment", "S"

    def __init__(self, canvas, segmenter_factory=_default_segmenter) -> None:
        super().__init__(canvas)
        self._factory = segmenter_factory
        self.segmenter = None
        self.prompts = Prompts()
        self.result: SegmentResult | None = None
        self._outline: QPainterPath | None = None
        self._outline_scale = (1.0, 1.0)  # a quick answer's outline is at the segmenter's work size
        self._ready_key: str | None = None  # photo whose precompute is done
        self._prep: Task | None = None
        self._prep_key: str | None = None
        self._click: Task | None = None
        self._pending: Prompts | None = None
        self._press: QPointF | None = None
        self._press_exclude = False
        self._drag: QPointF | None = None
        self._threads: set[Task] = set()  # kept alive until each QThread has finished
        self.regions: np.ndarray | None = None  # "segment everything": region id per pixel
        self._region_outline: QPainterPath | None = None
        self._picked: set[int] = set()
        self._everything: Task | None = None
        self._hover_task: Task | None = None
        self._hover_next: Prompts | None = None  # newest pointer position waiting for an answer
        self.hover_mask: np.ndarray | None = None  # work-size answer for the pointer position
        self._hover_outline: QPainterPath | None = None
        self._hover_scale = (1.0, 1.0)

    # ---- photo and worker plumbing -----------------------------------------------------------
    def _photo_key(self) -> str:
        """The photo's cache key, fixed at first use (the file hash may arrive later)."""
        doc = self.state.document
        memo = getattr(self, "_key_memo", None)
        if memo is None or memo[0] is not doc:
            key = getattr(doc, "sha256", "")
            if not key:
                from app.core.segment.imageprep import image_key

                key = image_key(doc.L)
            self._key_memo = memo = (doc, key)
        return memo[1]

    def activate(self) -> None:
        self.discard()
        if self.state is not None:
            self.prepare()

    def deactivate(self) -> None:
        self.discard()

    def set_segmenter(self, segmenter=None) -> None:
        """Use another segmenter (None: pick again, e.g. after a checkpoint was imported)."""
        if self._prep is not None:
            self._prep.cancel()
        self._prep, self._prep_key, self._ready_key = None, None, None
        self.segmenter = segmenter
        self.discard()
        if self.state is not None and self.canvas.tool is self:
            self.prepare()

    def wait(self, ms: int = 30_000) -> None:
        """Block until the workers are done (closing the window, tests)."""
        for t in list(self._threads):
            t.wait(ms)

    def prepare(self) -> None:
        """Start the per-photo precompute in a worker unless it is done or running."""
        if self.state is None:
            return
        if self.segmenter is None:
            self.segmenter = self._factory()
        key = self._photo_key()
        if key == self._ready_key or (self._prep is not None and key == self._prep_key):
            return
        if self._prep is not None:
            self._prep.cancel()  # another photo: its answer will be dropped
        L, seg = self.state.document.L, self.segmenter

        def work(task: Task):
            seg.set_image(L, key=key, progress=lambda f, text: task.report(int(100 * f), text),
                          cancel=task.is_cancelled)
            return key

        task = Task(work)
        task.progress.connect(lambda pct, text: self._status(f"Segment: {text} ({pct}%)"))
        task.done.connect(lambda k, t=task: self._prepared(t, k))
        task.failed.connect(lambda msg, t=task: self._prep_failed(t, msg))
        task.cancelled.connect(lambda t=task: self._prep_failed(t, ""))
        self._prep, self._prep_key = task, key
        self._start(task)

    def _start(self, task: Task) -> None:
        self._threads.add(task)
        task.finished.connect(lambda t=task: self._threads.discard(t))
        task.start()

    def _prep_failed(self, task: Task, msg: str) -> None:
        if task is self._prep:
            self._prep, self._prep_key = None, None
        if msg:
            self._status(msg, error=True)

    def _prepared(self, task: Task, key: str) -> None:
        if task is not self._prep:
            return  # replaced by a newer photo's precompute
        self._prep, self._prep_key = None, None
        if self.state is None or key != self._photo_key():
            return  # the user moved to another photo meanwhile
        self._ready_key = key
        self._status("Segment: click an object (Alt+click excludes); Enter adds, Shift+Enter subtracts, Esc discards.")
        if not self.prompts.is_empty:
            self._request()

    @property
    def ready(self) -> bool:
        return self.state is not None and self._ready_key == self._photo_key()

    @property
    def busy(self) -> bool:
        return (self._prep is not None or self._click is not None or self._pending is not None
                or self._everything is not None or self._hover_task is not None)

    def _request(self) -> None:
        """Ask for masks for the current prompts; newer prompts replace a pending request."""
        if self.prompts.is_empty:
            self.result, self._outline = None, None
            self.canvas.update()
            return
        if not self.ready:
            self.prepare()  # answered when the precompute is done
            return
        if self._click is not None:
            self._pending = self.prompts
            return
        prompts, seg = self.prompts, self.segmenter
        if hasattr(seg, "preview"):
            # the decoder's answer first (a few tens of ms): shown until the refined one arrives; the
            # refinement reuses the decoder's answer, so the second task costs only the refinement
            quick = Task(lambda _t: (prompts, seg.preview(prompts), seg.work_shape))
            quick.done.connect(self._quick_answered)
            self._start(quick)
        task = Task(lambda _t: seg.segment(prompts))
        task.done.connect(self._answered)
        task.failed.connect(self._click_failed)
        self._click = task
        self._start(task)

    # ---- hover preview ---------------------------------------------------------------------------
    def hover(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        seg = self.segmenter
        if (self.state is None or not self.ready or self.prompts.is_empty or self.regions is not None
                or not hasattr(seg, "preview")):
            return
        H, W = self.state.shape
        x, y = pos.x(), pos.y()
        if not (0 <= x < W and 0 <= y < H):
            self.clear_hover()
            return
        exclude = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        self._hover_next = self.prompts.add_exclude(x, y) if exclude else self.prompts.add_include(x, y)
        if self._hover_task is None:
            self._start_hover()

    def _start_hover(self) -> None:
        prompts, seg = self._hover_next, self.segmenter
        self._hover_next = None
        if prompts is None or seg is None:
            return

        def work(_t):
            return prompts, seg.preview(prompts), seg.work_shape

        task = Task(work)
        task.done.connect(self._hovered)
        task.failed.connect(lambda _msg: setattr(self, "_hover_task", None))
        self._hover_task = task
        self._start(task)

    def _hovered(self, answer) -> None:
        self._hover_task = None
        prompts, mask, work = answer
        base = (prompts.include[:-1] == self.prompts.include and prompts.exclude == self.prompts.exclude) or \
               (prompts.exclude[:-1] == self.prompts.exclude and prompts.include == self.prompts.include)
        if self.state is not None and base and work is not None:
            H, W = self.state.shape
            self.hover_mask = mask
            self._hover_outline = outline_path(mask)
            self._hover_scale = (W / work[1], H / work[0])
            self.canvas.update()
        if self._hover_next is not None:
            self._start_hover()

    def clear_hover(self) -> None:
        self._hover_next = None
        if self._hover_outline is not None or self.hover_mask is not None:
            self.hover_mask, self._hover_outline = None, None
            self.canvas.update()

    def _quick_answered(self, answer) -> None:
        prompts, mask, work = answer
        if (self.state is None or prompts != self.prompts or work is None
                or (self.result is not None and self.result.prompts == prompts)):
            return  # stale, or the refined answer is already here
        H, W = self.state.shape
        self._show_outline(mask, (W / work[1], H / work[0]))

    def _show_outline(self, mask: np.ndarray, scale: tuple[float, float] = (1.0, 1.0)) -> None:
        """Draw ``mask``'s outline as the candidate; ``scale``: photo pixels per mask pixel."""
        self._outline, self._outline_scale = outline_path(mask), scale
        self.canvas.update()

    def _answered(self, result: SegmentResult) -> None:
        self._click = None
        if result.prompts == self.prompts:
            self.result = result
            self._show_outline(result.mask)
        if self._pending is not None:
            self._pending = None
            self._request()

    def _click_failed(self, msg: str) -> None:
        self._click = None
        self._pending = None
        self._status(msg, error=True)

    def _status(self, text: str, error: bool = False) -> None:
        """Progress and tips only while this is the current tool (a precompute that finishes after
        the user switched tools must not cover the new tool's tip); errors always."""
        status = getattr(self.canvas.window(), "status", None)
        if status is not None and (error or self.canvas.tool is self):
            (status.show_error if error else status.show_info)(text)

    # ---- pointer ----------------------------------------------------------------------------------
    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, button: Qt.MouseButton) -> None:
        if self.state is None or button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self._press = QPointF(pos)
        self._press_exclude = button == Qt.MouseButton.RightButton or bool(modifiers & Qt.KeyboardModifier.AltModifier)
        self._drag = None

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._press is None:
            return
        d = (pos - self._press) * self.canvas.zoom
        if self._drag is not None or max(abs(d.x()), abs(d.y())) > DRAG_PX:
            self._drag = QPointF(pos)
            self.canvas.update()

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._press is None or self.state is None:
            return
        start, self._press = self._press, None
        H, W = self.state.shape
        if self._drag is not None:
            self._drag = None
            x0, x1 = sorted((min(max(start.x(), 0), W - 1), min(max(pos.x(), 0), W - 1)))
            y0, y1 = sorted((min(max(start.y(), 0), H - 1), min(max(pos.y(), 0), H - 1)))
            self.prompts = self.prompts.with_box((x0, y0, x1, y1))
        else:
            x, y = start.x(), start.y()
            if not (0 <= x < W and 0 <= y < H):
                return
            if self.regions is not None:
                self._pick_region(x, y, not self._press_exclude)
                return
            self.prompts = self.prompts.add_exclude(x, y) if self._press_exclude else self.prompts.add_include(x, y)
        self.clear_hover()
        self._request()
        self.canvas.update()

    # ---- keys ---------------------------------------------------------------------------------------
    def key_press(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and self.result is not None and self.result.count > 1:
            self.result = self.result.next_alternative()
            self._show_outline(self.result.mask)
            self._status(f"Segment: alternative {self.result.chosen + 1} of {self.result.count}")
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            # Shift+Enter (as before) or Alt+Enter (Photoshop's Alt = subtract) take the candidate out
            subtract = bool(event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier))
            return self.accept(subtract)
        if key == Qt.Key.Key_R and not event.modifiers():
            self.propose_everything()
            return True
        if key == Qt.Key.Key_Escape and (self.result is not None or not self.prompts.is_empty
                                         or self.regions is not None):
            self.discard()
            return True
        return False

    def accept(self, subtract: bool = False) -> bool:
        """Put the candidate into the mask (one undo step) and start a new selection."""
        if self.state is None or self.result is None or self.result.prompts != self.prompts:
            return False
        mask = np.array(self.result.mask)
        label = "Segment subtract" if subtract else "Segment add"
        push_mask_edit(self.state, label, lambda m: m.combine(mask, "subtract" if subtract else "add"))
        self.discard()
        return True

    def propose_everything(self) -> None:
        """Split the photo into regions (in a worker) that clicks then pick in or out."""
        if self.state is None or self._everything is not None:
            return
        if not self.ready:
            self.prepare()
        seg, L, key = self.segmenter, self.state.document.L, self._photo_key()

        def work(task: Task):
            if seg is not None and self._ready_key == key:
                masks = seg.everything(cancel=task.is_cancelled)
            else:  # not prepared yet: the weightless proposal needs no precompute
                from app.core.segment.everything import superpixel_proposals
                from app.core.segment.imageprep import to_gray01

                masks = superpixel_proposals(to_gray01(L), cancel=task.is_cancelled)
            labels = np.zeros(L.shape, np.int32)
            for k, m in enumerate(masks, start=1):
                labels[m & (labels == 0)] = k
            return key, labels

        task = Task(work)
        task.done.connect(self._proposed)
        task.failed.connect(lambda msg: (self._status(msg, error=True), setattr(self, "_everything", None)))
        self._everything = task
        self._status("Segment: finding all regions...")
        self._start(task)

    def _proposed(self, answer) -> None:
        self._everything = None
        key, labels = answer
        if self.state is None or key != self._photo_key():
            return
        self.discard()
        self.regions, self._picked = labels, set()
        edges = np.zeros(labels.shape, bool)
        edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
        edges[1:, :] |= labels[1:, :] != labels[:-1, :]
        self._region_outline = outline_path(edges)
        self._status(f"Segment: {int(labels.max())} regions. Click regions in (Alt/right click: out), "
                     "then Enter adds them to the mask.")
        self.canvas.update()

    def _pick_region(self, x: float, y: float, take: bool) -> None:
        assert self.regions is not None
        rid = int(self.regions[int(y), int(x)])
        (self._picked.add if take else self._picked.discard)(rid)
        mask = np.isin(self.regions, list(self._picked)) if self._picked else np.zeros(self.regions.shape, bool)
        self.result = SegmentResult((mask,), (1.0,), segmenter="regions", prompts=self.prompts)
        self._show_outline(mask)

    def discard(self) -> None:
        self.regions, self._region_outline, self._picked = None, None, set()
        self.prompts = Prompts()
        self.result, self._outline, self._pending = None, None, None
        self._outline_scale = (1.0, 1.0)
        self._press, self._drag = None, None
        self.hover_mask, self._hover_outline, self._hover_next = None, None, None
        self.canvas.update()

    # ---- drawing ------------------------------------------------------------------------------------
    def paint_overlay(self, painter: QPainter) -> None:
        if self.state is None:
            return
        o, one = self.canvas.to_widget(0, 0), self.canvas.to_widget(1, 1)
        painter.save()
        if self._region_outline is not None:
            painter.setTransform(QTransform(one.x() - o.x(), 0, 0, one.y() - o.y(), o.x(), o.y()))
            pen = QPen(QColor(255, 255, 255, 110), 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPath(self._region_outline)
            painter.resetTransform()
        if self._outline is not None:
            sx, sy = self._outline_scale
            painter.setTransform(QTransform((one.x() - o.x()) * sx, 0, 0, (one.y() - o.y()) * sy, o.x(), o.y()))
            for colour, style, width in ((QColor(0, 0, 0), Qt.PenStyle.SolidLine, 3.0),
                                         (QColor(255, 220, 0), Qt.PenStyle.SolidLine, 1.5)):
                pen = QPen(colour, width, style)
                pen.setCosmetic(True)  # same width on screen at any zoom
                painter.setPen(pen)
                painter.drawPath(self._outline)
            painter.resetTransform()
        if self._hover_outline is not None:
            sx, sy = self._hover_scale
            painter.setTransform(QTransform((one.x() - o.x()) * sx, 0, 0, (one.y() - o.y()) * sy, o.x(), o.y()))
            for colour, width, style in ((QColor(0, 0, 0, 160), 2.5, Qt.PenStyle.SolidLine),
                                         (QColor(120, 220, 255), 1.2, Qt.PenStyle.DashLine)):
                pen = QPen(colour, width, style)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.drawPath(self._hover_outline)
            painter.resetTransform()
        box = self.prompts.box
        if self._drag is not None and self._press is not None:
            box = (self._press.x(), self._press.y(), self._drag.x(), self._drag.y())
        if box is not None:
            a, b = self.canvas.to_widget(box[0], box[1]), self.canvas.to_widget(box[2], box[3])
            painter.setPen(QPen(QColor(255, 255, 255), 1.5, Qt.PenStyle.DashLine))
            painter.drawRect(QRectF(a, b).normalized())
        for pts, colour in ((self.prompts.include, QColor(40, 200, 60)), (self.prompts.exclude, QColor(230, 50, 40))):
            painter.setPen(QPen(QColor(255, 255, 255), 1.5))
            painter.setBrush(colour)
            for x, y in pts:
                painter.drawEllipse(self.canvas.to_widget(x, y), 5.0, 5.0)
        painter.restore()
