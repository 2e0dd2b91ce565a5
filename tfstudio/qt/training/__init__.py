"""Training from the GUI: the Train dialog, the child-process runner, the live panel and the
run history.

- :class:`TrainDialog` — choose preset, optimisation, teacher-forcing schedule (with a preview
  of p_tf), device and data; ``config()`` is the ``tfstudio train`` argument list.
- :class:`TrainingJob` — runs ``tfstudio train PROJECT … --json`` in a child process (a
  :class:`~tfstudio.qt.job.Job`) and turns its JSON lines into typed events
  (:mod:`tfstudio.train.events`) on Qt signals; stop (graceful, then forced) and resume.
- :class:`TrainingPanel` — Train/Stop/Resume buttons and live curves of one run.
- :class:`RunHistory` — every run in the store, their curves, two or more overlaid.
- :class:`EngineProbe` / :func:`engine_info` — what training can use on this machine (a
  :class:`~tfstudio.session.engine.EngineInfo`): devices from a child ``tfstudio doctor --json``,
  and this tfstudio's own options, presets and recipe at once.
"""

from tfstudio.qt.training.dialog import TrainDialog
from tfstudio.qt.training.engine import EngineProbe, engine_info, engine_probe
from tfstudio.qt.training.history import RunHistory
from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.qt.training.process import TrainingJob

__all__ = [
    "EngineProbe",
    "RunHistory",
    "TrainDialog",
    "TrainingJob",
    "TrainingPanel",
    "engine_info",
    "engine_probe",
]
