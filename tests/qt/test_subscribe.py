"""Widgets hear the session's events while they exist, and a failing widget does not silence
the others (tfstudio.qt.subscribe.listen), with a real Workspace and real widgets."""

from __future__ import annotations

import gc

import shiboken6
from PySide6.QtWidgets import QLabel, QWidget

from tfstudio.qt.subscribe import listen
from tfstudio.session.workspace import Workspace


class Probe(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heard: list[str] = []

    def on_message(self, text: str) -> None:
        self.setText(text)  # touches the C++ object: fails if it is gone
        self.heard.append(text)

    def on_anything(self) -> None:
        self.heard.append("(no arguments)")


def test_a_deleted_widget_stops_hearing_and_is_disconnected(qtbot):
    ws = Workspace()
    parent = QWidget()
    qtbot.addWidget(parent)
    probe = Probe(parent)
    listen(probe, ws.events.message, probe.on_message)
    before = len(ws.events.message)
    ws.events.message.emit("one")
    assert probe.heard == ["one"] and probe.text() == "one"

    heard = probe.heard
    probe.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(probe))
    assert len(ws.events.message) == before - 1
    ws.events.message.emit("two")  # would raise "Internal C++ object already deleted"
    assert heard == ["one"]


def test_a_widget_whose_wrapper_is_collected_is_not_kept_alive(qtbot):
    ws = Workspace()
    probe = Probe()  # no parent: Python owns it
    listen(probe, ws.events.message, probe.on_message)
    del probe
    gc.collect()
    ws.events.message.emit("after")  # no error, and the dead subscription goes away
    assert len(ws.events.message) == 0


def test_a_failing_subscriber_is_reported_and_the_others_still_hear(qtbot):
    ws = Workspace()
    parent = QWidget()
    qtbot.addWidget(parent)
    first, second = Probe(parent), Probe(parent)

    def broken(text: str) -> None:
        raise ValueError(f"cannot show {text}")

    listen(first, ws.events.message, broken)
    listen(second, ws.events.message, second.on_message)
    with qtbot.captureExceptions() as exceptions:
        ws.events.message.emit("hello")  # the emitter does not get the exception
    assert second.heard == ["hello"]
    assert len(exceptions) == 1
    kind, value, _tb = exceptions[0]
    assert kind is ValueError and str(value) == "cannot show hello"


def test_a_callback_may_take_fewer_arguments_than_the_event(qtbot):
    ws = Workspace()
    probe = Probe()
    qtbot.addWidget(probe)
    listen(probe, ws.events.message, probe.on_anything)
    listen(probe, ws.events.message, lambda text: probe.heard.append(text.upper()))
    ws.events.message.emit("hi")
    assert probe.heard == ["(no arguments)", "HI"]
