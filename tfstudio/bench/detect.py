"""``tfstudio bench detect``: how fast detection runs from an audio file to stored events.

Builds a throwaway project holding one generated recording of S seconds (a mono WAV at the
preset's feature sample rate, written a block at a time) and a finished run whose checkpoint
is an untrained model of the preset (speed does not depend on the weights), then times
:func:`tfstudio.train.detect.detect_recordings` on it as ``tfstudio detect`` runs it: the
model loaded, the features computed from the file into the cache (removed before every
repeat), the model's posteriors, post-processing and the events stored. The real-time factor
is the audio's length over that whole time; the peak resident memory is the detection's own
(reset before each repeat), so detecting two lengths shows whether memory grows with the
length. Each stage's share (loading the model, features, model, post-processing, storing)
is the detection's own account (:attr:`~tfstudio.train.detect.DetectReport.stage_s`).
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tfstudio.bench.common import PeakRss, rss_mb, write_long_wav
from tfstudio.features import FeatureConfig
from tfstudio.features.cache import FeatureCache, compute_features
from tfstudio.importer import import_audio
from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.store import Project, Recording
from tfstudio.train.checkpoint import write_checkpoint
from tfstudio.train.config import TrainConfig
from tfstudio.train.data import Normalizer, pcen_smoothing
from tfstudio.train.detect import detect_recordings
from tfstudio.train.device import amp_dtype, resolve_device

__all__ = ["DetectBench", "bench_detect"]

Say = Callable[[str], None]


@dataclass
class DetectBench:
    """One ``bench detect`` result: median seconds of the whole detection and of each stage,
    and the detection's peak memory (MiB)."""

    preset: str
    device: str
    threads: int
    amp: str  # the autocast dtype ("off": float32)
    audio_seconds: float
    classes: int
    repeats: int
    seconds: dict[str, float] = field(default_factory=dict)
    events: int = 0
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0
    peak_scoped: bool = True
    # The first features of the process, on one second of audio: mostly importing librosa.
    warm_up_s: float = 0.0

    @property
    def realtime(self) -> float:
        """Seconds of audio detected per second, from the audio file to stored events."""
        return self.audio_seconds / self.seconds["detect"]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "realtime": round(self.realtime, 1)}


def _bench_project(
    root: Path, config: TrainConfig, seconds: float, classes: int, device: torch.device
) -> tuple[Project, Recording, int]:
    """A project with one generated recording and a done run with an untrained checkpoint."""
    feature_config = FeatureConfig.from_dict(config.features)
    project = Project.create(root)
    wav = root / "audio" / "generated.wav"
    write_long_wav(wav, seconds, feature_config.sample_rate)
    report = import_audio(project, [wav], split="test")
    recording = project.recording(report.recording_ids[0])
    names = [f"class{i}" for i in range(classes)]
    project.add_classes(names)
    run = project.create_run(config.to_dict(), name="bench")
    torch.manual_seed(0)
    model_config = config_from_preset(config.preset, feature_config.n_mels, classes, **config.model)
    n_mels = feature_config.n_mels
    normalizer = Normalizer(
        np.zeros(n_mels, np.float32),
        np.ones(n_mels, np.float32),
        config.background_percentile,
        pcen_smoothing(config.pcen_time_constant, feature_config.hop_s),
    )
    checkpoint = project.run_dir(run.id) / "bench.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    write_checkpoint(
        checkpoint,
        {
            "run_id": run.id,
            "model": CRNN(model_config).state_dict(),
            "model_config": model_config.to_dict(),
            "train_config": config.to_dict(),
            "feature_config": feature_config.to_dict(),
            "classes": names,
            "normalizer": normalizer.to_tensors(),
        },
    )
    project.update_run(
        run.id, status="done", best_checkpoint=project.relative_path(checkpoint), device=str(device)
    )
    return project, recording, run.id


def bench_detect(
    preset: str = "fast",
    *,
    seconds: float = 600.0,
    classes: int = 6,
    device: str = "auto",
    repeats: int = 3,
    amp: bool = True,
    say: Say | None = None,
) -> DetectBench:
    """Time detection of ``seconds`` of generated audio with an untrained ``preset`` model,
    from the audio file to stored events (``amp`` False: float32 throughout)."""
    config = dataclasses.replace(TrainConfig.from_preset(preset), amp=amp)
    dev = resolve_device(device)
    with tempfile.TemporaryDirectory(prefix="tfstudio-bench-detect-") as tmp:
        if say is not None:
            say(f"writing {seconds:g} s of generated audio and a project with an untrained model…")
        project, recording, run_id = _bench_project(
            Path(tmp) / "project", config, seconds, classes, dev
        )
        # The first features of a process import their libraries (librosa, numba: seconds);
        # timed apart on a second of audio, so the repeats time detection itself.
        feature_config = FeatureConfig.from_dict(config.features)
        second = Path(tmp) / "warm-up.wav"
        write_long_wav(second, 1.0, feature_config.sample_rate)
        start = time.perf_counter()
        compute_features(second, feature_config)
        warm_up = time.perf_counter() - start
        try:
            result = _measure(project, recording, run_id, config, dev, repeats, say)
        finally:
            project.close()
    result.warm_up_s = round(warm_up, 3)
    return result


def _measure(
    project: Project,
    recording: Recording,
    run_id: int,
    config: TrainConfig,
    dev: torch.device,
    repeats: int,
    say: Say | None,
) -> DetectBench:
    cached = FeatureCache(project.cache_dir, FeatureConfig.from_dict(config.features)).path(
        recording.content_hash
    )
    result = DetectBench(
        preset=config.preset,
        device=str(dev),
        threads=torch.get_num_threads(),
        amp=str(amp_dtype(dev, config.amp) or "off").removeprefix("torch."),
        audio_seconds=recording.duration,
        classes=len(project.classes()),
        repeats=repeats,
        rss_before_mb=round(rss_mb(), 1),
    )
    times: dict[str, list[float]] = {}
    peaks: list[float] = []
    peak = PeakRss()
    for repeat in range(1, repeats + 1):
        # As a first 'tfstudio detect' of a new recording: no features cached, no posteriors.
        cached.unlink(missing_ok=True)
        peak.reset()
        start = time.perf_counter()
        report = detect_recordings(
            project, [recording], run_id=run_id, device=dev.type, reuse_posteriors=False
        )
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elapsed = time.perf_counter() - start
        peaks.append(peak.mb())
        result.events = report.events
        for name, seconds in {"detect": elapsed, **report.stage_s}.items():
            times.setdefault(name, []).append(seconds)
        if say is not None:
            say(f"  repeat {repeat}/{repeats}: {elapsed:.2f} s, peak {peaks[-1]:.0f} MiB")
    result.seconds = {name: statistics.median(values) for name, values in times.items()}
    result.peak_rss_mb = round(max(peaks), 1)
    result.peak_scoped = peak.scoped
    return result
