"""The colour regions of the current photo: add, rename, select, show/hide, reorder, delete, and
each region's colour source (the network or a chosen colour) and saturation.

The list shows the uppermost region first (where regions overlap, the upper one wins). The mask
tools edit the selected region. Every change is one undo step on the photo's stack.
"""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

# outline colours of regions coloured by the network (a tinted region is outlined in its tint); the
# default overlay colour (pink) comes last so an unselected region does not look selected
MARKS = ("#2aa8ff", "#ffc02a", "#3ad17a", "#b05cff", "#ff8a2a", "#2ae0d0", "#e0e0e0", "#ff2a5a")
SOURCES = (("auto", "Network colour"), ("tint", "Chosen colour"))


def region_mark(state, index: int) -> str:
    """The colour a region is outlined in: its tint, else one of MARKS by its place in the list."""
    r = state.regions[index]
    if r.source == "tint" and r.colour:
        return r.colour
    return MARKS[index % len(MARKS)]


def next_region_name(state) -> str:
    taken = {r.name for r in state.regions}
    n = len(state.regions) + 1
    while f"Region {n}" in taken:
        n += 1
    return f"Region {n}"


class RegionsPanel(QWidget):
    status = Signal(str)  # a sentence for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = None
        self._loading = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        title = QLabel("<b>Colour regions</b>")
        title.setToolTip("Each region has its own mask and colour; the mask tools edit the selected one. "
                         "Where regions overlap the upper one wins; outside every region the photo stays grey.")
        lay.addWidget(title)
        self.list = QListWidget()
        self.list.setAccessibleName("Colour regions")
        self.list.setToolTip("Double-click a name to rename it; the box shows or hides the region.")
        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemChanged.connect(self._on_item_changed)
        lay.addWidget(self.list, 1)

        buttons = QHBoxLayout()
        self.add = QPushButton("+")
        self.add.setToolTip("Add a region above the selected one (an empty mask to paint or click)")
        self.remove = QPushButton("\u2212")
        self.remove.setToolTip("Delete the selected region")
        self.up = QPushButton("\u25b2")
        self.up.setToolTip("Move the selected region up (it wins where regions overlap)")
        self.down = QPushButton("\u25bc")
        self.down.setToolTip("Move the selected region down")
        for b, name in ((self.add, "Add region"), (self.remove, "Delete region"), (self.up, "Move region up"),
                        (self.down, "Move region down")):
            b.setAccessibleName(name)
            b.setFixedWidth(34)
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.add.clicked.connect(self.add_region)
        self.remove.clicked.connect(self.delete_region)
        self.up.clicked.connect(lambda: self.move_region(+1))
        self.down.clicked.connect(lambda: self.move_region(-1))

        grid = QGridLayout()
        grid.addWidget(QLabel("Colour"), 0, 0)
        self.source = QComboBox()
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.source.setToolTip("Network colour: the model's colour, steered by hints inside the region. "
                               "Chosen colour: one colour at the photo's own lightness.")
        self.source.currentIndexChanged.connect(self._on_source)
        grid.addWidget(self.source, 0, 1)
        self.colour = QPushButton()
        self.colour.setFixedSize(28, 22)
        self.colour.setAccessibleName("Region colour")
        self.colour.setToolTip("The region's chosen colour")
        self.colour.clicked.connect(self._pick_colour)
        grid.addWidget(self.colour, 0, 2)
        grid.addWidget(QLabel("Saturation"), 1, 0)
        self.saturation = QSlider(Qt.Orientation.Horizontal)
        self.saturation.setRange(0, 200)
        self.saturation.setAccessibleName("Region saturation")
        self.saturation.valueChanged.connect(self._on_saturation)
        self.saturation_label = QLabel("100%")
        self.saturation_label.setMinimumWidth(40)
        grid.addWidget(self.saturation, 1, 1)
        grid.addWidget(self.saturation_label, 1, 2)
        lay.addLayout(grid)
        self.setEnabled(False)

    # ---- the photo ----------------------------------------------------------------------------
    def set_state(self, state) -> None:
        if self.state is not None:
            self.state.regions_changed.disconnect(self.refresh)
        self.state = state
        if state is not None:
            state.regions_changed.connect(self.refresh)
        self.setEnabled(state is not None)
        self.refresh()

    def _row_of(self, index: int) -> int:
        return len(self.state.regions) - 1 - index  # the list shows the uppermost first

    def refresh(self) -> None:
        self._loading = True
        try:
            st = self.state
            if st is None:
                self.list.clear()
                return
            if self.list.count() != len(st.regions):  # else the items are updated in place (a rename
                self.list.clear()  # arrives from inside the item's own signal)
                for _ in st.regions:
                    item = QListWidgetItem()
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable)
                    self.list.addItem(item)
            for row in range(len(st.regions)):
                i = self._row_of(row)
                r = st.regions[i]
                item = self.list.item(row)
                item.setText(r.name)
                item.setCheckState(Qt.CheckState.Checked if r.visible else Qt.CheckState.Unchecked)
                pm = QPixmap(14, 14)
                pm.fill(QColor(region_mark(st, i)))
                item.setIcon(QIcon(pm))
                what = f"chosen colour {r.colour}" if r.source == "tint" else "network colour"
                item.setToolTip(f"{r.name}: {what}, saturation {round(100 * r.saturation)}%"
                                + ("" if r.visible else " (hidden)"))
            self.list.setCurrentRow(self._row_of(st.active))
            r = st.regions[st.active]
            self.source.setCurrentIndex(0 if r.source == "auto" else 1)
            self.colour.setEnabled(r.source == "tint")
            c = r.colour or "#808080"
            self.colour.setStyleSheet(f"QPushButton {{ background:{c}; border:1px solid #222; }}")
            self.colour.setToolTip(f"The region's chosen colour ({c})" if r.source == "tint" else
                                   "Choose 'Chosen colour' to give the region one colour")
            self.saturation.setValue(round(100 * r.saturation))
            self.saturation_label.setText(f"{round(100 * r.saturation)}%")
            self.remove.setEnabled(len(st.regions) > 1)
            self.up.setEnabled(st.active < len(st.regions) - 1)
            self.down.setEnabled(st.active > 0)
        finally:
            self._loading = False

    # ---- edits (each one undo step) -------------------------------------------------------------
    def _push(self, regions, active: int, label: str, merge: str | None = None) -> None:
        from app.ui.undo_commands import push_regions

        push_regions(self.state, regions, active, label, merge)

    def _replace(self, index: int, label: str, merge: str | None = None, **changes) -> None:
        st = self.state
        regions = list(st.regions)
        regions[index] = dataclasses.replace(regions[index], **changes)
        self._push(regions, st.active, label, merge)

    def add_region(self) -> None:
        from app.ui.document_state import RegionSlot

        st = self.state
        if st is None:
            return
        name = next_region_name(st)
        regions = list(st.regions)
        regions.insert(st.active + 1, RegionSlot(name, st.new_mask()))
        self._push(regions, st.active + 1, f"Add region {name}")
        self.status.emit(f"{name} added: paint or click its mask; choose its colour below the list.")

    def delete_region(self) -> None:
        st = self.state
        if st is None or len(st.regions) < 2:
            return
        regions = list(st.regions)
        gone = regions.pop(st.active)
        self._push(regions, max(0, st.active - 1), f"Delete region {gone.name}")

    def move_region(self, delta: int) -> None:
        st = self.state
        if st is None:
            return
        i, j = st.active, st.active + delta
        if not 0 <= j < len(st.regions):
            return
        regions = list(st.regions)
        regions[i], regions[j] = regions[j], regions[i]
        self._push(regions, j, f"Move region {regions[j].name} {'up' if delta > 0 else 'down'}")

    def set_colour(self, hex_colour: str) -> None:
        """The selected region takes this colour (and becomes a chosen-colour region)."""
        st = self.state
        if st is None:
            return
        r = st.regions[st.active]
        self._replace(st.active, f"Colour {r.name} {hex_colour}", source="tint", colour=hex_colour)

    # ---- signals from the widgets -------------------------------------------------------------
    def _on_row(self, row: int) -> None:
        if not self._loading and self.state is not None and row >= 0:
            self.state.select_region(self._row_of(row))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._loading or self.state is None:
            return
        st = self.state
        i = self._row_of(self.list.row(item))
        r = st.regions[i]
        name = " ".join(item.text().split())[:60]
        visible = item.checkState() == Qt.CheckState.Checked
        if name and name != r.name:
            if name in {o.name for o in st.regions if o is not r}:
                self.status.emit(f"There is already a region called {name}; choose another name.")
                self.refresh()
                return
            self._replace(i, f"Rename region {r.name} to {name}", name=name)
        elif visible != r.visible:
            self._replace(i, f"{'Show' if visible else 'Hide'} region {r.name}", visible=visible)
        else:
            self.refresh()  # an empty name: put the old one back

    def _on_source(self, _i: int) -> None:
        if self._loading or self.state is None:
            return
        st = self.state
        r = st.regions[st.active]
        key = self.source.currentData()
        if key == r.source:
            return
        if key == "tint":
            self._replace(st.active, f"{r.name}: chosen colour", source="tint", colour=r.colour or "#a0522d")
        else:
            self._replace(st.active, f"{r.name}: network colour", source="auto")

    def _pick_colour(self) -> None:
        st = self.state
        if st is None:
            return
        r = st.regions[st.active]
        c = QColorDialog.getColor(QColor(r.colour or "#a0522d"), self, f"Colour of {r.name}")
        if c.isValid():
            self.set_colour(c.name())

    def _on_saturation(self, value: int) -> None:
        self.saturation_label.setText(f"{value}%")
        if self._loading or self.state is None:
            return
        st = self.state
        r = st.regions[st.active]
        # one undo step per drag: consecutive moves of the same region's slider merge
        self._replace(st.active, f"{r.name} saturation {value}%", merge=f"saturation:{id(r.mask)}",
                      saturation=value / 100.0)
