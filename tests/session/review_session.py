"""The review's Qt-free session on a project, as the window holds it: a workspace, its
detection model and the call queue standing in for the event loop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tfstudio.session.deferred import CallQueue
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.workspace import Workspace


@contextmanager
def review_session(root: Path) -> Iterator[tuple[Workspace, DetectionModel, CallQueue]]:
    """The project at ``root`` opened as the window opens it; closed afterwards."""
    loop = CallQueue()
    ws = Workspace(schedule=loop)
    model = DetectionModel(ws, schedule=loop)
    ws.open_project(root)
    loop.run()
    try:
        yield ws, model, loop
    finally:
        ws.close_project()
