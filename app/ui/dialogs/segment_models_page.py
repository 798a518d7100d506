"""Settings > Segmentation models: the SAM / MobileSAM checkpoints the S tool can use.

Lists the imported checkpoints (the built-in segmenter is the default while none is
installed) and imports, verifies, downloads and removes them. Hashing a 375 MB-2.5 GB file
and downloading one both run in a worker Task, so the dialog never freezes; every failure is
shown as one sentence on the page. After a change the S tool is told to pick its segmenter
again, so the next click uses the new checkpoint.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.segment.checkpoints import OFFICIAL, InstalledCheckpoint, list_checkpoints, segment_models_dir, verify_checkpoint
from app.ui.workers import Task

# model -> what the download menu says (sizes of the official files, so the user knows what they start)
DOWNLOADS = (
    ("vit_t", "MobileSAM (vit_t, about 40 MB, fast on a CPU)"),
    ("vit_b", "Segment Anything vit_b (375 MB)"),
    ("vit_l", "Segment Anything vit_l (1.2 GB)"),
    ("vit_h", "Segment Anything vit_h (2.4 GB, best, slow on a CPU)"),
)
FILE_FILTER = "Segment Anything checkpoints (*.pth *.pt *.safetensors);;All files (*)"
_RUNNING: set[Task] = set()  # a QThread must outlive its run even if the dialog goes away


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _title(ck: InstalledCheckpoint) -> str:
    if ck.family == "mobilesam":
        return f"MobileSAM {ck.model}"
    return "Segment Anything (custom size)" if ck.model == "vit_custom" else f"Segment Anything {ck.model}"


def remove_checkpoint(ckpt: InstalledCheckpoint) -> None:
    """Delete an installed checkpoint and the JSON sidecar that lists it."""
    ckpt.path.unlink(missing_ok=True)
    ckpt.path.with_name(ckpt.path.name + ".json").unlink(missing_ok=True)


class SegmentModelsPage(QWidget):
    """The page itself; ``on_changed`` is called after an import, download or removal."""

    changed = Signal()  # the set of installed checkpoints changed

    def __init__(self, on_changed: Callable[[], None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_changed = on_changed
        self.download_urls: dict[str, str] = {}  # model -> URL overriding the official one (mirrors, tests)
        self.task: Task | None = None
        self._task_kind = ""
        self.checkpoints: list[InstalledCheckpoint] = []

        intro = QLabel("Click-to-segment (S) uses the best checkpoint installed here. Without one it uses "
                       "the built-in segmenter, which needs no download. MobileSAM answers quickly on a CPU; "
                       "Segment Anything vit_b/l/h is more precise but slower.")
        intro.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setColumnCount(4)
        self.table.setHeaderLabels(["Segmenter", "File", "Size", "Status"])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        head = self.table.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.import_button = QPushButton("Import file\u2026")
        self.verify_button = QPushButton("Verify")
        self.remove_button = QPushButton("Remove\u2026")
        self.import_button.setToolTip("Copy a SAM or MobileSAM checkpoint into the models folder.")
        self.verify_button.setToolTip("Re-hash the selected file and compare it with the hash recorded on import.")
        self.import_button.clicked.connect(self.choose_file)
        self.verify_button.clicked.connect(self.verify_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        self.download_model = QComboBox()
        for key, title in DOWNLOADS:
            self.download_model.addItem(title, key)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(lambda: self.start_download(self.download_model.currentData()))
        down = QHBoxLayout()
        down.addWidget(QLabel("Download:"))
        down.addWidget(self.download_model, 1)
        down.addWidget(self.download_button)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel)
        prog = QHBoxLayout()
        prog.addWidget(self.progress, 1)
        prog.addWidget(self.cancel_button)
        self._progress_row = QWidget()
        self._progress_row.setLayout(prog)
        prog.setContentsMargins(0, 0, 0, 0)
        self._progress_row.hide()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.folder = QLabel(f"Stored in {segment_models_dir()}")
        self.folder.setWordWrap(True)
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder.setStyleSheet("color:#8c8c8c;")

        col = QVBoxLayout(self)
        col.addWidget(intro)
        col.addWidget(self.table, 1)
        col.addLayout(buttons)
        col.addLayout(down)
        col.addWidget(self._progress_row)
        col.addWidget(self.message)
        col.addWidget(self.folder)
        self.refresh()

    # ---- the list ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the models folder and show what is installed."""
        selected = self.selected()
        self.checkpoints = list_checkpoints()
        self.table.clear()
        in_use = self.checkpoints[0] if self.checkpoints else None  # the one `auto` picks
        for ck in self.checkpoints:
            kind = _title(ck)
            official = {True: "official file", False: "NOT the official file", None: "no official hash known"}
            status = official[ck.official] + (" \u2014 in use" if ck is in_use else "")
            item = QTreeWidgetItem([kind, ck.name, _size(ck.size_bytes), status])
            item.setData(0, Qt.ItemDataRole.UserRole, ck.path.name)
            item.setToolTip(1, f"{ck.path}\nsha256 {ck.sha256}")
            self.table.addTopLevelItem(item)
            if selected is not None and ck.path == selected.path:
                item.setSelected(True)
        builtin = QTreeWidgetItem(["Built-in segmenter", "(ships with Huebrush)", "",
                                   "default \u2014 in use" if in_use is None else "used when no checkpoint is installed"])
        builtin.setData(0, Qt.ItemDataRole.UserRole, None)
        self.table.addTopLevelItem(builtin)
        self._update_buttons()

    def selected(self) -> InstalledCheckpoint | None:
        items = self.table.selectedItems()
        name = items[0].data(0, Qt.ItemDataRole.UserRole) if items else None
        return next((c for c in self.checkpoints if c.path.name == name), None)

    def select(self, ckpt: InstalledCheckpoint) -> None:
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == ckpt.path.name)

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _update_buttons(self) -> None:
        idle, has = not self.busy, self.selected() is not None
        self.import_button.setEnabled(idle)
        self.download_button.setEnabled(idle)
        self.download_model.setEnabled(idle)
        self.verify_button.setEnabled(idle and has)
        self.remove_button.setEnabled(idle and has)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))  # no blank gap above the folder line
        self.message.setStyleSheet("color:#e0605a; font-weight:bold;" if error else "")

    # ---- actions -----------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a segmentation checkpoint", str(Path.home()), FILE_FILTER)
        if path:
            self.import_path(path)

    def import_path(self, path: str | Path) -> None:
        """Recognise, hash and copy ``path`` in a worker; the result shows on the page."""
        from app.core.segment.checkpoints import import_checkpoint

        src = Path(path)
        self._run("import", f"Importing {src.name} (checking and hashing it)\u2026",
                  lambda _t: import_checkpoint(src), self._installed)

    def verify_selected(self) -> None:
        ck = self.selected()
        if ck is not None:
            self._run("verify", f"Verifying {ck.name}\u2026", lambda _t: verify_checkpoint(ck), self._verified)

    def start_download(self, model: str) -> None:
        from app.core.segment.download import DownloadCancelled, download_official
        from models.types import Cancelled

        url = self.download_urls.get(model)

        def work(task: Task):
            def progress(done: int, total: int | None) -> None:
                if total:
                    task.report(int(100 * done / total), f"{_size(done)} of {_size(total)}")
                else:
                    task.report(-1, f"{_size(done)} downloaded")

            try:
                return download_official(model, progress=progress, cancel=task.is_cancelled, url=url)
            except DownloadCancelled as e:  # the Task reports a Cancelled as "cancelled", not "failed"
                raise Cancelled(str(e)) from e

        title = "MobileSAM" if model == "vit_t" else f"Segment Anything {model}"
        self._run("download", f"Downloading {title} from {url or OFFICIAL.get(model, ('', ''))[1]}\u2026",
                  work, self._installed)

    def cancel(self) -> None:
        if self.task is not None and self._task_kind == "download":
            self.task.cancel()
            self.show_message("Cancelling the download\u2026")

    def confirm_remove(self, ckpt: InstalledCheckpoint) -> bool:
        """Ask before deleting (tests replace this)."""
        answer = QMessageBox.question(
            self, "Remove checkpoint",
            f"Delete {ckpt.name} ({_size(ckpt.size_bytes)}) from {ckpt.path.parent}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def remove_selected(self) -> None:
        ck = self.selected()
        if ck is None or self.busy or not self.confirm_remove(ck):
            return
        try:
            remove_checkpoint(ck)
        except OSError as e:
            self.show_message(f"Could not delete {ck.path} ({e.strerror}); close programs using it and try again.",
                              error=True)
            return
        self.show_message(f"Removed {ck.name}.")
        self.refresh()
        self._notify_changed()

    # ---- worker plumbing ------------------------------------------------------------------------
    def _run(self, kind: str, text: str, fn, on_done: Callable[[object], None]) -> None:
        if self.busy:
            return
        task = Task(fn)
        self.task, self._task_kind = task, kind
        task.progress.connect(self._progress)
        task.done.connect(on_done)
        task.failed.connect(lambda msg: self.show_message(msg, error=True))
        task.cancelled.connect(self._cancelled)
        task.finished.connect(lambda t=task: self._finished(t))
        _RUNNING.add(task)
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.setFormat(text)
        self.cancel_button.setVisible(kind == "download")
        self._progress_row.show()
        self.show_message(text)
        self._update_buttons()
        task.start()

    def _progress(self, percent: int, text: str) -> None:
        if percent < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(percent)
        self.progress.setFormat(f"{text} (%p%)" if percent >= 0 else text)

    def _finished(self, task: Task) -> None:
        _RUNNING.discard(task)
        if task is self.task:
            self.task, self._task_kind = None, ""
            self._progress_row.hide()
            self._update_buttons()

    def _cancelled(self) -> None:
        self.refresh()  # a cancel that came after the last byte may still have installed the file
        self.show_message("Download cancelled; the part already downloaded is kept and the next download resumes it.")

    def _installed(self, ck: InstalledCheckpoint) -> None:
        self.refresh()
        self.select(ck)
        self.show_message(f"Installed {ck.describe()}. The S tool uses it from the next click.")
        self._notify_changed()

    def _verified(self, ck: InstalledCheckpoint) -> None:
        note = {True: "it is the official file", False: "it is NOT the official file (it may be a fine-tune)",
                None: "no official hash is known for this model"}[ck.official]
        self.show_message(f"{ck.name} is intact (sha256 matches the one recorded on import); {note}.")

    def _notify_changed(self) -> None:
        self.changed.emit()
        if self._on_changed is not None:
            self._on_changed()

    def stop(self, wait_ms: int = 30_000) -> None:
        """Cancel a download and wait for the worker (the dialog is closing)."""
        task = self.task
        if task is not None:
            if self._task_kind == "download":
                task.cancel()
            task.wait(wait_ms)
