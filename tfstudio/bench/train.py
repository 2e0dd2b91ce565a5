"""``tfstudio bench train``: how fast the CRNN trains (``bench detect`` is :mod:`.detect`).

``train`` times one training step of a preset's model (the training preset's features, pools
and sizes) on random input: the whole step as training runs it (the two-pass forward: a
no-grad stepped pass that decides the feedback, then one fused GRU), the same step with the
stepped recurrence under autograd (the reference the fused one replaced), and their parts —
the CNN alone and the recurrent part alone — plus inference.

Timings are medians over repeats after a warm-up; CUDA is synchronised around each one and
runs under the preset's autocast (``amp``), as training does.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from tfstudio.features import FeatureConfig
from tfstudio.model.crnn import CRNN, bce_loss, config_from_preset, teacher_forcing_mask
from tfstudio.train.config import TrainConfig
from tfstudio.train.device import autocast, resolve_device

__all__ = ["TrainBench", "bench_train"]


@dataclass
class TrainBench:
    """One ``bench train`` result: the setting and the median seconds of each measurement."""

    preset: str
    device: str
    threads: int
    batch_size: int
    frames: int
    classes: int
    n_mels: int
    parameters: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def frames_per_second(self) -> float:
        """Training frames (sequences × frames) per second of a whole step."""
        return self.batch_size * self.frames / self.seconds["step"]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "frames_per_second": round(self.frames_per_second, 1)}


def _median_time(
    run: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1
) -> float:
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _model(config: TrainConfig, n_mels: int, classes: int, device: torch.device) -> CRNN:
    torch.manual_seed(0)
    model_config = config_from_preset(config.preset, n_mels, classes, **config.model)
    return CRNN(model_config).to(device)


def bench_train(
    preset: str = "fast",
    *,
    batch_size: int | None = None,
    frames: int | None = None,
    classes: int = 6,
    device: str = "auto",
    repeats: int = 5,
    tf_prob: float = 0.5,
) -> TrainBench:
    """Time a training step of ``preset`` (batch and sequence length default to its own)."""
    config = TrainConfig.from_preset(preset)
    dev = resolve_device(device)
    batch = batch_size or config.batch_size
    steps = frames or config.seq_len
    n_mels = FeatureConfig.from_dict(config.features).n_mels
    model = _model(config, n_mels, classes, dev).train()
    features = torch.randn(batch, steps, n_mels, device=dev)
    targets = (torch.rand(batch, steps, classes, device=dev) > 0.8).float()
    # On a GPU the probability stays a device tensor: no host sync per step.
    p_tf: float | torch.Tensor = (
        torch.tensor(tf_prob, device=dev) if dev.type == "cuda" else tf_prob
    )
    amp = config.amp

    def step(fused: bool) -> Callable[[], None]:
        def run() -> None:
            model.fused = fused
            model.zero_grad(set_to_none=True)
            with autocast(dev, amp):
                loss = bce_loss(model(features, targets, p_tf), targets)
            loss.backward()

        return run

    def cnn() -> None:
        model.zero_grad(set_to_none=True)
        with autocast(dev, amp):
            out = model.encode(features)
        out.float().sum().backward()

    with torch.no_grad(), autocast(dev, amp):
        encoded = model.encode(features).float()
    mask = teacher_forcing_mask(batch, steps, tf_prob, device=dev).unbind(1)

    def recurrent(fused: bool) -> Callable[[], None]:
        def run() -> None:
            model.zero_grad(set_to_none=True)
            x = encoded.detach().requires_grad_(True)
            with autocast(dev, amp):
                if fused:
                    with torch.no_grad():
                        _, fed = model._stepped(x.detach(), targets, mask)
                    logits = model._fused(x, fed)
                else:
                    logits, _ = model._stepped(x, targets, mask)
            bce_loss(logits.float(), targets).backward()

        return run

    def predict() -> None:
        with autocast(dev, amp):
            model.predict(features)

    result = TrainBench(
        preset=preset,
        device=str(dev),
        threads=torch.get_num_threads(),
        batch_size=batch,
        frames=steps,
        classes=classes,
        n_mels=n_mels,
        parameters=sum(p.numel() for p in model.parameters()),
    )
    for name, run in (
        ("step", step(True)),
        ("step_stepped", step(False)),
        ("cnn", cnn),
        ("recurrent", recurrent(True)),
        ("recurrent_stepped", recurrent(False)),
        ("predict", predict),
    ):
        result.seconds[name] = _median_time(run, dev, repeats)
    model.fused = True
    return result
