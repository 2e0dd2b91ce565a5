"""Run ``tfstudio train PROJECT … --json`` in a child process and turn its stream into signals.

Training never runs in the GUI process: a crash, an out-of-memory kill or a CUDA fault ends
the child, not the window. The child writes the run and its metrics to the store itself; this
object only follows its stdout, and repairs the run's status when the child could not (it was
killed, or it crashed before it could say so).
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from tfstudio.session.stream import LineSplitter, describe_failure, parse_event
from tfstudio.store import Project, ProjectError, Run
from tfstudio.train.events import BatchEvent, DoneEvent, EpochEvent, StartEvent

STDERR_TAIL_LINES = 40
DEFAULT_STOP_TIMEOUT_S = 20.0
# The child's scheduling niceness (Unix): training still gets every idle cycle, but when it
# keeps all cores busy the GUI is scheduled first and never waits for a time slice.
CHILD_NICENESS = 10
# Statuses in which a run is still "in flight" in the store; anything else was set on purpose.
_UNFINISHED = ("queued", "running")


def tfstudio_command(args: list[str], program: list[str] | None = None) -> tuple[str, list[str]]:
    """The program and arguments that run ``tfstudio *args`` with this very tfstudio.

    ``program`` replaces the ``tfstudio`` prefix (tests run a stand-in with it).
    """
    if program:
        prefix = list(program)
    elif getattr(sys, "frozen", False):
        # A frozen app's executable is tfstudio itself (``__main__`` runs the CLI for a command).
        prefix = [sys.executable]
    else:
        prefix = [sys.executable, "-m", "tfstudio"]
    return prefix[0], [*prefix[1:], *args]


def train_command(
    project_root: Path | str, args: list[str], program: list[str] | None = None
) -> tuple[str, list[str]]:
    """The program and arguments that run ``tfstudio train`` for ``project_root``."""
    args = list(args)
    if "--json" not in args:
        args.append("--json")
    return tfstudio_command(["train", str(project_root), *args], program)


def child_environment() -> QProcessEnvironment:
    """The GUI's environment, with unbuffered UTF-8 output and this very ``tfstudio`` first."""
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")  # lines arrive as they are printed, not per 8 KiB
    env.insert("PYTHONIOENCODING", "utf-8")
    if not getattr(sys, "frozen", False):
        # Run from a source checkout, the child must import the same package as the GUI.
        package_parent = str(Path(__file__).resolve().parents[3])
        old = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", package_parent + (os.pathsep + old if old else ""))
    return env


class TrainingProcess(QObject):
    """One training child at a time: start, follow, stop (graceful, then forced), resume.

    Signals carry the engine's JSON objects unchanged (unknown keys included):
    ``started`` (the "start" event, or a stand-in if the engine sends none), ``batch``,
    ``epoch``, ``event`` (every event, known or not), ``log`` (any line that is not an
    event, stderr included), ``finished`` (always last: run, status, exit_code, crashed,
    forced, message, best_checkpoint) and ``failed`` (a plain message, just before
    ``finished``, when the run failed or the process died).
    """

    started = Signal(dict)
    batch = Signal(dict)
    epoch = Signal(dict)
    # Shadows QObject.event() for Python callers only: Qt still dispatches QEvents to the C++
    # method (a Signal is no override), so the name is kept for the connected widgets.
    event = Signal(dict)  # type: ignore[assignment]
    log = Signal(str)
    failed = Signal(str)
    finished = Signal(dict)
    state_changed = Signal(str)  # idle | starting | running | stopping

    def __init__(
        self,
        project_root: Path | str,
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
        niceness: int | None = CHILD_NICENESS,
    ) -> None:
        super().__init__(parent)
        self.project_root = Path(project_root)
        self.program = program
        self.stop_timeout_s = stop_timeout_s
        self.niceness = niceness
        self.run_id: int | None = None
        self.info: dict[str, Any] = {}
        self.state = "idle"
        self._proc: QProcess | None = None
        self._stdout = LineSplitter()
        self._stderr = LineSplitter()
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._done: dict[str, Any] | None = None
        self._stop_requested = False
        self._forced = False
        self._started_emitted = False
        self._started_at = 0.0
        self._pid = 0
        self._resuming: int | None = None
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._on_kill_timer_timeout)

    # ------------------------------------------------------------------ control
    def is_running(self) -> bool:
        return self._proc is not None

    @property
    def pid(self) -> int:
        """The running child's process id (0 when none)."""
        return self._pid if self._proc is not None else 0

    def start(self, args: list[str]) -> None:
        """Start ``tfstudio train PROJECT *args --json``; error if a run is in progress."""
        if self._proc is not None:
            raise RuntimeError("a training process is already running")
        self.run_id = None
        self.info = {}
        self._stdout = LineSplitter()
        self._stderr = LineSplitter()
        self._stderr_tail.clear()
        self._done = None
        self._stop_requested = self._forced = self._started_emitted = False
        self._started_at = time.time()
        self._pid = 0
        self._resuming = None

        program, arguments = train_command(self.project_root, args, self.program)
        proc = QProcess(self)
        proc.setProcessEnvironment(child_environment())
        proc.setProgram(program)
        proc.setArguments(arguments)
        proc.readyReadStandardOutput.connect(self._on_stdout_ready)
        proc.readyReadStandardError.connect(self._on_stderr_ready)
        proc.finished.connect(self._on_process_finished)
        proc.errorOccurred.connect(self._on_process_error)
        proc.started.connect(self._on_process_started)
        self._proc = proc
        self._set_state("starting")
        self.log.emit("$ " + " ".join([program, *arguments]))
        proc.start()

    def resume(self, run_id: int, extra_args: list[str] | None = None) -> None:
        """Continue a stopped or killed run from its last checkpoint."""
        self.start(["--resume", str(run_id), *(extra_args or [])])
        self._resuming = run_id

    def stop(self) -> None:
        """Ask the child to stop after its current batch; kill it if it has not within
        ``stop_timeout_s``. Calling again while it is stopping kills it at once."""
        if self._proc is None:
            return
        if self._stop_requested:
            self.kill()
            return
        self._stop_requested = True
        self._set_state("stopping")
        self.log.emit("stop requested: finishing the current batch")
        # SIGTERM on Unix: the engine finishes the batch, checkpoints and exits.
        self._proc.terminate()
        self._kill_timer.start(int(self.stop_timeout_s * 1000))

    def kill(self) -> None:
        """Stop at once (SIGKILL); the run is marked stopped in the store afterwards."""
        if self._proc is None:
            return
        self._stop_requested = True
        self._forced = True
        self.log.emit("killing the training process")
        self._proc.kill()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Blocking stop for application exit: graceful, then forced after ``timeout_s``."""
        proc = self._proc
        if proc is None:
            return
        self._stop_requested = True
        proc.terminate()
        if not proc.waitForFinished(int(timeout_s * 1000)):
            self._forced = True
            proc.kill()
            proc.waitForFinished(2000)

    # ------------------------------------------------------------------- output
    def _on_process_started(self) -> None:
        assert self._proc is not None
        self._pid = int(self._proc.processId())
        self._lower_priority()
        self._set_state("running")

    def _lower_priority(self) -> None:
        # Done before the child has imported torch, so its worker threads inherit it.
        if self.niceness is None or not hasattr(os, "setpriority") or not self._pid:
            return
        try:
            current = os.getpriority(os.PRIO_PROCESS, self._pid)
            if current < self.niceness:
                os.setpriority(os.PRIO_PROCESS, self._pid, self.niceness)
        except OSError as exc:
            self.log.emit(f"could not lower the training process's priority: {exc}")

    def _on_stdout_ready(self) -> None:
        if self._proc is None:
            return
        for line in self._stdout.feed(bytes(self._proc.readAllStandardOutput().data())):
            self._handle_line(line)

    def _on_stderr_ready(self) -> None:
        if self._proc is None:
            return
        for line in self._stderr.feed(bytes(self._proc.readAllStandardError().data())):
            self._handle_stderr(line)

    def _handle_stderr(self, line: str) -> None:
        if line.strip():
            self._stderr_tail.append(line)
            self.log.emit(line)

    def _handle_line(self, line: str) -> None:
        event = parse_event(line)
        if event is None:
            if line.strip():
                self.log.emit(line)
            return
        kind = event["event"]
        if event.get("run") is not None and self.run_id is None:
            self.run_id = _as_int(event.get("run"))
        if kind == StartEvent.kind:
            self.info = dict(event)
            self._started_emitted = True
            self.started.emit(event)
        elif kind in (BatchEvent.kind, EpochEvent.kind):
            if not self._started_emitted:
                # An engine that sends no "start" event still gets one "started" signal.
                self._started_emitted = True
                self.started.emit({"event": StartEvent.kind, "run": self.run_id})
            (self.batch if kind == BatchEvent.kind else self.epoch).emit(event)
        elif kind == DoneEvent.kind:
            self._done = dict(event)
        self.event.emit(event)

    # ------------------------------------------------------------------- ending
    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart or self._proc is None:
            return  # crashes and timeouts also arrive through finished()
        reason = self._proc.errorString()
        self._proc.deleteLater()
        self._proc = None
        message = f"Could not start the training process: {reason}."
        self._set_state("idle")
        self.failed.emit(message)
        self.finished.emit(
            {
                "run": None,
                "status": "failed",
                "exit_code": None,
                "crashed": False,
                "forced": False,
                "message": message,
            }
        )

    def _on_kill_timer_timeout(self) -> None:
        if self._proc is not None:
            self.log.emit(f"the process did not stop within {self.stop_timeout_s:g} s")
            self.kill()

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        proc = self._proc
        if proc is None:
            return
        self._kill_timer.stop()
        # Whatever is still in the pipes arrived before the exit: read it first.
        for line in self._stdout.feed(bytes(proc.readAllStandardOutput().data())):
            self._handle_line(line)
        for line in self._stdout.flush():
            self._handle_line(line)
        for line in self._stderr.feed(bytes(proc.readAllStandardError().data())):
            self._handle_stderr(line)
        for line in self._stderr.flush():
            self._handle_stderr(line)
        proc.deleteLater()
        self._proc = None

        crashed = exit_status == QProcess.ExitStatus.CrashExit
        result = self._outcome(exit_code, crashed)
        self._set_state("idle")
        if result["status"] == "failed":
            self.failed.emit(result["message"])
        self.finished.emit(result)

    def _outcome(self, exit_code: int, crashed: bool) -> dict[str, Any]:
        done = self._done or {}
        stderr_tail = "\n".join(self._stderr_tail)
        code: int | None = None if crashed else exit_code
        if done.get("status"):
            status = str(done["status"])
        elif self._stop_requested:
            # Stopped on request, whether the engine caught SIGTERM or died of it.
            status = "stopped"
        elif code == 0:
            # Exited cleanly without a "done" line: trust the store (read below).
            status = "done"
        else:
            status = "failed"

        detail = str(done.get("message") or "")
        try:
            with Project.open(self.project_root) as project:
                run = self._find_run(project)
                recorded = run is not None and run.status not in _UNFINISHED
                if run is not None and recorded:
                    # The engine recorded its own ending (done, stopped, or failed and why).
                    status, detail = run.status, detail or run.message
                elif status == "done" and self._done is None:
                    # A clean exit that never said "done" and left the run open is no success.
                    status = "failed"
                message = self._message(status, detail, code, crashed, stderr_tail)
                if run is not None and not recorded:
                    project.update_run(
                        run.id, status=status, message=message, finished_at=time.time()
                    )
        except (ProjectError, OSError) as exc:
            run = None
            message = self._message(status, detail, code, crashed, stderr_tail)
            self.log.emit(f"could not read or record the run's status: {exc}")
        result: dict[str, Any] = {
            **done,
            "event": "finished",
            "run": self.run_id,
            "status": status,
            "exit_code": code,
            "crashed": crashed,
            "forced": self._forced,
            "message": message,
            "elapsed_s": time.time() - self._started_at,
        }
        if run is not None and not result.get("best_checkpoint"):
            result["best_checkpoint"] = run.best_checkpoint
        return result

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
            if r.pid == self._pid and r.created_at >= self._started_at - 1.0
        ]
        if not mine:
            return None
        self.run_id = mine[-1].id
        return mine[-1]

    def _message(
        self, status: str, detail: str, code: int | None, crashed: bool, stderr_tail: str
    ) -> str:
        if status == "failed":
            return describe_failure(
                stderr_tail=stderr_tail, exit_code=code, crashed=crashed, message=detail
            )
        if status == "stopped" and self._forced:
            return describe_failure(
                stderr_tail=stderr_tail, exit_code=code, crashed=crashed, killed_by_us=True
            )
        if status == "stopped":
            return detail or "Stopped; resume it to continue from its last checkpoint."
        return detail

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
