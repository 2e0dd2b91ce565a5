"""Run ``tfstudio train PROJECT … --json`` in a child process and turn its stream into typed
events.

Training never runs in the GUI process: a crash, an out-of-memory kill or a CUDA fault ends
the child, not the window. The child writes the run and its metrics to the store itself; this
job only follows its stdout (the records of :mod:`tfstudio.train.events`), and repairs the
run's status when the child could not (it was killed, or it crashed before it could say so).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from tfstudio.qt.job import Job
from tfstudio.session.jobs import JobResult, train_args
from tfstudio.session.training_end import settle_run
from tfstudio.train.events import (
    BatchEvent,
    DoneEvent,
    EpochEvent,
    EventError,
    StartEvent,
    TrainEvent,
    TrainingSummary,
    event_types,
)

STDERR_TAIL_LINES = 40
DEFAULT_STOP_TIMEOUT_S = 20.0
# The child's scheduling niceness (Unix): training still gets every idle cycle, but when it
# keeps all cores busy the GUI is scheduled first and never waits for a time slice.
CHILD_NICENESS = 10


class TrainingJob(Job):
    """One training child at a time: start, follow, stop (graceful, then forced), resume.

    Besides :class:`~tfstudio.qt.job.Job`'s signals (``line`` is the log: the child's plain
    lines and stderr): ``event`` (every training event, typed: a
    :class:`~tfstudio.train.events.TrainEvent`), ``run_started`` (:class:`StartEvent`),
    ``batch`` (:class:`BatchEvent`), ``epoch`` (:class:`EpochEvent`), ``failed`` (a plain
    message, just before ``finished``, when the run failed or the process died).
    ``finished`` carries a :class:`~tfstudio.train.events.TrainingSummary`: run, status (done,
    stopped or failed), message, the checkpoints and progress of the child's ``done`` event,
    exit_code, crashed, forced and elapsed_s.
    """

    # Shadows QObject.event() for Python callers only: Qt still dispatches QEvents to the C++
    # method (a Signal is no override), so the name is kept for the connected widgets.
    event = Signal(object)  # type: ignore[assignment]
    run_started = Signal(object)
    batch = Signal(object)
    epoch = Signal(object)
    failed = Signal(str)

    stderr_tail_lines = STDERR_TAIL_LINES
    stop_notice = "stop requested: finishing the current batch"

    def __init__(
        self,
        project_root: Path | str,
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
        niceness: int | None = CHILD_NICENESS,
    ) -> None:
        super().__init__(
            train_args(project_root, []),
            parent,
            program=program,
            stop_timeout_s=stop_timeout_s,
            niceness=niceness,
        )
        self.project_root = Path(project_root)
        self.run_id: int | None = None
        self.start_event: StartEvent | None = None
        self._done: DoneEvent | None = None
        self._resuming: int | None = None

    def start(self, args: list[str] | None = None) -> None:
        """Start ``tfstudio train PROJECT *args --json``; error if a run is in progress."""
        if self.is_running():
            raise RuntimeError("a training process is already running")
        self.args = train_args(self.project_root, args or [])
        self.run_id = None
        self.start_event = None
        self._done = None
        self._resuming = None
        super().start()

    def resume(self, run_id: int, extra_args: list[str] | None = None) -> None:
        """Continue a stopped or killed run from its last checkpoint."""
        self.start(["--resume", str(run_id), *(extra_args or [])])
        self._resuming = run_id

    # ------------------------------------------------------------------- output
    def handle_object(self, obj: dict[str, Any]) -> None:
        super().handle_object(obj)
        cls = event_types().get(obj.get("event"))  # type: ignore[arg-type]
        if cls is None:
            if not isinstance(obj.get("event"), str):
                self.line.emit(_text(obj))  # an object, but no event: log output
            return  # a kind from a newer engine: on ``output`` only
        try:
            event = cls.from_dict(obj)
        except EventError as exc:
            self.line.emit(f"ignored a malformed event ({exc}): {_text(obj)}")
            return
        self._on_train_event(event)

    def _on_train_event(self, event: TrainEvent) -> None:
        run = getattr(event, "run", None)
        if run is not None and self.run_id is None:
            self.run_id = run
        if isinstance(event, StartEvent):
            self.start_event = event
            self.run_started.emit(event)
        elif isinstance(event, BatchEvent):
            self.batch.emit(event)
        elif isinstance(event, EpochEvent):
            self.epoch.emit(event)
        elif isinstance(event, DoneEvent):
            self._done = event
        self.event.emit(event)

    # ------------------------------------------------------------------- ending
    def start_failure(self, reason: str) -> str:
        return f"Could not start the training process: {reason}."

    def conclude(self, result: JobResult) -> TrainingSummary:
        """The run's ending as the store has it, repaired when the child could not record it."""
        if not result.started:
            summary = TrainingSummary(
                run=None,
                status="failed",
                message=result.message,
                elapsed_s=time.time() - self.started_at,
            )
        else:
            summary = self._outcome(result)
        if summary.status == "failed":
            self.failed.emit(summary.message)
        return summary

    def _outcome(self, result: JobResult) -> TrainingSummary:
        if self.run_id is None:
            self.run_id = self._resuming
        settled = settle_run(
            self.project_root,
            result,
            done=self._done,
            stop_requested=self.stop_requested,
            run_id=self.run_id,
            pid=self._pid,
            started_at=self.started_at,
        )
        self.run_id = settled.run_id
        if settled.warning:
            self.line.emit(settled.warning)
        return settled.summary


def _text(obj: dict[str, Any]) -> str:
    return json.dumps(obj)
