"""Preferences: default model, device, work size, autosave (saved as JSON in the config folder),
and the segmentation checkpoints the S tool uses (their own page, changes apply at once)."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.app_settings import AppSettings
from app.ui.dialogs.segment_models_page import SegmentModelsPage
from app.ui.panels.settings_panel import WORK_SIZES

DEVICES = (("auto", "Automatic (GPU when available)"), ("cpu", "CPU"), ("cuda", "NVIDIA GPU (CUDA)"),
           ("mps", "Apple GPU (Metal)"))


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, model_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Huebrush settings")
        self._settings = settings
        general = QWidget()
        form = QFormLayout(general)
        self.model = QComboBox()
        for n in model_names:
            self.model.addItem(n, n)
        if self.model.findData(settings.default_model) < 0:
            self.model.addItem(settings.default_model, settings.default_model)
        self.model.setCurrentIndex(self.model.findData(settings.default_model))
        self.device = QComboBox()
        for key, title in DEVICES:
            self.device.addItem(title, key)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.work_size = QComboBox()
        for s in WORK_SIZES:
            self.work_size.addItem(f"{s} px", s)
        self.work_size.setCurrentIndex(max(0, self.work_size.findData(settings.work_size)))
        self.autosave = QCheckBox("Save open photos every minute of editing (for crash recovery)")
        self.autosave.setChecked(settings.autosave)
        form.addRow("Default model for new photos", self.model)
        form.addRow("Device", self.device)
        form.addRow("Default work size", self.work_size)
        form.addRow(self.autosave)
        self.overlay_colour = settings.overlay_colour
        self.overlay_button = QPushButton()
        self.overlay_button.setAccessibleName("Mask overlay colour")
        self.overlay_button.setToolTip("The mask overlay's colour (pick one your hints are not, e.g. cyan for red hints).")
        self.overlay_button.clicked.connect(self._pick_overlay)
        self.overlay_opacity = QSpinBox()
        self.overlay_opacity.setRange(0, 100)
        self.overlay_opacity.setSuffix(" %")
        self.overlay_opacity.setValue(int(settings.overlay_opacity))
        self.overlay_opacity.setToolTip("How strongly the overlay tints the inside of the mask (its edge stays solid).")
        row = QHBoxLayout()
        row.addWidget(self.overlay_button)
        row.addWidget(QLabel("opacity"))
        row.addWidget(self.overlay_opacity)
        row.addStretch(1)
        form.addRow("Mask overlay", row)
        self._show_overlay_colour()
        stored = QLabel(f"Stored in {AppSettings.file()}")
        stored.setWordWrap(True)
        form.addRow(stored)

        # Checkpoint changes are files on disk, not preferences: they apply at once (OK/Cancel
        # do not undo them), and the window's S tool is told to pick its segmenter again.
        self.segment_models = SegmentModelsPage(getattr(parent, "refresh_segmenter", None))
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.tabs.addTab(self.segment_models, "Segmentation models")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.tabs, 1)
        col.addWidget(buttons)
        self.resize(720, 480)

    def done(self, result: int) -> None:
        # A download shows its progress only here: closing the dialog cancels it (the .part
        # stays, so the next download resumes). An import finishes in the background.
        self.segment_models.cancel()
        super().done(result)

    def _show_overlay_colour(self) -> None:
        self.overlay_button.setText(self.overlay_colour)
        self.overlay_button.setStyleSheet(f"QPushButton {{ border-left: 18px solid {self.overlay_colour}; padding-left: 6px; }}")

    def _pick_overlay(self) -> None:
        c = QColorDialog.getColor(QColor(self.overlay_colour), self, "Mask overlay colour")
        if c.isValid():
            self.set_overlay_colour(c.name())

    def set_overlay_colour(self, hex_colour: str) -> None:
        self.overlay_colour = hex_colour.lower()
        self._show_overlay_colour()

    def apply(self) -> AppSettings:
        """Copy the choices into the settings object and save it."""
        s = self._settings
        s.default_model = self.model.currentData()
        s.device = self.device.currentData()
        s.work_size = int(self.work_size.currentData())
        s.autosave = self.autosave.isChecked()
        s.overlay_colour = self.overlay_colour
        s.overlay_opacity = int(self.overlay_opacity.value())
        s.save()
        return s
