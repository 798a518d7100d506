"""Export: where, which format, bit depth and quality. The writing itself runs in a worker."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

# OpenRaster: the grey photo with the colour as a Color-mode layer above it, for GIMP and Krita
FORMATS = {"PNG": ".png", "TIFF": ".tif", "JPEG": ".jpg", "WebP": ".webp", "BMP": ".bmp", "OpenRaster layers": ".ora"}
EIGHT_BIT = ("JPEG", "WebP", "BMP")
WITH_QUALITY = ("JPEG", "WebP")


@dataclass(frozen=True)
class ExportOptions:
    path: Path
    bit_depth: int
    quality: int
    colour_layer: Path | None = None  # also the colour alone with alpha (TIFF), for Photoshop


class ExportDialog(QDialog):
    def __init__(self, suggested: Path, source_bit_depth: int, parent: QWidget | None = None,
                 source: Path | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setWindowTitle("Export colourized photo")
        form = QFormLayout(self)
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.path = QLineEdit(str(suggested))
        browse = QPushButton("Browse\u2026")
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.bit_depth = QComboBox()
        self.bit_depth.addItem("8 bits per channel", 8)
        self.bit_depth.addItem("16 bits per channel", 16)
        self.quality = QSpinBox()
        self.quality.setRange(50, 100)
        self.quality.setValue(95)
        form.addRow("Format", self.format)
        form.addRow("File", row)
        form.addRow("Bit depth", self.bit_depth)
        form.addRow("Quality (JPEG, WebP)", self.quality)
        # Photoshop reads no OpenRaster: the colour alone, to place as a layer in Color mode
        self.colour_layer = QCheckBox("Also the colour as a layer for Photoshop")
        self.colour_layer.setToolTip("Writes the colour alone with alpha (transparent where the photo stays grey) as a "
                                     "TIFF beside the export, at the photo's size and bit depth: place it over the "
                                     "photo as a layer in Color blend mode.")
        self.layer_name = QLabel()
        self.layer_name.setStyleSheet("color:#9e9e9e;")
        form.addRow("Layer", self.colour_layer)
        form.addRow("", self.layer_name)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#ff8a80;")
        self.problem.hide()
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        form.addRow(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        browse.clicked.connect(self._browse)
        self.colour_layer.toggled.connect(self._show_layer_name)
        self.path.textChanged.connect(self._show_layer_name)
        self.format.currentTextChanged.connect(self._format_changed)
        ext = suggested.suffix.lower()
        for name, e in FORMATS.items():
            if ext in (e, ".tiff" if e == ".tif" else e, ".jpeg" if e == ".jpg" else e):
                self.format.setCurrentText(name)
        self.bit_depth.setCurrentIndex(1 if source_bit_depth == 16 and self.format.currentText() not in EIGHT_BIT else 0)
        self._format_changed(self.format.currentText())
        self._show_layer_name()

    def _show_layer_name(self, *_args) -> None:
        from app.core.layers import colour_layer_path

        on = self.colour_layer.isChecked()
        self.layer_name.setText(colour_layer_path(Path(self.path.text())).name if on else "")
        self.layer_name.setVisible(on)

    def _format_changed(self, name: str) -> None:
        eight = name in EIGHT_BIT
        self.quality.setEnabled(name in WITH_QUALITY)
        if eight:
            self.bit_depth.setCurrentIndex(0)
        self.bit_depth.setEnabled(not eight)  # JPEG, WebP and BMP hold 8 bits per channel
        p = Path(self.path.text())
        self.path.setText(str(p.with_suffix(FORMATS[name])))

    def _browse(self) -> None:
        name = self.format.currentText()
        path, _ = QFileDialog.getSaveFileName(self, "Export as", self.path.text(), f"{name} (*{FORMATS[name]})")
        if path:
            self.path.setText(path)

    def accept(self) -> None:
        """Stays open with the reason when the file cannot be written as asked; asks before
        replacing an existing file."""
        from app.core.errors import ExportError
        from app.core.export import check_output_path

        options = self.options()
        paths = [options.path] + ([options.colour_layer] if options.colour_layer else [])
        try:
            for path in paths:
                check_output_path(path, overwrite=True, protect=[self.source] if self.source else [])
        except ExportError as e:
            self.problem.setText(str(e))
            self.problem.show()
            return
        for path in paths:
            if path.exists() and not self.confirm_replace(path):
                return
        self.problem.hide()
        super().accept()

    def confirm_replace(self, path: Path) -> bool:
        """Whether to replace an existing file (tests replace this to answer without a dialog)."""
        answer = QMessageBox.question(self, "Replace file?", f"{path.name} already exists in {path.parent}. Replace it?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def options(self) -> ExportOptions:
        from app.core.layers import colour_layer_path

        path = Path(self.path.text()).expanduser()
        layer = colour_layer_path(path) if self.colour_layer.isChecked() else None
        return ExportOptions(path, int(self.bit_depth.currentData()), self.quality.value(), layer)
