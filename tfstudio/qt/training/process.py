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
from tfstudio.session.stream import describe_failure
from tfstudio.store import Project, ProjectError, Run
from tfstudio.train.events import (
    BatchEvent,
    DoneEvent,
    EpochEvent,
    EventError,
    StartEvent,
    TrainEvent,
    event_types,
)

STDERR_TAIL_LINES = 40
DEFAULT_STOP_TIMEOUT_S = 20.0
# The child's scheduling niceness (Unix): training still gets every idle cycle, but when it
# keeps all cores busy the GUI is scheduled first and never waits for a time slice.
CHILD_NICENESS = 10
# Statuses in which a run is still "in flight" in the store; anything else was set on purpose.
_UNFINISHED = ("queued", "running")


class TrainingJob(Job):
    """One training child at a time: start, follow, stop (graceful, then forced), resume.

    Besides :class:`~tfstudio.qt.job.Job`'s signals (``line`` is the log: the child's plain
    lines and stderr): ``event`` (every training event, typed: a
    :class:`~tfstudio.train.events.TrainEvent`), ``run_started`` (:class:`StartEvent`),
    ``batch`` (:class:`BatchEvent`), ``epoch`` (:class:`EpochEvent`), ``failed`` (a plain
    message, just before ``finished``, when the run failed or the process died).
    ``finished`` carries a summary dict: the done event's keys and run, status (done, stopped
    or failed), exit_code, crashed, forced, message, elapsed_s and best_checkpoint.
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

    def conclude(self, result: JobResult) -> dict[str, Any]:
        """The run's ending as the store has it, repaired when the child could not record it."""
        if not result.started:
            summary: dict[str, Any] = {
                "run": None,
                "status": "failed",
                "exit_code": None,
                "crashed": False,
                "forced": False,
                "message": result.message,
            }
        else:
            summary = self._outcome(result)
        if summary["status"] == "failed":
            self.failed.emit(summary["message"])
        return summary

    def _outcome(self, result: JobResult) -> dict[str, Any]:
        done = self._done
        stderr_tail = "\n".join(result.stderr_tail)
        code, crashed = result.exit_code, result.crashed
        if done is not None and done.status:
            status = done.status
        elif self.stop_requested:
            # Stopped on request, whether the engine caught SIGTERM or died of it.
            status = "stopped"
        elif code == 0:
            # Exited cleanly without a "done" line: trust the store (read below).
            status = "done"
        else:
            status = "failed"

        detail = done.message if done is not None else ""
        run: Run | None = None
        try:
            # mark_dead=False: this job knows how its child ended better than "it is gone".
            with Project.open(self.project_root, mark_dead=False) as project:
                run = self._find_run(project)
                recorded = run is not None and run.status not in _UNFINISHED
                if run is not None and recorded:
                    # The engine recorded its own ending (done, stopped, or failed and why).
                    status, detail = run.status, detail or run.message
                elif status == "done" and done is None:
                    # A clean exit that never said "done" and left the run open is no success.
                    status = "failed"
                message = self._message(status, detail, code, crashed, result.forced, stderr_tail)
                if run is not None and not recorded:
                    project.update_run(
                        run.id, status=status, message=message, finished_at=time.time()
                    )
        except (ProjectError, OSError) as exc:
            run = None
            message = self._message(status, detail, code, crashed, result.forced, stderr_tail)
            self.line.emit(f"could not read or record the run's status: {exc}")
        summary: dict[str, Any] = {
            **(done.to_dict() if done is not None else {}),
            "event": "finished",
            "run": self.run_id,
            "status": status,
            "exit_code": code,
            "crashed": crashed,
            "forced": result.forced,
            "message": message,
            "elapsed_s": time.time() - self.started_at,
        }
        if run is not None and not summary.get("best_checkpoint"):
            summary["best_checkpoint"] = run.best_checkpoint
        return summary

    def _find_run(self, project: Project) -> Run | None:
        """The run this child made: named in its stream, else found by the child's pid."""
        if self.run_id is None:
            self.run_id = self._resuming
        if self.run_id is not None:
            try:
                return project.run(self.run_id)
            except ProjectError:
                return None
        if not self._pid:
            return None
        mine = [
            r
            for r in project.runs()
            if r.pid == self._pid and r.created_at >= self.started_at - 1.0
        ]
        if not mine:
            return None
        self.run_id = mine[-1].id
        return mine[-1]

    def _message(
        self,
        status: str,
        detail: str,
        code: int | None,
        crashed: bool,
        forced: bool,
        stderr_tail: str,
    ) -> str:
        if status == "failed":
            return describe_failure(
                stderr_tail=stderr_tail, exit_code=code, crashed=crashed, message=detail
            )
        if status == "stopped" and forced:
            return describe_failure(
                stderr_tail=stderr_tail, exit_code=code, crashed=crashed, killed_by_us=True
            )
        if status == "stopped":
            return detail or "Stopped; resume it to continue from its last checkpoint."
        return detail


def _text(obj: dict[str, Any]) -> str:
    return json.dumps(obj)
