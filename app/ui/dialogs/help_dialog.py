"""Help > Keyboard and mouse (F1, Ctrl+/): every shortcut and gesture, searchable; Help > About."""
from __future__ import annotations

import platform

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# what the menus cannot say: pointer gestures and keys a tool reads itself
GESTURES: list[tuple[str, str, str]] = [
    ("Canvas", "Space + drag, or middle drag", "Pan the photo"),
    ("Canvas", "Wheel / Shift+wheel", "Scroll up-down / left-right"),
    ("Canvas", "Ctrl+wheel or Alt+wheel", "Zoom about the pointer"),
    ("Canvas", "Hold \\", "Show the original while held"),
    ("Canvas", "F6", "Move the keyboard between canvas, panel and photo strip"),
    ("Brush", "Drag", "Paint the mask where colour goes"),
    ("Brush", "Alt+drag", "Erase while painting"),
    ("Brush", "Shift+drag", "Always add to the mask (also with the eraser)"),
    ("Brush", "[ and ]", "Smaller / bigger brush"),
    ("Brush", "Shift+[ and Shift+]", "Softer / harder brush edge (hardness in 25 % steps)"),
    ("Eraser", "Alt+drag", "Paint instead of erasing"),
    ("Magic wand", "Click", "Select the area of about the clicked lightness (replaces the mask)"),
    ("Magic wand", "Shift+click / Alt+click", "Add the area to / subtract it from the mask"),
    ("Lasso", "Drag around an area", "Fill it into the mask"),
    ("Lasso", "Click, click, ... double-click", "Polygon: corner by corner (Enter or a click on the first corner also closes it)"),
    ("Lasso", "Backspace / Esc", "Polygon: take the last corner back / drop it"),
    ("Lasso", "Alt+drag, Alt+first click", "Remove the area from the mask"),
    ("Hints", "Click", "Place a hint in the current colour"),
    ("Hints", "Drag a hint", "Move it"),
    ("Hints", "Delete", "Remove the selected hint"),
    ("Segment", "Click", "Include the object under the pointer"),
    ("Segment", "Alt+click or right click", "Exclude what is under the pointer"),
    ("Segment", "Drag", "Box around the object"),
    ("Segment", "Tab", "Next alternative mask"),
    ("Segment", "Enter", "Add the selection to the mask"),
    ("Segment", "Shift+Enter or Alt+Enter", "Subtract the selection from the mask"),
    ("Segment", "Move the pointer (after a click)", "Dashed outline: what a click there would select"),
    ("Segment", "Esc", "Discard the selection"),
    ("Segment", "R", "Find all regions, then click them in or out"),
    ("Reference photo", "Click", "Take the colour there (5 x 5 pixels averaged) as the hint colour"),
    ("Hint panel", "Click a suggested swatch", "Use a colour the model finds likely at the hint"),
    ("Hint panel", "Click the ab plane", "Pick a colour that can exist at the hint's lightness"),
    ("Colour regions", "+ / \u2212 / \u25b2 / \u25bc", "Add a region (the mask tools then paint it), delete, move up or down"),
    ("Colour regions", "Click a name", "Select the region the mask tools edit"),
    ("Colour regions", "Double-click a name / its box", "Rename it / show or hide it"),
    ("Colour regions", "Colour: Chosen colour", "One colour at the photo's lightness for the region (or the network's)"),
]


def shortcut_rows(actions: dict) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every menu action with a shortcut, then the gestures."""
    rows = []
    for act in actions.values():
        keys = ", ".join(k.toString() for k in act.shortcuts() if not k.isEmpty())
        if keys:
            rows.append(("Menu", keys, act.text().replace("&", "").replace("\u2026", "")))
    rows.sort(key=lambda r: r[2].lower())
    return rows + GESTURES


class ShortcutsDialog(QDialog):
    def __init__(self, actions: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        self.resize(620, 560)
        lay = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search shortcuts (e.g. zoom, segment, Ctrl+E)")
        self.search.setClearButtonEnabled(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Where", "Keys or gesture", "What it does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.search)
        lay.addWidget(self.table, 1)
        self.rows = shortcut_rows(actions)
        for r, row in enumerate(self.rows):
            self.table.insertRow(r)
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.search.textChanged.connect(self.filter)
        self.search.setFocus()

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for r, row in enumerate(self.rows):
            hay = " ".join(row).lower()
            self.table.setRowHidden(r, not all(w in hay for w in words))

    def visible_rows(self) -> list[tuple[str, str, str]]:
        return [row for r, row in enumerate(self.rows) if not self.table.isRowHidden(r)]


def versions() -> dict[str, str]:
    """Huebrush and what it runs on, for the About box and bug reports."""
    import numpy
    import PySide6
    from PySide6.QtCore import qVersion

    from app import __version__

    out = {"Huebrush": __version__, "Python": platform.python_version(), "Qt": qVersion(),
           "PySide6": PySide6.__version__, "NumPy": numpy.__version__}
    try:
        import torch

        out["PyTorch"] = torch.__version__
        out["Device"] = "CUDA: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    except Exception:  # noqa: BLE001 - the About box must open whatever torch says
        out["PyTorch"] = "not available"
    out["System"] = f"{platform.system()} {platform.release()} ({platform.machine()})"
    return out


def about_text() -> str:
    rows = "".join(f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in versions().items())
    return ("<h3>Huebrush</h3><p>Colourize black-and-white photographs under your control: masks, colour "
            "hints and trained networks; your photo's lightness is never changed.</p>"
            f"<table>{rows}</table><p>Press F1 for every shortcut and mouse gesture.</p>")


def show_about(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("About Huebrush")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text())
    box.open()
