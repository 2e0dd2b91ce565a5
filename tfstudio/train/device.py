"""Choosing the device and the mixed-precision mode."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from tfstudio.train.config import TrainError

__all__ = ["amp_dtype", "autocast", "resolve_device"]


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str = "auto", *, local_rank: int = 0) -> torch.device:
    """``auto`` picks cuda › mps › cpu; an explicit device that is absent is a TrainError."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif _mps_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TrainError("CUDA was requested but is not available on this machine")
        return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
    if name == "mps":
        if not _mps_available():
            raise TrainError("MPS was requested but is not available on this machine")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise TrainError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """The autocast dtype: bf16 where the GPU has it, else fp16 (with a GradScaler); CUDA only."""
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    dtype = amp_dtype(device, enabled)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type="cuda", dtype=dtype):
        yield
