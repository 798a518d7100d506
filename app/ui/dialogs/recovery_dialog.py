"""After a crash: which photos to recover from autosave, named, each with its own tick."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


def describe(autosave: Path) -> str:
    """'farm.tif (…/photos), edited 14:02' for one autosave file."""
    from app.core.project import peek_photo

    photo = peek_photo(autosave)
    try:
        when = time.strftime("%d %b %H:%M", time.localtime(autosave.stat().st_mtime))
    except OSError:
        when = "?"
    if photo is None:
        return f"an unnamed photo, edited {when}"
    p = Path(photo)
    return f"{p.name} ({p.parent}), edited {when}"


class RecoveryDialog(QDialog):
    def __init__(self, files: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work?")
        self.files = list(files)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Huebrush did not close properly last time. Tick the photos to recover; "
                             "the others' autosaves are discarded."))
        self.list = QListWidget()
        for f in self.files:
            item = QListWidgetItem(describe(f))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setData(Qt.ItemDataRole.UserRole, str(f))
            self.list.addItem(item)
        lay.addWidget(self.list)
        buttons = QDialogButtonBox()
        self.recover = buttons.addButton("Recover ticked", QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard = buttons.addButton("Discard all", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def set_ticked(self, index: int, on: bool) -> None:
        self.list.item(index).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def chosen(self) -> list[Path]:
        return [Path(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]
