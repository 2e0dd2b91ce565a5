"""Run a ``tfstudio`` CLI command (``detect``, ``evaluate``) in a child process with QProcess.

Models never run in the GUI process: torch's import, a crash or an out-of-memory kill stay in
the child. The child writes to the store itself; this object follows its ``--json`` stdout
(one object per line), reports progress and hands over the last object as the result.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from tfstudio.qt.training.process import child_environment, tfstudio_command

STDERR_TAIL_LINES = 20
KILL_AFTER_MS = 3000


@dataclass
class JobResult:
    """How a job ended: ``status`` is done, failed or cancelled; ``result`` its last JSON object."""

    status: str
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    elapsed_s: float = 0.0


class CliJob(QObject):
    """One ``tfstudio COMMAND … --json`` child. ``finished`` is always emitted exactly once."""

    progress = Signal(int, int, str)  # done, total (0: unknown), what
    output = Signal(dict)  # every JSON object the child prints
    finished = Signal(object)  # JobResult

    def __init__(
        self,
        command: str,
        args: list[str],
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
    ):
        super().__init__(parent)
        self.command = command
        self.args = list(args) if "--json" in args else [*args, "--json"]
        self.program = program
        self.started_at = 0.0
        self._proc: QProcess | None = None
        self._buffer = b""
        self._last: dict[str, Any] = {}
        self._stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._stderr_buffer = b""
        self._cancelled = False
        self._kill_timer = QTimer(self, singleShot=True, interval=KILL_AFTER_MS)
        self._kill_timer.timeout.connect(self._on_kill_timeout)

    def is_running(self) -> bool:
        return self._proc is not None

    def start(self) -> None:
        program, arguments = tfstudio_command([self.command, *self.args], self.program)
        proc = QProcess(self)
        proc.setProcessEnvironment(child_environment())
        proc.setProgram(program)
        proc.setArguments(arguments)
        proc.readyReadStandardOutput.connect(self._on_stdout_ready)
        proc.readyReadStandardError.connect(self._on_stderr_ready)
        proc.finished.connect(self._on_process_finished)
        proc.errorOccurred.connect(self._on_process_error)
        self._proc = proc
        self.started_at = time.perf_counter()
        proc.start()

    def cancel(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL); what it already stored stays stored."""
        if self._proc is None:
            return
        self._cancelled = True
        self._proc.terminate()
        self._kill_timer.start()

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Blocking cancel, for closing the window."""
        proc = self._proc
        if proc is None:
            return
        self._cancelled = True
        proc.terminate()
        if not proc.waitForFinished(timeout_ms):
            proc.kill()
            proc.waitForFinished(2000)

    # --------------------------------------------------------------- internals
    def _on_kill_timeout(self) -> None:
        if self._proc is not None:
            self._proc.kill()

    def _on_stdout_ready(self) -> None:
        if self._proc is not None:
            self._feed(bytes(self._proc.readAllStandardOutput().data()))

    def _feed(self, data: bytes, *, final: bool = False) -> None:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if final and self._buffer:
            lines.append(self._buffer)
            self._buffer = b""
        for raw in lines:
            text = raw.decode("utf-8", "replace").strip()
            if not text.startswith("{"):
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            self._last = obj
            self.output.emit(obj)
            # A progress line, should the command print them: {"done": n, "total": m, ...}.
            if isinstance(obj.get("done"), int) and isinstance(obj.get("total"), int):
                what = str(obj.get("name") or obj.get("recording") or "")
                self.progress.emit(obj["done"], obj["total"], what)

    def _on_stderr_ready(self) -> None:
        if self._proc is None:
            return
        self._stderr_buffer += bytes(self._proc.readAllStandardError().data())
        *lines, self._stderr_buffer = self._stderr_buffer.split(b"\n")
        for raw in lines:
            # tqdm redraws with carriage returns: keep the last state of each line.
            text = raw.decode("utf-8", "replace").split("\r")[-1].strip()
            if text:
                self._stderr.append(text)

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart or self._proc is None:
            return  # crashes arrive through finished()
        reason = self._proc.errorString()
        self._proc.deleteLater()
        self._proc = None
        self.finished.emit(
            JobResult("failed", message=f"Could not start 'tfstudio {self.command}': {reason}")
        )

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        proc = self._proc
        if proc is None:
            return
        self._kill_timer.stop()
        self._feed(bytes(proc.readAllStandardOutput().data()), final=True)
        self._stderr_buffer += bytes(proc.readAllStandardError().data())
        self._on_stderr_ready_tail()
        proc.deleteLater()
        self._proc = None
        elapsed = time.perf_counter() - self.started_at
        if self._cancelled:
            result = JobResult("cancelled", self._last, "Cancelled", elapsed)
        elif exit_status == QProcess.ExitStatus.NormalExit and exit_code == 0:
            result = JobResult("done", self._last, "", elapsed)
        else:
            result = JobResult("failed", self._last, self._failure(exit_code, exit_status), elapsed)
        self.finished.emit(result)

    def _on_stderr_ready_tail(self) -> None:
        for raw in self._stderr_buffer.split(b"\n"):
            text = raw.decode("utf-8", "replace").split("\r")[-1].strip()
            if text:
                self._stderr.append(text)
        self._stderr_buffer = b""

    def _failure(self, exit_code: int, exit_status: QProcess.ExitStatus) -> str:
        lines = list(self._stderr)
        # The CLI reports a user error as one "error: ..." line; a crash leaves a traceback.
        errors = [line for line in lines if line.lower().startswith("error")]
        if errors:
            return errors[-1].split(":", 1)[-1].strip() or errors[-1]
        if exit_status == QProcess.ExitStatus.CrashExit:
            detail = f"the 'tfstudio {self.command}' process crashed"
        else:
            detail = f"'tfstudio {self.command}' exited with code {exit_code}"
        tail = "\n".join(lines[-6:])
        return f"{detail}\n{tail}" if tail else detail
