"""What training can use on this machine: the train command's options, presets and recipe, and
the devices it can train on.

Each comes from one place, and what it says is a :class:`~tfstudio.session.engine.EngineInfo`.
The presets and the generalisation recipe are read in the GUI process from
:mod:`tfstudio.train.config`, ``train``'s options from :func:`tfstudio.cli.train_cmds.train_options`
(neither imports torch). The devices and versions need torch (seconds, and CUDA
initialisation), so a child ``tfstudio doctor --json`` is asked once per session, off the GUI
thread, and its answer is cached. Until it arrives, the devices are a CPU-only guess.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from tfstudio.qt.job import CliJob
from tfstudio.session.engine import EngineInfo
from tfstudio.session.jobs import JobResult, tfstudio_command

# Loading torch and initialising CUDA takes seconds; a driver that hangs must not leave the
# dialog waiting for ever.
PROBE_TIMEOUT_S = 120.0


@cache
def train_option_names() -> frozenset[str]:
    """``tfstudio train``'s option strings, from the command line's own parser."""
    # Imported here: the command line's modules are not needed until a dialog asks.
    from tfstudio.cli.train_cmds import train_options

    return frozenset(name for option in train_options() for name in option["names"])


def engine_info(**fields: Any) -> EngineInfo:
    """An :class:`EngineInfo` with this tfstudio's ``train`` options; with no ``fields``, the
    guess that holds until the doctor answers (CPU only)."""
    fields.setdefault("options", train_option_names())
    return EngineInfo(**fields)


class EngineProbe(QObject):
    """Asks a child ``tfstudio doctor --json`` for the devices; ``ready`` carries an
    :class:`EngineInfo` (a guess with ``errors`` when the child gave no answer).

    Use :func:`engine_probe` for the shared instance: the answer is the same for the whole
    session, and so is the child that computes it. ``program`` replaces ``tfstudio`` (tests).
    """

    ready = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
        timeout_s: float = PROBE_TIMEOUT_S,
    ) -> None:
        super().__init__(parent)
        self.info: EngineInfo | None = None
        self.program = program
        self._job: CliJob | None = None
        self._timed_out = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(timeout_s * 1000))
        self._timer.timeout.connect(self._on_timeout)

    def command(self) -> tuple[str, list[str]]:
        """The program and arguments of the child (built as every job builds its own)."""
        return tfstudio_command(["doctor", "--json"], self.program)

    def request(self) -> None:
        """Start probing if not done yet; ``ready`` follows (at once when cached)."""
        if self.info is not None:
            QTimer.singleShot(0, self, lambda: self.ready.emit(self.info))
            return
        if self._job is not None:
            return
        job = CliJob("doctor", ["--json"], self, program=self.program)
        job.finished.connect(self._on_job_finished)
        self._job = job
        self._timed_out = False
        self._timer.start()
        job.start()

    def _on_timeout(self) -> None:
        if self._job is not None:
            self._timed_out = True
            self._job.kill()  # finished() follows

    def _on_job_finished(self, outcome: JobResult) -> None:
        job, self._job = self._job, None
        self._timer.stop()
        if job is not None:
            job.deleteLater()
        if not outcome.started:
            self._finish(engine_info(errors=(outcome.message.replace("Could", "could", 1),)))
            return
        # The last JSON object the child printed (a library may print before it).
        if outcome.result:
            self._finish(EngineInfo.from_doctor(outcome.result, train_option_names()))
            return
        if self._timed_out:
            reason = "tfstudio doctor did not answer and was stopped"
        else:
            reason = f"tfstudio doctor gave no answer (exit code {outcome.exit_code})"
        self._finish(engine_info(errors=(": ".join([reason, *outcome.stderr_tail[-1:]]),)))

    def _finish(self, info: EngineInfo) -> None:
        self.info = info
        self.ready.emit(info)


_shared: EngineProbe | None = None


def engine_probe() -> EngineProbe:
    """The session's shared probe (parented to the application, so it lives as long)."""
    global _shared
    if _shared is None:
        _shared = EngineProbe(QCoreApplication.instance())
    return _shared
