"""What training can use on this machine, as the Train dialog sees it: devices and versions
(from ``tfstudio doctor --json``), ``train``'s options, the presets and the generalisation
recipe.

The presets and recipe are read here from :mod:`tfstudio.train.config` (no torch). ``train``'s
option strings come from the command line's parser, which sits above this package:
:func:`tfstudio.qt.training.engine.engine_info` passes them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tfstudio.train.config import RECIPE_OFF, TRAIN_PRESETS, TrainConfig


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
    options: frozenset[str] = frozenset()
    presets: dict[str, dict[str, Any]] = field(default_factory=_presets)
    # The generalisation recipe switched off (tfstudio.train.config.RECIPE_OFF): which run-config
    # fields make up the recipe and what "off" means for each.
    recipe_off: dict[str, Any] = field(default_factory=lambda: dict(RECIPE_OFF))
    errors: tuple[str, ...] = ()
    known: bool = False

    @classmethod
    def from_doctor(cls, report: dict[str, Any], options: Iterable[str] = ()) -> EngineInfo:
        """The devices and versions of a ``tfstudio doctor --json`` report."""
        devices = [d for d in report.get("devices") or () if isinstance(d, dict)]
        cuda = [d for d in devices if str(d.get("device", "")).startswith("cuda")]
        return cls(
            cuda=tuple(str(d.get("name") or d["device"]) for d in cuda),
            cuda_memory=tuple(int(d.get("memory_bytes") or 0) for d in cuda),
            mps=any(d.get("device") == "mps" for d in devices),
            auto=report.get("auto_device"),
            versions=dict(report.get("versions") or {}),
            options=frozenset(options),
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
