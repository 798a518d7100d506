"""The side strip of open photos: a thumbnail and name each; a dot marks unsaved changes."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from app.ui.qtimage import rgb8_to_qimage

THUMB = 96


class PhotoStrip(QListWidget):
    photo_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setViewMode(QListWidget.ViewMode.ListMode)
        self.setUniformItemSizes(False)
        self.setMinimumWidth(THUMB + 40)
        self.setMaximumWidth(THUMB + 180)
        self.setWordWrap(True)
        self.setToolTip("Open photos: each keeps its own mask, hints and settings.")
        self.currentRowChanged.connect(self._on_row)
        self._states: list = []

    def add_state(self, state) -> None:
        item = QListWidgetItem()
        self._states.append(state)
        self.addItem(item)
        self.refresh(state)
        state.dirty_changed.connect(lambda _d, s=state: self.refresh(s))

    def remove_state(self, state) -> None:
        i = self._states.index(state)
        self._states.pop(i)
        self.takeItem(i)

    def select(self, state) -> None:
        self.setCurrentRow(self._states.index(state))

    def refresh(self, state, thumbnail: bool = True) -> None:
        """Update the name (and the thumbnail from the smallest pyramid level of the result)."""
        if state not in self._states:
            return
        item = self.item(self._states.index(state))
        item.setText(("\u2022 " if state.is_dirty else "") + state.title)
        if thumbnail:
            small = state.compositor.pyramid.levels[-1]
            pm = QPixmap.fromImage(rgb8_to_qimage(small)).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            icon = QIcon(pm)
            icon.addPixmap(pm, QIcon.Mode.Selected)  # no selection tint: the thumbnail's colour matters
            item.setIcon(icon)
        path = state.project_path or state.document.path
        item.setToolTip(str(path) if path else state.title)

    def _on_row(self, row: int) -> None:
        if 0 <= row < len(self._states):
            self.photo_selected.emit(row)
