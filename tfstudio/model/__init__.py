"""The model: a teacher-forced CRNN, teacher-forcing schedules and a sampled softmax (torch only)."""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: the schedules are plain math that the GUI's Train dialog needs at once,
# while the CRNN and sampled softmax pull in torch (seconds to import).
_LAZY = {
    "CRNN": "tfstudio.model.crnn",
    "PRESETS": "tfstudio.model.presets",
    "CRNNConfig": "tfstudio.model.crnn",
    "bce_loss": "tfstudio.model.crnn",
    "config_from_preset": "tfstudio.model.crnn",
    "gru_step": "tfstudio.model.crnn",
    "teacher_forcing_mask": "tfstudio.model.crnn",
    "CandidateSampler": "tfstudio.model.sampled_softmax",
    "SampledSoftmaxLoss": "tfstudio.model.sampled_softmax",
    "SoftmaxOutput": "tfstudio.model.sampled_softmax",
    "expected_counts": "tfstudio.model.sampled_softmax",
    "full_softmax_loss": "tfstudio.model.sampled_softmax",
    "log_uniform_probabilities": "tfstudio.model.sampled_softmax",
    "sampled_softmax_loss": "tfstudio.model.sampled_softmax",
    "SCHEDULE_NAMES": "tfstudio.model.schedules",
    "ClippedSchedule": "tfstudio.model.schedules",
    "ConstantSchedule": "tfstudio.model.schedules",
    "DrossosSchedule": "tfstudio.model.schedules",
    "ExponentialSchedule": "tfstudio.model.schedules",
    "InverseSigmoidSchedule": "tfstudio.model.schedules",
    "LinearSchedule": "tfstudio.model.schedules",
    "NoTeacherForcing": "tfstudio.model.schedules",
    "Schedule": "tfstudio.model.schedules",
    "StepUnitSchedule": "tfstudio.model.schedules",
    "make_schedule": "tfstudio.model.schedules",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CRNN",
    "PRESETS",
    "SCHEDULE_NAMES",
    "CRNNConfig",
    "CandidateSampler",
    "ClippedSchedule",
    "ConstantSchedule",
    "DrossosSchedule",
    "ExponentialSchedule",
    "InverseSigmoidSchedule",
    "LinearSchedule",
    "NoTeacherForcing",
    "SampledSoftmaxLoss",
    "Schedule",
    "SoftmaxOutput",
    "StepUnitSchedule",
    "bce_loss",
    "config_from_preset",
    "expected_counts",
    "full_softmax_loss",
    "gru_step",
    "log_uniform_probabilities",
    "make_schedule",
    "sampled_softmax_loss",
    "teacher_forcing_mask",
]
