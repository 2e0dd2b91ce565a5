"""Train further: continue a finished (or stopped) run up to more epochs in all.

The dialog asks how many epochs in all and with what early-stopping patience, says what early
stopping will do (its count goes on from where the run ended), and gives the same
``tfstudio train PROJECT --resume N --epochs M`` arguments a user would type. The rule for
which runs can go on, and how far, is :func:`tfstudio.session.runs.extension` (the training
loop's own, :mod:`tfstudio.train.resume`).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.fit import fit_to_screen
from tfstudio.qt.training.dialog import WrappedLabel
from tfstudio.session.runs import Extension

MAX_EPOCHS = 100_000


class TrainFurtherDialog(QDialog):
    """How far to train run ``extension.run_id`` further; :meth:`arguments` is the ``train``
    argument list. ``extension`` must be possible (:attr:`Extension.possible`)."""

    def __init__(self, extension: Extension, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not extension.possible:
            raise ValueError(extension.problem)
        self.extension = ext = extension
        self.setWindowTitle(f"Train run {ext.run_id} further")
        layout = QVBoxLayout(self)

        self.intro = WrappedLabel(_intro(ext))
        layout.addWidget(self.intro)

        form = QFormLayout()
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(ext.minimum, MAX_EPOCHS)
        self.epochs_spin.setValue(ext.default)
        self.epochs_spin.setSuffix(" epochs")
        self.epochs_spin.setToolTip(
            f"How many epochs the run has in all when it ends (at least {ext.minimum}); "
            "early stopping may end it sooner"
        )
        self.more_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.epochs_spin)
        row.addWidget(self.more_label, 1)
        form.addRow("Train up to", row)
        self.patience_spin = QSpinBox()
        self.patience_spin.setRange(1, MAX_EPOCHS)
        self.patience_spin.setValue(ext.patience)
        self.patience_spin.setSuffix(" epochs")
        self.patience_spin.setToolTip(
            "Early stopping: epochs in a row without a better validation loss before it ends"
        )
        row = QHBoxLayout()
        row.addWidget(self.patience_spin)
        row.addWidget(QLabel("without a better validation loss"), 1)
        form.addRow("Patience", row)
        layout.addLayout(form)

        self.patience_note = WrappedLabel()
        self.patience_note.setProperty("role", "hint")
        layout.addWidget(self.patience_note)
        self.after_note = WrappedLabel(
            "Its best checkpoint is replaced only by a better epoch, and its thresholds are "
            "tuned again at the end. Detections made with it stay as they are until you detect "
            "again."
        )
        self.after_note.setProperty("role", "hint")
        layout.addWidget(self.after_note)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.addButton(
            "Train further", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # Once the box is in the dialog: set before, the dialog did not know of it and made
        # Cancel its default, and Return after typing the epochs cancelled.
        self.start_button.setDefault(True)

        self.epochs_spin.valueChanged.connect(self._on_epochs_change)
        self.patience_spin.valueChanged.connect(self._on_patience_change)
        self._on_epochs_change()
        self._on_patience_change()
        self.setMinimumWidth(460)
        fit_to_screen(self)

    def _on_epochs_change(self, *_args: object) -> None:
        more = self.epochs_spin.value() - self.extension.begun
        self.more_label.setText(
            f"in all ({more} more than the {self.extension.begun} it has trained)"
        )

    def _on_patience_change(self, *_args: object) -> None:
        self.patience_note.setText(self.extension.patience_text(self.patience_spin.value()))

    def arguments(self) -> list[str]:
        """``train`` arguments for the choices (no project, no ``--json``): ``--resume N``
        and :meth:`changes`."""
        return ["--resume", str(self.extension.run_id), *self.changes()]

    def changes(self) -> list[str]:
        """What the resume changes: its epochs in all, and the patience when it differs from
        the run's own."""
        args = ["--epochs", str(self.epochs_spin.value())]
        if self.patience_spin.value() != self.extension.patience:
            args += ["--patience", str(self.patience_spin.value())]
        return args


def _intro(ext: Extension) -> str:
    if ext.early_stopped:
        how = f"Early stopping ended run {ext.run_id} after {ext.begun} of its {ext.epochs} epochs"
    elif ext.status == "done":
        how = f"Run {ext.run_id} trained all its {ext.epochs} epochs"
    elif ext.next_epoch == ext.begun:
        how = f"Run {ext.run_id} {ext.status} in epoch {ext.begun} of {ext.epochs}"
    else:
        how = f"Run {ext.run_id} {ext.status} after epoch {ext.begun} of {ext.epochs}"
    if ext.best_val_loss is not None and ext.best_epoch:
        how += f" (best validation loss {ext.best_val_loss:.4f} at epoch {ext.best_epoch})"
    return (
        f"{how}. It goes on in epoch {ext.next_epoch} with its own settings, where its optimiser, "
        "learning rate and teacher-forcing schedule left off."
    )
