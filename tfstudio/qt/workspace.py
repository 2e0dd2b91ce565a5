"""The session's workspace and detections on Qt's event loop.

:class:`tfstudio.session.workspace.Workspace` and
:class:`tfstudio.session.detection_model.DetectionModel` hold the open project's state and
rules with plain-Python events; widgets subscribe to those events and write to the models.
What they need from Qt is time: work "a little later" (store changes applied together in the
next event-loop turn, a threshold preview at most once per frame) and a poll once a second
for other processes' writes. Events stay synchronous on the GUI thread, which owns the
project's database, so nothing needs psygnal's queued (cross-thread) emission.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from tfstudio.qt.subscribe import listen
from tfstudio.session.deferred import Schedule
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.suggest import UncertaintyModel
from tfstudio.session.workspace import Workspace

POLL_MS = 1000


def later(context: QObject) -> Schedule:
    """A session :data:`~tfstudio.session.deferred.Schedule` that runs callbacks in a later
    turn of Qt's event loop, never after ``context`` is gone."""

    def schedule(delay_ms: int, callback: Callable[[], None]) -> None:
        QTimer.singleShot(delay_ms, context, callback)

    return schedule


class _Poller(QObject):
    """Asks the workspace once a second whether another process wrote, while a project is open."""

    def __init__(self, workspace: Workspace, parent: QObject | None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(workspace.poll)
        # The workspace may outlive this object's C++ half: it stops hearing it then.
        listen(self, workspace.events.project, self._on_project_change)

    def _on_project_change(self) -> None:
        if self.workspace.project is None:
            self.timer.stop()
        else:
            self.timer.start()


def qt_workspace(parent: QObject | None = None) -> Workspace:
    """A workspace whose deferred work and polling run on Qt's event loop (with ``parent``,
    they end with it)."""
    context = QObject(parent)
    workspace = Workspace(schedule=later(context))
    # The workspace keeps its schedule, the schedule its context, the context the poller.
    _Poller(workspace, context)
    return workspace


def qt_detections(workspace: Workspace, parent: QObject | None = None) -> DetectionModel:
    """The review's detection model, previewing on Qt's event loop (ending with ``parent``)."""
    return DetectionModel(workspace, schedule=later(QObject(parent)))


def qt_uncertainty(detections: DetectionModel, parent: QObject | None = None) -> UncertaintyModel:
    """How unsure the active run is about each recording, scored a few recordings per turn
    of Qt's event loop (ending with ``parent``)."""
    return UncertaintyModel(detections, schedule=later(QObject(parent)))
