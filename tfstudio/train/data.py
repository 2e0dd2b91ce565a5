"""Training data from the project store: frame targets, feature sequences, batches.

Targets follow the post-processing convention: frame ``k`` stands for the interval
``[k · hop, (k + 1) · hop)``, and a label lights the frames ``round(onset / hop)`` up to
``round(offset / hop)`` (exclusive; at least one frame), so an event from 1.0 to 2.0 s at a
20 ms hop lights frames 50…99 and post-processing those targets gives back 1.0–2.0 s.

Sequences are windows ``(recording index, start frame)`` chosen in the main process each epoch
(random crops for training, a fixed tiling for evaluation) and handed to the data loader as
its batch sampler, so the dataset itself is stateless and works in spawned workers.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from tfstudio.features.cache import FeatureCache
from tfstudio.features.config import FeatureConfig
from tfstudio.store import Project, Recording
from tfstudio.train.augment import EventBank, EventVariation, SpecAugment, mix_event
from tfstudio.train.single_label import frame_span, label_ids
from tfstudio.train.targets import FrameTargets, frame_targets

__all__ = [
    "FrameTargets",
    "Mixing",
    "Normalizer",
    "RecordingData",
    "SequenceDataset",
    "epoch_batches",
    "eval_windows",
    "frame_targets",
    "load_recordings",
    "make_loader",
    "pcen",
    "pcen_smoothing",
    "seed_windows",
    "split_within",
    "subtract_background",
    "train_windows",
]

Window = tuple[int, int]  # (index into the recording list, first frame)
SeededWindow = tuple[int, int, int]  # ... and the seed of its augmentation draws


def subtract_background(features: np.ndarray, percentile: float) -> np.ndarray:
    """``features`` (frames, bands, dB) less each band's ``percentile`` over the frames; as
    they are when ``percentile`` is 0."""
    feats = np.asarray(features, dtype=np.float32)
    if percentile <= 0 or len(feats) == 0:
        return feats
    return feats - np.percentile(feats, percentile, axis=0).astype(np.float32)


def pcen_smoothing(time_constant_s: float, hop_s: float) -> float:
    """The one-pole smoother's coefficient for a time constant (librosa's rule); 0 when off."""
    if time_constant_s <= 0:
        return 0.0
    frames = time_constant_s / hop_s
    return float((math.sqrt(1 + 4 * frames**2) - 1) / (2 * frames**2))


def pcen(
    features: np.ndarray,
    smoothing: float,
    *,
    gain: float = 0.98,
    bias: float = 2.0,
    power: float = 0.5,
    eps: float = 1e-6,
) -> np.ndarray:
    """Per-channel energy normalisation (Wang et al. 2017) of log-mel ``features`` in dB.

    Each band's energy is divided by its own smoothed past (a one-pole filter with
    ``smoothing``, started at the first frame) raised to ``gain``, then root-compressed:
    ``(E / (eps + M) ** gain + bias) ** power - bias ** power``, librosa's defaults. A level
    change of the whole window nearly cancels (exactly with ``gain`` 1) and a stationary
    background becomes a constant, while onsets stand out. Written as a loop over frames in
    numpy (a window is a few hundred frames) rather than with ``scipy.signal.lfilter``, whose
    import costs seconds in a training or detection child.
    """
    feats = np.asarray(features, dtype=np.float32)
    if smoothing <= 0 or len(feats) == 0:
        return feats
    energy = np.power(10.0, feats.astype(np.float64) / 10.0)
    smooth = np.empty_like(energy)
    state = energy[0].copy()
    keep = 1.0 - smoothing
    for t, frame in enumerate(energy):
        state *= keep
        state += smoothing * frame
        smooth[t] = state
    out = (energy / (eps + smooth) ** gain + bias) ** power - bias**power
    return out.astype(np.float32)


@dataclass
class Normalizer:
    """Per-band mean and standard deviation, measured on the training split, optionally after
    PCEN and after subtracting each window's background.

    With ``pcen_smoothing`` > 0 every window first goes through :func:`pcen` (computed per
    window, as the model sees it, so training and detection treat it alike).

    With ``background_percentile`` q > 0, every window handed to the model first loses its
    per-band q-th percentile (in dB): a stationary background (rain, hum, a room) becomes
    ~0 dB whatever its level and colour, and events stand out as what rises above it. Training
    windows and detection windows are treated alike, so the model never sees absolute levels.
    """

    mean: np.ndarray
    std: np.ndarray
    background_percentile: float = 0.0
    pcen_smoothing: float = 0.0

    def __call__(self, features: np.ndarray) -> np.ndarray:
        feats = self._front(features)
        return ((feats - self.mean) / self.std).astype(np.float32)

    @property
    def windowed(self) -> bool:
        """Whether a frame's value depends on the window it is in (background subtraction or
        PCEN); otherwise each frame is normalised on its own."""
        return self.background_percentile > 0 or self.pcen_smoothing > 0

    def _front(self, features: np.ndarray) -> np.ndarray:
        return subtract_background(pcen(features, self.pcen_smoothing), self.background_percentile)

    @classmethod
    def fit(
        cls,
        arrays: Iterable[np.ndarray],
        chunk: int = 65536,
        *,
        background_percentile: float = 0.0,
        pcen_smoothing: float = 0.0,
        window: int = 256,
    ) -> Normalizer:
        """Mean/std over every frame of ``arrays`` (read in chunks, so memory maps stay cheap);
        with a background percentile or PCEN, over windows of ``window`` frames as the model
        sees them."""
        front = cls(np.zeros(0), np.ones(0), background_percentile, pcen_smoothing)
        windowed = front.windowed
        if windowed:
            chunk = max(1, window)
        total, sq, count = None, None, 0
        for array in arrays:
            for start in range(0, len(array), chunk):
                part = np.asarray(array[start : start + chunk], dtype=np.float64)
                if windowed:
                    part = front._front(part).astype(np.float64)
                total = part.sum(0) if total is None else total + part.sum(0)
                sq = (part**2).sum(0) if sq is None else sq + (part**2).sum(0)
                count += len(part)
        if total is None or sq is None or count == 0:
            raise ValueError("no frames to measure the feature statistics on")
        mean = total / count
        std = np.sqrt(np.maximum(sq / count - mean**2, 0.0))
        # A constant band (e.g. above a low-rate recording's Nyquist) must not divide by 0.
        std = np.maximum(std, 1e-3)
        return cls(
            mean.astype(np.float32), std.astype(np.float32), background_percentile, pcen_smoothing
        )

    def to_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {
            "mean": torch.from_numpy(self.mean.copy()),
            "std": torch.from_numpy(self.std.copy()),
            "background_percentile": torch.tensor(float(self.background_percentile)),
        }
        if self.pcen_smoothing > 0:  # runs without PCEN store what they always stored
            tensors["pcen_smoothing"] = torch.tensor(float(self.pcen_smoothing))
        return tensors

    @classmethod
    def from_tensors(cls, data: dict[str, torch.Tensor]) -> Normalizer:
        background = data.get("background_percentile")
        smoothing = data.get("pcen_smoothing")
        return cls(
            data["mean"].numpy().astype(np.float32),
            data["std"].numpy().astype(np.float32),
            float(background) if background is not None else 0.0,
            float(smoothing) if smoothing is not None else 0.0,
        )


@dataclass
class RecordingData:
    """One recording ready for training: where its features are and its frame targets."""

    recording_id: int
    name: str
    feature_path: Path
    # (frames, classes) float32 multi-hot made from the labels when sliced (FrameTargets), or
    # for a single-label run (frames,) int64 class ids, 0 the background
    # (tfstudio.train.single_label.label_ids).
    targets: FrameTargets | np.ndarray
    labels: list[tuple[float, float, str]] = field(default_factory=list)
    # Loss weights (frames, classes) where they differ from 1: the frames of rejected
    # detections, explicit negatives; None when there are none. (frames,) for single-label.
    negatives: np.ndarray | None = None
    # The frames of the cached features this is: all of them, or a part (:meth:`part`).
    first_frame: int = 0

    @property
    def n_frames(self) -> int:
        return len(self.targets)

    @property
    def single_label(self) -> bool:
        return self.targets.ndim == 1

    def features(self) -> np.ndarray:
        whole = np.load(self.feature_path, mmap_mode="r")
        if self.first_frame == 0 and len(whole) == self.n_frames:
            return whole
        return whole[self.first_frame : self.first_frame + self.n_frames]

    def part(self, start: int, stop: int, hop_s: float) -> RecordingData:
        """Frames ``[start, stop)`` as a recording of their own: features, targets, loss
        weights and labels (cut to the part, in seconds from its start) — what validating on
        the end of a training recording takes (:func:`split_within`)."""
        start, stop = max(0, start), min(self.n_frames, stop)
        t0, t1 = start * hop_s, stop * hop_s
        targets = (
            self.targets.part(start, stop)
            if isinstance(self.targets, FrameTargets)
            else self.targets[start:stop]
        )
        labels = [
            (max(on, t0) - t0, min(off, t1) - t0, name)
            for on, off, name in self.labels
            if on < t1 and off > t0
        ]
        negatives = None if self.negatives is None else self.negatives[start:stop]
        return RecordingData(
            self.recording_id,
            self.name,
            self.feature_path,
            targets,
            labels,
            negatives,
            first_frame=self.first_frame + start,
        )


def split_within(
    recordings: Sequence[RecordingData], share: float, hop_s: float
) -> tuple[list[RecordingData], list[RecordingData]]:
    """Each recording's first ``1 − share`` of frames to train on and its last ``share`` to
    validate on: a project of a few long recordings has no recording to spare for a val
    split. A recording too short to cut (a part under one frame) stays whole in training."""
    train, val = [], []
    for rec in recordings:
        cut = round(rec.n_frames * (1.0 - share))
        if 0 < cut < rec.n_frames:
            train.append(rec.part(0, cut, hop_s))
            val.append(rec.part(cut, rec.n_frames, hop_s))
        else:
            train.append(rec)
    return train, val


def load_recordings(
    project: Project,
    recordings: Sequence[Recording],
    classes: Sequence[str],
    config: FeatureConfig,
    *,
    on_compute: Callable[[int, int, Recording], None] | None = None,
    rejected_weight: float = 1.0,
    single_label: bool = False,
) -> list[RecordingData]:
    """Features (cached; computed when missing) and targets of ``recordings``.

    ``single_label``: targets are class ids (frames,) with 0 the background; labels of two
    classes on one frame raise ValueError (check with
    :func:`~tfstudio.train.single_label.find_overlaps` first).

    Ground truth is the store's ``labels()``: human events and accepted detections. Rejected
    or unreviewed detections are not positives; with ``rejected_weight`` ≠ 1 the frames of a
    rejected detection where its class is not labelled weigh that much in the loss, so the
    review teaches the model what its class is not.
    """
    cache = FeatureCache(project.cache_dir, config)
    index = {name: i for i, name in enumerate(classes)}
    by_id = {c.id: c.name for c in project.classes()}
    out = []
    for done, rec in enumerate(recordings):
        if on_compute is not None and not cache.has(rec.content_hash):
            on_compute(done, len(recordings), rec)
        feats = cache.load(rec.content_hash, project.absolute_path(rec))
        labels = [
            (e.onset, e.offset, by_id[e.class_id])
            for e in project.labels(rec.id)
            if by_id.get(e.class_id) in index
        ]
        if single_label:
            out.append(
                _single_label_data(
                    project,
                    rec,
                    cache.path(rec.content_hash),
                    len(feats),
                    labels,
                    index,
                    by_id,
                    config.hop_s,
                    rejected_weight,
                )
            )
            continue
        targets = FrameTargets.from_events(
            ((on, off, index[name]) for on, off, name in labels),
            len(feats),
            len(classes),
            config.hop_s,
        )
        negatives = None
        if rejected_weight != 1.0:
            rejected = [
                (e.onset, e.offset, index[by_id[e.class_id]])
                for e in project.events(rec.id, source="model", review="rejected")
                if by_id.get(e.class_id) in index
            ]
            if rejected:
                marked = frame_targets(rejected, len(feats), len(classes), config.hop_s)
                negatives = np.where(
                    (marked > 0) & (np.asarray(targets) == 0), rejected_weight, 1.0
                )
                negatives = negatives.astype(np.float32)
        out.append(
            RecordingData(
                rec.id, rec.name, cache.path(rec.content_hash), targets, labels, negatives
            )
        )
    return out


def _single_label_data(
    project: Project,
    rec: Recording,
    feature_path: Path,
    n_frames: int,
    labels: list[tuple[float, float, str]],
    index: dict[str, int],
    by_id: dict[int, str],
    hop_s: float,
    rejected_weight: float,
) -> RecordingData:
    """A recording's single-label ids; the frames of a rejected detection of class c whose
    label is not c weigh ``rejected_weight``."""
    try:
        ids = label_ids(labels, n_frames, index, hop_s)
    except ValueError as exc:
        raise ValueError(f"{rec.name}: {exc}") from None
    negatives = None
    if rejected_weight != 1.0:
        weights = np.ones(n_frames, dtype=np.float32)
        for e in project.events(rec.id, source="model", review="rejected"):
            name = by_id.get(e.class_id)
            if name not in index:
                continue
            start, stop = frame_span(e.onset, e.offset, hop_s)
            start, stop = max(0, start), min(n_frames, stop)
            if stop > start:
                span = weights[start:stop]
                span[ids[start:stop] != index[name] + 1] = rejected_weight
        if np.any(weights != 1.0):
            negatives = weights
    return RecordingData(rec.id, rec.name, feature_path, ids, labels, negatives)


def train_windows(
    lengths: Sequence[int], seq_len: int, *, epoch: int, seed: int, stride: int | None = None
) -> list[Window]:
    """Random crops for one epoch: a fixed number per recording (so batches per epoch stay
    constant), spread over it with 50 % overlap and jittered by up to half a stride."""
    stride = max(1, stride or seq_len // 2)
    rng = np.random.default_rng([seed, epoch, 7919])
    windows: list[Window] = []
    for i, length in enumerate(lengths):
        room = max(0, length - seq_len)
        count = 1 + math.ceil(room / stride)
        base = np.linspace(0, room, count)
        jitter = rng.integers(-(stride // 2), stride // 2 + 1, size=count)
        starts = np.clip(np.round(base) + jitter, 0, room).astype(int)
        windows.extend((i, int(s)) for s in starts)
    return windows


def eval_windows(length: int, seq_len: int, stride: int) -> list[int]:
    """Start frames of windows covering ``[0, length)``; the last one ends at the end."""
    if length <= seq_len:
        return [0]
    starts = list(range(0, length - seq_len, stride))
    starts.append(length - seq_len)
    return starts


def epoch_batches(
    windows: Sequence[Window],
    batch_size: int,
    *,
    epoch: int,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
    shuffle: bool = True,
    max_batches: int | None = None,
) -> list[list[Window]]:
    """This rank's batches for one epoch, as ``DistributedSampler`` would shard them.

    The order depends only on (seed, epoch), so a resumed run can skip the batches it had
    already done. Every rank gets the same number of windows (wrapping around to pad).
    """
    order = np.arange(len(windows))
    if shuffle:
        order = np.random.default_rng([seed, epoch]).permutation(len(windows))
    per_rank = math.ceil(len(order) / world_size)
    if per_rank * world_size > len(order):
        order = np.resize(order, per_rank * world_size)
    mine = [windows[int(i)] for i in order[rank::world_size]]
    batches = [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]
    return batches[:max_batches] if max_batches else batches


def seed_windows(
    batches: Sequence[Sequence[Window]], *, epoch: int, seed: int, rank: int = 0
) -> list[list[SeededWindow]]:
    """The batches with a seed for each window's augmentation, from (seed, rank, epoch, batch,
    position): the same window of a resumed epoch is augmented the same way."""
    return [
        [
            (
                w[0],
                w[1],
                int(np.random.SeedSequence([seed, rank, epoch, b, k]).generate_state(1)[0]),
            )
            for k, w in enumerate(batch)
        ]
        for b, batch in enumerate(batches)
    ]


@dataclass(frozen=True)
class Mixing:
    """Event mixing: with ``probability``, 1 to ``max_events`` labelled events cut from the
    training recordings are added to a training sequence at random times, each at a gain
    drawn from ``gain_db`` (dB, relative to its own level), their labels following; each
    event first goes through ``variation`` (another timbre, pitch or length)."""

    probability: float = 0.0
    max_events: int = 2
    gain_db: tuple[float, float] = (-12.0, 3.0)
    variation: EventVariation = field(default_factory=EventVariation)

    @property
    def active(self) -> bool:
        return self.probability > 0 and self.max_events > 0


class SequenceDataset(Dataset):
    """``dataset[(recording index, start)]`` → normalised features, targets, a frame mask and
    per-(frame, class) loss weights.

    Windows reaching past a recording's end are zero-padded and masked out (weight 0), so the
    padding never counts in the loss. With ``mixing``, events from the ``bank`` are mixed into
    the raw features before normalisation; ``augment`` then masks and shifts the result.
    """

    def __init__(
        self,
        recordings: Sequence[RecordingData],
        seq_len: int,
        normalizer: Normalizer,
        augment: SpecAugment | None = None,
        *,
        mixing: Mixing | None = None,
        positive_weight: np.ndarray | None = None,
    ):
        self.recordings = list(recordings)
        self.seq_len = seq_len
        self.normalizer = normalizer
        self.augment = augment if augment is not None and augment.active else None
        self.mixing = mixing if mixing is not None and mixing.active else None
        self.bank = EventBank([r.targets for r in self.recordings]) if self.mixing else None
        self.positive_weight = positive_weight
        self._features: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.recordings)

    def features(self, index: int) -> np.ndarray:
        # Memory maps are opened lazily, per process: they must not be pickled to workers.
        if index not in self._features:
            self._features[index] = self.recordings[index].features()
        return self._features[index]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_features": {}}

    def _mix(self, raw: np.ndarray, targets: np.ndarray, n: int, rng: np.random.Generator) -> None:
        assert self.mixing is not None and self.bank is not None
        if rng.random() >= self.mixing.probability:
            return
        count = int(rng.integers(1, self.mixing.max_events + 1))
        low, high = self.mixing.gain_db
        for _ in range(count):
            span = self.bank.draw(rng)
            if span is None:
                return
            stop = min(span.stop, span.start + self.seq_len)
            event_feats = self.features(span.recording)[span.start : stop]
            event_targets = self.recordings[span.recording].targets[span.start : stop]
            if self.mixing.variation.active:
                event_feats, event_targets = self.mixing.variation(event_feats, event_targets, rng)
            mix_event(raw, targets, n, event_feats, event_targets, rng.uniform(low, high), rng)

    def __getitem__(self, window: Window | SeededWindow) -> dict[str, torch.Tensor]:
        index, start = window[0], window[1]
        # A training window carries its augmentation seed (see seed_windows).
        rng = np.random.default_rng(window[2] if len(window) > 2 else [index, start])
        rec = self.recordings[index]
        stop = min(start + self.seq_len, rec.n_frames)
        n = stop - start
        if rec.single_label:
            return self._single_label_item(rec, index, start, stop, rng)
        n_classes = rec.targets.shape[1]
        feats = np.zeros((self.seq_len, len(self.normalizer.mean)), dtype=np.float32)
        targets = np.zeros((self.seq_len, n_classes), dtype=np.float32)
        weights = np.zeros((self.seq_len, n_classes), dtype=np.float32)
        mask = np.zeros(self.seq_len, dtype=bool)
        raw = np.array(self.features(index)[start:stop], dtype=np.float32)
        targets[:n] = rec.targets[start:stop]
        weights[:n] = 1.0 if rec.negatives is None else rec.negatives[start:stop]
        if self.mixing is not None:
            self._mix(raw, targets, n, rng)
        feats[:n] = self.normalizer(raw)
        if self.augment is not None:
            self.augment(feats, n, self.normalizer.std, rng)
        positive = 1.0 if self.positive_weight is None else self.positive_weight
        weights[:n] = np.where(targets[:n] > 0.5, positive, weights[:n])
        mask[:n] = True
        return {
            "features": torch.from_numpy(feats),
            "targets": torch.from_numpy(targets),
            "mask": torch.from_numpy(mask),
            "weights": torch.from_numpy(weights),
        }

    def _single_label_item(
        self, rec: RecordingData, index: int, start: int, stop: int, rng: np.random.Generator
    ) -> dict[str, torch.Tensor]:
        """A single-label window: class ids (seq_len,) (padding: background) and per-frame
        weights (padding: 0). No event mixing: a mixed event would overlap another."""
        if self.mixing is not None or self.positive_weight is not None:
            raise ValueError("event mixing and positive weights are for multi-label targets")
        n = stop - start
        feats = np.zeros((self.seq_len, len(self.normalizer.mean)), dtype=np.float32)
        targets = np.zeros(self.seq_len, dtype=np.int64)
        weights = np.zeros(self.seq_len, dtype=np.float32)
        mask = np.zeros(self.seq_len, dtype=bool)
        raw = np.array(self.features(index)[start:stop], dtype=np.float32)
        targets[:n] = rec.targets[start:stop]
        weights[:n] = 1.0 if rec.negatives is None else rec.negatives[start:stop]
        feats[:n] = self.normalizer(raw)
        if self.augment is not None:
            self.augment(feats, n, self.normalizer.std, rng)
        mask[:n] = True
        return {
            "features": torch.from_numpy(feats),
            "targets": torch.from_numpy(targets),
            "mask": torch.from_numpy(mask),
            "weights": torch.from_numpy(weights),
        }


def make_loader(
    dataset: SequenceDataset,
    batches: Sequence[list[Window]] | Sequence[list[SeededWindow]],
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
    seed: int = 0,
) -> DataLoader:
    """A loader over precomputed batches; workers, if any, are spawned (CUDA never meets fork).

    The loader draws its worker seed from its own generator: drawing from the global one
    would shift the training's random stream each time a loader starts, and a resumed run
    (which starts one mid-epoch) would no longer repeat the uninterrupted one.
    """
    return DataLoader(
        dataset,
        batch_sampler=batches,
        num_workers=num_workers,
        multiprocessing_context="spawn" if num_workers > 0 else None,
        pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(seed),
        worker_init_fn=_ignore_stop_signals if num_workers > 0 else None,
    )


def _ignore_stop_signals(worker_id: int) -> None:
    """In a loader worker: leave SIGINT and SIGTERM to the main process (see
    :func:`iterate_batches`); torch's worker start installs a SIGTERM handler of its own that
    dies, so the inherited "ignore" is set again here."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def iterate_batches(loader: DataLoader) -> Iterator[Any]:
    """``iter(loader)``, with its worker processes started ignoring SIGINT and SIGTERM.

    Ctrl+C in a terminal (and a service manager's SIGTERM) goes to the whole process group:
    workers that took it died with KeyboardInterrupt tracebacks, and the training's main
    process, which handles it gracefully (stop after the batch, keep the run resumable), then
    failed with "DataLoader worker exited unexpectedly". An ignored signal stays ignored in a
    spawned child (and Python then installs no KeyboardInterrupt of its own), so only the
    main process hears it; the workers end when it ends their loader.
    """
    if loader.num_workers == 0 or threading.current_thread() is not threading.main_thread():
        return iter(loader)
    before = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return iter(loader)  # starts the workers
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
