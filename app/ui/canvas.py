"""The photo canvas: zoom, pan, before/after, mask overlay, and pointer events for the tools.

It paints only the viewport, from the pyramid level nearest the zoom, so a 24 MP photo costs
no more to draw than a small one.
"""
from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from app.ui.qtimage import grey8_view, rgb8_view
from app.ui.tools import create_tools

MIN_ZOOM, MAX_ZOOM = 1 / 64, 32.0
OVERLAY_RGBA = (255, 40, 90, 48)  # the mask overlay: a light red-pink tint...
EDGE_RGBA = (255, 60, 110, 255)  # ...and a crisp edge, so the colours inside stay readable


def _argb(c) -> int:
    """An (r, g, b, a) colour as premultiplied ARGB32."""
    r, g, b, a = (int(v) for v in c)
    return (a << 24) | ((r * a + 127) // 255 << 16) | ((g * a + 127) // 255 << 8) | ((b * a + 127) // 255)


@functools.lru_cache(maxsize=8)
def _soft_fill_table(fill_rgba: tuple[int, int, int, int]) -> np.ndarray:
    """The tint at each of the 256 coverages of a soft mask (its opacity scaled by the coverage)."""
    r, g, b, a = fill_rgba
    return np.array([_argb((r, g, b, (a * v + 127) // 255)) for v in range(256)], np.uint32)


class Canvas(QWidget):
    zoom_changed = Signal(float)
    cursor_moved = Signal(int, int, float)  # x, y, L under the cursor; x = -1 when outside
    tool_changed = Signal(str)
    view_changed = Signal()
    brush_changed = Signal(float)  # the brush radius in photo pixels
    brush_hardness_changed = Signal(float)  # 0 (all soft edge) .. 1 (hard)
    hint_point_chosen = Signal(float, float)  # a hint was placed or selected at this photo pixel
    hint_placed = Signal(float, float)  # a hint was added or moved to this photo pixel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window takes dropped files
        self.setMinimumSize(320, 240)
        self.state = None
        self.zoom = 1.0
        self._origin = QPointF(0, 0)  # image point at the widget's top-left corner
        self.brush_radius = 20.0
        self.brush_hardness = 1.0  # 1: full colour to the edge; below, a soft edge (as in photo editors)
        # "follow the screen": the brush keeps its size on screen as the zoom changes (its radius in
        # photo pixels follows); otherwise it keeps its size in photo pixels (the default)
        self.brush_follows_screen = False
        self._brush_screen_radius = 20.0
        self.hint_rgb: tuple[float, float, float] = (0.85, 0.25, 0.2)
        self.show_mask = True
        self._mask_cache_key: tuple | None = None  # the overlay images drawn last and what they show
        self._mask_cache: list = []
        self.overlay_rgba, self.edge_rgba = OVERLAY_RGBA, EDGE_RGBA
        self.split = False  # before | after with a draggable line
        self.split_x = 0.5  # as a fraction of the widget width
        self.compare = False  # held backslash: show the original
        self._mouse = QPointF(-1, -1)
        self._pan_from: QPointF | None = None
        self._space = False
        self._dragging_split = False
        self._tool_active = False
        self.tools = create_tools(self)
        self.tool = self.tools["brush"]
        self._space_filter = _SpaceToPan(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._space_filter)

    def set_overlay(self, hex_colour: str, opacity_percent: float) -> None:
        """The mask overlay's colour and its tint's opacity (the edge stays opaque), e.g. cyan when
        red hints would hide under the default red."""
        from models.colour import hex_to_rgb

        r, g, b = (int(round(c * 255)) for c in hex_to_rgb(hex_colour))
        a = int(round(min(max(float(opacity_percent), 0.0), 100.0) * 2.55))
        self.overlay_rgba, self.edge_rgba = (r, g, b, a), (r, g, b, 255)
        self.update()

    def pointer_inside(self) -> bool:
        """Whether the pointer is over the canvas now (its last move landed inside it)."""
        return self.rect().contains(self._mouse.toPoint()) and self.isVisible()

    def set_space_pan(self, on: bool) -> None:
        """Space held: a left drag pans (the cursor shows the hand)."""
        self._space = on
        if on:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    # ---- public API ---------------------------------------------------------------------------
    def set_state(self, state) -> None:
        if self.state is not None:
            self.tool.deactivate()
            self.state.display_updated.disconnect(self._on_display_updated)
            self.state.hints_changed.disconnect(self.update)
            self.state.regions_changed.disconnect(self.update)
        self.state = state
        if state is not None:
            state.display_updated.connect(self._on_display_updated)
            state.hints_changed.connect(self.update)
            state.regions_changed.connect(self.update)
            view = getattr(state, "view", None)
            if view:
                self.zoom, self._origin = view
                self._zoom_moved_brush()
                self.zoom_changed.emit(self.zoom)
            else:
                self.fit()
            self.tool.activate()
        self.update()

    def set_tool(self, name: str) -> None:
        if name not in self.tools or self.tools[name] is self.tool:
            return
        self.tool.deactivate()
        self.tool = self.tools[name]
        self.tool.activate()
        self.tool_changed.emit(name)
        self.update()

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF((x - self._origin.x()) * self.zoom, (y - self._origin.y()) * self.zoom)

    def to_image(self, p: QPointF) -> QPointF:
        return QPointF(p.x() / self.zoom + self._origin.x(), p.y() / self.zoom + self._origin.y())

    def fit(self) -> None:
        if self.state is None:
            return
        H, W = self.state.shape
        z = min(self.width() / W, self.height() / H) * 0.97
        self._set_view(z, QPointF(W / 2, H / 2), QPointF(self.width() / 2, self.height() / 2))

    def actual_size(self) -> None:
        self.zoom_about(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_in(self) -> None:
        self.zoom_about(self.zoom * 1.25, QPointF(self.width() / 2, self.height() / 2))

    def zoom_out(self) -> None:
        self.zoom_about(self.zoom / 1.25, QPointF(self.width() / 2, self.height() / 2))

    def zoom_about(self, zoom: float, widget_pt: QPointF) -> None:
        self._set_view(zoom, self.to_image(widget_pt), widget_pt)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the photo by (dx, dy) screen pixels."""
        self._origin -= QPointF(dx / self.zoom, dy / self.zoom)
        self._remember_view()
        self.update()

    def resize_brush(self, factor: float) -> None:
        self.set_brush_radius(self.brush_radius * factor)

    def set_brush_radius(self, radius: float, show: bool = True) -> None:
        """The brush radius in photo pixels (0.5-2000); with ``show`` its diameter is drawn beside
        the cursor for a moment, as [ and ] change it."""
        radius = float(min(max(radius, 0.5), 2000.0))
        self._brush_screen_radius = radius * self.zoom
        if radius == self.brush_radius:
            return
        self.brush_radius = radius
        if show:
            self._flash_brush_label()
        self.brush_changed.emit(radius)
        self.update()

    def set_brush_hardness(self, hardness: float, show: bool = True) -> None:
        """The brush's hardness, 0-1 (0: soft from the centre, 1: hard edge); with ``show`` it is
        drawn beside the cursor for a moment, as Shift+[ and Shift+] change it."""
        hardness = float(min(max(hardness, 0.0), 1.0))
        if hardness == self.brush_hardness:
            return
        self.brush_hardness = hardness
        if show:
            self._flash_brush_label()
        self.brush_hardness_changed.emit(hardness)
        self.update()

    def _flash_brush_label(self) -> None:
        """Show the brush's size (and hardness) beside the cursor for a moment."""
        import time

        from PySide6.QtCore import QTimer

        self._size_shown_until = time.monotonic() + 1.2
        QTimer.singleShot(1300, self.update)

    def step_brush_hardness(self, step: float) -> None:
        """Shift+] / Shift+[: harder or softer by ``step`` (Photoshop's steps are 25 %)."""
        self.set_brush_hardness(round((self.brush_hardness + step) * 4) / 4)

    def set_brush_follows_screen(self, on: bool) -> None:
        """Keep the brush's size on screen (True) or in photo pixels (False) when the zoom changes."""
        self.brush_follows_screen = bool(on)
        self._brush_screen_radius = self.brush_radius * self.zoom

    def _zoom_moved_brush(self) -> None:
        if self.brush_follows_screen:
            screen = self._brush_screen_radius
            self.set_brush_radius(screen / self.zoom, show=False)
            self._brush_screen_radius = screen  # rounding at the limits must not drift it

    def set_zoom_percent(self, percent: float) -> None:
        """Zoom to ``percent`` about the centre of the view (the status bar's zoom field, 50/100/200 %)."""
        self.zoom_about(float(percent) / 100.0, QPointF(self.width() / 2, self.height() / 2))

    # ---- view maths ---------------------------------------------------------------------------
    def _set_view(self, zoom: float, image_pt: QPointF, widget_pt: QPointF) -> None:
        self.zoom = float(min(max(zoom, MIN_ZOOM), MAX_ZOOM))
        self._origin = QPointF(image_pt.x() - widget_pt.x() / self.zoom, image_pt.y() - widget_pt.y() / self.zoom)
        self._remember_view()
        self._zoom_moved_brush()
        self.zoom_changed.emit(self.zoom)
        self.update()

    def _remember_view(self) -> None:
        if self.state is not None:
            self.state.view = (self.zoom, QPointF(self._origin))

    def _on_display_updated(self, rect) -> None:
        x0, y0, x1, y1 = rect
        a, b = self.to_widget(x0, y0), self.to_widget(x1, y1)
        self.update(QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2))

    # ---- painting -----------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        self._paint_rect = QRectF(event.rect())  # draw only what Qt asked for (cursor, brush dabs)
        p.fillRect(event.rect(), QColor(48, 48, 50))
        st = self.state
        if st is None:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                       "Open a black-and-white photo (Ctrl+O) or drop it here.\n"
                       "Paint where colour goes (B), erase (E), place colour hints (H).")
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 2.0)
        split_px = self.split_x * self.width()
        if self.compare:
            self._draw_pyramid(p, st.before, grey=True)
        elif self.split:
            p.save()
            p.setClipRect(QRectF(0, 0, split_px, self.height()))
            self._draw_pyramid(p, st.before, grey=True)
            p.setClipRect(QRectF(split_px, 0, self.width() - split_px, self.height()))
            self._draw_pyramid(p, st.compositor.pyramid, grey=False)
            p.restore()
        else:
            self._draw_pyramid(p, st.compositor.pyramid, grey=False)
        if self.show_mask and not self.compare:
            p.save()
            if self.split:  # the "before" half stays the untouched original
                p.setClipRect(QRectF(split_px, 0, self.width() - split_px, self.height()))
            self._draw_mask(p)
            p.restore()
        self.tool.paint_overlay(p)
        if self.tool is not self.tools.get("hint"):
            self.tools["hint"].paint_overlay(p)  # hints stay visible with every tool
        if self.split and not self.compare:
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.drawLine(QPointF(split_px, 0), QPointF(split_px, self.height()))
            p.setBrush(QColor(255, 255, 255))
            p.drawEllipse(QPointF(split_px, self.height() / 2), 7, 7)
            p.setPen(QColor(255, 255, 255))
            p.drawText(QRectF(split_px - 90, 6, 80, 18), Qt.AlignmentFlag.AlignRight, "before")
            p.drawText(QRectF(split_px + 10, 6, 80, 18), Qt.AlignmentFlag.AlignLeft, "after")
        if self.compare:
            p.setPen(QColor(255, 255, 255))
            p.drawText(QRectF(8, 6, 300, 18), Qt.AlignmentFlag.AlignLeft, "original (release \\ to see the result)")
        if self.tool.uses_brush_size and self.rect().contains(self._mouse.toPoint()):
            # never smaller than a few screen pixels: at fit on a 24 MP photo the true circle is a dot
            r = max(self.brush_radius * self.zoom, 3.0)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(0, 0, 0), 1.5))
            p.drawEllipse(self._mouse, r, r)
            p.setPen(QPen(QColor(255, 255, 255), 1.0))
            p.drawEllipse(self._mouse, r + 1.2, r + 1.2)
            if self.brush_hardness < 1.0 and r >= 8.0:  # a soft brush: a dashed ring where full colour ends
                inner = r * self.brush_hardness
                if inner >= 2.0:
                    pen = QPen(QColor(255, 255, 255), 1.0)
                    pen.setStyle(Qt.PenStyle.DashLine)
                    p.setPen(pen)
                    p.drawEllipse(self._mouse, inner, inner)
            if r <= 4.0:  # a small crosshair says where the tiny brush is
                m = self._mouse
                p.drawLine(QPointF(m.x() - 8, m.y()), QPointF(m.x() - 5, m.y()))
                p.drawLine(QPointF(m.x() + 5, m.y()), QPointF(m.x() + 8, m.y()))
                p.drawLine(QPointF(m.x(), m.y() - 8), QPointF(m.x(), m.y() - 5))
                p.drawLine(QPointF(m.x(), m.y() + 5), QPointF(m.x(), m.y() + 8))
            if self.brush_size_label_shown():
                text = f"{2 * self.brush_radius:.0f} px"
                if self.brush_hardness < 1.0:
                    text += f"  {100 * self.brush_hardness:.0f} % hard"
                box = QRectF(self._mouse.x() + r + 6, self._mouse.y() - 9, 160, 18)
                p.setPen(QColor(0, 0, 0))
                p.drawText(box.translated(1, 1), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
                p.setPen(QColor(255, 255, 255))
                p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def brush_size_label_shown(self) -> bool:
        import time

        return time.monotonic() < getattr(self, "_size_shown_until", 0.0)

    def _visible(self, level_scale: int, shape) -> tuple[int, int, int, int] | None:
        """The visible part of the photo in the level's pixels (x0, y0, x1, y1)."""
        H, W = shape
        r = getattr(self, "_paint_rect", None) or QRectF(self.rect())
        tl = self.to_image(r.topLeft())
        br = self.to_image(r.bottomRight())
        s = level_scale
        x0, y0 = max(0, int(math.floor(tl.x() / s)) - 1), max(0, int(math.floor(tl.y() / s)) - 1)
        x1, y1 = min(W, int(math.ceil(br.x() / s)) + 2), min(H, int(math.ceil(br.y() / s)) + 2)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def _draw_pyramid(self, p: QPainter, pyramid, grey: bool) -> None:
        k = pyramid.level_for_zoom(self.zoom)
        level = pyramid.levels[k]
        s = 1 << k
        vis = self._visible(s, level.shape[:2])
        if vis is None:
            return
        x0, y0, x1, y1 = vis
        crop = np.ascontiguousarray(level[y0:y1, x0:x1])
        # no copy into Qt: the QImage borrows `crop`, which outlives the synchronous drawImage
        img = grey8_view(crop) if grey else rgb8_view(crop)
        self._draw_level_image(p, img, s, x0, y0, x1, y1)

    def _draw_level_image(self, p: QPainter, img, s: int, x0: int, y0: int, x1: int, y1: int) -> None:
        H, W = self.state.shape
        a = self.to_widget(x0 * s, y0 * s)
        b = self.to_widget(min(W, x1 * s), min(H, y1 * s))
        p.drawImage(QRectF(a, b), img)

    def _draw_mask(self, p: QPainter) -> None:
        """The selected region as a tint with an edge; every other visible region as its outline
        in its own colour (see the Regions panel). The overlay images are kept until the masks, the
        view or the colours change, so repaints for the cursor, hints or tools cost one drawImage."""
        st = self.state
        k = st.before.level_for_zoom(self.zoom)
        s = 1 << k
        H, W = st.shape
        lh, lw = -(-H // s), -(-W // s)
        vis = self._visible(s, (lh, lw))
        if vis is None:
            return
        key = (id(st), id(st.mask), st.version, st.active, len(st.regions), s, vis, self.overlay_rgba, self.edge_rgba)
        if key != self._mask_cache_key:
            layers = []
            if len(st.regions) > 1:
                from app.ui.panels.regions_panel import region_mark
                from models.colour import hex_to_rgb

                for i, r in enumerate(st.regions):
                    if i != st.active and r.visible:
                        rgb = tuple(int(round(c * 255)) for c in hex_to_rgb(region_mark(st, i)))
                        layers.append(self._mask_layer(r.mask.data, s, vis, None, (*rgb, 255)))
            layers.append(self._mask_layer(st.mask.data, s, vis, self.overlay_rgba, self.edge_rgba))
            self._mask_cache_key, self._mask_cache = key, [layer for layer in layers if layer is not None]
        for img, _rgba, x0, y0, x1, y1 in self._mask_cache:
            self._draw_level_image(p, img, s, x0, y0, x1, y1)

    @staticmethod
    def _mask_layer(data, s: int, vis, fill_rgba, edge_rgba):
        """One mask at pyramid level ``s`` over the visible cells as an RGBA image (None if empty):
        (QImage, its array, x0, y0, x1, y1)."""
        x0, y0, x1, y1 = vis
        sub = data[y0 * s : y1 * s : s, x0 * s : x1 * s : s]  # strided: no full-size work
        if not sub.any():
            return None
        cover = None
        if sub.dtype == np.uint8:  # a soft mask: the tint follows its coverage
            cover = np.ascontiguousarray(sub)
            sub = cover > 0
        u8 = np.ascontiguousarray(sub).view(np.uint8)
        inner = cv2.erode(u8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
        edge = u8 - inner  # 1 on the mask's edge pixels
        if fill_rgba is None:  # an outline only: two pixels wide so it reads over the photo
            edge = cv2.dilate(edge, np.ones((2, 2), np.uint8)) & u8
        # one table lookup: 0 outside, 1 inside (the tint), 3 on the edge; premultiplied ARGB32,
        # the format Qt blends without converting first
        table = np.zeros(4, np.uint32)
        if fill_rgba is not None:
            table[1] = _argb(fill_rgba)
        table[3] = _argb(edge_rgba)
        if cover is not None and fill_rgba is not None:  # the tint's opacity follows the coverage
            soft = _soft_fill_table(tuple(int(v) for v in fill_rgba))
            pixels = np.where(edge.view(bool), np.uint32(table[3]), np.take(soft, cover))
        else:
            pixels = np.take(table, u8 + 2 * edge)  # (h, w) uint32, one pass
        h, w = sub.shape
        # a deep copy: the image is kept between paints, and one borrowing a numpy buffer must not be
        img = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied).copy()
        return img, None, x0, y0, x0 + w, y0 + h

    # ---- input --------------------------------------------------------------------------------
    def _near_split(self, x: float) -> bool:
        return self.split and abs(x - self.split_x * self.width()) <= 8

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self.setFocus()
        pos = e.position()
        if e.button() == Qt.MouseButton.MiddleButton or (e.button() == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif e.button() == Qt.MouseButton.LeftButton and self._near_split(pos.x()):
            self._dragging_split = True
        elif self.state is not None and not self.compare:
            self._tool_active = True
            self.tool.press(self.to_image(pos), e.modifiers(), e.button())
        self._mouse = pos
        self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        pos = e.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(d.x(), d.y())
        elif self._dragging_split:
            self.split_x = min(max(pos.x() / max(self.width(), 1), 0.0), 1.0)
            self.update()
        elif self._tool_active:
            self.tool.move(self.to_image(pos), e.modifiers())
        elif self.state is not None and not self.compare:
            self.tool.hover(self.to_image(pos), e.modifiers())
        old = self._mouse
        self._mouse = pos
        if self.tool.uses_brush_size and self.brush_size_label_shown():
            self.update()  # the size readout beside the cursor moves with it
        elif self.tool.uses_brush_size:  # repaint only around the old and new round cursor
            r = max(self.brush_radius * self.zoom, 3.0) + 10
            for c in (old, pos):
                self.update(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r).toAlignedRect())
        self._report_cursor(pos)

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:
        if (e.button() == Qt.MouseButton.LeftButton and self.state is not None and not self.compare and not self._space
                and self.tool.double_click(self.to_image(e.position()), e.modifiers())):
            self.update()
            return
        self.mousePressEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        pos = e.position()
        if self._pan_from is not None and e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.unsetCursor()
        elif self._dragging_split:
            self._dragging_split = False
        elif self._tool_active:
            self._tool_active = False
            self.tool.release(self.to_image(pos), e.modifiers())
        self.update()

    def leaveEvent(self, event) -> None:
        self._mouse = QPointF(-1000, -1000)
        self.cursor_moved.emit(-1, -1, 0.0)
        self.update()

    def _report_cursor(self, pos: QPointF) -> None:
        if self.state is None:
            return
        ip = self.to_image(pos)
        x, y = int(math.floor(ip.x())), int(math.floor(ip.y()))
        H, W = self.state.shape
        if 0 <= x < W and 0 <= y < H:
            self.cursor_moved.emit(x, y, float(self.state.document.L[y, x]))
        else:
            self.cursor_moved.emit(-1, -1, 0.0)

    def wheelEvent(self, e: QWheelEvent) -> None:
        delta = e.angleDelta()
        if e.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            # Alt turns a vertical wheel into a horizontal one on some systems: take whichever moved
            steps = delta.y() or delta.x()
            self.zoom_about(self.zoom * (1.0015 ** steps), e.position())
        elif e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.pan_by(delta.y() / 2, 0)
        else:
            self.pan_by(delta.x() / 2, delta.y() / 2)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        # Tab belongs to the tools (the segment tool cycles SAM's alternative masks with it)
        return False

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.isAutoRepeat() and e.key() in (Qt.Key.Key_Space, Qt.Key.Key_Backslash):
            return
        if e.key() == Qt.Key.Key_Space:
            self.set_space_pan(True)
        elif e.key() == Qt.Key.Key_Backslash:
            self.compare = True
            self.update()
        elif not self.tool.key_press(e):
            super().keyPressEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:
        if e.isAutoRepeat():
            return
        if e.key() == Qt.Key.Key_Space:
            self.set_space_pan(False)
        elif e.key() == Qt.Key.Key_Backslash:
            self.compare = False
            self.update()
        else:
            super().keyReleaseEvent(e)


_TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class _SpaceToPan(QObject):
    """Space pans while the pointer is over the canvas, whichever widget has the keyboard focus
    (the photo strip after a click, a panel's button), as in every photo editor. A text field
    with the focus keeps its spaces."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        t = event.type()
        if t not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or event.key() != Qt.Key.Key_Space:
            return False
        c = self.canvas
        focus = QApplication.focusWidget()
        if focus is c or isinstance(focus, _TEXT_INPUTS):
            return False  # the canvas handles its own keys; text fields keep their spaces
        if t == QEvent.Type.KeyPress:
            if not c.pointer_inside():
                return False
            if not event.isAutoRepeat():
                c.set_space_pan(True)
            return True
        if event.isAutoRepeat():
            return True
        if c._space:
            c.set_space_pan(False)
            return True
        return False
