"""The main window: canvas in the middle, open photos on the left, settings on the right.

It only wires things: documents live in DocumentState, pixels in app.core, colours come from the
preview worker, and file handling sits in file_ops (a mixin, to keep this module small).
"""
from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.ui.actions import build_menus
from app.ui.app_settings import AppSettings
from app.ui.canvas import Canvas
from app.ui.file_ops import FileOps
from app.ui.panels.photo_strip import PhotoStrip
from app.ui.panels.regions_panel import RegionsPanel
from app.ui.panels.settings_panel import SettingsPanel
from app.ui.preview_worker import PreviewExecutor, PreviewScheduler, default_engine
from app.ui.status import StatusBar

log = logging.getLogger(__name__)
MASK_WORKER_PIXELS = 4_000_000  # grow/shrink above this size run in a worker (about 0.1 s at 4 MP)


class Banner(QWidget):
    """One sentence above the canvas when something went wrong (missing weights, bad file)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("#banner { background:#6b2222; } QLabel { color:#ffe6e6; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        close = QPushButton("\u00d7")
        close.setFlat(True)
        close.setFixedWidth(24)
        close.clicked.connect(self.hide)
        row.addWidget(self.label, 1)
        row.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()


TOOL_TIPS = {  # the status bar's line for each tool, shown when it is chosen
    "brush": "Brush: paint where colour goes ([ and ] change the size, Shift+[ and Shift+] the hardness, "
             "Alt erases, Shift adds).",
    "eraser": "Eraser: remove mask ([ and ] change the size, Shift+[ and Shift+] the hardness).",
    "lasso": "Lasso: drag around an area, or click corners and double-click, to fill it (Alt removes).",
    "hint": "Hints: click to place the current colour, drag a swatch to move it, Delete removes it.",
    "segment": "Segment: click to include, Alt/right click to exclude, drag for a box, Tab for alternatives; "
               "a dashed outline previews the next click; Enter adds, Shift/Alt+Enter subtracts, Esc discards, "
               "R all regions.",
    "wand": "Magic wand: click selects the area of about that lightness (Shift adds, Alt subtracts); "
            "tolerance in the Mask panel.",
}


class MainWindow(FileOps, QMainWindow):
    photo_opened = Signal(object)  # DocumentState

    def __init__(self, engine_factory=default_engine) -> None:
        super().__init__()
        self.setWindowTitle("Huebrush")
        self.setAcceptDrops(True)
        self.app_settings = AppSettings.load()
        self.states: list = []
        self.state = None
        self.hint_rgb: tuple[float, float, float] = (0.80, 0.33, 0.22)
        self._mask_tasks: set = set()  # grow/shrink of big masks running in workers

        self.canvas = Canvas()
        self.canvas.hint_rgb = self.hint_rgb
        self.banner = Banner()
        centre = QWidget()
        col = QVBoxLayout(centre)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.banner)
        col.addWidget(self.canvas, 1)
        self.strip = PhotoStrip()
        self.regions_panel = RegionsPanel()
        left = QSplitter(Qt.Orientation.Vertical)  # the open photos over the current photo's colour regions
        left.addWidget(self.strip)
        left.addWidget(self.regions_panel)
        left.setSizes([420, 280])
        self.panel = SettingsPanel()
        # the settings column scrolls when it is taller than the window (the hint panel grows by the
        # suggested swatches and the ab plane) rather than pushing the window past the screen
        self.panel_scroll = QScrollArea()
        self.panel_scroll.setWidget(self.panel)
        self.panel_scroll.setWidgetResizable(True)
        self.panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.panel_scroll.setMinimumWidth(self.panel.minimumSizeHint().width()
                                          + self.panel_scroll.verticalScrollBar().sizeHint().width())
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(centre)
        split.addWidget(self.panel_scroll)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 900, 280])
        split.setCollapsible(1, False)
        self.setCentralWidget(split)
        self.status = StatusBar()
        # long tips and errors are clipped (their tooltip holds the whole text) rather than
        # forcing the window wider than the screen
        self.status.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setStatusBar(self.status)
        self.status.show_info("Open a photo to begin (Ctrl+O).")

        self.undo_group = QUndoGroup(self)
        self.executor = PreviewExecutor(engine_factory, self)
        self.scheduler = PreviewScheduler(self.executor, self)
        self.executor.preview_ready.connect(self._on_preview_ready)
        self.executor.preview_failed.connect(self._on_preview_failed)
        self.executor.busy_changed.connect(self.status.set_busy)

        self.actions = build_menus(self)
        self._wire_panel()
        self.canvas.zoom_changed.connect(self.status.set_zoom)
        self.status.zoom_requested.connect(self.canvas.set_zoom_percent)
        self.canvas.brush_changed.connect(self.panel.show_brush_radius)
        self.panel.brush_radius_edited.connect(lambda r: self.canvas.set_brush_radius(r, show=False))
        self.panel.show_brush_radius(self.canvas.brush_radius)
        self.canvas.brush_hardness_changed.connect(self.panel.show_brush_hardness)
        self.panel.brush_hardness_edited.connect(lambda h: self.canvas.set_brush_hardness(h, show=False))
        self.panel.brush_screen.toggled.connect(self.canvas.set_brush_follows_screen)
        wand = self.canvas.tools.get("wand")
        if wand is not None:
            self.panel.wand_tolerance.valueChanged.connect(lambda v: setattr(wand, "tolerance", float(v)))
            self.panel.wand_contiguous.toggled.connect(lambda on: setattr(wand, "contiguous", on))
            wand.tolerance = float(self.panel.wand_tolerance.value())
        self._build_history()
        self._build_reference_view()
        from app.ui.hint_assist import HintAssistant

        self.hint_assist = HintAssistant(self)
        self.canvas.hint_point_chosen.connect(self.hint_assist.at_point)
        self.canvas.hint_placed.connect(self._hint_placed)
        self.hint_assist.suggestions_ready.connect(self.panel.show_suggestions)
        self.hint_assist.outcome_ready.connect(self.panel.show_hint_outcome)
        self.panel.suggestion_chosen.connect(self._suggestion_chosen)
        self.canvas.set_overlay(self.app_settings.overlay_colour, self.app_settings.overlay_opacity)
        self.canvas.cursor_moved.connect(self.status.set_cursor)
        self.canvas.tool_changed.connect(self._on_tool_changed)
        self.strip.photo_selected.connect(lambda i: self.set_current(self.states[i]))
        self.regions_panel.status.connect(self.status.show_info)
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(400)
        self._thumb_timer.timeout.connect(lambda: self.state is not None and self.strip.refresh(self.state))
        self.init_file_ops()
        self._restore_geometry()
        self._refresh_models()
        self.panel.show_colour(self.hint_rgb, self.app_settings.recent_colours)
        self.panel.show_settings(self.new_settings(), None)  # what a new photo will get
        self._update_enabled()

    # ---- photos ---------------------------------------------------------------------------------
    def add_state(self, state, select: bool = True) -> None:
        self.states.append(state)
        self.undo_group.addStack(state.undo_stack)
        self.strip.add_state(state)
        state.dirty_changed.connect(lambda _d: self._update_title())
        state.display_updated.connect(lambda _r: self._thumb_timer.start())
        state.settings_changed.connect(lambda s=state: self._settings_changed(s))
        if select or self.state is None:
            self.set_current(state)
        self.photo_opened.emit(state)

    def remove_state(self, state) -> None:
        self.strip.remove_state(state)
        self.undo_group.removeStack(state.undo_stack)
        self.states.remove(state)
        self.forget_autosave(state)
        self.set_current(self.states[-1] if self.states else None)

    def set_current(self, state) -> None:
        if state is self.state and state is not None:
            return
        self.state = state
        self.canvas.set_state(state)
        self.scheduler.set_state(state)
        self.regions_panel.set_state(state)
        if state is not None:
            self.undo_group.setActiveStack(state.undo_stack)
            self.strip.blockSignals(True)
            self.strip.select(state)
            self.strip.blockSignals(False)
            self.panel.show_settings(state.settings, state.reference_path)
            self.status.set_model(state.settings.model, state.preview_device or self.app_settings.device)
            self.show_reference(state.reference_lab, reveal=False)
            if self.canvas.tool is self.canvas.tools.get("hint"):
                self.hint_assist.prepare()  # the photo's suggestions ready before its first hint
            if not state.mask.data.any():  # said when the photo comes up, not over a tool's tip later
                self.status.show_info("Paint a mask (B) where colour should go; outside it the photo stays grey.")
        else:
            self.undo_group.setActiveStack(None)
        self.status.set_photo(state)
        self._update_title()
        self._update_enabled()

    def _update_title(self) -> None:
        st = self.state
        if st is None:
            self.setWindowTitle("Huebrush")
        else:
            dot = " \u2022" if st.is_dirty else ""
            self.setWindowTitle(f"{st.title}{dot} \u2014 Huebrush")

    def _update_enabled(self) -> None:
        has = self.state is not None
        self.panel.setEnabled(has)
        for name in ("save", "save_as", "export", "close", "fit", "actual", "zoom_in", "zoom_out"):
            if name in self.actions:
                self.actions[name].setEnabled(has)

    # ---- tools and view ---------------------------------------------------------------------------
    def _on_tool_changed(self, name: str) -> None:
        act = self.actions.get(f"tool_{name}")
        if act is not None:
            act.setChecked(True)
        self.status.show_info(TOOL_TIPS.get(name, ""))
        if name == "hint":
            self.hint_assist.prepare()

    def _build_history(self) -> None:
        """View > History panel: Qt's undo view over the current photo's undo stack."""
        from PySide6.QtWidgets import QDockWidget, QUndoView

        self.history = QUndoView(self.undo_group)
        self.history.setEmptyLabel("Opened")
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("history")
        self.history_dock.setWidget(self.history)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.history_dock.hide()
        self.history_dock.visibilityChanged.connect(
            lambda on: "history" in self.actions and self.actions["history"].setChecked(on))

    def _build_reference_view(self) -> None:
        """View > Reference photo: the colour photo of the same scene, to take colours from."""
        from PySide6.QtWidgets import QDockWidget, QLabel, QPushButton, QVBoxLayout, QWidget

        from app.ui.panels.reference_view import ReferenceView

        self.reference_view = ReferenceView()
        self.reference_view.colour_picked.connect(self._suggestion_chosen)
        # the view alone says nothing of the reference model: the button there makes it one click
        self.reference_use = QPushButton("Colour the photo from it")
        self.reference_use.setToolTip("The reference model: the colours of this photo, matched to the grey one "
                                      "by content and lightness (no training).")
        self.reference_use.clicked.connect(self.use_reference_model)
        note = QLabel("Click in it to take a colour as the hint colour.")
        note.setWordWrap(True)
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.reference_view, 1)
        lay.addWidget(note)
        lay.addWidget(self.reference_use)
        self.reference_dock = QDockWidget("Reference photo", self)
        self.reference_dock.setObjectName("reference")
        self.reference_dock.setWidget(box)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.reference_dock)
        self.reference_dock.hide()
        self.reference_dock.visibilityChanged.connect(
            lambda on: "reference" in self.actions and self.actions["reference"].setChecked(on))

    def show_reference(self, reference_lab, reveal: bool = True) -> None:
        """Show the photo's reference (Lab, as loaded once for the models) in the reference view."""
        from app.ui.panels.reference_view import lab_to_rgb8

        rgb = None if reference_lab is None else lab_to_rgb8(reference_lab)
        self.reference_view.set_photo(rgb)
        self._update_reference_use()
        if rgb is not None and reveal:
            self.reference_dock.show()

    def _update_reference_use(self) -> None:
        st = self.state
        self.reference_use.setEnabled(st is not None and st.reference_lab is not None
                                      and st.settings.model != "reference"
                                      and self.panel.model.findData("reference") >= 0)

    def use_reference_model(self) -> None:
        """The reference dock's button: colour the current photo with the reference model."""
        i = self.panel.model.findData("reference")
        if self.state is not None and i >= 0:
            self.panel.model.setCurrentIndex(i)  # through the panel, so undo and the status follow

    def set_reference_visible(self, on: bool) -> None:
        self.reference_dock.setVisible(on)

    def set_history_visible(self, on: bool) -> None:
        self.history_dock.setVisible(on)

    def show_shortcuts(self):
        """F1: every shortcut and gesture, searchable (kept open beside the work)."""
        from app.ui.dialogs.help_dialog import ShortcutsDialog

        dlg = getattr(self, "_shortcuts_dialog", None)
        if dlg is None:
            dlg = self._shortcuts_dialog = ShortcutsDialog(self.actions, self)
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()  # typing goes to its search field, not to the canvas's tool keys
        dlg.search.setFocus()
        return dlg

    def show_about(self) -> None:
        from app.ui.dialogs.help_dialog import show_about

        show_about(self)

    def focus_next_area(self) -> None:
        """F6: the keyboard moves between the canvas, the settings panel and the photo strip."""
        from PySide6.QtWidgets import QApplication

        focus = QApplication.focusWidget()
        panel_first = next((w for w in self.panel.keyboard_order() if w.isEnabled()), self.panel.model)
        if focus is self.canvas or focus is None:
            panel_first.setFocus(Qt.FocusReason.TabFocusReason)
        elif focus is not None and self.panel.isAncestorOf(focus):
            self.strip.setFocus(Qt.FocusReason.TabFocusReason)
        else:
            self.canvas.setFocus(Qt.FocusReason.TabFocusReason)

    def set_view(self, what: str, on: bool) -> None:
        if what == "mask":
            self.canvas.show_mask = on
            self.actions["show_mask"].setChecked(on)
            self.panel.show_mask.setChecked(on)
        elif what == "split":
            self.canvas.split = on
            self.actions["split"].setChecked(on)
            self.panel.split.setChecked(on)
        self.canvas.update()

    def _hint_placed(self, x: float, y: float) -> None:
        """Say so when a new or moved hint cannot show its colour where it is (a model that takes
        no hints, outside the mask, in a hidden region, or in one with a chosen colour); otherwise
        the hint tool's line."""
        from app.core.regions import hint_note

        if self.state is not None:
            note = hint_note(self.state.region_views(), x, y, self.state.settings.model)
            self.status.show_info(note or TOOL_TIPS["hint"])

    def set_hint_colour(self, rgb: tuple[float, float, float]) -> None:
        from PySide6.QtGui import QColor

        self.hint_rgb = tuple(rgb)
        self.canvas.hint_rgb = self.hint_rgb
        self.app_settings.add_recent_colour(QColor.fromRgbF(*rgb).name())
        self.panel.show_colour(self.hint_rgb, self.app_settings.recent_colours)

    def ask_pixels(self, title: str, label: str, value: int) -> int | None:
        """A number of photo pixels from a small dialog (tests replace this to answer without one)."""
        from PySide6.QtWidgets import QInputDialog

        px, ok = QInputDialog.getInt(self, title, label, value, 1, 1000)
        return int(px) if ok else None

    def mask_operation(self, op: str, px: int | None = None) -> None:
        """Invert, clear, fill; grow, shrink or smooth by ``px`` photo pixels (asked when None);
        "feather" sets the soft edge the colour fades in over."""
        from app.ui.undo_commands import push_mask_edit

        if self.state is None:
            return
        if op == "feather":
            px = px if px is not None else self.ask_pixels("Feather mask edge", "Soft edge (photo pixels):",
                                                           int(round(self.state.settings.feather)) or 4)
            if px is not None:
                self.panel.feather.setValue(int(px))  # the panel's slider sets the setting, with undo
            return
        if op in ("grow", "shrink", "smooth") and px is None:
            default = max(1, int(round(self.canvas.brush_radius / 2)))
            px = self.ask_pixels(f"{op.capitalize()} mask", "By how many photo pixels:", default)
            if px is None:
                return
        n = int(px or 0)
        labels = {"invert": "Invert mask", "clear": "Clear mask", "fill": "Fill mask",
                  "grow": f"Grow mask {n} px", "shrink": f"Shrink mask {n} px", "smooth": f"Smooth mask {n} px"}
        ops = {"invert": lambda m: m.invert(), "clear": lambda m: m.clear(), "fill": lambda m: m.fill(),
               "grow": lambda m: m.grow(n), "shrink": lambda m: m.shrink(n), "smooth": lambda m: m.smooth(n)}
        H, W = self.state.shape
        if op in ("grow", "shrink", "smooth") and H * W >= MASK_WORKER_PIXELS:
            self._mask_op_in_worker(self.state, labels[op], ops[op])
        else:
            push_mask_edit(self.state, labels[op], ops[op])

    def _panel_mask_op(self, op: str) -> None:
        """The panel's quick buttons: Grow and Shrink by half the brush size, no dialog."""
        quick = max(1, int(round(self.canvas.brush_radius / 2))) if op in ("grow", "shrink") else None
        self.mask_operation(op, quick)

    def _mask_op_in_worker(self, state, label: str, edit, target=None) -> None:
        """Grow/shrink of a big mask: the morphology (~0.3 s at 24 MP) runs on a scratch copy in a
        worker; the GUI thread only swaps the result in as one undo step. If the mask was edited
        meanwhile, the operation starts again from the new mask. It lands on the region it was
        asked for, even if another one was selected meanwhile."""
        from app.core.mask import Mask
        from app.ui.undo_commands import push_mask_edit
        from app.ui.workers import Task

        target = state.mask if target is None else target
        version, data = state.version, target.coverage.copy()

        def work(_task):
            scratch = Mask.from_array(data, history_limit=0)
            edit(scratch)
            return scratch.coverage

        def done(result) -> None:
            if state not in self.states or not any(r.mask is target for r in state.regions):
                return  # the photo or the region was closed meanwhile
            if state.version != version:
                self._mask_op_in_worker(state, label, edit, target)
                return
            state.select_mask(target)
            push_mask_edit(state, label, lambda m: m.set_data(result, label))

        task = Task(work)
        task.done.connect(done)
        task.failed.connect(self.status.show_error)
        task.finished.connect(lambda t=task: self._mask_tasks.discard(t))
        self._mask_tasks.add(task)  # keeps the QThread alive until it has finished
        self.status.show_info(f"{label}\u2026")
        task.start()

    def wait_mask_operations(self, ms: int = 30_000) -> None:
        """Block until background mask operations are done (closing, tests)."""
        for t in list(self._mask_tasks):
            t.wait(ms)

    def refresh_segmenter(self) -> None:
        """A checkpoint was imported or removed: the S tool picks its segmenter again."""
        tool = self.canvas.tools.get("segment")
        if tool is not None:
            tool.set_segmenter(None)

    def _wire_panel(self) -> None:
        p = self.panel
        p.settings_edited.connect(self._apply_settings)
        p.colour_chosen.connect(self._colour_chosen)
        p.recolour_hint.connect(lambda: self.canvas.tools["hint"].recolour_selected(self.hint_rgb))
        p.delete_hint.connect(lambda: self.canvas.tools["hint"].delete_selected())
        p.mask_op.connect(self._panel_mask_op)
        p.view_changed.connect(self.set_view)
        p.reference_requested.connect(self.choose_reference)
        p.reference_cleared.connect(self._clear_reference)

    def _colour_chosen(self, rgb) -> None:
        self.set_hint_colour(rgb)
        self.save_app_settings()
        self.hint_assist.check_colour()

    def _clear_reference(self) -> None:
        if self.state is not None:
            self.state.set_reference(None, None)
            self.panel.show_settings(self.state.settings, None)
        self.show_reference(None)

    def _suggestion_chosen(self, rgb) -> None:
        """A suggested swatch: it becomes the hint colour and recolours the selected hint."""
        self._colour_chosen(rgb)
        self.canvas.tools["hint"].recolour_selected(self.hint_rgb)

    def _apply_settings(self, changes: dict) -> None:
        """The panel's edits, each an undo step (a slider's drag is one)."""
        from app.ui.undo_commands import push_settings

        if self.state is not None:
            push_settings(self.state, changes)

    def _settings_changed(self, state) -> None:
        """A photo's settings changed (an edit, undo or redo): the panel and status follow."""
        if state is not self.state:
            return
        self.panel.show_settings(state.settings, state.reference_path)
        self.status.set_model(state.settings.model, state.preview_device or self.app_settings.device)
        self._update_reference_use()

    def _refresh_models(self) -> None:
        from models.registry import available

        self.panel.set_models(available())

    def new_settings(self):
        """Settings for a newly opened photo, from the preferences."""
        from app.core.pipeline import Settings
        from models.registry import names

        model = self.app_settings.default_model
        if model not in names():
            model = "hints"
        return dataclasses.replace(Settings(), model=model, work_size=self.app_settings.work_size,
                                   device=self.app_settings.device)

    # ---- previews -----------------------------------------------------------------------------------
    def _on_preview_ready(self, request_id: int) -> None:
        st = self.state
        if st is None:
            return
        self.banner.hide()
        self.status.set_preview(st)
        self.status.set_model(st.settings.model, st.preview_device)
        if st.preview_message:
            self.status.show_info(st.preview_message)


    def _on_preview_failed(self, message: str) -> None:
        self.banner.show_message(message)
        self.status.show_error(message)

    # ---- window ---------------------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        qs = QSettings()
        geo = qs.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:  # first run: 1400 x 900, or nine tenths of a smaller screen
            avail = self.screen().availableGeometry()
            self.resize(min(1400, int(avail.width() * 0.9)), min(900, int(avail.height() * 0.9)))

    def save_geometry(self) -> None:
        qs = QSettings()
        qs.setValue("window/geometry", self.saveGeometry())

    def closeEvent(self, event) -> None:
        if not self.confirm_close(self.states):
            event.ignore()
            return
        self.save_geometry()
        self.stop_file_ops()
        self.wait_mask_operations()
        self.hint_assist.wait()
        self.executor.shutdown()
        for st in list(self.states):
            self.forget_autosave(st)
        event.accept()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    def keyPressEvent(self, e) -> None:
        # space / backslash reach the canvas even when a panel had the focus
        if e.key() in (Qt.Key.Key_Space, Qt.Key.Key_Backslash):
            self.canvas.keyPressEvent(e)
        else:
            super().keyPressEvent(e)

    def keyReleaseEvent(self, e) -> None:
        if e.key() in (Qt.Key.Key_Space, Qt.Key.Key_Backslash):
            self.canvas.keyReleaseEvent(e)
        else:
            super().keyReleaseEvent(e)
