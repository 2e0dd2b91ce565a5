"""What training can use on this machine: the train command's options, presets and recipe, and
the devices it can train on.

Each comes from one place. The presets, the generalisation recipe and ``train``'s options are
read here, in the GUI process, from :mod:`tfstudio.train.config` and
:func:`tfstudio.cli.train_cmds.train_options` (neither imports torch). The devices and versions
need torch (seconds, and CUDA initialisation), so a child ``tfstudio doctor --json`` is asked
once per session, off the GUI thread, and its answer is cached. Until it arrives, the devices
are a CPU-only guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from tfstudio.qt.job import CliJob, JobResult, tfstudio_command
from tfstudio.train.config import RECIPE_OFF, TRAIN_PRESETS, TrainConfig

# Loading torch and initialising CUDA takes seconds; a driver that hangs must not leave the
# dialog waiting for ever.
PROBE_TIMEOUT_S = 120.0


@cache
def _option_names() -> frozenset[str]:
    # Imported here: the command line's modules are not needed until a dialog asks.
    from tfstudio.cli.train_cmds import train_options

    return frozenset(name for option in train_options() for name in option["names"])


def _presets() -> dict[str, dict[str, Any]]:
    return {name: TrainConfig.from_preset(name).to_dict() for name in TRAIN_PRESETS}


@dataclass(frozen=True)
class EngineInfo:
    """What training can use. ``known`` says whether ``tfstudio doctor`` has answered: until
    then the devices are a guess (CPU only); options, presets and recipe are always this
    tfstudio's own.
    """

    cuda: tuple[str, ...] = ()
    cuda_memory: tuple[int, ...] = ()  # bytes, one per CUDA device
    mps: bool = False
    # What ``--device auto`` picks as the doctor says it ("cuda:0", "mps", "cpu"); None: unknown.
    auto: str | None = None
    versions: dict[str, str | None] = field(default_factory=dict)
    # ``train``'s option strings; ``presets`` are TrainConfig.from_preset(name).to_dict().
    options: frozenset[str] = field(default_factory=_option_names)
    presets: dict[str, dict[str, Any]] = field(default_factory=_presets)
    # The generalisation recipe switched off (tfstudio.train.config.RECIPE_OFF): which run-config
    # fields make up the recipe and what "off" means for each.
    recipe_off: dict[str, Any] = field(default_factory=lambda: dict(RECIPE_OFF))
    errors: tuple[str, ...] = ()
    known: bool = False

    @classmethod
    def guess(cls) -> EngineInfo:
        """What is assumed until the doctor answers: CPU only."""
        return cls()

    @classmethod
    def from_doctor(cls, report: dict[str, Any]) -> EngineInfo:
        """The devices and versions of a ``tfstudio doctor --json`` report."""
        devices = [d for d in report.get("devices") or () if isinstance(d, dict)]
        cuda = [d for d in devices if str(d.get("device", "")).startswith("cuda")]
        return cls(
            cuda=tuple(str(d.get("name") or d["device"]) for d in cuda),
            cuda_memory=tuple(int(d.get("memory_bytes") or 0) for d in cuda),
            mps=any(d.get("device") == "mps" for d in devices),
            auto=report.get("auto_device"),
            versions=dict(report.get("versions") or {}),
            errors=tuple(str(e) for e in report.get("errors") or ()),
            known=True,
        )

    @property
    def torch(self) -> str | None:
        """torch's version (None when unknown or missing)."""
        return self.versions.get("torch")

    def supports(self, option: str) -> bool:
        return option in self.options

    @property
    def has_recipe(self) -> bool:
        """Whether the generalisation recipe is known and ``train --set`` can change it."""
        return bool(self.recipe_off) and self.supports("--set")

    def auto_device(self) -> str:
        """What ``--device auto`` will pick, in words: the GPU's name, Apple MPS, or CPU."""
        auto = self.auto or ("cuda:0" if self.cuda else "mps" if self.mps else "cpu")
        kind, _, index = auto.partition(":")
        if kind == "cuda":
            i = int(index) if index.isdigit() else 0
            return f"CUDA: {self.cuda[i]}" if i < len(self.cuda) else auto.upper()
        return "Apple MPS" if kind == "mps" else "CPU"

    @property
    def has_gpu(self) -> bool:
        return bool(self.cuda) or self.mps


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
            self._finish(EngineInfo(errors=(outcome.message.replace("Could", "could", 1),)))
            return
        # The last JSON object the child printed (a library may print before it).
        if outcome.result:
            self._finish(EngineInfo.from_doctor(outcome.result))
            return
        if self._timed_out:
            reason = "tfstudio doctor did not answer and was stopped"
        else:
            reason = f"tfstudio doctor gave no answer (exit code {outcome.exit_code})"
        self._finish(EngineInfo(errors=(": ".join([reason, *outcome.stderr_tail[-1:]]),)))

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
