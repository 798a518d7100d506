"""File > Batch export: choose photos, where their masks come from, the model and the outputs.

The dialog only gathers options into an app.core.batch.BatchJob and shows what it reports; the
job runs on a worker thread. Cancel stops after the photo in progress (a "cancelled" state,
not "finished"), and the summary lists done, skipped and failed photos with reasons.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

REPORT_NAME = "huebrush-batch-report.json"
MASK_CHOICES = [
    ("Each photo's project (.huebrush)", "project"),
    ("Mask files in a folder (name.png or name_mask.png)", "masks"),
    ("The current photo's mask (or colour regions) and hints, for every photo", "shared"),
    ("The whole photo", "whole"),
]


class BatchWorker(QThread):
    """Runs BatchJob.run off the GUI thread; one of finished_report / failed ends every run."""

    progress = Signal(object)  # app.core.batch.BatchProgress
    finished_report = Signal(object)  # app.core.batch.report.BatchReport (state finished/cancelled/stopped)
    failed = Signal(str)

    def __init__(self, job, plan, engine=None, parent=None) -> None:
        super().__init__(parent)
        self.job, self.plan, self.engine = job, plan, engine
        self.cancel_event = threading.Event()

    def run(self) -> None:
        from app.ui.preview_worker import friendly_error

        try:
            report = self.job.run(self.progress.emit, self.cancel_event, plan=self.plan, engine=self.engine,
                                  report_path=self.job.output_dir / REPORT_NAME)
        except BaseException as e:  # noqa: BLE001 - shown as one sentence
            self.failed.emit(friendly_error(e))
            return
        self.finished_report.emit(report)


class BatchDialog(QDialog):
    state_changed = Signal(str)  # idle / running / finished / cancelled / stopped / failed
    progressed = Signal(object)  # each BatchProgress, after the dialog has shown it

    def __init__(self, parent: QWidget | None = None, *, models: list[str] | None = None, current=None,
                 default_settings=None, engine: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch export")
        self.setMinimumWidth(560)
        self.current = current  # the open photo's DocumentState, for the shared mask and hints
        self.default_settings = default_settings
        self.engine = engine
        self.worker: BatchWorker | None = None
        self.report = None
        self.state = "idle"
        self._plan = None
        if models is None:
            from models.registry import names

            models = names()
        self._build(models)
        self._replan_timer = QTimer(self, singleShot=True, interval=250)
        self._replan_timer.timeout.connect(self.update_counts)
        self._set_state("idle")

    # ----- layout ------------------------------------------------------------------------------
    def _build(self, models: list[str]) -> None:
        outer = QVBoxLayout(self)
        photos = QGroupBox("Photos")
        pv = QVBoxLayout(photos)
        self.inputs = QListWidget()
        self.inputs.setMaximumHeight(110)
        row = QHBoxLayout()
        self.add_files_btn = QPushButton("Add photos\u2026")
        self.add_folder_btn = QPushButton("Add folder\u2026")
        self.remove_btn = QPushButton("Remove")
        self.recursive = QCheckBox("Include sub-folders")
        for w in (self.add_files_btn, self.add_folder_btn, self.remove_btn):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.recursive)
        pv.addWidget(self.inputs)
        pv.addLayout(row)
        outer.addWidget(photos)

        masks = QGroupBox("Mask and model")
        mf = QFormLayout(masks)
        self.mask_source = QComboBox()
        for text, key in MASK_CHOICES:
            self.mask_source.addItem(text, key)
        self.fallback_whole = QCheckBox("Photos without one: colourize the whole photo")
        self.fallback_whole.setChecked(True)
        self.projects_dir, projects_row = self._folder_row("Projects folder (empty: beside each photo)")
        self.masks_dir, masks_row = self._folder_row("Masks folder")
        self.model = QComboBox()
        self.model.addItem("Each project's model (else the default)", None)
        for name in models:
            self.model.addItem(name, name)
        mf.addRow("Mask from", self.mask_source)
        mf.addRow("", self.fallback_whole)
        mf.addRow("Projects", projects_row)
        mf.addRow("Masks", masks_row)
        mf.addRow("Model", self.model)
        outer.addWidget(masks)

        out = QGroupBox("Output")
        of = QFormLayout(out)
        self.output_dir, output_row = self._folder_row("Output folder")
        self.format = QComboBox()
        for text, key in (("PNG", "png"), ("TIFF", "tif"), ("JPEG", "jpg"), ("WebP", "webp"), ("BMP", "bmp"), ("OpenRaster layers", "ora"),
                          ("Same as the photo", "same")):
            self.format.addItem(text, key)
        self.bit_depth = QComboBox()
        for text, key in (("Same as the photo", None), ("8 bits per channel", 8), ("16 bits per channel", 16)):
            self.bit_depth.addItem(text, key)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(95)
        self.long_side = QSpinBox()
        self.long_side.setRange(0, 100_000)
        self.long_side.setSpecialValueText("Full size")
        self.long_side.setSuffix(" px long side")
        self.name_template = QLineEdit("{name}_colour.{ext}")
        self.name_template.setToolTip("Fields: {name} (photo name), {ext} (output type), {src_ext} (photo's type)")
        self.existing = QComboBox()
        for text, key in (("Skip them (resumes a stopped batch)", "skip"), ("Overwrite them", "overwrite"),
                          ("Add a number", "number")):
            self.existing.addItem(text, key)
        self.keep_metadata = QCheckBox("Keep ICC profile and EXIF")
        self.keep_metadata.setChecked(True)
        self.colour_layers = QCheckBox("Also each photo's colour as a layer for Photoshop (NAME_layer.tif)")
        self.colour_layers.setToolTip("The colour alone with alpha (transparent where the photo stays grey), beside each "
                                      "output at the photo's bit depth: place it over the photo as a Color-mode layer.")
        of.addRow("Folder", output_row)
        of.addRow("Format", self.format)
        of.addRow("Bit depth", self.bit_depth)
        of.addRow("JPEG quality", self.quality)
        of.addRow("Size", self.long_side)
        of.addRow("Name", self.name_template)
        of.addRow("Existing files", self.existing)
        of.addRow("", self.keep_metadata)
        of.addRow("", self.colour_layers)
        outer.addWidget(out)

        self.counts = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_label = QLabel()
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setMaximumHeight(140)
        buttons = QHBoxLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.setDefault(True)
        self.cancel_btn = QPushButton("Cancel")
        self.open_btn = QPushButton("Open output folder")
        self.close_btn = QPushButton("Close")
        buttons.addWidget(self.open_btn)
        buttons.addStretch(1)
        for b in (self.start_btn, self.cancel_btn, self.close_btn):
            buttons.addWidget(b)
        for w in (self.counts, self.progress_bar, self.progress_label, self.summary):
            outer.addWidget(w)
        outer.addLayout(buttons)

        self.add_files_btn.clicked.connect(self._pick_files)
        self.add_folder_btn.clicked.connect(self._pick_folder)
        self.remove_btn.clicked.connect(self._remove_selected)
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn.clicked.connect(self.close)
        self.open_btn.clicked.connect(self.open_output_folder)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.mask_source.currentIndexChanged.connect(self._mask_source_changed)
        for sig in (self.recursive.toggled, self.fallback_whole.toggled, self.mask_source.currentIndexChanged,
                    self.format.currentIndexChanged, self.long_side.valueChanged, self.name_template.textChanged,
                    self.existing.currentIndexChanged, self.projects_dir.textChanged, self.masks_dir.textChanged,
                    self.output_dir.textChanged):
            sig.connect(self._replan_soon)
        shared = self.mask_source.model().item(2)
        if self.current is None:
            shared.setEnabled(False)  # no open photo to take a mask from
        self._format_changed()
        self._mask_source_changed()

    def _folder_row(self, title: str) -> tuple[QLineEdit, QHBoxLayout]:
        edit = QLineEdit()
        edit.setPlaceholderText(title)
        browse = QPushButton("Browse\u2026")
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(browse)

        def pick() -> None:
            path = QFileDialog.getExistingDirectory(self, title, edit.text())
            if path:
                edit.setText(path)

        browse.clicked.connect(pick)
        return edit, row

    # ----- choosing ------------------------------------------------------------------------------
    def add_paths(self, paths: list[str | Path]) -> None:
        have = {self.inputs.item(i).text() for i in range(self.inputs.count())}
        for p in paths:
            if str(p) not in have:
                self.inputs.addItem(str(p))
        if not self.output_dir.text() and paths:
            first = Path(paths[0])
            self.output_dir.setText(str((first if first.is_dir() else first.parent) / "colour"))
        self._replan_soon()

    def _pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add photos", "", "Photos (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp)")
        if files:
            self.add_paths(files)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos")
        if folder:
            self.add_paths([folder])

    def _remove_selected(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))
        self._replan_soon()

    def _format_changed(self) -> None:
        jpeg = self.format.currentData() in ("jpg", "webp", "bmp")  # 8 bits per channel only
        self.quality.setEnabled(self.format.currentData() in ("jpg", "webp", "same"))
        self.bit_depth.setEnabled(not jpeg)

    def _mask_source_changed(self) -> None:
        key = self.mask_source.currentData()
        self.projects_dir.setEnabled(key == "project")
        self.masks_dir.setEnabled(key in ("project", "masks"))
        self.fallback_whole.setEnabled(key != "whole")

    def _replan_soon(self) -> None:
        if self.state != "running":
            self._replan_timer.start()

    # ----- the job ---------------------------------------------------------------------------------
    def build_job(self):
        """The BatchJob the current choices describe (raises BatchError with a sentence)."""
        from app.core.batch import BatchJob
        from app.core.batch.plan import BatchError

        inputs = [self.inputs.item(i).text() for i in range(self.inputs.count())]
        if not inputs:
            raise BatchError("Add photos or a folder of photos first.")
        if not self.output_dir.text().strip():
            raise BatchError("Choose an output folder first.")
        key = self.mask_source.currentData()
        sources = [key]
        if key == "project" and self.masks_dir.text().strip():
            sources.append("masks")
        if key != "whole" and self.fallback_whole.isChecked():
            sources.append("whole")
        shared_mask, shared_hints, shared_regions = None, (), ()
        if key == "shared" and self.current is not None:
            shared_hints = tuple(self.current.hints)
            if self.current.simple:
                shared_mask = self.current.mask.coverage.copy()
            else:  # the current photo's colour regions, each fitted to every photo
                shared_regions = tuple(self.current.region_views(copy=True))
        model = self.model.currentData()
        settings = self.default_settings
        if key == "shared" and self.current is not None:
            settings = self.current.settings
        return BatchJob(
            inputs=[Path(p) for p in inputs], output_dir=Path(self.output_dir.text().strip()).expanduser(),
            recursive=self.recursive.isChecked(), mask_sources=tuple(sources),
            projects_dir=Path(self.projects_dir.text()) if self.projects_dir.text().strip() else None,
            masks_dir=Path(self.masks_dir.text()) if self.masks_dir.text().strip() else None,
            shared_mask=shared_mask, shared_hints=shared_hints, shared_regions=shared_regions, settings=settings,
            overrides={"model": model} if model else {}, format=self.format.currentData(),
            bit_depth=self.bit_depth.currentData(), quality=self.quality.value(),
            long_side=self.long_side.value() or None, name_template=self.name_template.text(),
            existing=self.existing.currentData(), keep_metadata=self.keep_metadata.isChecked(),
            colour_layers=self.colour_layers.isChecked(),
        )

    def update_counts(self) -> None:
        """Plan now and show what will be done and skipped; Start is enabled only with work to do."""
        from app.core.errors import HuebrushError

        self._plan = None
        try:
            job = self.build_job()
            plan = job.plan()
        except HuebrushError as e:
            self.counts.setText(str(e))
            self.start_btn.setEnabled(False)
            return
        self._plan = (job, plan)
        extra = f", {len(plan.ignored)} other files ignored" if plan.ignored else ""
        self.counts.setText(f"{len(plan.todo)} to colourize, {len(plan.skipped)} to skip{extra}.")
        self.start_btn.setEnabled(self.state != "running" and bool(plan.todo))

    def start(self) -> None:
        self._replan_timer.stop()
        self.update_counts()
        if self._plan is None or not self._plan[1].todo:
            return
        job, plan = self._plan
        self.report = None
        self.summary.clear()
        self.progress_bar.setRange(0, len(plan.todo))
        self.progress_bar.setValue(0)
        self.progress_label.setText("Loading the model\u2026")
        self.worker = BatchWorker(job, plan, self.engine, self)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished_report.connect(self._on_report)
        self.worker.failed.connect(self._on_failed)
        self._set_state("running")
        self.worker.start()

    def cancel(self) -> None:
        if self.state == "running" and self.worker is not None:
            self.worker.cancel_event.set()
            self.cancel_btn.setEnabled(False)
            self.progress_label.setText("Cancelling after the current photo\u2026")
        else:
            self.close()

    def _on_progress(self, p) -> None:
        self.progress_bar.setValue(p.done)
        if self.worker is None or not self.worker.cancel_event.is_set():
            name = Path(p.current).name if p.current else (Path(p.record.input).name if p.record else "")
            left = f" \u2014 about {_duration(p.eta)} left" if p.eta is not None else ""
            self.progress_label.setText(f"{p.done} of {p.total} \u2014 {name}{left}")
        self.progressed.emit(p)

    def _on_report(self, report) -> None:
        self.report = report
        self._end_worker()
        c = report.counts()
        head = {"finished": "Finished", "cancelled": "Cancelled", "stopped": "Stopped"}.get(report.state, report.state)
        self.progress_label.setText(f"{head}: {c['done']} done, {c['skipped']} skipped, {c['failed']} failed"
                                    + (f", {c['cancelled']} not started" if c["cancelled"] else "") + ".")
        lines = [report.error] if report.error else []
        for r in report.photos:
            if r.outcome in ("failed", "skipped"):
                lines.append(f"{r.outcome}: {Path(r.input).name}: {r.reason}")
        lines.append(f"Report: {Path(report.output_dir) / REPORT_NAME}")
        self.summary.setPlainText("\n".join(lines))
        self._set_state(report.state)

    def _on_failed(self, message: str) -> None:
        self._end_worker()
        self.progress_label.setText(message)
        self._set_state("failed")

    def _end_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait(5000)  # its last act was emitting this signal, so it ends at once

    def open_output_folder(self) -> None:
        folder = Path(self.output_dir.text()).expanduser()
        if folder.is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder.resolve())))

    def _set_state(self, state: str) -> None:
        self.state = state
        running = state == "running"
        for w in (self.inputs, self.add_files_btn, self.add_folder_btn, self.remove_btn, self.recursive):
            w.setEnabled(not running)
        self.start_btn.setEnabled(not running and self._plan is not None and bool(self._plan[1].todo))
        self.cancel_btn.setEnabled(running)
        self.close_btn.setEnabled(not running)
        self.open_btn.setEnabled(not running and Path(self.output_dir.text() or "\0").is_dir())
        if not running and state != "idle":
            self._replan_soon()  # resumed counts: what is left after this run
        self.state_changed.emit(state)

    def closeEvent(self, event) -> None:
        if self.state == "running":
            event.ignore()  # the Cancel button stops the batch; closing mid-photo would hide that
            return
        super().closeEvent(event)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def open_batch_dialog(win) -> BatchDialog:
    """Entry point for File > Batch export."""
    from app.core.pipeline import Settings

    state = getattr(win, "state", None)
    settings = state.settings if state is not None else None
    dlg = BatchDialog(win, current=state, default_settings=settings or Settings())
    if state is not None and state.document.path is not None:
        dlg.add_paths([Path(state.document.path).parent])
    dlg.show()
    return dlg
