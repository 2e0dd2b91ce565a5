"""Posteriors and detections from a trained run, for recordings of any length.

Features come from the on-disk cache (computed blockwise, read memory-mapped) and are fed to
the model in batches of overlapping windows. Each window starts from a zero recurrent state,
so of every window only the middle part is kept: frames near a window's start lack context.
The CNN sees only a few frames either side, so unless each window is normalised on its own
(background subtraction, PCEN) the windows of a batch share one convolution of the span they
cover, computed in pieces of bounded size: every frame goes through the CNN about once, not
twice. Memory is bounded by one batch of windows plus the (frames, classes) posteriors.

Under ``torchrun`` (RANK / WORLD_SIZE / LOCAL_RANK in the environment) detection shares the
recordings out over the processes: rank r takes recordings r, r + N, r + 2N… of the list and
runs its model on its own GPU (``LOCAL_RANK``). Every rank stores its recordings' detections
in the one project file itself (WAL, a write lock taken up front and a busy timeout serialise
the short per-recording transactions; no two ranks touch the same recording), all under the
one run, so the result is the same set of detections as one process makes. Rank 0 alone
clears stale saved posteriors before anyone starts, and the ranks' reports are gathered so
that each one returns the whole pass's. The processes only exchange small Python objects
(gloo, on any machine), never tensors.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tfstudio.audio import AudioError
from tfstudio.features.cache import FeatureCache
from tfstudio.features.config import FeatureConfig
from tfstudio.model.crnn import CRNN, CRNNConfig
from tfstudio.store import Project, Recording, Run, shown_names
from tfstudio.train.checkpoint import read_checkpoint
from tfstudio.train.config import RECIPE_OFF, TrainConfig, TrainError
from tfstudio.train.data import Normalizer, eval_windows
from tfstudio.train.device import autocast, place_model, resolve_device
from tfstudio.train.distributed import Distributed
from tfstudio.train.layout import (
    STITCHING,
    decisions_file,
    posteriors_dir,
    posteriors_file,
    posteriors_stamp,
    read_posteriors_stamp,
    select_run,
)
from tfstudio.train.postprocess import (
    DetectedEvent,
    decisions_array,
    decisions_to_events,
    posteriors_to_events,
    repeats,
)

__all__ = [
    "POSTPROCESS_FIELDS",
    "DetectReport",
    "LoadedModel",
    "detect_recordings",
    "label_decisions",
    "load_model",
    "posteriors",
    "run_checkpoint",
    "select_run",
    "torchrun_ranks",
]


# The run settings that turn posteriors into events.
POSTPROCESS_FIELDS = (
    "threshold",
    "median_filter_frames",
    "min_event_s",
    "min_gap_s",
    "class_thresholds",
    "class_median_filter_frames",
    "hysteresis",
    "class_hysteresis",
)


@dataclass
class LoadedModel:
    """A model ready for inference with everything needed to feed it and read its output."""

    model: CRNN
    classes: list[str]
    feature_config: FeatureConfig
    normalizer: Normalizer
    config: TrainConfig
    device: torch.device
    run_id: int | None = None
    epoch: int = 0
    iteration: int = 0

    @property
    def single_label(self) -> bool:
        """A single-label run: :meth:`posteriors` gives decisions (frames, 2), not
        (frames, classes) posteriors (see :mod:`tfstudio.train.postprocess`)."""
        return self.model.config.single_label

    @property
    def output_width(self) -> int:
        """Columns of what :meth:`posteriors` returns."""
        return 2 if self.single_label else len(self.classes)

    def thresholds(
        self,
        threshold: float | Sequence[float] | None = None,
        class_thresholds: Mapping[str, float] | None = None,
    ) -> list[float]:
        """Each class's threshold: the run's (tuned per class), or ``threshold`` for all,
        then ``class_thresholds`` for the classes it names."""
        if threshold is None:
            values = self.config.thresholds_for(self.classes)
        elif isinstance(threshold, int | float):
            values = [float(threshold)] * len(self.classes)
        else:
            values = [float(t) for t in threshold]
        for name, value in (class_thresholds or {}).items():
            if name not in self.classes:
                raise TrainError(
                    f"no class {name!r} in run {self.run_id}; its classes: {', '.join(self.classes)}"
                )
            values[self.classes.index(name)] = float(value)
        return values

    def posteriors(self, features: np.ndarray, *, batch_size: int = 16) -> np.ndarray:
        """(frames, classes) probabilities for one recording's (frames, n_mels) features; a
        single-label run's decisions (frames, 2) instead. On a CPU at most
        :func:`cpu_windows` windows go through the CNN at a time (:func:`encoded_windows`)."""
        return posteriors(
            self.model,
            features,
            self.normalizer,
            seq_len=self.config.seq_len,
            batch_size=batch_size,
            amp=self.config.amp,
        )

    def events(
        self,
        post: np.ndarray,
        *,
        threshold: float | Sequence[float] | None = None,
        class_thresholds: Mapping[str, float] | None = None,
    ) -> list[DetectedEvent]:
        """Post-processed events with the run's settings: its per-class thresholds and median
        filters (tuned on the val split at the end of training), minimum durations and gaps.
        ``threshold`` replaces every class's threshold, then ``class_thresholds`` those of
        the classes it names."""
        cfg = self.config
        settings: dict[str, Any] = dict(
            threshold=self.thresholds(threshold, class_thresholds),
            median_filter_frames=cfg.median_filters_for(self.classes),
            min_event_s=cfg.min_event_s,
            min_gap_s=cfg.min_gap_s,
        )
        if self.single_label:
            return decisions_to_events(post, self.classes, self.feature_config.hop_s, **settings)
        return posteriors_to_events(
            post,
            self.classes,
            self.feature_config.hop_s,
            **settings,
            hysteresis=cfg.hysteresis_for(self.classes),
        )


# What one layer's output of a batch of windows may take on a CPU (MiB). The first
# convolution's output, channels × frames × mel bands, is the largest tensor of a forward:
# 40 MiB a window at the paper preset (256 × 1024 × 40 floats), so 16 windows made each
# such layer 640 MiB. On 2 shared cores one window at a time took 2.0–2.8 s, four at a time
# 5–9 s a window (channels-last, 3 rounds side by side): where each window is convolved on
# its own (a per-window normalisation, :func:`encoded_windows`) the paper preset runs one
# window at a time on a CPU; the fast preset's windows (2 MiB) still go 16 at a time.
CPU_LAYER_MIB = 64


def cpu_windows(config: CRNNConfig, seq_len: int) -> int:
    """How many windows of ``seq_len`` frames to run at a time on a CPU: as many as keep the
    largest layer output within :data:`CPU_LAYER_MIB`, at least one."""
    layer = config.channels * seq_len * config.n_mels * 4
    return max(1, (CPU_LAYER_MIB << 20) // layer)


# What one layer's output of a piece of a span may take on a CPU (MiB) when windows share
# their convolution: 512 frames at the paper preset. Paper preset, a minute, 2 CPU cores:
# pieces of 1 638 frames (64 MiB) peaked 279 MiB over the process's size, 512 frames 179 MiB,
# at the same speed (oneDNN's temporaries scale with the piece).
CPU_PIECE_MIB = 20


def cpu_convolved_frames(config: CRNNConfig) -> int:
    """How many frames to convolve at a time on a CPU: as many as keep the largest layer
    output within :data:`CPU_PIECE_MIB`, at least 64."""
    return max(64, (CPU_PIECE_MIB << 20) // (config.channels * config.n_mels * 4))


def encoded_windows(
    model: CRNN,
    features: np.ndarray,
    normalizer: Normalizer,
    starts: Sequence[int],
    window: int,
    batch_size: int,
) -> Iterator[tuple[int, torch.Tensor]]:
    """(index of the first window, encoded windows (b, window, encoded_features)) for the
    windows starting at ``starts``, ``batch_size`` at a time; call under ``torch.no_grad()``
    in eval mode (and autocast, if wanted).

    With a per-frame normalisation the windows of a batch share one convolution of the span
    they cover, computed ``cpu_convolved_frames`` frames at a time on a CPU (each piece with
    ``time_margin`` frames of real context either side, so the result is the convolution of
    the whole span): overlapping windows no longer convolve their shared frames twice. A
    frame near a window's edge then sees the recording's neighbouring frames instead of the
    zeros a lone window is padded with; the kept frames' CNN features are the same either way.
    Paper preset, a minute, 2 CPU cores: the model stage 2.8 → 1.2 s (with the CNN on
    (mel, time)); ten minutes 32 → 9.6–12 s, peak RSS 959 → 892–966 MiB.
    With a per-window normalisation each window is convolved on its own, at most
    :func:`cpu_windows` at a time on a CPU.
    """
    device = next(model.parameters()).device
    config = model.config
    if normalizer.windowed:
        if device.type == "cpu":
            batch_size = min(batch_size, cpu_windows(config, window))
        for i in range(0, len(starts), batch_size):
            batch = np.stack(
                [normalizer(features[s : s + window]) for s in starts[i : i + batch_size]]
            )
            yield i, model.encode(torch.from_numpy(batch).to(device))
        return
    n = len(features)
    margin = config.time_margin
    piece = cpu_convolved_frames(config) if device.type == "cpu" else batch_size * window
    for i in range(0, len(starts), batch_size):
        group = starts[i : i + batch_size]
        low, high = group[0], group[-1] + window
        convolved = []
        for a in range(low, high, piece):
            b = min(a + piece, high)
            x0, x1 = max(0, a - margin), min(n, b + margin)
            x = torch.from_numpy(normalizer(features[x0:x1])).to(device)
            convolved.append(model.convolve(x.unsqueeze(0))[0, a - x0 : b - x0])
        span = torch.cat(convolved)
        stacked = torch.stack([span[s - low : s - low + window] for s in group])
        yield i, model.contextualise(stacked)


def with_stored_postprocess(config: TrainConfig, stored: Mapping[str, Any]) -> TrainConfig:
    """``config`` with the post-processing settings of the run as the project stores them.

    The store's copy is the one truth: training writes its tuned per-class values there and
    the review's threshold sliders edit it, so ``detect``, ``evaluate`` and the window all
    post-process a run alike. Values that are missing or unusable keep the checkpoint's.
    """
    changes = {k: stored[k] for k in POSTPROCESS_FIELDS if k in stored}
    if not changes:
        return config
    try:
        return config.replace(**changes)
    except TrainError:
        return config


def load_model(checkpoint_path: Path | str, device: str | torch.device = "auto") -> LoadedModel:
    """Rebuild the model of a checkpoint (``torch.load(weights_only=True)``) on ``device``."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    state = read_checkpoint(checkpoint_path, dev)
    try:
        model_config = CRNNConfig.from_dict(state["model_config"])
        # A single-label model has one more output than the run has classes: the background.
        outputs = len(state["classes"]) + (1 if model_config.single_label else 0)
        if model_config.n_classes != outputs:
            raise ValueError(f"{model_config.n_classes} outputs for {outputs} classes")
        model = CRNN(model_config)
        # A run that averages its weights (average_decay) detects with the average.
        model.load_state_dict(state.get("averaged") or state["model"])
    except (ValueError, TypeError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0][:200]
        raise TrainError(
            f"{checkpoint_path}: its model does not fit its settings ({reason})"
        ) from None
    place_model(model, dev).eval()
    if dev.type == "cpu":
        model.prepare_cpu_inference()
    return LoadedModel(
        model=model,
        classes=list(state["classes"]),
        feature_config=FeatureConfig.from_dict(state["feature_config"]),
        normalizer=Normalizer.from_tensors({k: v.cpu() for k, v in state["normalizer"].items()}),
        config=TrainConfig.from_dict({**RECIPE_OFF, **state["train_config"]}),
        device=dev,
        run_id=state.get("run_id"),
        epoch=int(state.get("epoch", 0)),
        iteration=int(state.get("iteration", 0)),
    )


def _keep_bounds(starts: Sequence[int], length: int, seq_len: int) -> list[tuple[int, int]]:
    """Which frames each window contributes: split every overlap in its middle."""
    cuts = [0]
    for a, b in itertools.pairwise(starts):
        end_a = min(a + seq_len, length)
        cuts.append((b + end_a) // 2)
    cuts.append(length)
    return list(itertools.pairwise(cuts))


@torch.no_grad()
def posteriors(
    model: CRNN,
    features: np.ndarray,
    normalizer: Normalizer,
    *,
    seq_len: int,
    batch_size: int = 16,
    stride: int | None = None,
    amp: bool = False,
) -> np.ndarray:
    """Stitched (frames, classes) probabilities from overlapping windows of ``seq_len`` frames.

    Windows advance by ``stride`` (default half a window) and overlapping windows are
    crossfaded (:func:`crossfade_weights`): a frame's probability is the mean of the windows
    covering it, each weighted by how far the frame lies from that window's nearer edge. Each
    window's recurrence starts afresh, so a window says least near its start (no past yet)
    and, with a bidirectional context GRU, near its end; cutting from one window to the next
    instead made the posteriors jump there (up to 0.6–0.8 in one frame on real sounds), and
    detections started or ended at the cuts. A single-label model gives its decisions
    (frames, 2) instead (:func:`label_decisions`), cut at the middle of each overlap.
    """
    if model.config.single_label:
        return label_decisions(
            model,
            features,
            normalizer,
            seq_len=seq_len,
            batch_size=batch_size,
            stride=stride,
            amp=amp,
        )[0]
    n = len(features)
    n_classes = model.config.n_classes
    out = np.zeros((n, n_classes), dtype=np.float32)
    if n == 0:
        return out
    window = min(seq_len, n)
    stride = max(1, stride or window // 2)
    starts = eval_windows(n, window, stride)
    weight = crossfade_weights(window)
    total = np.zeros((n, 1), dtype=np.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with autocast(device, amp):
            batches = encoded_windows(model, features, normalizer, starts, window, batch_size)
            for i, encoded in batches:
                probs_np = torch.sigmoid(model.recur(encoded).float()).cpu().numpy()
                for j in range(len(encoded)):
                    s = starts[i + j]
                    out[s : s + window] += probs_np[j] * weight
                    total[s : s + window] += weight
    finally:
        model.train(was_training)
    out /= total
    return out


def crossfade_weights(window: int) -> np.ndarray:
    """(window, 1) weights of a window's frames when overlapping windows are averaged: a
    triangle, ``min(i + 1, window - i)`` at frame ``i``. Where two windows half a window apart
    overlap, their weights add up to the same total at every frame, so the weighted mean is a
    linear crossfade from one to the next (the last window, which ends at the recording's
    end, may overlap its neighbour more; the mean is normalised by the weights anyway)."""
    i = np.arange(window, dtype=np.float32)
    return np.minimum(i + 1, window - i)[:, None]


@torch.no_grad()
def label_decisions(
    model: CRNN,
    features: np.ndarray,
    normalizer: Normalizer,
    *,
    seq_len: int,
    batch_size: int = 16,
    stride: int | None = None,
    amp: bool = False,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A single-label model's stitched decisions (frames, 2) (class id, its probability), and
    with ``labels`` (frames,) the labelled class's log-probability per frame (None without).
    Windowed as :func:`posteriors`; never holds more than one window's (batch, classes)
    logits."""
    n = len(features)
    ids_out = np.zeros(n, dtype=np.int64)
    probs_out = np.zeros(n, dtype=np.float32)
    truth_out = np.zeros(n, dtype=np.float32) if labels is not None else None
    if n == 0:
        return decisions_array(ids_out, probs_out), truth_out
    window = min(seq_len, n)
    stride = max(1, stride or window // 2)
    starts = eval_windows(n, window, stride)
    bounds = _keep_bounds(starts, n, window)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with autocast(device, amp):
            batches = encoded_windows(model, features, normalizer, starts, window, batch_size)
            for i, encoded in batches:
                chunk = starts[i : i + len(encoded)]
                truth = None
                if labels is not None:
                    truth = torch.from_numpy(np.stack([labels[s : s + window] for s in chunk])).to(
                        device
                    )
                decided = model.decide_encoded(encoded, truth)
                ids = decided.ids.cpu().numpy()
                probs = decided.probs.float().cpu().numpy()
                logp = (
                    decided.truth_log_prob.float().cpu().numpy()
                    if decided.truth_log_prob is not None
                    else None
                )
                for j, s in enumerate(chunk):
                    keep_from, keep_to = bounds[i + j]
                    ids_out[keep_from:keep_to] = ids[j, keep_from - s : keep_to - s]
                    probs_out[keep_from:keep_to] = probs[j, keep_from - s : keep_to - s]
                    if truth_out is not None and logp is not None:
                        truth_out[keep_from:keep_to] = logp[j, keep_from - s : keep_to - s]
    finally:
        model.train(was_training)
    return decisions_array(ids_out, probs_out), truth_out


def load_run_model(project: Project, run: Run, device: str | torch.device = "auto") -> LoadedModel:
    """A run's model with the post-processing settings the project stores for it."""
    loaded = load_model(run_checkpoint(project, run), device)
    loaded.config = with_stored_postprocess(loaded.config, run.config_dict)
    return loaded


def run_checkpoint(project: Project, run: Run) -> Path:
    """The run's best checkpoint (its last one when no epoch has finished)."""
    stored = run.best_checkpoint or run.last_checkpoint
    if not stored:
        raise TrainError(f"run {run.id} has no checkpoint (status {run.status})")
    path = Path(stored)
    path = path if path.is_absolute() else project.root / path
    if not path.exists():
        raise TrainError(f"run {run.id}: checkpoint file is missing: {path}")
    return path


RANKS_TIMEOUT = datetime.timedelta(days=7)


@contextlib.contextmanager
def torchrun_ranks() -> Iterator[Distributed]:
    """The process's place among torchrun's, with a gloo process group for the length of the
    block (one made by someone else is used and left alone)."""
    ranks = Distributed.from_env()
    if ranks.active and not dist.is_initialized():
        dist.init_process_group("gloo", timeout=RANKS_TIMEOUT)
        ranks.owns_group = True
    try:
        yield ranks
    finally:
        ranks.close()


@dataclass
class DetectReport:
    """What a detection pass did (under ``torchrun``, all ranks together)."""

    run: int
    recordings: int = 0
    events: int = 0
    audio_s: float = 0.0
    elapsed_s: float = 0.0
    per_recording: dict[str, int] = field(default_factory=dict)
    # Recordings whose saved posteriors of this model were reused (no model pass).
    reused: int = 0
    # Processes that shared the recordings (torchrun's world size).
    ranks: int = 1
    # Seconds spent in each stage (summed over recordings and ranks): loading the model,
    # features (computed or read from the cache), the model, post-processing, storing.
    stage_s: dict[str, float] = field(default_factory=dict)
    # Recordings left as they were because their audio cannot be read: what is wrong with
    # each and what to do, one line each (the others are detected on).
    left_out: list[str] = field(default_factory=list)

    def add_time(self, stage: str, since: float) -> float:
        """Add the time since ``since`` (``time.perf_counter()``) to ``stage``; now."""
        now = time.perf_counter()
        self.stage_s[stage] = self.stage_s.get(stage, 0.0) + now - since
        return now

    @property
    def speed(self) -> float:
        """Seconds of audio processed per second of wall time (features included)."""
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "recordings": self.recordings,
            "events": self.events,
            "audio_s": self.audio_s,
            "elapsed_s": self.elapsed_s,
            "speed": self.speed,
            "reused": self.reused,
            "ranks": self.ranks,
            "stage_s": self.stage_s,
            "per_recording": self.per_recording,
            "left_out": self.left_out,
        }

    @classmethod
    def merged(
        cls,
        reports: Sequence[DetectReport],
        recordings: Sequence[Recording],
        elapsed_s: float,
        names: Mapping[int, str],
    ) -> DetectReport:
        """The ranks' reports as one, recordings in their order in ``recordings`` (their
        ``per_recording`` keyed by ``names``, as `_detect_each` keys them)."""
        counts: dict[str, int] = {}
        stages: dict[str, float] = {}
        for report in reports:
            counts.update(report.per_recording)
            for stage, seconds in report.stage_s.items():
                stages[stage] = stages.get(stage, 0.0) + seconds
        return cls(
            run=reports[0].run,
            recordings=sum(r.recordings for r in reports),
            events=sum(r.events for r in reports),
            audio_s=sum(r.audio_s for r in reports),
            elapsed_s=elapsed_s,
            per_recording={
                names[rec.id]: counts[names[rec.id]]
                for rec in recordings
                if names[rec.id] in counts
            },
            reused=sum(r.reused for r in reports),
            ranks=len(reports),
            stage_s=stages,
            left_out=[line for report in reports for line in report.left_out],
        )


def _model_stamp(checkpoint: Path, loaded: LoadedModel) -> dict[str, Any]:
    return {
        "stitching": STITCHING,
        "checkpoint": checkpoint.name,
        "epoch": loaded.epoch,
        "iteration": loaded.iteration,
        "classes": loaded.classes,
        "features": loaded.feature_config.to_dict(),
    }


def _claim_posteriors(project: Project, run: Run, stamp: dict[str, Any]) -> bool:
    """Make the run's posteriors folder this model's; True when what it holds already is
    (those posteriors can be reused), False after clearing another model's."""
    folder = posteriors_dir(project, run.id)
    if read_posteriors_stamp(project, run.id) == stamp:
        return True
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.npy"):
        stale.unlink(missing_ok=True)
    _write_atomic(posteriors_stamp(project, run.id), json.dumps(stamp, sort_keys=True).encode())
    return False


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _saved_posteriors(path: Path, loaded: LoadedModel) -> np.ndarray | None:
    """A recording's saved posteriors (a single-label run's decisions), or None when missing
    or unusable."""
    try:
        post = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if post.ndim != 2 or post.shape[1] != loaded.output_width or not np.isfinite(post).all():
        return None
    if loaded.single_label and len(post):
        ids = post[:, 0]
        if ids.min() < 0 or ids.max() > len(loaded.classes) or np.any(ids != np.round(ids)):
            return None
    return post


def _save_posteriors(path: Path, post: np.ndarray) -> None:
    """np.save through a temporary file and a rename: an interrupted detection never leaves
    a half-written file that a resumed one would take for finished."""
    buffer = io.BytesIO()
    np.save(buffer, post)
    _write_atomic(path, buffer.getvalue())


def recording_features(cache: FeatureCache, project: Project, rec: Recording) -> np.ndarray:
    """A recording's features (cached or computed); TrainError naming it, not a traceback,
    when its audio cannot be read (gone, damaged or changed since the project checked)."""
    try:
        return cache.load(rec.content_hash, project.absolute_path(rec))
    except AudioError as exc:
        raise TrainError(unreadable_message(rec, exc)) from None


# AudioError kinds a relink can mend; the others are the file's own damage, of which these
# messages already say what to do.
_WHERE_KINDS = frozenset({"missing", "not_a_file", "unreadable"})
_SAYS_WHAT_TO_DO = frozenset({"changed", "not_numbers"})


def unreadable_message(rec: Recording, exc: AudioError) -> str:
    """What to say about a recording whose audio cannot be read, and what to do about it."""
    text = str(exc)
    if exc.kind in _SAYS_WHAT_TO_DO:
        return text
    if exc.kind in _WHERE_KINDS:
        return (
            f"{text}; recording {rec.name!r} cannot be read ('tfstudio check' lists such "
            "recordings, 'tfstudio relink' finds moved files)"
        )
    return f"{text}; repair or re-export the file, then import it again"


def detect_recordings(
    project: Project,
    recordings: Sequence[Recording],
    *,
    run_id: int | None = None,
    threshold: float | None = None,
    class_thresholds: Mapping[str, float] | None = None,
    device: str = "auto",
    batch_size: int = 16,
    save_posteriors: bool = True,
    reuse_posteriors: bool = True,
    progress: Callable[[int, int, Recording], None] | None = None,
    ranks: Distributed | None = None,
) -> DetectReport:
    """Detect events on ``recordings`` with a run's model and store them (source=model).

    Each recording's previous unreviewed detections of this run are replaced; reviewed ones
    (accepted or rejected) are kept, and new detections repeating them are left out
    (:func:`~tfstudio.train.postprocess.repeats`). Classes are matched by name to the
    project's classes. Post-processing is the run's as stored in the project
    (:func:`with_stored_postprocess`), with ``threshold`` / ``class_thresholds`` on top.

    Resumable: each recording's posteriors are saved as soon as the model has made them,
    and with ``reuse_posteriors`` a later pass with the same model (checkpoint, epoch,
    classes, features) reads them back instead of running the model again, so detection
    over thousands of files that was interrupted goes on where it stopped. Post-processing
    and storing always run, with the settings of the moment.

    A single-label run's model gives each frame's decided class and its probability; the
    runs of frames decided for a class (not the background) become its events, and those
    decisions (:func:`~tfstudio.train.layout.decisions_file`) are what is saved and reused.

    With ``ranks`` (under ``torchrun``, see the module docstring) this process detects on its
    share of ``recordings`` on its own device, ``progress`` counts that share, and the report
    returned (on every rank) is the whole pass's. Every rank must call it with the same
    arguments.
    """
    ranks = ranks or Distributed()
    started = time.perf_counter()
    run = select_run(project, run_id)
    if ranks.active:
        # One run for all: the one rank 0 chose (a training may finish meanwhile).
        chosen = ranks.broadcast(run.id)
        run = run if chosen == run.id else select_run(project, chosen)
    checkpoint = run_checkpoint(project, run)
    # Each rank on its own GPU (its LOCAL_RANK), as training does.
    loaded = load_run_model(project, run, resolve_device(device, local_rank=ranks.local_rank))
    class_ids = {c.name: c.id for c in project.classes()}
    missing = [name for name in loaded.classes if name not in class_ids]
    if missing:
        raise TrainError(
            f"run {run.id} knows class(es) no longer in the project: {', '.join(missing)}"
        )
    cache = FeatureCache(project.cache_dir, loaded.feature_config)
    report = DetectReport(run=run.id)
    report.add_time("load", started)
    reusable = False
    if save_posteriors:
        # Rank 0 alone clears another model's posteriors, before any rank saves its own.
        if ranks.main:
            reusable = _claim_posteriors(project, run, _model_stamp(checkpoint, loaded))
        reusable = ranks.broadcast(reusable)
    mine = ranks.share(recordings)
    # The counts per recording name each as the app shows it: the same file name at two
    # sites is two recordings (their bare names would count them as one).
    names = shown_names(project.recordings())
    failure: BaseException | None = None
    try:
        _detect_each(
            project, mine, run, loaded, cache, report,
            threshold=threshold,
            class_thresholds=class_thresholds,
            batch_size=batch_size,
            save_posteriors=save_posteriors,
            reusable=reusable and reuse_posteriors,
            progress=progress,
            class_ids=class_ids,
            names=names,
        )  # fmt: skip
    except Exception as exc:
        if not ranks.active:
            raise
        failure = exc
    if not ranks.active:
        report.elapsed_s = time.perf_counter() - started
        return report
    # What every rank stored stays stored; a rank's failure fails the pass on every rank.
    gathered = ranks.gather((report, None if failure is None else f"{failure}"))
    if failure is not None:
        raise failure
    failed = [(rank, message) for rank, (_, message) in enumerate(gathered) if message]
    if failed:
        rank, message = failed[0]
        raise TrainError(f"detection failed on rank {rank} of {ranks.world_size}: {message}")
    elapsed = time.perf_counter() - started
    return DetectReport.merged([r for r, _ in gathered], recordings, elapsed, names)


def _detect_each(
    project: Project,
    recordings: Sequence[Recording],
    run: Run,
    loaded: LoadedModel,
    cache: FeatureCache,
    report: DetectReport,
    *,
    threshold: float | None,
    class_thresholds: Mapping[str, float] | None,
    batch_size: int,
    save_posteriors: bool,
    reusable: bool,
    progress: Callable[[int, int, Recording], None] | None,
    class_ids: Mapping[str, int],
    names: Mapping[int, str],
) -> None:
    """Detect on each recording and store its detections; counts go into ``report``.

    A recording whose audio cannot be read (damaged, or gone since the caller looked) is left
    as it was and the others are detected on; ``report.left_out`` says what is wrong with each.
    """
    for done, rec in enumerate(recordings):
        if progress is not None:
            progress(done, len(recordings), rec)
        path = (
            decisions_file(project, run.id, rec)
            if loaded.single_label
            else posteriors_file(project, run.id, rec)
        )
        now = time.perf_counter()
        post = _saved_posteriors(path, loaded) if reusable else None
        if post is not None:
            report.reused += 1
        else:
            try:
                feats = recording_features(cache, project, rec)
            except TrainError as exc:
                report.left_out.append(str(exc))
                continue
            now = report.add_time("features", now)
            post = loaded.posteriors(feats, batch_size=batch_size)
            if save_posteriors:
                _save_posteriors(path, post)
        now = report.add_time("model", now)
        events = loaded.events(post, threshold=threshold, class_thresholds=class_thresholds)
        reviewed = [
            (e.onset, e.offset, e.class_id)
            for e in project.events(rec.id, source="model", run_id=run.id)
            if e.review != "none"
        ]
        if reviewed and events:
            repeated = repeats(
                np.array([e.onset for e in events]),
                np.array([e.offset for e in events]),
                np.array([class_ids[e.label] for e in events]),
                reviewed,
            )
            events = [e for e, r in zip(events, repeated) if not r]
        rows = [
            {
                "class_id": class_ids[e.label],
                "onset": float(e.onset),
                "offset": float(min(e.offset, rec.duration)),
                "confidence": float(e.confidence),
            }
            for e in events
        ]
        now = report.add_time("postprocess", now)
        project.replace_detections(run.id, rec.id, rows)
        report.add_time("store", now)
        report.recordings += 1
        report.events += len(rows)
        report.audio_s += rec.duration
        report.per_recording[names[rec.id]] = len(rows)
    if progress is not None and recordings:
        progress(len(recordings), len(recordings), recordings[-1])
