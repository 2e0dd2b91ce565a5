"""Training, detection and evaluation, headless: what the GUI's buttons and the CLI run.

- :func:`train` — the training loop as a generator of events (:mod:`.events`), configured by
  :class:`TrainConfig` (presets ``paper`` and ``fast``); stop, resume, DDP under torchrun.
- :func:`parse_event` — a ``train --json`` line's object back as a typed event
  (:class:`EventError` when it claims to be one but is not).
- :func:`detect_recordings` / :func:`load_model` / :func:`posteriors` — a run's model on any recording,
  in bounded memory, with post-processing (:mod:`.postprocess`).
- :func:`evaluate_run` — segment- and event-based DCASE scores of a run on a split
  (:mod:`.metrics`, sed_eval's definitions).
- :func:`create_single_label_demo` — a monophonic demo project with a Zipf vocabulary for the
  single-label task (:mod:`.demo_single`, no torch); :mod:`.single_label` has that task's
  frame labels, overlap check and frame scores.

Names are loaded on first use, so ``tfstudio.train.metrics`` and ``.postprocess`` can be
imported without paying for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TRAIN_PRESETS": "config",
    "TrainConfig": "config",
    "TrainError": "config",
    "RUNTIME_FIELDS": "config",
    "train": "loop",
    "checkpoint_paths": "layout",
    "StopRequest": "loop",
    "TrainEvent": "events",
    "PrepareEvent": "events",
    "StartEvent": "events",
    "BatchEvent": "events",
    "EpochEvent": "events",
    "CheckpointEvent": "events",
    "DoneEvent": "events",
    "EventError": "events",
    "event_types": "events",
    "parse_event": "events",
    "LoadedModel": "detect",
    "DetectReport": "detect",
    "detect_recordings": "detect",
    "load_model": "detect",
    "posteriors": "detect",
    "posteriors_file": "layout",
    "select_run": "layout",
    "run_checkpoint": "detect",
    "evaluate_run": "evaluate",
    "create_single_label_demo": "demo_single",
    "label_decisions": "detect",
    "resolve_device": "device",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tfstudio.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tfstudio.train.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
