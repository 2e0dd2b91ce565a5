"""Choosing the device and the mixed-precision mode."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import torch

from tfstudio.train.config import TrainError

__all__ = ["amp_dtype", "autocast", "cpu_has_bf16", "place_model", "resolve_device"]


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


_Module = TypeVar("_Module", bound=torch.nn.Module)


def place_model(model: _Module, device: torch.device) -> _Module:
    """``model`` moved to ``device``, its convolution weights channels-last on a CPU (training,
    detection and the benches alike).

    oneDNN convolves NHWC without reordering every layer's input and output. Paper preset,
    2 shared CPU cores: one detection window 1.9–2.2 s instead of 2.4–2.8 s (the same
    posteriors within 2e-7); the CNN's forward + backward of a training batch (B 8, T 512)
    1.89 s instead of 2.29–2.39 s under bf16 autocast, 3.76 s instead of 4.40–4.52 s in float32
    (one thread, alternated). Checkpoints hold the same values either way."""
    model.to(device)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX-512 BF16 or AMX; read from Linux's
    /proc/cpuinfo, so False elsewhere). Without it oneDNN emulates bf16, slower than fp32."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """The autocast dtype, or None for plain float32.

    CUDA: bf16 where the GPU has it, else fp16 (with a GradScaler). CPU: bf16 where the CPU
    has native bf16 instructions. The autocast covers the CNN only (the recurrent passes run
    in float32, see tfstudio.model.crnn), which is where bf16 pays: on this project's 2-core
    AVX-512 BF16 machine the paper preset's training step took 5.47 → 3.54 s.
    """
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    dtype = amp_dtype(device, enabled)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield
