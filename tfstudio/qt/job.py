"""The GUI's one way to run work: a ``tfstudio`` command in a child process.

Models never run in the GUI process: torch's import, a crash, an out-of-memory kill or a CUDA
fault end the child, not the window, and a stop is a signal. :class:`Job` starts
``tfstudio COMMAND …`` with QProcess, splits its output into lines
(:class:`~tfstudio.session.stream.LineSplitter`: a pipe hands over pieces, a JSON object is
decoded only once its newline has arrived), stops it (SIGTERM, then SIGKILL after a timeout)
and says how it ended. Subclasses add what their command needs: :class:`CliJob` reads progress
lines, :class:`~tfstudio.qt.training.process.TrainingJob` reads typed training events and
repairs the run in the store when the child died before it could, and
:class:`~tfstudio.qt.jobs.DetectJob` reads detection's progress lines. The command line, the
environment, the outcome (:class:`JobResult`) and the failure message are Qt-free, in
:mod:`tfstudio.session.jobs`.
"""

from __future__ import annotations

import functools
import os
import time
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from tfstudio.launch import EXIT_SKIPPED
from tfstudio.session.jobs import JobResult, child_variables, exit_failure, tfstudio_command
from tfstudio.session.stream import LineSplitter, decode_line

DEFAULT_STOP_TIMEOUT_S = 3.0
STDERR_TAIL_LINES = 20
# How long a job whose owner is being destroyed waits for its killed child.
REAP_TIMEOUT_MS = 2000


def child_environment() -> QProcessEnvironment:
    """The GUI's environment with a child's own variables on top (:func:`child_variables`)."""
    env = QProcessEnvironment.systemEnvironment()
    for key, value in child_variables(os.environ).items():
        env.insert(key, value)
    return env


class Job(QObject):
    """One ``tfstudio *args`` child at a time: start, follow, stop (graceful, then forced).

    Signals: ``started`` (the child runs; :attr:`pid` is known), ``line`` (each line for the
    log: the command, the child's lines that are no JSON object, stderr's, and what the job
    did), ``output`` (each JSON object on stdout), ``state_changed`` (idle, starting, running,
    stopping) and ``finished`` (always once, always last, also when the program could not be
    started): a :class:`JobResult`, or what :meth:`conclude` of a subclass makes of it.

    A job stops and reaps its child when it is destroyed (its owner closed), so no child
    outlives the window and Qt never destroys a running QProcess.
    """

    started = Signal()
    line = Signal(str)
    output = Signal(dict)
    finished = Signal(object)
    state_changed = Signal(str)

    stderr_tail_lines = STDERR_TAIL_LINES
    stop_notice = "stop requested"
    # Exit 3 (the command line's EXIT_SKIPPED) after a summary object means "done, some items
    # skipped" for commands that say so; the JobResult's message holds the "skipped …" lines.
    done_with_skips = False

    def __init__(
        self,
        args: list[str],
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
        niceness: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.args = list(args)
        self.program = program
        self.stop_timeout_s = stop_timeout_s
        self.niceness = niceness
        self.state = "idle"
        self.started_at = 0.0  # time.time() at start (runs record their creation time so)
        self._proc: QProcess | None = None
        self._pid = 0
        self._stdout = LineSplitter()
        self._stderr = LineSplitter()
        self._stderr_tail: deque[str] = deque(maxlen=self.stderr_tail_lines)
        self._last: dict[str, Any] = {}
        self._stop_requested = False
        self._forced = False
        self._forced_by_user = False
        self._clock = 0.0
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._on_kill_timer_timeout)
        # Holds the running QProcess for the reaper, which must not hold the job itself.
        self._reap_slot: list[QProcess | None] = [None]
        self.destroyed.connect(functools.partial(_reap, self._reap_slot))

    # ------------------------------------------------------------------ control
    @property
    def name(self) -> str:
        """``tfstudio detect`` (for messages)."""
        return " ".join(["tfstudio", *self.args[:1]])

    def command(self) -> tuple[str, list[str]]:
        """The program and arguments of the child."""
        return tfstudio_command(self.args, self.program)

    def is_running(self) -> bool:
        return self._proc is not None

    @property
    def pid(self) -> int:
        """The running child's process id (0 when none)."""
        return self._pid if self._proc is not None else 0

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def start(self) -> None:
        """Start the child; error if this job's child is still running."""
        if self._proc is not None:
            raise RuntimeError(f"'{self.name}' is already running")
        self._stdout = LineSplitter()
        self._stderr = LineSplitter()
        self._stderr_tail.clear()
        self._last = {}
        self._stop_requested = self._forced = self._forced_by_user = False
        self._pid = 0
        self.started_at = time.time()
        self._clock = time.monotonic()

        program, arguments = self.command()
        proc = QProcess(self)
        proc.setProcessEnvironment(child_environment())
        proc.setProgram(program)
        proc.setArguments(arguments)
        proc.readyReadStandardOutput.connect(self._on_stdout_ready)
        proc.readyReadStandardError.connect(self._on_stderr_ready)
        proc.finished.connect(self._on_process_finished)
        proc.errorOccurred.connect(self._on_process_error)
        proc.started.connect(self._on_process_started)
        self._proc = self._reap_slot[0] = proc
        self._set_state("starting")
        self.line.emit("$ " + " ".join([program, *arguments]))
        proc.start()

    def stop(self) -> None:
        """Ask the child to stop (SIGTERM: finish what it is doing, keep what it stored); kill
        it if it has not ended within ``stop_timeout_s``. Calling again kills it at once."""
        if self._proc is None:
            return
        if self._stop_requested:
            self._forced_by_user = True  # a second press: the user's choice, not a timeout
            self.kill()
            return
        self._stop_requested = True
        self._set_state("stopping")
        self.line.emit(self.stop_notice)
        self._proc.terminate()
        self._kill_timer.start(int(self.stop_timeout_s * 1000))

    def kill(self) -> None:
        """Stop at once (SIGKILL); ``finished`` follows."""
        if self._proc is None:
            return
        self._stop_requested = True
        self._forced = True
        self.line.emit(f"killing the '{self.name}' process")
        self._proc.kill()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Blocking stop for closing the window: graceful, then forced after ``timeout_s``.
        ``finished`` is emitted before this returns."""
        proc = self._proc
        if proc is None:
            return
        self._stop_requested = True
        proc.terminate()
        if not proc.waitForFinished(int(timeout_s * 1000)):
            self._forced = True
            proc.kill()
            proc.waitForFinished(REAP_TIMEOUT_MS)

    # ------------------------------------------------------------ for subclasses
    def handle_object(self, obj: dict[str, Any]) -> None:
        """A JSON object from stdout; subclasses read their own records here (call super)."""
        self.output.emit(obj)

    def handle_line(self, text: str) -> None:
        """A line of stdout that is no JSON object (log output)."""
        if text.strip():
            self.line.emit(text)

    def conclude(self, result: JobResult) -> Any:
        """What ``finished`` carries. The hook for a subclass to read, or repair, what the
        child recorded in the store: a crashed or killed child could not record its end."""
        return result

    def start_failure(self, reason: str) -> str:
        """What to say when the program could not be started (``reason`` is Qt's)."""
        return f"Could not start '{self.name}': {reason}"

    def failure_message(self, exit_code: int | None, crashed: bool) -> str:
        """Why the child failed, from its stderr: the CLI's ``error: …`` line, else the tail."""
        return exit_failure(self.name, self._stderr_tail, exit_code, crashed)

    # ------------------------------------------------------------------- output
    def _on_process_started(self) -> None:
        assert self._proc is not None
        self._pid = int(self._proc.processId())
        self._lower_priority()
        self._set_state("stopping" if self._stop_requested else "running")
        self.started.emit()

    def _lower_priority(self) -> None:
        # Done before the child has imported torch, so its worker threads inherit it.
        if self.niceness is None or not hasattr(os, "setpriority") or not self._pid:
            return
        try:
            if os.getpriority(os.PRIO_PROCESS, self._pid) < self.niceness:
                os.setpriority(os.PRIO_PROCESS, self._pid, self.niceness)
        except OSError as exc:
            self.line.emit(f"could not lower the child process's priority: {exc}")

    def feed_stdout(self, chunk: bytes) -> None:
        """Read ``chunk`` as if the child had written it to stdout (benchmarks feed it so)."""
        self._read_stdout(self._stdout.feed(chunk))

    def _on_stdout_ready(self) -> None:
        if self._proc is not None:
            self.feed_stdout(bytes(self._proc.readAllStandardOutput().data()))

    def _on_stderr_ready(self) -> None:
        if self._proc is not None:
            self._read_stderr(self._stderr.feed(bytes(self._proc.readAllStandardError().data())))

    def _read_stdout(self, lines: list[str]) -> None:
        for text in lines:
            obj = decode_line(text)
            if obj is None:
                self.handle_line(text)
            else:
                self._last = obj
                self.handle_object(obj)

    def _read_stderr(self, lines: list[str]) -> None:
        for text in lines:
            if text.strip():
                self._stderr_tail.append(text.strip())
                self.line.emit(text)

    # ------------------------------------------------------------------- ending
    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart or self._proc is None:
            return  # crashes and timeouts also arrive through finished()
        reason = self._proc.errorString()
        self._release()
        self._end(JobResult("failed", message=self.start_failure(reason), started=False))

    def _on_kill_timer_timeout(self) -> None:
        if self._proc is not None:
            self.line.emit(f"the process did not stop within {self.stop_timeout_s:g} s")
            self.kill()

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        proc = self._proc
        if proc is None:
            return
        # Whatever is still in the pipes arrived before the exit: read it first.
        self._read_stdout(self._stdout.feed(bytes(proc.readAllStandardOutput().data())))
        self._read_stdout(self._stdout.flush())
        self._read_stderr(self._stderr.feed(bytes(proc.readAllStandardError().data())))
        self._read_stderr(self._stderr.flush())
        self._release()
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        code: int | None = None if crashed else exit_code
        if self._stop_requested:
            status, message = "cancelled", "Cancelled"
        elif code == 0:
            status, message = "done", ""
        elif code == EXIT_SKIPPED and self.done_with_skips and self._last:
            # Done, with some items left out: each said on stderr as "skipped …".
            status = "done"
            message = "\n".join(x for x in self._stderr_tail if x.startswith("skipped "))
        else:
            status, message = "failed", self.failure_message(code, crashed)
        self._end(
            JobResult(
                status,
                dict(self._last),
                message,
                time.monotonic() - self._clock,
                code,
                crashed,
                self._forced,
                tuple(self._stderr_tail),
                forced_by_user=self._forced_by_user,
            )
        )

    def _release(self) -> None:
        self._kill_timer.stop()
        if self._proc is not None:
            self._proc.deleteLater()
        self._proc = self._reap_slot[0] = None

    def _end(self, result: JobResult) -> None:
        outcome = self.conclude(result)
        self._set_state("idle")
        self.finished.emit(outcome)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def _reap(slot: list[QProcess | None], *_args: Any) -> None:
    """Kill and wait for a job's child when the job is destroyed while it runs."""
    proc, slot[0] = slot[0], None
    if proc is None:
        return
    try:
        if proc.state() != QProcess.ProcessState.NotRunning:
            proc.blockSignals(True)  # the job is half gone: none of its slots may run
            proc.kill()
            proc.waitForFinished(REAP_TIMEOUT_MS)
    except RuntimeError:
        pass  # Qt has already deleted it


class CliJob(Job):
    """``tfstudio COMMAND … --json`` (``detect``, ``evaluate``, ``doctor``): progress lines
    (``{"done": n, "total": m, "name": …}``) become ``progress``; ``finished`` carries a
    :class:`JobResult` whose ``result`` is the last object, the command's summary."""

    progress = Signal(int, int, str)  # done, total (0: unknown), what

    def __init__(
        self,
        command: str,
        args: list[str],
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
    ) -> None:
        args = list(args) if "--json" in args else [*args, "--json"]
        super().__init__([command, *args], parent, program=program, stop_timeout_s=stop_timeout_s)
        self.command_name = command

    def cancel(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL); what it already stored stays stored."""
        self.stop()

    def handle_object(self, obj: dict[str, Any]) -> None:
        super().handle_object(obj)
        done, total = obj.get("done"), obj.get("total")
        if isinstance(done, int) and isinstance(total, int):
            self.progress.emit(done, total, str(obj.get("name") or obj.get("recording") or ""))
