"""What the training engine offers on this machine: devices, ``train`` options, preset values.

Asking means importing torch (seconds, and CUDA initialisation), so it is asked once per
session in a child process, off the GUI thread; the answer is cached. Until it arrives,
widgets use the contract's options and a CPU-only guess.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QTimer, Signal

from tfstudio.qt.training.process import child_environment

# The options every engine has (issue 3's contract); anything else is used when present.
CONTRACT_OPTIONS = (
    "--preset",
    "--epochs",
    "--batch-size",
    "--lr",
    "--schedule",
    "--gamma",
    "--p-min",
    "--p-max",
    "--device",
    "--resume",
    "--json",
)

# The engine's presets (tfstudio.train.config.TRAIN_PRESETS), for the moment before the probe
# answers; a test keeps the two in step.
FALLBACK_PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "epochs": 300,
        "lr": 1e-4,
        "batch_size": 8,
        "decay_epochs": 50.0,
        "seq_len": 1024,
        "patience": 50,
        "gamma": 0.125,
    },
    "fast": {
        "epochs": 40,
        "lr": 2e-3,
        "batch_size": 8,
        "decay_epochs": 20.0,
        "seq_len": 256,
        "patience": 15,
        "gamma": 1.0,
    },
}

_PROBE_CODE = r"""
import json, sys
out = {"cuda": [], "cuda_memory": [], "mps": False, "torch": None, "errors": [],
       "options": {}, "presets": {}, "recipe_off": {}}
try:
    import torch
    out["torch"] = torch.__version__
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            out["cuda"].append(torch.cuda.get_device_name(i))
            out["cuda_memory"].append(torch.cuda.get_device_properties(i).total_memory)
    mps = getattr(torch.backends, "mps", None)
    out["mps"] = bool(mps is not None and mps.is_available())
except Exception as exc:
    out["errors"].append("torch: %r" % (exc,))
try:
    import argparse
    from tfstudio.cli import build_parser
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and "train" in action.choices:
            for opt in action.choices["train"]._actions:
                for name in opt.option_strings:
                    default = opt.default
                    if not isinstance(default, (int, float, str, bool, type(None))):
                        default = None
                    out["options"][name] = {
                        "choices": list(opt.choices) if opt.choices else None,
                        "default": default,
                        "help": opt.help if isinstance(opt.help, str) else "",
                        "flag": opt.nargs == 0,
                    }
except Exception as exc:
    out["errors"].append("cli: %r" % (exc,))
try:
    from tfstudio.train.config import TRAIN_PRESETS, TrainConfig
    for name in TRAIN_PRESETS:
        cfg = TrainConfig.from_preset(name).to_dict()
        out["presets"][name] = {k: v for k, v in cfg.items() if isinstance(v, (int, float, str, bool))}
    try:
        from tfstudio.train.config import RECIPE_OFF
        out["recipe_off"] = dict(RECIPE_OFF)
    except ImportError:
        pass  # an engine from before the generalisation recipe
except Exception as exc:
    out["errors"].append("presets: %r" % (exc,))
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""


@dataclass(frozen=True)
class EngineInfo:
    """The answer of one probe; ``known`` is False for the guess used before it arrives."""

    cuda: tuple[str, ...] = ()
    cuda_memory: tuple[int, ...] = ()
    mps: bool = False
    torch: str | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    presets: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(FALLBACK_PRESETS))
    # The generalisation recipe switched off (tfstudio.train.config.RECIPE_OFF): which run-config
    # fields make up the recipe and what "off" means for each; empty until the probe answers.
    recipe_off: dict[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    known: bool = False

    @classmethod
    def guess(cls) -> EngineInfo:
        """What is assumed until the probe answers: CPU only, the contract's options."""
        return cls(options={name: {} for name in CONTRACT_OPTIONS})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineInfo:
        presets = {
            name: {**FALLBACK_PRESETS.get(name, {}), **values}
            for name, values in (data.get("presets") or FALLBACK_PRESETS).items()
        }
        options = data.get("options") or {}
        if "--json" not in options:
            # A CLI that has no train command yet: offer the contract, it will say what fails.
            options = {name: {} for name in CONTRACT_OPTIONS}
        return cls(
            cuda=tuple(data.get("cuda") or ()),
            cuda_memory=tuple(data.get("cuda_memory") or ()),
            mps=bool(data.get("mps")),
            torch=data.get("torch"),
            options=options,
            presets=presets,
            recipe_off=dict(data.get("recipe_off") or {}),
            errors=tuple(data.get("errors") or ()),
            known=True,
        )

    def supports(self, option: str) -> bool:
        return option in self.options

    @property
    def has_recipe(self) -> bool:
        """Whether the generalisation recipe is known and ``train --set`` can change it."""
        return bool(self.recipe_off) and self.supports("--set")

    def auto_device(self) -> str:
        """What ``--device auto`` will pick, in words: the GPU's name, Apple MPS, or CPU."""
        if self.cuda:
            return f"CUDA: {self.cuda[0]}"
        if self.mps:
            return "Apple MPS"
        return "CPU"

    @property
    def has_gpu(self) -> bool:
        return bool(self.cuda) or self.mps


class EngineProbe(QObject):
    """Asks a child Python what the engine offers; ``ready`` carries an :class:`EngineInfo`.

    Use :func:`engine_probe` for the shared instance: the answer is the same for the whole
    session, and so is the child that computes it.
    """

    ready = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.info: EngineInfo | None = None
        self._proc: QProcess | None = None

    def request(self) -> None:
        """Start probing if not done yet; ``ready`` follows (at once when cached)."""
        if self.info is not None:
            QTimer.singleShot(0, self, lambda: self.ready.emit(self.info))
            return
        if self._proc is not None:
            return
        if getattr(sys, "frozen", False):
            # No interpreter to ask in a frozen app; the run itself reports its device.
            self._finish(EngineInfo.guess())
            return
        proc = QProcess(self)
        proc.setProcessEnvironment(child_environment())
        proc.finished.connect(self._on_probe_finished)
        proc.errorOccurred.connect(self._on_probe_error)
        self._proc = proc
        proc.start(sys.executable, ["-c", _PROBE_CODE])

    def _on_probe_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._proc = None
            self._finish(EngineInfo.guess())

    def _on_probe_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        text = bytes(proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        proc.deleteLater()
        lines = [ln for ln in text.splitlines() if ln.startswith("{")]
        try:
            info = EngineInfo.from_json(json.loads(lines[-1]))
        except (IndexError, ValueError):
            info = EngineInfo.guess()
        self._finish(info)

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
