"""The status bar: photo size and bit depth, zoom, L under the cursor, model and device,
last preview time, a busy indicator, and a one-sentence message slot for errors."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QProgressBar, QStatusBar, QWidget

ZOOM_PRESETS = (25, 50, 100, 200, 400)


class StatusBar(QStatusBar):
    zoom_requested = Signal(float)  # percent typed or picked in the zoom field

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setWordWrap(False)
        self.size = QLabel()
        self.zoom = QComboBox()
        self.zoom.setEditable(True)
        self.zoom.setToolTip("Zoom: pick a step or type a percentage and press Enter.")
        self.zoom.setAccessibleName("Zoom")
        self.zoom.setMinimumContentsLength(5)
        for z in ZOOM_PRESETS:
            self.zoom.addItem(f"{z}%", z)
        self.zoom.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zoom.activated.connect(lambda i: self.zoom_requested.emit(float(self.zoom.itemData(i))))
        self.zoom.lineEdit().returnPressed.connect(self._typed_zoom)
        self.lightness = QLabel()
        self.model = QLabel()
        self.preview = QLabel()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: a moving bar while a preview computes
        self.busy.setMaximumWidth(80)
        self.busy.setMaximumHeight(14)
        self.busy.setVisible(False)
        self.busy.setToolTip("Computing the preview\u2026")
        self.busy_label = QLabel("Colouring\u2026")
        self.busy_label.setVisible(False)
        self.addWidget(self.message, 1)
        for w in (self.busy_label, self.busy, self.size, self.zoom, self.lightness, self.model, self.preview):
            self.addPermanentWidget(w)

    def set_busy(self, on: bool) -> None:
        """While a preview computes: a moving bar and the word, beside the last preview's time."""
        self.busy.setVisible(on)
        self.busy_label.setVisible(on)

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet("color:#ff8a80; font-weight:bold;")
        self.message.setText(text)
        self.message.setToolTip(text)

    def show_info(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)
        self.message.setToolTip(text)

    def set_photo(self, state) -> None:
        if state is None:
            for w in (self.size, self.lightness, self.preview):
                w.clear()
            return
        H, W = state.shape
        self.size.setText(f"{W} \u00d7 {H} px, {state.document.bit_depth}-bit")
        self.set_preview(state)

    def set_zoom(self, zoom: float) -> None:
        self.zoom.blockSignals(True)
        self.zoom.setEditText(f"{zoom * 100:.0f}%")
        self.zoom.blockSignals(False)

    def _typed_zoom(self) -> None:
        text = self.zoom.currentText().strip().rstrip("%").strip()
        try:
            percent = float(text)
        except ValueError:
            return
        if 1.0 <= percent <= 3200.0:
            self.zoom_requested.emit(percent)

    def set_cursor(self, x: int, y: int, L: float) -> None:
        self.lightness.setText(f"x {x}, y {y}  L {L:.1f}" if x >= 0 else "")

    def set_model(self, model: str, device: str) -> None:
        names = {"cpu": "CPU", "cuda": "GPU (CUDA)", "mps": "GPU (Metal)", "auto": "auto device"}
        where = names.get(device.lower(), device.upper()) if device else "\u2026"
        self.model.setText(f"{model} on {where}")

    def set_preview(self, state) -> None:
        s = state.preview_seconds if state is not None else None
        self.preview.setText(f"preview {s * 1000:.0f} ms" if s is not None else "no preview yet")
