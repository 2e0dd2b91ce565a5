"""The class palette: pick the class for new events and relabel the selected one; manage classes."""

from __future__ import annotations

import functools
from functools import partial

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.subscribe import listen
from tfstudio.session.workspace import Workspace
from tfstudio.store import EventClass

HOTKEYS = tuple(str(k) for k in range(1, 10))


@functools.lru_cache(maxsize=4096)
def swatch(color: str, size: int = 14) -> QIcon:
    """A rounded square of ``color`` (cached: lists of hundreds of classes redraw often)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(QColor(color).darker(160))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class ClassPalette(QWidget):
    """List of classes with colour, hotkey and count on this recording."""

    classActivated = Signal(int)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.list = QListWidget()
        self.list.setIconSize(QSize(14, 14))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the spectrogram
        self.list.setUniformItemSizes(True)
        add = QToolButton()
        add.setText("+ Add class")
        add.setToolTip("Add a class")
        add.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        edit = QToolButton()
        edit.setText("Edit ▾")
        edit.setToolTip("Rename, recolour, merge or delete")
        edit.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._edit_menu = QMenu(edit)
        self._edit_menu.aboutToShow.connect(self._on_edit_menu_show)
        edit.setMenu(self._edit_menu)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(add)
        buttons.addWidget(edit)
        buttons.addStretch(1)
        # Where a new project starts: nothing else says that labelling begins with a class.
        self.hint = QLabel(
            "No classes yet. <b>+ Add class</b> (Ctrl+K) names one; then drag on the "
            "spectrogram to label a sound with it, and press 1–9 to switch classes."
        )
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

        add.clicked.connect(self.ask_add_class)
        self.list.itemClicked.connect(self._on_item_click)
        self.list.customContextMenuRequested.connect(self._on_context_menu)
        listen(self, workspace.events.classes, self._on_classes_change)
        listen(self, workspace.events.labels, self._on_classes_change)
        listen(self, workspace.events.current_class, self._on_current_class_change)
        self._on_classes_change()

    # ------------------------------------------------------------ presentation
    def _on_classes_change(self) -> None:
        counts = self.workspace.labels.counts()
        self.list.clear()
        classes = self.workspace.classes()
        self.hint.setVisible(not classes)
        self.list.setVisible(bool(classes))
        for cls in classes:
            key = cls.hotkey or " "
            item = QListWidgetItem(
                swatch(cls.color), f"{key}   {cls.name}   ({counts.get(cls.id, 0)})"
            )
            item.setData(Qt.ItemDataRole.UserRole, cls.id)
            item.setToolTip(
                f"{cls.name}: {counts.get(cls.id, 0)} label(s) on this recording"
                + (f"; key {cls.hotkey}" if cls.hotkey else "")
            )
            self.list.addItem(item)
        self._on_current_class_change()

    def _on_current_class_change(self) -> None:
        current = self.workspace.current_class_id
        for row in range(self.list.count()):
            item = self.list.item(row)
            is_current = item.data(Qt.ItemDataRole.UserRole) == current
            item.setSelected(is_current)
            font = item.font()
            font.setBold(is_current)
            item.setFont(font)
            if is_current:  # with hundreds of classes it may be far down the list
                self.list.scrollToItem(item)

    def focus_list(self) -> None:
        """Put the keys in the class list, where typing a name jumps to that class."""
        self.list.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_item_click(self, item: QListWidgetItem) -> None:
        class_id = int(item.data(Qt.ItemDataRole.UserRole))
        self.workspace.set_selected_class(class_id)
        self.classActivated.emit(class_id)

    def _class_at_row(self, row: int) -> EventClass | None:
        item = self.list.item(row)
        return (
            None
            if item is None
            else self.workspace.event_class(item.data(Qt.ItemDataRole.UserRole))
        )

    # ----------------------------------------------------------------- editing
    def _on_context_menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        cls = self.workspace.event_class(item.data(Qt.ItemDataRole.UserRole)) if item else None
        menu = QMenu(self)
        self._fill_menu(menu, cls)
        menu.exec(self.list.mapToGlobal(pos))

    def _on_edit_menu_show(self) -> None:
        self._edit_menu.clear()
        self._fill_menu(
            self._edit_menu, self.workspace.event_class(self.workspace.current_class_id)
        )

    def _fill_menu(self, menu: QMenu, cls: EventClass | None) -> None:
        menu.addAction("Add class…", self.ask_add_class)
        if cls is None:
            return
        # Class names are the user's: an "&" in one is text, not a shortcut marker.
        name = cls.name.replace("&", "&&")
        menu.addSeparator()
        menu.addAction(f"Rename “{name}”…", lambda: self.ask_rename(cls))
        menu.addAction("Change colour…", lambda: self.ask_color(cls))
        hotkeys = menu.addMenu("Hotkey")
        for key in (*HOTKEYS, None):
            action = hotkeys.addAction(key or "None", partial(self.set_hotkey, cls, key))
            action.setCheckable(True)
            action.setChecked(cls.hotkey == key)
        others = [c for c in self.workspace.classes() if c.id != cls.id]
        if others:
            merge = menu.addMenu(f"Merge “{name}” into")
            for other in others:
                merge.addAction(
                    swatch(other.color),
                    other.name.replace("&", "&&"),
                    lambda o=other: self.ask_merge(cls, o),
                )
        menu.addSeparator()
        menu.addAction(f"Delete “{name}”…", lambda: self.ask_delete(cls))

    def ask_add_class(self) -> None:
        name, ok = QInputDialog.getText(self, "Add class", "Name of the new class:")
        if ok and name.strip():
            self.add_class(name)

    def add_class(self, name: str) -> EventClass | None:
        project = self.workspace.project
        if project is None:
            return None
        cls = self.workspace.write(project.add_class, name)
        if cls is not None:
            self.workspace.set_current_class(cls.id)
        return cls

    def ask_rename(self, cls: EventClass) -> None:
        name, ok = QInputDialog.getText(self, "Rename class", "New name:", text=cls.name)
        if ok and name.strip() and name.strip() != cls.name:
            self.rename(cls, name)

    def rename(self, cls: EventClass, name: str) -> None:
        if self.workspace.project is not None:
            self.workspace.write(self.workspace.project.update_class, cls.id, name=name)

    def ask_color(self, cls: EventClass) -> None:
        color = QColorDialog.getColor(QColor(cls.color), self, f"Colour of {cls.name}")
        if color.isValid():
            self.recolor(cls, color.name())

    def recolor(self, cls: EventClass, color: str) -> None:
        if self.workspace.project is not None:
            self.workspace.write(self.workspace.project.update_class, cls.id, color=color)

    def set_hotkey(self, cls: EventClass, key: str | None) -> None:
        """Bind a digit; a class that had it loses it (one undoable step)."""
        project = self.workspace.project
        if project is None:
            return

        def apply() -> None:
            with project.undo_group(f"hotkey {key or 'none'} for {cls.name}"):
                for other in project.classes():
                    if key is not None and other.hotkey == key and other.id != cls.id:
                        project.update_class(other.id, hotkey=None)
                project.update_class(cls.id, hotkey=key)

        self.workspace.write(apply)

    def ask_merge(self, source: EventClass, target: EventClass) -> None:
        answer = QMessageBox.question(
            self,
            "Merge classes",
            f"Move every “{source.name}” label to “{target.name}” and remove “{source.name}”?\n"
            "You can undo this.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.merge(source, target)

    def merge(self, source: EventClass, target: EventClass) -> None:
        if self.workspace.project is not None:
            self.workspace.write(self.workspace.project.merge_classes, [source.id], target.id)

    def ask_delete(self, cls: EventClass) -> None:
        project = self.workspace.project
        if project is None:
            return
        n = len(project.events(class_id=cls.id))
        answer = QMessageBox.question(
            self,
            "Delete class",
            f"Delete “{cls.name}” and its {n} event(s) in the whole project?\nYou can undo this.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.workspace.write(project.delete_class, cls.id)
