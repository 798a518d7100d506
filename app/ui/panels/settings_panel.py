"""The right-hand panel: model, reference photo, saturation, colour balance, feather, work size, hint colour,
mask operations and view switches. It only emits what the user asked for; the window applies it."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

WORK_SIZES = (256, 384, 512, 768, 1024)
REACH_MODELS = ("maskgan", "maskgan-v2")  # the models whose hints carry as far as the reach says


def _swatch_style(hex_colour: str) -> str:
    # a visible ring when the swatch has the keyboard focus (the colour hides Qt's own focus frame)
    return (f"QPushButton {{ background:{hex_colour}; border:1px solid #222; min-width:18px; min-height:18px; }}"
            "QPushButton:focus { border:2px solid #4aa3ff; }")


class SettingsPanel(QWidget):
    settings_edited = Signal(dict)  # e.g. {"saturation": 1.2}
    reference_requested = Signal()
    reference_cleared = Signal()
    colour_chosen = Signal(tuple)  # rgb floats
    recolour_hint = Signal()
    delete_hint = Signal()
    mask_op = Signal(str)  # invert | clear | fill | grow | shrink
    view_changed = Signal(str, bool)  # ("mask", on) | ("split", on)
    brush_radius_edited = Signal(float)  # photo pixels
    brush_hardness_edited = Signal(float)  # 0-1
    suggestion_chosen = Signal(tuple)  # rgb floats of a suggested swatch

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(240)
        self.setMaximumWidth(300)
        lay = QVBoxLayout(self)

        model_box = QGroupBox("Colourization")
        form = QFormLayout(model_box)
        self.model = QComboBox()
        self.model.setToolTip("The network (or hint propagation) that predicts the colours.")
        form.addRow("Model", self.model)
        ref_row = QHBoxLayout()
        self.reference = QPushButton("Reference photo\u2026")
        self.reference.setToolTip("A colour photo of the same scene: shown beside the grey one to take colours "
                                  "from, and the look the iizuka model borrows.")
        self.reference_clear = QPushButton("\u00d7")
        self.reference_clear.setFixedWidth(28)
        ref_row.addWidget(self.reference)
        ref_row.addWidget(self.reference_clear)
        form.addRow(ref_row)
        self.saturation, self.saturation_label = self._slider(0, 200, 100, "%")
        form.addRow("Saturation", self._with_label(self.saturation, self.saturation_label))
        # colour balance of the network's colour (Lab units): takes a cast out, as in an editor
        self.warmth, self.warmth_label = self._slider(-30, 30, 0, "", signed=True)
        self.warmth.setToolTip("Colour balance: more yellow (right) or more blue (left) in the network's colour, "
                               "to take out a warm or cold cast. Chosen colours keep theirs.")
        self.warmth.setAccessibleName("Warmth")
        form.addRow("Warmth", self._with_label(self.warmth, self.warmth_label))
        self.tint, self.tint_label = self._slider(-30, 30, 0, "", signed=True)
        self.tint.setToolTip("Colour balance: more magenta (right) or more green (left) in the network's colour.")
        self.tint.setAccessibleName("Tint")
        form.addRow("Tint", self._with_label(self.tint, self.tint_label))
        self.feather, self.feather_label = self._slider(0, 60, 4, " px")
        form.addRow("Feather", self._with_label(self.feather, self.feather_label))
        self.work_size = QComboBox()
        for s in WORK_SIZES:
            self.work_size.addItem(f"{s} px", s)
        self.work_size.setToolTip("Preview quality vs speed: the long side the colours are computed at, before they "
                                  "are fitted to the full photo (a model may run its network smaller: see its model card).")
        form.addRow("Work size", self.work_size)
        lay.addWidget(model_box)

        hint_box = QGroupBox("Hint colour")
        hl = QVBoxLayout(hint_box)
        row = QHBoxLayout()
        self.colour_button = QPushButton()
        self.colour_button.setToolTip("Choose the colour for new hints (H).")
        self.colour_button.setAccessibleName("Hint colour")
        self.colour_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.colour_hex = QLabel()
        row.addWidget(self.colour_button)
        row.addWidget(self.colour_hex, 1)
        hl.addLayout(row)
        self.recent = QGridLayout()
        self.recent.setSpacing(3)
        self.recent.setAlignment(Qt.AlignmentFlag.AlignLeft)
        hl.addLayout(self.recent)
        self.suggest_label = QLabel("Likely here:")
        self.suggest_label.setToolTip("The colours the model finds likeliest at the hint, best first; click one to use it.")
        self.suggest_row = QHBoxLayout()
        self.suggest_row.setSpacing(3)
        self.suggest_row.addWidget(self.suggest_label)
        self.suggest_row.addStretch(1)
        hl.addLayout(self.suggest_row)
        self.suggest_buttons: list[QPushButton] = []
        self.suggest_label.hide()
        self.gamut_note = QLabel()
        self.gamut_note.setWordWrap(True)
        self.gamut_note.setStyleSheet("color:#ffb74d;")
        self.gamut_note.hide()
        hl.addWidget(self.gamut_note)
        from app.ui.panels.ab_plane import AbPlane

        self.ab_plane = AbPlane()
        self.ab_plane.colour_picked.connect(self.suggestion_chosen)
        self.ab_plane.hide()  # shown once a hint says which lightness it sits on
        hl.addWidget(self.ab_plane, 0, Qt.AlignmentFlag.AlignHCenter)
        self.hint_reach, self.hint_reach_label = self._slider(0, 100, 10, "%")
        self.hint_reach.setToolTip("How far each hint carries its colour (maskgan): low, only what is near it "
                                   "and alike; 100%, the whole photo: with maskgan-v2 the hints then also set how "
                                   "vivid the photo is and take out a cast (a few grey hints on things you know are "
                                   "white or grey).")
        reach_row = QHBoxLayout()
        reach_row.addWidget(QLabel("Reach"))
        reach_row.addWidget(self._with_label(self.hint_reach, self.hint_reach_label), 1)
        hl.addLayout(reach_row)
        row2 = QHBoxLayout()
        self.apply_hint = QPushButton("Recolour selected")
        self.remove_hint = QPushButton("Delete hint")
        row2.addWidget(self.apply_hint)
        row2.addWidget(self.remove_hint)
        hl.addLayout(row2)
        lay.addWidget(hint_box)

        mask_box = QGroupBox("Mask")
        ml = QGridLayout(mask_box)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 4000)
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("Brush diameter in photo pixels ([ and ] change it).")
        self.brush_size.setAccessibleName("Brush size")
        ml.addWidget(QLabel("Brush size"), 2, 0)
        ml.addWidget(self.brush_size, 2, 1, 1, 2)
        self.brush_size.valueChanged.connect(lambda v: self._loading or self.brush_radius_edited.emit(v / 2.0))
        self.brush_hardness = QSpinBox()
        self.brush_hardness.setRange(0, 100)
        self.brush_hardness.setSingleStep(5)
        self.brush_hardness.setValue(100)
        self.brush_hardness.setSuffix(" %")
        self.brush_hardness.setToolTip("Brush hardness: 100 % paints full colour to the brush's edge; lower values "
                                       "fade the colour out towards the edge (Shift+[ and Shift+] change it).")
        self.brush_hardness.setAccessibleName("Brush hardness")
        ml.addWidget(QLabel("Hardness"), 3, 0)
        ml.addWidget(self.brush_hardness, 3, 1, 1, 2)
        self.brush_hardness.valueChanged.connect(
            lambda v: self._loading or self.brush_hardness_edited.emit(v / 100.0))
        self.mask_buttons: list[QPushButton] = []
        for i, (op, title) in enumerate((("invert", "Invert"), ("clear", "Clear"), ("fill", "Fill"),
                                         ("grow", "Grow"), ("shrink", "Shrink"))):
            b = QPushButton(title)
            if op in ("grow", "shrink"):
                b.setToolTip(f"{title} the mask by half the brush size (Mask menu: by any number of pixels).")
            b.clicked.connect(lambda _=False, o=op: self.mask_op.emit(o))
            ml.addWidget(b, i // 3, i % 3)
            self.mask_buttons.append(b)
        self.wand_tolerance, self.wand_tolerance_label = self._slider(0, 50, 8, "")
        self.wand_tolerance.setToolTip("Magic wand (W): how far in lightness (L, 0-100) a pixel may be from the "
                                       "clicked one and still be taken.")
        self.wand_tolerance.setAccessibleName("Magic wand tolerance")
        ml.addWidget(QLabel("Tolerance"), 4, 0)
        ml.addWidget(self._with_label(self.wand_tolerance, self.wand_tolerance_label), 4, 1, 1, 2)
        self.wand_contiguous = QCheckBox("Wand: joined pixels only")
        self.wand_contiguous.setChecked(True)
        self.wand_contiguous.setToolTip("On: only the area joined to the click. Off: every pixel of that lightness.")
        ml.addWidget(self.wand_contiguous, 5, 0, 1, 3)
        self.brush_screen = QCheckBox("Brush size follows the screen")
        self.brush_screen.setToolTip("On: the brush keeps its size on screen when you zoom (its size in photo pixels "
                                     "changes). Off: it keeps its size in photo pixels.")
        ml.addWidget(self.brush_screen, 6, 0, 1, 3)
        lay.addWidget(mask_box)

        view_box = QGroupBox("View")
        vl = QVBoxLayout(view_box)
        self.show_mask = QCheckBox("Show mask overlay (M)")
        self.show_mask.setChecked(True)
        self.split = QCheckBox("Before | after split")
        vl.addWidget(self.show_mask)
        vl.addWidget(self.split)
        vl.addWidget(QLabel("Hold \\ to see the original."))
        lay.addWidget(view_box)
        lay.addStretch(1)

        self.model.currentIndexChanged.connect(self._model_changed)
        self.saturation.valueChanged.connect(lambda v: self._emit("saturation", v / 100.0))
        self.warmth.valueChanged.connect(lambda v: self._emit("warmth", float(v)))
        self.tint.valueChanged.connect(lambda v: self._emit("tint", float(v)))
        self.feather.valueChanged.connect(lambda v: self._emit("feather", float(v)))
        self.hint_reach.valueChanged.connect(lambda v: self._emit("hint_reach", v / 100.0))
        self.work_size.currentIndexChanged.connect(lambda _i: self._emit("work_size", int(self.work_size.currentData())))
        self.reference.clicked.connect(self.reference_requested)
        self.reference_clear.clicked.connect(self.reference_cleared)
        self.colour_button.clicked.connect(self._pick_colour)
        self.apply_hint.clicked.connect(self.recolour_hint)
        self.remove_hint.clicked.connect(self.delete_hint)
        self.show_mask.toggled.connect(lambda on: self.view_changed.emit("mask", on))
        self.split.toggled.connect(lambda on: self.view_changed.emit("split", on))
        self._loading = False
        self.recent_buttons: list[QPushButton] = []
        for w in self.keyboard_order():
            if w.focusPolicy() == Qt.FocusPolicy.NoFocus or w.focusPolicy() == Qt.FocusPolicy.ClickFocus:
                w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._chain_tab_order()

    def keyboard_order(self) -> list[QWidget]:
        """Every control in the order Tab visits them: top to bottom, left to right."""
        return [self.model, self.reference, self.reference_clear, self.saturation, self.warmth, self.tint, self.feather, self.work_size,
                self.colour_button, *self.recent_buttons, *self.suggest_buttons, self.hint_reach, self.apply_hint, self.remove_hint,
                *self.mask_buttons, self.brush_size, self.brush_hardness, self.brush_screen, self.wand_tolerance, self.wand_contiguous, self.show_mask, self.split]

    def _chain_tab_order(self) -> None:
        order = self.keyboard_order()
        for a, b in zip(order, order[1:]):
            QWidget.setTabOrder(a, b)

    # ---- building blocks ----------------------------------------------------------------------
    def _slider(self, lo: int, hi: int, value: int, unit: str, signed: bool = False):
        s = QSlider(Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setValue(value)
        text = (lambda v: f"{v:+d}{unit}" if v else f"0{unit}") if signed else (lambda v: f"{v}{unit}")
        label = QLabel(text(value))
        label.setMinimumWidth(44)
        s.valueChanged.connect(lambda v: label.setText(text(v)))
        return s, label

    @staticmethod
    def _with_label(widget: QWidget, label: QLabel) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget, 1)
        row.addWidget(label)
        return w

    def _emit(self, key: str, value) -> None:
        if not self._loading:
            self.settings_edited.emit({key: value})

    def _model_changed(self, _i: int) -> None:
        name = self.model.currentData()
        self.hint_reach.setEnabled(name in REACH_MODELS)
        if name:
            self._emit("model", name)

    # ---- filling in ---------------------------------------------------------------------------
    def set_models(self, infos) -> None:
        self._loading = True
        self.model.clear()
        for info in infos:
            self.model.addItem(info.name, info.name)
            self.model.setItemData(self.model.count() - 1, f"{info.title}: {info.description}", Qt.ItemDataRole.ToolTipRole)
        self._loading = False

    def show_settings(self, settings, reference_path: str | None) -> None:
        """Show one photo's settings without emitting edits."""
        self._loading = True
        i = self.model.findData(settings.model)
        if i < 0:
            self.model.addItem(settings.model, settings.model)
            i = self.model.count() - 1
        self.model.setCurrentIndex(i)
        self.reference.setEnabled(True)  # every model: the reference view's eyedropper
        self.reference_clear.setEnabled(reference_path is not None)
        self.hint_reach.setEnabled(settings.model in REACH_MODELS)
        self.reference.setText(f"Reference: {reference_path.rsplit('/', 1)[-1]}" if reference_path else "Reference photo\u2026")
        self.saturation.setValue(int(round(settings.saturation * 100)))
        self.warmth.setValue(int(round(settings.warmth)))
        self.tint.setValue(int(round(settings.tint)))
        self.feather.setValue(int(round(settings.feather)))
        self.hint_reach.setValue(int(round(settings.hint_reach * 100)))
        j = self.work_size.findData(int(settings.work_size))
        if j < 0:
            self.work_size.addItem(f"{settings.work_size} px", int(settings.work_size))
            j = self.work_size.count() - 1
        self.work_size.setCurrentIndex(j)
        self._loading = False

    def show_suggestions(self, suggestions: list) -> None:
        """Swatches of the likeliest colours at the hint (``app.core.suggest.Suggestion``), best first."""
        for b in self.suggest_buttons:
            self.suggest_row.removeWidget(b)
            b.deleteLater()
        self.suggest_buttons = []
        for i, s in enumerate(suggestions):
            b = QPushButton()
            b.setFixedSize(22, 22)
            b.setStyleSheet(_swatch_style(s.hex))
            b.setToolTip(f"{s.hex}: {100 * s.share:.0f} % likely here")
            b.setAccessibleName(f"Suggested colour {s.hex}, {100 * s.share:.0f} percent")
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            b.clicked.connect(lambda _=False, h=s.hex: self.suggestion_chosen.emit(QColor(h).getRgbF()[:3]))
            self.suggest_row.insertWidget(1 + i, b)
            self.suggest_buttons.append(b)
        self.suggest_label.setVisible(bool(suggestions))
        self._chain_tab_order()

    def show_hint_outcome(self, outcome) -> None:
        """Says when the hint colour cannot exist at the hint's lightness, and what will show;
        the ab plane shows the colours that can."""
        from models.colour import hex_to_rgb

        if self.ab_plane.L is None or abs(self.ab_plane.L - outcome.lightness) > 0.25:
            self.ab_plane.set_lightness(outcome.lightness)
        self.ab_plane.set_current(hex_to_rgb(outcome.shown_hex))
        self.ab_plane.show()
        if outcome.possible:
            self.gamut_note.hide()
            return
        self.gamut_note.setText(f"This colour cannot be this {'light' if outcome.lightness > 50 else 'dark'} "
                                f"(L {outcome.lightness:.0f}): it will come out as {outcome.shown_hex}.")
        self.gamut_note.show()

    def show_brush_radius(self, radius: float) -> None:
        """Mirror the canvas's brush (radius in photo pixels) as its diameter, without echoing back."""
        was, self._loading = self._loading, True
        self.brush_size.setValue(max(1, round(2 * radius)))
        self._loading = was

    def show_brush_hardness(self, hardness: float) -> None:
        """Mirror the canvas's brush hardness (0-1) as a percentage, without echoing back."""
        was, self._loading = self._loading, True
        self.brush_hardness.setValue(round(100 * hardness))
        self._loading = was

    def show_colour(self, rgb: tuple[float, float, float], recent: list[str]) -> None:
        c = QColor.fromRgbF(*rgb)
        self.colour_button.setStyleSheet(_swatch_style(c.name()))
        self.colour_hex.setText(c.name())
        while self.recent.count():
            w = self.recent.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.recent_buttons = []
        for i, hx in enumerate(recent[:12]):
            b = QPushButton()
            b.setFixedSize(22, 22)
            b.setStyleSheet(_swatch_style(hx))
            b.setToolTip(hx)
            b.setAccessibleName(f"Recent hint colour {hx}")
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            b.clicked.connect(lambda _=False, h=hx: self._choose(QColor(h)))
            self.recent.addWidget(b, i // 6, i % 6)
            self.recent_buttons.append(b)
        self._chain_tab_order()

    def _pick_colour(self) -> None:
        c = QColorDialog.getColor(QColor(self.colour_hex.text() or "#cc4433"), self, "Hint colour")
        if c.isValid():
            self._choose(c)

    def _choose(self, c: QColor) -> None:
        self.colour_chosen.emit((c.redF(), c.greenF(), c.blueF()))
