"""The Train dialog: preset, optimisation, teacher-forcing schedule with a live preview of
p_tf, the generalisation recipe, a pretrained front end, device, data, and resuming;
``config()`` is the ``tfstudio train`` argument list."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, QSize, Qt
from PySide6.QtGui import QHelpEvent, QPaintEvent, QResizeEvent, QStandardItemModel, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.fit import ScrollBody, available_size, fit_to_screen
from tfstudio.qt.training.engine import engine_info, engine_probe
from tfstudio.qt.training.plots import TF_COLOR, TrainingPlot
from tfstudio.session.engine import EngineInfo
from tfstudio.session.rules import same_value
from tfstudio.session.runs import can_resume, extension
from tfstudio.session.schedule import describe_schedule_curve, schedule_curve
from tfstudio.session.stream import format_duration
from tfstudio.store import Project, ProjectError
from tfstudio.train.config import SAMPLERS, SINGLE_LABEL_DEFAULTS, TrainConfig
from tfstudio.train.splits import DEFAULT_VAL, assign_splits

SETTINGS_GROUP = "training/dialog"
SCHEDULES = (
    ("drossos", "Drossos et al. 2019 (sigmoid decay)"),
    ("linear", "Linear decay (Bengio et al.)"),
    ("exponential", "Exponential decay (Bengio et al.)"),
    ("inverse-sigmoid", "Inverse sigmoid decay (Bengio et al.)"),
    ("constant", "Constant p_tf = p_max"),
    ("none", "None: always the model's own predictions"),
)
PRESET_HELP = {
    "fast": "Small CRNN (32 channels, GRU 64) on 5 s sequences: minutes on a CPU.",
    "paper": "Drossos et al. 2019: 256-channel CRNN, GRU 256, 20 s sequences. Use a GPU.",
}
# The preset a new run gets when none is chosen (on a GPU machine the dialog offers "paper").
DEFAULT_PRESET = TrainConfig().preset
DEVICES = ("auto", "cuda", "mps", "cpu")
# Options shown under "More" when the engine's CLI has them: option → (label, minimum, help).
EXTRA_OPTIONS = (
    ("--patience", "Early-stopping patience", 1, "epochs without a better validation loss"),
    ("--max-batches", "Batches per epoch at most", 0, "0: all (a cap makes quick trials)"),
    ("--seed", "Random seed", 0, "for reproducible runs"),
)
# The drossos schedule's γ when a preset or run leaves it unset (gamma None): the paper's.
DEFAULT_GAMMA = 0.125
DECAYING = ("linear", "exponential", "inverse-sigmoid")
# What a resumed run may change (the engine's RUNTIME_FIELDS, as options).
RESUME_OPTIONS = ("--epochs", "--device", "--patience", "--max-batches")
# From this many classes the Train dialog suggests a sampled softmax (single-label task).
SAMPLED_HINT_CLASSES = 2000
FRONTEND_FILTER = "Front ends (*.pt);;All files (*)"
NO_FRONTEND = "None: the CNN starts from random weights"
WARNING_STYLE = "color: #B35900;"
# tfstudio train reads the file (torch) and names the field that does not fit; the GUI
# process never loads torch, so the dialog checks only that the file is there to read.
FRONTEND_HINT = (
    "Checked when training starts: it must have been made with this preset's CNN, features "
    "and background subtraction."
)


@dataclass(frozen=True)
class RecipePart:
    """One switchable part of the generalisation recipe and the run-config fields it sets.

    Off, every field takes the engine's "off" value (``EngineInfo.recipe_off``); on, ``main``
    takes the number edited beside the checkbox and the other fields the preset's values.
    The numbers themselves come from the engine's presets, never from here: ``on_value`` is
    only where the spin box starts when no preset switches the part on.
    """

    name: str
    label: str
    tooltip: str
    fields: tuple[str, ...]
    main: str | None = None
    scale: float = 1.0  # shown = value × scale (100: a percentage)
    decimals: int = 2
    maximum: float = 1.0
    prefix: str = ""
    suffix: str = ""
    on_value: float = 0.5
    detail: str = ""  # the values of all fields, shown under the checkbox (str.format)
    # For a part without a spin box: every field's value when it is switched on and no
    # preset has it on (as on_value is for ``main``).
    on_values: tuple[tuple[str, float], ...] = ()


RECIPE_PARTS = (
    RecipePart(
        "mixing",
        "Event mixing",
        "Pastes labelled events cut from other training recordings into this share of "
        "training sequences, so the model hears new overlaps and backgrounds.",
        ("mix_probability",),
        main="mix_probability",
        scale=100.0,
        decimals=0,
        maximum=100.0,
        suffix=" %",
        on_value=0.7,
    ),
    RecipePart(
        "background",
        "Background subtraction",
        "Subtracts each window's typical level per mel band (this percentile; 50: the "
        "median) before the model sees it, so a new room, rain or hum at another level looks "
        "like the old one and only what stands out of it counts. A sound that fills more of "
        "the window than the percentile leaves (over half of 5 s at 50) fades with it: for "
        "long sounds choose a lower one.",
        ("background_percentile",),
        main="background_percentile",
        decimals=0,
        maximum=95.0,
        suffix=" %ile",
        on_value=50.0,
    ),
    RecipePart(
        "pcen",
        "PCEN",
        "Per-channel energy normalisation: divides each mel band by its own recent level "
        "(this time constant) and compresses with a root instead of the log, so onsets stand "
        "out and a level or colour change of the recording matters less. Off by default: on "
        "the real-sound benchmark (events of 0.5-4 s) it fades sustained events and trained "
        "far worse than the log with background subtraction.",
        ("pcen_time_constant",),
        main="pcen_time_constant",
        decimals=2,
        maximum=5.0,
        suffix=" s",
        on_value=0.4,
    ),
    RecipePart(
        "specaugment",
        "SpecAugment masks, level and spectral shift",
        "Blanks random mel bands and frames, changes the level and shifts the spectrum a "
        "little, so the model does not depend on exact levels or frequencies.",
        ("freq_mask_bands", "time_mask_frames", "gain_db", "freq_shift_bands"),
        detail="masks up to {freq_mask_bands} bands and {time_mask_frames} frames, "
        "±{gain_db:g} dB, ±{freq_shift_bands} band shift",
        on_values=(
            ("freq_mask_bands", 4),
            ("time_mask_frames", 20),
            ("gain_db", 6.0),
            ("freq_shift_bands", 1),
        ),
    ),
    RecipePart(
        "mixup",
        "Mixup",
        "Blends this share of training sequences with another one, targets included "
        "(λ ~ Beta(α, α)).",
        ("mixup_probability",),
        main="mixup_probability",
        scale=100.0,
        decimals=0,
        maximum=100.0,
        suffix=" %",
    ),
    RecipePart(
        "balance",
        "Class-balanced sampling",
        "Draws training windows so that each class is seen about equally often.",
        ("balance_classes",),
    ),
    RecipePart(
        "pos_weight",
        "Positive weights for rare classes",
        "Weighs a class's active frames by (inactive / active frames) to this power in the "
        "loss (at most 10×), so rare classes are not drowned out.",
        ("pos_weight_power",),
        main="pos_weight_power",
        maximum=4.0,
        prefix="power ",
    ),
    RecipePart(
        "rejected",
        "Rejected detections as negatives",
        "Frames where you rejected a detection count this many times as much as other "
        "frames without the class (1: the same).",
        ("rejected_weight",),
        main="rejected_weight",
        decimals=1,
        maximum=100.0,
        prefix="× ",
        on_value=2.0,
    ),
    RecipePart(
        "consistency",
        "Mean teacher on unlabelled recordings",
        "Recordings without labels or split join training through a consistency loss "
        "against a slowly averaged copy of the model, with this weight.",
        ("consistency_weight",),
        main="consistency_weight",
        maximum=100.0,
        prefix="× ",
        on_value=1.0,
    ),
    RecipePart(
        "averaging",
        "Weight averaging",
        "Validates, keeps and detects with a moving average of the weights (this decay per "
        "batch; 0.99 averages about the last 100 batches), which jump less from epoch to "
        "epoch than the last batch's weights.",
        ("average_decay",),
        main="average_decay",
        decimals=3,
        maximum=0.999,
        prefix="decay ",
        on_value=0.99,
    ),
    RecipePart(
        "weight_decay",
        "Weight decay",
        "Pulls every weight towards zero by this factor in the optimiser's gradient (L2), so "
        "the model leans less on the particulars of the recordings it was trained on.",
        ("weight_decay",),
        main="weight_decay",
        decimals=4,
        maximum=0.01,
        on_value=5e-4,
    ),
    RecipePart(
        "tune",
        "Tune thresholds per class on val",
        "After training, picks each class's detection threshold, median filter and "
        "hysteresis (how far below its threshold a detection may run on, so a sound that "
        "fades keeps its detection to its end) on the validation split (best mean of segment "
        "and event F1, less this much of the error rate, so insertions cost more); detection "
        "then uses them.",
        ("tune_postprocess", "tune_er_weight"),
        detail="score: mean F1 − {tune_er_weight:g} × error rate",
    ),
)


class LearningRateBox(QDoubleSpinBox):
    """A learning-rate field: shows 0.002 or 1e-05, steps along 1-2-5 (1e-4, 2e-4, 5e-4…)."""

    LADDER = (1.0, 2.0, 5.0)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(10)
        self.setRange(1e-7, 1.0)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        exponent = math.floor(math.log10(value))
        mantissa = value / 10**exponent
        # The ladder rung at or below the value; stepping moves rung by rung.
        rung = max(i for i, m in enumerate(self.LADDER) if m <= mantissa + 1e-9)
        index = exponent * 3 + rung + steps
        new = self.LADDER[index % 3] * 10.0 ** (index // 3)
        self.setValue(min(self.maximum(), max(self.minimum(), new)))


class WrappedLabel(QLabel):
    """A word-wrapped label that is never squeezed below the lines its text needs.

    A plain wrapped QLabel's minimum is one line; a dialog shown at its minimum height (a
    small screen) then clips it, as the top-level window does not ask for height-for-width.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self.isVisible() and self.text():
            hint.setHeight(max(hint.height(), self.heightForWidth(self.width())))
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()


class ElidingComboBox(QComboBox):
    """A combo box that can be narrower than its longest item: it asks for room for at most
    ``preferred`` characters (None: its longest item), makes do with ``minimum``, and ends a
    current text too long for its room with "…"; the list and the tooltip show it whole."""

    def __init__(
        self, minimum: int = 16, preferred: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        # Its hint follows the items (by default only from the first show on, after the
        # dialog had taken its size).
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._minimum_chars = minimum
        self._preferred_chars = preferred

    def _width_for(self, chars: int) -> int:
        """The combo box's width with room for ``chars`` average characters."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        text = QSize(self.fontMetrics().averageCharWidth() * chars, self.fontMetrics().height())
        return (
            self.style()
            .sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, text, self)
            .width()
        )

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self._preferred_chars is not None:
            hint.setWidth(min(hint.width(), self._width_for(self._preferred_chars)))
        return hint.expandedTo(self.minimumSizeHint())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        hint.setWidth(min(hint.width(), self._width_for(self._minimum_chars)))
        return hint

    def _shown_text(self, option: QStyleOptionComboBox) -> str:
        room = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox,
            option,
            QStyle.SubControl.SC_ComboBoxEditField,
            self,
        )
        # The label is drawn one pixel in from each side of the field.
        return self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, room.width() - 2
        )

    def is_elided(self) -> bool:
        """Whether the current text is shown cut short."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        return self._shown_text(option) != option.currentText

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = self._shown_text(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.is_elided():
            assert isinstance(event, QHelpEvent)
            text = "\n\n".join(t for t in (self.currentText(), self.toolTip()) if t)
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)


class ColumnsBody(ScrollBody):
    """The Train dialog's settings, in columns: as wide as the columns ask where the screen
    has the room. (A ScrollBody stops at two thirds of the screen's width, for wrapped text
    that would run on; there it cut the columns' texts short on a screen wide enough.)"""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        content = self.widget()
        if content is None:
            return hint
        own = 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()
        room = available_size(self).width() - own
        parent = self.parentWidget()
        outer = parent.layout() if parent is not None else None
        if outer is not None:
            margins = outer.contentsMargins()
            room -= margins.left() + margins.right()
        width = max(content.minimumSizeHint().width(), min(content.sizeHint().width(), room))
        if width + own <= hint.width():
            return hint
        height = max(content.heightForWidth(width), content.minimumSizeHint().height())
        return QSize(width + own, height + 2 * self.frameWidth())


class SchedulePreview(TrainingPlot):
    """The plot of p_tf in the Train dialog: it asks for a small plot (a plot widget asks for
    600 × 480 px, which made the dialog taller than a laptop's screen) and takes whatever
    height its column has to spare."""

    def sizeHint(self) -> QSize:
        return QSize(320, 200)


class TrainDialog(QDialog):
    """Choose how to train; :meth:`config` gives the matching ``tfstudio train`` arguments.

    ``project`` (an open :class:`Project` or its folder) supplies the data summary and the
    runs that can be resumed; ``engine`` skips asking ``tfstudio doctor`` for the machine's
    devices (tests, or a caller that already knows); ``settings`` is where choices are
    remembered (default: the app's). The presets, the recipe and ``train``'s options are this
    tfstudio's own (:func:`~tfstudio.qt.training.engine.engine_info` reads them from the train
    config and the command line's parser) and known at once.
    """

    def __init__(
        self,
        project: Project | Path | str | None = None,
        parent: QWidget | None = None,
        *,
        engine: EngineInfo | None = None,
        settings: QSettings | None = None,
        resume_run: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.settings = settings if settings is not None else QSettings("tfstudio", "tfstudio")
        self._saved = self._read_settings()
        self._preset_touched = "preset" in self._saved
        self._probe = None
        if engine is None:
            probe = engine_probe()
            engine = probe.info or engine_info()
            if probe.info is None:
                self._probe = probe
                probe.ready.connect(self._on_engine_ready)
                probe.request()
        self.engine = engine
        self._runs: dict[int, dict[str, Any]] = {}
        self._n_classes = 0
        self._recipe_shows_single = False
        self._multi_recipe: dict[str, Any] = {}
        self._data_text, self._data_warning = "", ""
        self._showing_run = False
        # Recipe values a part takes when switched on (the preset's, else another preset's).
        self._recipe_on: dict[str, Any] = {}
        # Where "Choose…" opens when no front end is chosen: the project's folder.
        self._frontend_dir = str(project) if isinstance(project, Path | str) else ""
        if isinstance(project, Project):
            self._frontend_dir = str(project.root)
        self._project = project
        self._unsplit = 0  # labelled recordings in no split (the Split button's)
        self._train_labels: int | None = None  # labels in the train split (None: unknown)
        self._schedule_ok = True
        self._read_project(project)

        self._build()
        self._apply_engine(engine)
        self._restore()
        if resume_run is not None:
            self.set_resume(resume_run)
        self._on_schedule_change()
        self._on_resume_change()
        # The scroll area does not pass on its content's new size hint (the texts set since
        # the layout first asked): without this the dialog was a few pixels short of its
        # content and scrolled on a screen with room to spare.
        self.body.updateGeometry()
        fit_to_screen(self)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        # The settings scroll when the screen is too small for them; the warning and Start
        # training / Cancel stay in view below them.
        layout = QVBoxLayout(self)
        content = QWidget()
        self._columns = QHBoxLayout(content)
        self._columns.setContentsMargins(0, 0, 0, 0)
        self.body = ColumnsBody(content)
        layout.addWidget(self.body, 1)

        self.run_box = run_box = QGroupBox("Run")
        form = QFormLayout(run_box)
        self.resume_combo = ElidingComboBox(preferred=30)
        self.resume_combo.addItem("Start a new run", None)
        for run_id, info in self._runs.items():
            self.resume_combo.addItem(info["label"], run_id)
        self.resume_combo.setToolTip(
            "Continue a stopped or failed run from its last checkpoint, or train a finished "
            "one further (more epochs in all), with its own settings"
        )
        self.resume_combo.currentIndexChanged.connect(self._on_resume_change)
        form.addRow("Run", self.resume_combo)
        self.preset_combo = QComboBox()
        for name in sorted(self.engine.presets, key=lambda n: n != DEFAULT_PRESET):
            self.preset_combo.addItem(name, name)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.preset_help = WrappedLabel()
        self.preset_help.setProperty("role", "hint")
        form.addRow("Preset", self.preset_combo)
        form.addRow("", self.preset_help)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 100000)
        self.epochs_spin.setSuffix(" epochs")
        self.epochs_spin.setToolTip(
            "At most this many; early stopping on validation loss may end sooner"
        )
        form.addRow("Train for at most", self.epochs_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 4096)
        self.batch_spin.setSuffix(" sequences")
        form.addRow("Batch size", self.batch_spin)
        self.lr_box = LearningRateBox()
        self.lr_box.setToolTip("Adam learning rate; arrows step 1e-4, 2e-4, 5e-4, 1e-3…")
        form.addRow("Learning rate", self.lr_box)
        self.device_combo = ElidingComboBox(preferred=30)
        for name in DEVICES:
            self.device_combo.addItem(name, name)
        form.addRow("Device", self.device_combo)
        self._build_task(form)
        self.extra_spins: dict[str, QSpinBox] = {}
        for option, label, minimum, hint in EXTRA_OPTIONS:
            spin = QSpinBox()
            spin.setRange(minimum, 1_000_000)
            spin.setToolTip(hint)
            if minimum == 0 and option == "--max-batches":
                spin.setSpecialValueText("all")
            self.extra_spins[option] = spin
            form.addRow(label, spin)
        self._build_recipe()

        self.data_box = data_box = QGroupBox("Data")
        data_layout = QVBoxLayout(data_box)
        self.data_label = WrappedLabel(self._data_text)
        self.data_label.setTextFormat(Qt.TextFormat.RichText)
        data_layout.addWidget(self.data_label)

        self.tf_box = tf_box = QGroupBox("Teacher forcing")
        tf_form = QFormLayout(tf_box)
        self.schedule_combo = ElidingComboBox()
        for name, label in SCHEDULES:
            self.schedule_combo.addItem(label, name)
        self.schedule_combo.currentIndexChanged.connect(self._on_schedule_change)
        tf_form.addRow("Schedule", self.schedule_combo)
        self.gamma_spin = QDoubleSpinBox()
        self.gamma_spin.setDecimals(4)
        self.gamma_spin.setRange(0.0001, 100.0)
        self.gamma_spin.setSingleStep(0.025)
        self.gamma_spin.setToolTip(
            "Decay speed per epoch: β = −γ·i/N_b (0.125 for synthetic data, 10/120 for real)"
        )
        self.p_min_spin = QDoubleSpinBox()
        self.p_max_spin = QDoubleSpinBox()
        for p_spin in (self.p_min_spin, self.p_max_spin):
            p_spin.setDecimals(3)
            p_spin.setRange(0.0, 1.0)
            p_spin.setSingleStep(0.05)
        self.p_min_spin.setToolTip("p_tf never falls below this")
        self.p_max_spin.setToolTip("p_tf starts here and never rises above it")
        for schedule_spin in (self.gamma_spin, self.p_min_spin, self.p_max_spin):
            schedule_spin.valueChanged.connect(self._on_schedule_change)
        self.epochs_spin.valueChanged.connect(self._on_schedule_change)
        self.decay_spin = QDoubleSpinBox()
        self.decay_spin.setDecimals(1)
        self.decay_spin.setRange(0.1, 100000.0)
        self.decay_spin.setSuffix(" epochs")
        self.decay_spin.setToolTip("Linear, exponential and inverse-sigmoid reach p_min after this")
        self.decay_spin.valueChanged.connect(self._on_schedule_change)
        self.unit_combo = ElidingComboBox()
        self.unit_combo.addItem("once per batch", "batch")
        self.unit_combo.addItem("once per time step (as the SEDLM code)", "step")
        self.unit_combo.setToolTip(
            "What advances the schedule's counter. The original code counted time steps, "
            "which drives p_tf to p_min within the first epoch."
        )
        self.unit_combo.currentIndexChanged.connect(self._on_schedule_change)
        tf_form.addRow("γ (gamma)", self.gamma_spin)
        tf_form.addRow("p_min", self.p_min_spin)
        tf_form.addRow("p_max", self.p_max_spin)
        tf_form.addRow("Decay over", self.decay_spin)
        tf_form.addRow("Counter advances", self.unit_combo)
        self.preview = SchedulePreview(
            "p_tf over the planned epochs",
            x_label="epoch",
            y_label="p_tf",
            empty_text="",
            integer_x=False,
        )
        self.preview.setMinimumSize(300, 190)
        self.preview.getPlotItem().getViewBox().setMouseEnabled(x=False, y=False)
        self.preview.fix_probability_axis()
        self.preview.set_empty(False)
        self.preview_curve = self.preview.curve(None, TF_COLOR, width=2.5)
        tf_form.addRow(self.preview)
        self.schedule_summary = WrappedLabel()
        tf_form.addRow(self.schedule_summary)
        self._build_frontend()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start training")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.warning_label = WrappedLabel(self._data_warning)
        self.warning_label.setStyleSheet(WARNING_STYLE)
        self.warning_label.setVisible(bool(self._data_warning))
        # Beside the warning, always in view: what fixes a project without splits.
        self.split_button = QPushButton()
        self.split_button.setToolTip(
            "Each labelled recording without a split goes to train or val, so that val gets "
            f"{round(100 * DEFAULT_VAL)} % of every class's labels where the recordings allow "
            "(splits already chosen are kept). The Recordings list's Set split menu changes "
            "any of them afterwards; 'tfstudio split' does the same with other shares."
        )
        self.split_button.clicked.connect(self.split_unassigned)
        self._show_data()
        layout.addWidget(self.warning_label)
        # The fix in the buttons' row, left of them: a row of its own cost a laptop's screen
        # the last of its height.
        bottom = QHBoxLayout()
        bottom.addWidget(self.split_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)
        self._arrange()

    def _arrange(self) -> None:
        """Lay the groups out in three columns where the screen is wide enough, else in two.

        In three columns every setting is in view on a 1366 × 768 laptop (the dialog is
        1290 × 603 px at a 9 pt font, 1350 × 703 at 11 pt); two, about 900 px high, scroll on
        a screen too narrow for three. What the run learns from heads the first column: a new
        user's first question is "on what?".
        """
        self._place(
            ((self.data_box, self.run_box), (self.tf_box,), (self.recipe_box, self.frontend_box))
        )
        if self.sizeHint().width() > available_size(self).width():
            self._place(
                (
                    (self.data_box, self.run_box, self.frontend_box),
                    (self.tf_box, self.recipe_box),
                )
            )

    def _place(self, columns: tuple[tuple[QGroupBox, ...], ...]) -> None:
        """Put the groups into ``columns``, top to bottom; the schedule's plot takes the
        height its column leaves, other columns end in empty room."""
        while (item := self._columns.takeAt(0)) is not None:
            old = item.layout()
            if old is not None:
                while old.takeAt(0) is not None:
                    pass
                old.deleteLater()
        for boxes in columns:
            column = QVBoxLayout()
            for box in boxes:
                column.addWidget(box, 1 if box is self.tf_box else 0)
            if self.tf_box not in boxes:
                column.addStretch(1)
            self._columns.addLayout(column)
        self.column_count = len(columns)

    def _build_task(self, form: QFormLayout) -> None:
        """Multi-label (the default) or single-label, and the sampled softmax for the latter."""
        self.task_combo = ElidingComboBox()
        self.task_combo.addItem("Multi-label: several sounds at once", "multi-label")
        self.task_combo.addItem("Single-label: one sound at a time", "single-label")
        self.task_combo.setToolTip(
            "Single-label: exactly one class (or none) per frame, a softmax with a background "
            "class; for syllables, call types, phone-like units"
        )
        self.sampled_spin = QSpinBox()
        self.sampled_spin.setRange(0, 1_000_000)
        self.sampled_spin.setSingleStep(256)
        self.sampled_spin.setSpecialValueText("off (full softmax)")
        self.sampled_spin.setSuffix(" candidate classes")
        self.sampled_spin.setToolTip(
            "Train with a sampled softmax of this many classes per batch (validation, "
            "detection and export always use the full softmax)"
        )
        self.sampler_combo = QComboBox()
        for name in SAMPLERS:
            self.sampler_combo.addItem(name, name)
        self.task_hint = WrappedLabel()
        self.task_hint.setProperty("role", "hint")
        self._task_rows = [
            ("Task", self.task_combo),
            ("Sampled softmax", self.sampled_spin),
            ("Sampler", self.sampler_combo),
            ("", self.task_hint),
        ]
        self._task_form = form
        for label, widget in self._task_rows:
            form.addRow(label, widget)
        self.task_combo.currentIndexChanged.connect(self._on_task_change)
        self.sampled_spin.valueChanged.connect(self._on_task_change)

    def task(self) -> str:
        return str(self.task_combo.currentData())

    def _on_task_change(self, *_args: Any) -> None:
        single = self.task() == "single-label"
        new_run = self.resume_run() is None
        if new_run and (single or self._recipe_shows_single):
            # Show what the single-label preset trains with: its recipe parts off (and the
            # consistency loss off with a sampled head); back to the user's own recipe after.
            if single:
                if not self._recipe_shows_single:
                    self._multi_recipe = self.recipe_values()
                off = self.engine.recipe_off
                shown = {k: v for k, v in SINGLE_LABEL_DEFAULTS.items() if k in off}
                if "tune_postprocess" in shown and "tune_er_weight" in off:
                    shown["tune_er_weight"] = off["tune_er_weight"]
                if self.sampled_spin.value() > 0 and "consistency_weight" in off:
                    shown["consistency_weight"] = off["consistency_weight"]
                self._show_recipe({**self._multi_recipe, **shown})
            elif self._multi_recipe:
                self._show_recipe(self._multi_recipe)
            self._recipe_shows_single = single
        self.sampled_spin.setEnabled(single and new_run)
        self.sampler_combo.setEnabled(single and new_run and self.sampled_spin.value() > 0)
        # The generalisation recipe belongs to the multi-label task (its preset turns it off).
        self.recipe_box.setEnabled(not single and self.resume_run() is None)
        n = self._n_classes
        if not single:
            self._show_task_hint("")
        elif n >= SAMPLED_HINT_CLASSES and self.sampled_spin.value() == 0:
            suggest = min(4096, max(256, n // 20))
            self._show_task_hint(
                f"{n:,} classes: a sampled softmax of about {suggest:,} candidates makes each "
                "training step several times faster at nearly the same accuracy."
            )
        else:
            self._show_task_hint(
                f"{n:,} classes plus the background; labels of two classes on the same frames "
                "are listed before training starts."
            )

    def _show_task_hint(self, text: str) -> None:
        """The hint under the task's rows; its row takes no room while it is empty."""
        self.task_hint.setText(text)
        self._task_form.setRowVisible(self.task_hint, bool(text) and self.engine.supports("--task"))

    def _build_recipe(self) -> QGroupBox:
        self.recipe_box = QGroupBox("Generalisation")
        self.recipe_box.setToolTip(
            "How training makes the model generalise beyond the labelled recordings; "
            "each preset has its own recipe"
        )
        grid = QGridLayout(self.recipe_box)
        grid.setColumnStretch(0, 1)
        self.recipe_checks: dict[str, QCheckBox] = {}
        self.recipe_spins: dict[str, QDoubleSpinBox] = {}
        self.recipe_details: dict[str, QLabel] = {}
        row = 0
        for part in RECIPE_PARTS:
            check = QCheckBox(part.label)
            check.setToolTip(part.tooltip)
            check.toggled.connect(self._on_recipe_change)
            self.recipe_checks[part.name] = check
            grid.addWidget(check, row, 0, 1, 1 if part.main is not None else 2)
            if part.main is not None:
                spin = QDoubleSpinBox()
                spin.setDecimals(part.decimals)
                spin.setRange(0.0, part.maximum)
                spin.setSingleStep(
                    10.0
                    if part.scale == 100.0
                    else 0.0001
                    if part.decimals >= 4
                    else 0.001
                    if part.decimals >= 3
                    else 0.1
                    if part.decimals
                    else 1
                )
                spin.setPrefix(part.prefix)
                spin.setSuffix(part.suffix)
                spin.setToolTip(part.tooltip)
                spin.setValue(part.on_value * part.scale)
                self.recipe_spins[part.name] = spin
                grid.addWidget(spin, row, 1)
            if part.detail:
                detail = WrappedLabel()
                detail.setToolTip(part.tooltip)
                # Indented to the checkbox's text.
                detail.setContentsMargins(check.iconSize().width() + 8, 0, 0, 0)
                self.recipe_details[part.name] = detail
                row += 1
                grid.addWidget(detail, row, 0, 1, 2)
            row += 1
        self.recipe_note = WrappedLabel()
        self.recipe_note.setProperty("role", "hint")
        grid.addWidget(self.recipe_note, row, 0, 1, 2)
        return self.recipe_box

    def _build_frontend(self) -> QGroupBox:
        """A pretrained CNN front end to start from, and the share of the learning rate the
        CNN trains with. Outside the recipe: single-label runs can start from one too."""
        self.frontend_box = QGroupBox("Pretraining")
        form = QFormLayout(self.frontend_box)
        self._frontend = ""
        self.frontend_edit = QLineEdit()
        self.frontend_edit.setReadOnly(True)
        self.frontend_edit.setPlaceholderText(NO_FRONTEND)
        self.frontend_edit.setMinimumWidth(120)
        self.choose_frontend_button = QPushButton("Choose…")
        self.choose_frontend_button.setToolTip("Choose a front-end file (.pt)")
        self.choose_frontend_button.clicked.connect(self._on_choose_frontend)
        self.clear_frontend_button = QPushButton("Clear")
        self.clear_frontend_button.setToolTip("Start the CNN from random weights")
        self.clear_frontend_button.clicked.connect(self._on_clear_frontend)
        # The buttons under the path, which needs the column's width for a file's name.
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_frontend_button)
        buttons.addWidget(self.clear_frontend_button)
        buttons.addStretch(1)
        field = QVBoxLayout()
        field.addWidget(self.frontend_edit)
        field.addLayout(buttons)
        form.addRow("Pretrained front end", field)
        self.cnn_lr_spin = QDoubleSpinBox()
        self.cnn_lr_spin.setDecimals(2)
        self.cnn_lr_spin.setRange(0.0, 1.0)
        self.cnn_lr_spin.setSingleStep(0.1)
        self.cnn_lr_spin.setPrefix("× ")
        self.cnn_lr_spin.setSpecialValueText("× 0: frozen")
        self.cnn_lr_spin.setValue(1.0)
        self.cnn_lr_spin.setToolTip(
            "The CNN's learning rate as a share of the learning rate; "
            "0 keeps the front end as it is"
        )
        form.addRow("CNN learning rate", self.cnn_lr_spin)
        self.frontend_note = WrappedLabel()
        self.frontend_note.setProperty("role", "hint")
        form.addRow(self.frontend_note)
        self._frontend_form = form
        self._show_frontend("")
        return self.frontend_box

    def frontend(self) -> str:
        """The chosen front-end file ("" for none: random initial weights)."""
        return self._frontend

    def set_frontend(self, path: Path | str) -> bool:
        """Choose the front-end file at ``path`` ("" for none) if the GUI can read it; else
        keep the current one and say why (False)."""
        if not str(path):
            self._show_frontend("")
            return True
        path = Path(path).expanduser().absolute()
        problem = frontend_problem(path)
        if problem:
            self._show_frontend_note(f"Not used: {problem}.", warning=True)
            return False
        self._show_frontend(str(path))
        return True

    def _show_frontend(self, path: str, note: str | None = None, *, warning: bool = False) -> None:
        """Show ``path`` as the front end, and ``note`` under it (None: what happens to it)."""
        self._frontend = path
        self.frontend_edit.setText(path)
        self.frontend_edit.setCursorPosition(len(path))  # the file's name, not its folders
        self.frontend_edit.setToolTip(
            path
            or "A CNN trained elsewhere (benchmarks/frontend.py makes them): training starts "
            "its CNN from these weights instead of random ones"
        )
        if note is None:
            note = FRONTEND_HINT if path else ""
        self._show_frontend_note(note, warning=warning)
        self._on_frontend_change()

    def _show_frontend_note(self, text: str, *, warning: bool = False) -> None:
        self.frontend_note.setText(text)
        self.frontend_note.setStyleSheet(WARNING_STYLE if warning else "")
        self.frontend_note.setVisible(bool(text))

    def _on_choose_frontend(self) -> None:
        start = str(Path(self._frontend).parent) if self._frontend else self._frontend_dir
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose a pretrained front end", start, FRONTEND_FILTER
        )
        if path:
            self._frontend_dir = str(Path(path).parent)
            self.set_frontend(path)

    def _on_clear_frontend(self) -> None:
        self._show_frontend("")

    def _on_frontend_change(self, *_args: object) -> None:
        editable = self.resume_run() is None
        chosen = bool(self._frontend)
        self.frontend_edit.setEnabled(editable)  # greyed with the run's other options
        self.choose_frontend_button.setEnabled(editable)
        self.clear_frontend_button.setEnabled(editable and chosen)
        self.cnn_lr_spin.setEnabled(editable and chosen)

    # ------------------------------------------------------------------- project
    def _read_project(self, project: Project | Path | str | None) -> None:
        if project is None:
            self._data_text = "No project open."
            return
        own = not isinstance(project, Project)
        if isinstance(project, Project):
            proj = project
        else:
            try:
                proj = Project.open(project)
            except (ProjectError, OSError) as exc:
                self._data_text = f"Cannot read the project: {exc}"
                return
        try:
            self._summarise_data(proj)
            for run in reversed(proj.runs()):
                # Stopped or failed runs resume; a finished one goes on given more epochs.
                ext = extension(proj, run)
                if not can_resume(run) and not (run.status == "done" and ext.possible):
                    continue
                config = run.config_dict
                epochs_done = max((r["epoch"] for r in proj.metrics(run.id, "epoch")), default=0)
                settings = f"{config.get('preset', '?')}, {config.get('schedule', '?')}"
                if run.status == "done":
                    label = (
                        f"Train run {run.id} further (done after {epochs_done} epochs, {settings})"
                    )
                elif run.last_checkpoint:
                    label = (
                        f"Resume run {run.id} ({run.status} after epoch {epochs_done}, {settings})"
                    )
                else:  # ended before its first checkpoint: it starts again
                    label = f"Start run {run.id} again ({run.status} before epoch 1, {settings})"
                self._runs[run.id] = {"label": label, "config": config, "extension": ext}
        finally:
            if own:
                proj.close()

    def _summarise_data(self, project: Project) -> None:
        self._n_classes = len(project.classes())
        recordings = project.recordings()
        split_of = {r.id: r.split for r in recordings}
        counts: dict[str, list[float]] = {s: [0, 0.0, 0] for s in ("train", "val", "test")}
        for rec in recordings:
            if rec.split in counts:
                counts[rec.split][0] += 1
                counts[rec.split][1] += rec.duration
        for event in project.labels():
            split = split_of.get(event.recording_id)
            if split in counts:
                counts[split][2] += 1

        def line(split: str, role: str) -> str:
            n, seconds, labels = counts[split]
            return (
                f"<b>{split}</b>: {int(n)} recording{'s' if n != 1 else ''}, "
                f"{format_duration(seconds)}, {int(labels)} labels — {role}"
            )

        unassigned = sum(1 for r in recordings if r.split not in counts)
        labelled = project.label_totals()
        self._unsplit = sum(1 for r in recordings if r.split is None and r.id in labelled)
        lines = [
            line("train", "the model learns from these"),
            line("val", "validation loss, F1/ER and early stopping"),
            line("test", "never used in training (for Evaluate)"),
        ]
        if unassigned:
            lines.append(f"{unassigned} recording(s) without a split are not used.")
        self._data_text = "<br>".join(lines)
        warnings = []
        self._train_labels = int(counts["train"][2])
        if counts["train"][2] == 0:
            warnings.append("The train split has no labels: training will fail.")
        if counts["val"][0] == 0:
            share = TrainConfig().val_within
            warnings.append(
                f"No validation recordings: the last {round(100 * share)} % of each training "
                "recording validates instead (early stopping, tuning) and is not trained on."
                if share
                else "No validation recordings: training will fail (it stops early on val)."
            )
        self._data_warning = " ".join(warnings)

    def _show_data(self) -> None:
        """The Data group and the warning as :meth:`_read_project` last found them."""
        self.data_label.setText(self._data_text)
        self.warning_label.setText(self._data_warning)
        self.warning_label.setVisible(bool(self._data_warning))
        n = self._unsplit
        self.split_button.setText(
            f"Put the {n} labelled recording{'s' if n != 1 else ''} without a split into "
            f"train ({round(100 * (1 - DEFAULT_VAL))} %) and val ({round(100 * DEFAULT_VAL)} %)"
        )
        self.split_button.setVisible(n > 0)
        self._update_start()

    def _update_start(self) -> None:
        """Start only a run that can start: one whose schedule makes sense and, when it is new,
        with labels in the train split (the child failed at once without them, and Return in
        the dialog started it)."""
        nothing = self.resume_run() is None and self._train_labels == 0
        self.start_button.setEnabled(self._schedule_ok and not nothing)
        self.start_button.setToolTip(
            "Nothing to learn from: the train split has no labels" if nothing else ""
        )

    def split_unassigned(self) -> None:
        """Put the labelled recordings without a split into train and val
        (:func:`tfstudio.train.splits.assign_splits`), then show the data as it now is."""
        project = self._project
        if project is None:
            return
        try:
            if isinstance(project, Project):
                assign_splits(project, val=DEFAULT_VAL)
            else:
                with Project.open(project) as opened:
                    assign_splits(opened, val=DEFAULT_VAL)
        except (ProjectError, OSError) as exc:
            self._data_warning = f"Could not set the splits: {exc}"
        else:
            self._read_project(project)
        self._show_data()

    # -------------------------------------------------------------------- engine
    def _on_engine_ready(self, info: EngineInfo) -> None:
        """The doctor's answer: the devices. What was chosen meanwhile (the recipe too) stays,
        except that a GPU machine gets the paper preset unless a preset was chosen."""
        if self._probe is not None:
            self._probe.ready.disconnect(self._on_engine_ready)
            self._probe = None
        self.engine = info
        self._apply_engine(info)
        if not self._preset_touched and info.has_gpu and self.resume_run() is None:
            self._set_preset("paper")

    def _apply_engine(self, info: EngineInfo) -> None:
        # An engine without the single-label task (an older tfstudio) shows no task choice.
        for _label, widget in self._task_rows:
            shown = info.supports("--task") and (
                widget is not self.task_hint or self.task_hint.text()
            )
            self._task_form.setRowVisible(widget, bool(shown))
        model = self.device_combo.model()
        assert isinstance(model, QStandardItemModel)
        cuda_name = info.cuda[0] if info.cuda else None
        if info.known:
            auto = f"Auto: {info.auto_device()}"
        else:  # still asking, or the doctor gave no answer (its reason is in info.errors)
            auto = "Auto" if info.errors else "Auto (detecting…)"
        texts = {
            "auto": auto,
            "cuda": f"CUDA: {cuda_name}" if cuda_name else "CUDA (not available)",
            "mps": "Apple MPS" if info.mps else "Apple MPS (not available)",
            "cpu": "CPU",
        }
        available = {"auto": True, "cpu": True, "cuda": bool(cuda_name), "mps": info.mps}
        for row, name in enumerate(DEVICES):
            item = model.item(row)
            item.setText(texts[name])
            # Before the probe answers, nothing is known to be missing.
            item.setEnabled(available[name] or not info.known)
        if info.cuda and len(info.cuda_memory) > 0:
            gib = info.cuda_memory[0] / 2**30
            model.item(DEVICES.index("cuda")).setText(f"CUDA: {cuda_name} ({gib:.0f} GiB)")
        current = self.device_combo.currentData()
        if info.known and not available.get(current, True):
            self.device_combo.setCurrentIndex(DEVICES.index("auto"))
        for option, spin in self.extra_spins.items():
            shown = info.supports(option)
            spin.setVisible(shown)
            label = self._form_label(spin)
            if label is not None:
                label.setVisible(shown)
        self._apply_recipe_engine(info)
        self.frontend_box.setVisible(info.supports("--init-cnn"))
        self._frontend_form.setRowVisible(self.cnn_lr_spin, info.supports("--set"))

    def _apply_recipe_engine(self, info: EngineInfo) -> None:
        shown = {part.name for part in self._recipe_parts()}
        for part in RECIPE_PARTS:
            for widgets in (self.recipe_checks, self.recipe_spins, self.recipe_details):
                if part.name in widgets:
                    widgets[part.name].setVisible(part.name in shown)
        if info.has_recipe:
            note = ""
        elif info.recipe_off:
            note = "This engine's recipe cannot be changed from here (train has no --set)."
        else:
            note = "This engine has no generalisation recipe."
        self.recipe_note.setText(note)
        self.recipe_note.setVisible(bool(note))

    def _form_label(self, field: QWidget) -> QWidget | None:
        parent = field.parentWidget()
        layout = parent.layout() if parent is not None else None
        if isinstance(layout, QFormLayout):
            return layout.labelForField(field)
        return None

    # -------------------------------------------------------------------- values
    def _preset_values(self, preset: str) -> dict[str, Any]:
        """The preset's run config (TrainConfig.from_preset(preset).to_dict())."""
        return self.engine.presets[preset]

    def _set_preset(self, preset: str) -> None:
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(preset)))
        values = self._preset_values(preset)
        self.epochs_spin.setValue(int(values["epochs"]))
        self.batch_spin.setValue(int(values["batch_size"]))
        self.lr_box.setValue(float(values["lr"]))
        self.decay_spin.setValue(float(values["decay_epochs"]))
        # The fast preset decays p_tf much faster than the paper's γ (tuned on the demo).
        gamma = values["gamma"]
        self.gamma_spin.setValue(DEFAULT_GAMMA if gamma is None else float(gamma))
        self.extra_spins["--patience"].setValue(int(values["patience"]))
        self._set_recipe_preset(preset)
        self._on_preset_change()

    # -------------------------------------------------------------------- recipe
    def _recipe_parts(self) -> list[RecipePart]:
        """The parts of the recipe this engine has and lets the dialog change."""
        if not self.engine.has_recipe:
            return []
        off, presets = self.engine.recipe_off, self.engine.presets.values()
        return [
            part
            for part in RECIPE_PARTS
            if all(f in off and all(f in values for values in presets) for f in part.fields)
        ]

    def _set_recipe_preset(self, preset: str) -> None:
        """Show ``preset``'s recipe; a part it leaves off switches on as another preset has it."""
        off = self.engine.recipe_off
        order = [preset, *(name for name in self.engine.presets if name != preset)]
        self._recipe_on = {}
        for part in self._recipe_parts():
            for f in part.fields:
                for name in order:
                    value = self._preset_values(name).get(f)
                    if value is not None and not same_value(value, off[f]):
                        self._recipe_on[f] = value
                        break
        self._show_recipe(self._preset_recipe(preset))

    def _preset_recipe(self, preset: str) -> dict[str, Any]:
        values = self._preset_values(preset)
        return {f: values[f] for part in self._recipe_parts() for f in part.fields}

    def _run_recipe(self, config: dict[str, Any]) -> dict[str, Any]:
        """A stored run's recipe; a run from before the recipe existed trains without it."""
        off = self.engine.recipe_off
        return {f: config.get(f, off[f]) for part in self._recipe_parts() for f in part.fields}

    def _on_value(self, part: RecipePart, field: str) -> Any:
        """What ``field`` is when ``part`` is on (None: no preset says, so it cannot be)."""
        if field in self._recipe_on:
            return self._recipe_on[field]
        if isinstance(self.engine.recipe_off[field], bool):
            return True
        if field == part.main:
            return part.on_value
        return dict(part.on_values).get(field)

    def _show_recipe(self, values: dict[str, Any]) -> None:
        off = self.engine.recipe_off
        for part in self._recipe_parts():
            if not all(f in values for f in part.fields):
                continue
            on = any(not same_value(values[f], off[f]) for f in part.fields)
            if on:
                self._recipe_on.update({f: values[f] for f in part.fields})
            self.recipe_checks[part.name].setChecked(on)
            if part.main is not None:
                self.recipe_spins[part.name].setValue(self._on_value(part, part.main) * part.scale)
        self._on_recipe_change()

    def _on_recipe_change(self, *_args: object) -> None:
        editable = self.resume_run() is None
        for part in self._recipe_parts():
            check = self.recipe_checks[part.name]
            on = check.isChecked()
            can_switch_on = all(self._on_value(part, f) is not None for f in part.fields)
            check.setEnabled(editable and (on or can_switch_on))
            if part.main is not None:
                self.recipe_spins[part.name].setEnabled(editable and on)
            detail = self.recipe_details.get(part.name)
            if detail is not None:
                shown = {f: self._on_value(part, f) for f in part.fields}
                known = all(v is not None for v in shown.values())
                detail.setText(part.detail.format(**shown) if known else "")
                detail.setEnabled(editable and on)

    def recipe_values(self) -> dict[str, Any]:
        """The recipe's run-config fields as the dialog's choices set them."""
        off = self.engine.recipe_off
        values: dict[str, Any] = {}
        for part in self._recipe_parts():
            on = self.recipe_checks[part.name].isChecked()
            for f in part.fields:
                value = self._on_value(part, f) if on else off[f]
                if on and f == part.main:
                    shown = self.recipe_spins[part.name].value() / part.scale
                    # The spin box shows the value rounded: left alone, the exact value counts.
                    if value is None or abs(shown - value) > 0.5 * 10**-part.decimals / part.scale:
                        value = shown
                values[f] = off[f] if value is None else value
        return values

    def recipe_changes(self) -> dict[str, Any]:
        """The recipe's fields whose values differ from the chosen preset's."""
        preset = self._preset_values(self.preset_combo.currentData())
        return {
            f: value
            for f, value in self.recipe_values().items()
            if f in preset and not same_value(value, preset[f])
        }

    def _restore_recipe(self) -> None:
        """Put the remembered changes to the recipe on top of the preset's."""
        try:
            saved = json.loads(str(self._saved.get("recipe") or "{}"))
        except ValueError:
            return
        if not isinstance(saved, dict):
            return
        off = self.engine.recipe_off
        changes = {
            f: value
            for f, value in saved.items()
            if f in off
            and isinstance(value, bool | int | float)
            and isinstance(value, bool) == isinstance(off[f], bool)
        }
        if changes:
            self._show_recipe({**self._preset_recipe(self.preset_combo.currentData()), **changes})

    def _on_preset_activated(self, _index: int) -> None:
        self._preset_touched = True
        self._set_preset(self.preset_combo.currentData())

    def _on_preset_change(self) -> None:
        self.preset_help.setText(PRESET_HELP.get(self.preset_combo.currentData(), ""))
        self._on_schedule_change()

    def _on_schedule_change(self, *_args: object) -> None:
        name = self.schedule_combo.currentData()
        editable = self.resume_run() is None
        self.gamma_spin.setEnabled(editable and name == "drossos")
        self.p_min_spin.setEnabled(editable and name not in ("constant", "none"))
        self.p_max_spin.setEnabled(editable and name != "none")
        self.decay_spin.setEnabled(editable and name in DECAYING)
        self.unit_combo.setEnabled(editable and name not in ("constant", "none"))
        p_min, p_max = self.p_min_spin.value(), self.p_max_spin.value()
        if p_min > p_max:
            self.schedule_summary.setText("p_min must not exceed p_max.")
            self.preview_curve.setData([], [])
            self._schedule_ok = False
            self._update_start()
            return
        self._schedule_ok = True
        self._update_start()
        epochs = self.epochs_spin.value()
        unit = self.unit_combo.currentData()
        try:
            x, p = schedule_curve(
                name,
                epochs=epochs,
                gamma=self.gamma_spin.value(),
                p_min=p_min,
                p_max=p_max,
                decay_epochs=self.decay_spin.value(),
                unit=unit,
                # Counting time steps: one batch advances the counter by the sequence length.
                steps_per_batch=int(
                    self._preset_values(self.preset_combo.currentData())["seq_len"]
                ),
            )
        except ValueError as exc:
            self.schedule_summary.setText(str(exc))
            self.preview_curve.setData([], [])
            return
        self.preview_curve.setData(x, p)
        self.preview.setXRange(0, epochs, padding=0.01)
        self.schedule_summary.setText(describe_schedule_curve(x, p))

    def _on_resume_change(self, *_args: object) -> None:
        run_id = self.resume_combo.currentData()
        resuming = run_id is not None
        # A resumed run keeps its settings; only its length and device may change.
        for widget in (
            self.preset_combo,
            self.batch_spin,
            self.lr_box,
            self.schedule_combo,
            self.gamma_spin,
            self.p_min_spin,
            self.p_max_spin,
            self.decay_spin,
            self.unit_combo,
            self.extra_spins["--seed"],
            self.task_combo,
        ):
            widget.setEnabled(not resuming)
        if resuming:
            config = self._runs[run_id]["config"]
            ext = self._runs[run_id]["extension"]
            # The fewest epochs the engine takes for this run (a finished one: more than it
            # trained); fewer would be refused by the child.
            self.epochs_spin.setMinimum(ext.minimum if ext.possible else 1)
            self._show_config(config)
            if ext.status == "done":
                self.epochs_spin.setValue(ext.default)
                self.start_button.setText("Train further")
            else:
                self.start_button.setText("Resume training")
        else:
            self.epochs_spin.setMinimum(1)
            self.start_button.setText("Start training")
            if self._showing_run:
                self._restore()  # back from a resumed run's settings to the user's own
            self._on_schedule_change()
        self._showing_run = resuming
        self._update_start()
        self._on_recipe_change()  # a resumed run keeps its recipe: shown, not editable
        self._on_frontend_change()  # and its front end
        self._on_task_change()

    def _show_config(self, config: dict[str, Any]) -> None:
        preset = config.get("preset")
        if preset in self.engine.presets:
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(preset))
        for key, widget in (("epochs", self.epochs_spin), ("batch_size", self.batch_spin)):
            if isinstance(config.get(key), int):
                widget.setValue(config[key])
        if isinstance(config.get("lr"), float | int):
            self.lr_box.setValue(float(config["lr"]))
        index = self.schedule_combo.findData(config.get("schedule"))
        if index >= 0:
            self.schedule_combo.setCurrentIndex(index)
        for key, spin in (("p_min", self.p_min_spin), ("p_max", self.p_max_spin)):
            if isinstance(config.get(key), float | int):
                spin.setValue(float(config[key]))
        self.gamma_spin.setValue(float(config.get("gamma") or DEFAULT_GAMMA))
        if isinstance(config.get("decay_epochs"), float | int):
            self.decay_spin.setValue(float(config["decay_epochs"]))
        index = self.unit_combo.findData(config.get("unit", "batch"))
        self.unit_combo.setCurrentIndex(max(0, index))
        for key, option in (("patience", "--patience"), ("seed", "--seed")):
            if isinstance(config.get(key), int):
                self.extra_spins[option].setValue(config[key])
        self._show_recipe(self._run_recipe(config))
        init_cnn = config.get("init_cnn")
        self._show_frontend(init_cnn if isinstance(init_cnn, str) else "", note="")
        scale = config.get("cnn_lr_scale", 1.0)
        self.cnn_lr_spin.setValue(float(scale) if isinstance(scale, float | int) else 1.0)
        self._on_preset_change()  # the run's preset's help; redraws the schedule too

    def set_resume(self, run_id: int | None) -> None:
        """Preselect resuming ``run_id`` (or a new run with None)."""
        index = self.resume_combo.findData(run_id)
        self.resume_combo.setCurrentIndex(max(0, index))

    # ------------------------------------------------------------------ settings
    def _read_settings(self) -> dict[str, Any]:
        self.settings.beginGroup(SETTINGS_GROUP)
        try:
            return {key: self.settings.value(key) for key in self.settings.childKeys()}
        finally:
            self.settings.endGroup()

    def _restore(self) -> None:
        saved = self._saved
        preset = saved.get("preset")
        if preset not in self.engine.presets:
            preset = "paper" if self.engine.cuda else DEFAULT_PRESET
        self._set_preset(str(preset))

        def number(key: str, kind: type, default: Any) -> Any:
            try:
                return kind(saved[key]) if key in saved else default
            except (TypeError, ValueError):
                return default

        self.epochs_spin.setValue(number("epochs", int, self.epochs_spin.value()))
        self.batch_spin.setValue(number("batch_size", int, self.batch_spin.value()))
        self.lr_box.setValue(number("lr", float, self.lr_box.value()))
        index = self.schedule_combo.findData(saved.get("schedule", "drossos"))
        self.schedule_combo.setCurrentIndex(max(0, index))
        self.gamma_spin.setValue(number("gamma", float, self.gamma_spin.value()))
        self.p_min_spin.setValue(number("p_min", float, 0.05))
        self.p_max_spin.setValue(number("p_max", float, 0.9))
        self.decay_spin.setValue(number("decay_epochs", float, self.decay_spin.value()))
        self.unit_combo.setCurrentIndex(
            max(0, self.unit_combo.findData(saved.get("unit", "batch")))
        )
        device = saved.get("device", "auto")
        self.device_combo.setCurrentIndex(DEVICES.index(device) if device in DEVICES else 0)
        for option, spin in self.extra_spins.items():
            spin.setValue(number(option.lstrip("-"), int, spin.value()))
        self._restore_recipe()
        self._restore_frontend(number("cnn_lr_scale", float, 1.0))
        self._on_preset_change()

    def _restore_frontend(self, scale: float) -> None:
        """The remembered front end, unless it is gone (then said, and none is used)."""
        self.cnn_lr_spin.setValue(scale)
        path = str(self._saved.get("init_cnn") or "")
        problem = frontend_problem(Path(path)) if path else ""
        if problem:
            self._frontend_dir = str(Path(path).parent)
            self._show_frontend(
                "",
                note=f"The front end chosen last time is not used ({problem}): the CNN starts "
                "from random weights.",
                warning=True,
            )
        else:
            self._show_frontend(path)

    def _save(self) -> None:
        values = {
            "preset": self.preset_combo.currentData(),
            "epochs": self.epochs_spin.value(),
            "batch_size": self.batch_spin.value(),
            "lr": self.lr_box.value(),
            "schedule": self.schedule_combo.currentData(),
            "gamma": self.gamma_spin.value(),
            "p_min": self.p_min_spin.value(),
            "p_max": self.p_max_spin.value(),
            "decay_epochs": self.decay_spin.value(),
            "unit": self.unit_combo.currentData(),
            "device": self.device_combo.currentData(),
        }
        for option, spin in self.extra_spins.items():
            if self.engine.supports(option):
                values[option.lstrip("-")] = spin.value()
        if self.engine.supports("--init-cnn"):
            values["init_cnn"] = self._frontend
            values["cnn_lr_scale"] = self.cnn_lr_spin.value()
        if self.engine.has_recipe:
            # Only the changes: a remembered "as the preset" follows the preset when it changes.
            values["recipe"] = json.dumps(self.recipe_changes(), sort_keys=True)
        self.settings.beginGroup(SETTINGS_GROUP)
        for key, value in values.items():
            self.settings.setValue(key, value)
        self.settings.endGroup()
        self.settings.sync()

    def accept(self) -> None:
        if self.resume_run() is None:
            # The file may have gone since it was chosen: say so here, not in a failed run.
            problem = frontend_problem(Path(self._frontend)) if self._frontend else ""
            if problem:
                self._show_frontend_note(f"{problem}: choose another or clear it.", warning=True)
                return
            self._save()
        super().accept()

    # -------------------------------------------------------------------- result
    def resume_run(self) -> int | None:
        """The run to resume, or None for a new run."""
        return self.resume_combo.currentData()

    def config(self) -> list[str]:
        """The ``tfstudio train PROJECT`` arguments for the current choices (no ``--json``)."""
        run_id = self.resume_run()
        args: list[str] = []
        if run_id is not None:
            args += ["--resume", str(run_id), "--epochs", str(self.epochs_spin.value())]
        else:
            schedule = self.schedule_combo.currentData()
            args += [
                "--preset",
                self.preset_combo.currentData(),
                "--epochs",
                str(self.epochs_spin.value()),
                "--batch-size",
                str(self.batch_spin.value()),
                "--lr",
                f"{self.lr_box.value():g}",
                "--schedule",
                schedule,
            ]
            if schedule == "drossos":
                args += ["--gamma", f"{self.gamma_spin.value():g}"]
            if schedule != "none":
                args += ["--p-min", f"{self.p_min_spin.value():g}"]
                args += ["--p-max", f"{self.p_max_spin.value():g}"]
            if schedule in DECAYING and self.engine.supports("--decay-epochs"):
                args += ["--decay-epochs", f"{self.decay_spin.value():g}"]
            unit = self.unit_combo.currentData()
            if unit != "batch" and schedule != "none" and self.engine.supports("--unit"):
                args += ["--unit", unit]
            single = self.task() == "single-label" and self.engine.supports("--task")
            if single:
                args += ["--task", "single-label"]
                if self.sampled_spin.value() > 0:
                    args += ["--sampled-softmax", str(self.sampled_spin.value())]
                    args += ["--sampler", str(self.sampler_combo.currentData())]
            elif self.engine.has_recipe:
                for name, value in self.recipe_changes().items():
                    args += ["--set", f"{name}={_json_value(value)}"]
            args += self._frontend_args()
        args += ["--device", self.device_combo.currentData()]
        for option, spin in self.extra_spins.items():
            if not self.engine.supports(option):
                continue
            if option == "--max-batches" and spin.value() == 0:
                continue
            if run_id is not None and option not in RESUME_OPTIONS:
                continue  # the resumed run keeps its own
            args += [option, str(spin.value())]
        return args

    def _frontend_args(self) -> list[str]:
        if not self._frontend or not self.engine.supports("--init-cnn"):
            return []
        args = ["--init-cnn", self._frontend]
        scale = self.cnn_lr_spin.value()
        if scale != 1.0 and self.engine.supports("--set"):
            args += ["--set", f"cnn_lr_scale={_json_value(scale)}"]
        return args


def frontend_problem(path: Path) -> str:
    """Why the file at ``path`` cannot be a front end, as far as the GUI process can tell
    without torch ("" when it may be one); worded as ``load_frontend``'s errors."""
    try:
        with path.open("rb") as file:
            empty = not file.read(1)
    except FileNotFoundError:
        return f"{path}: no such file"
    except IsADirectoryError:
        return f"{path}: is a folder, not a front-end file"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc})"
    return f"{path}: is empty, not a front-end file" if empty else ""


def _json_value(value: Any) -> str:
    """``value`` as ``train --set`` reads it (JSON), written short: 0, 0.8, true."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)
