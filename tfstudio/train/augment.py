"""Training-time augmentation: event mixing, SpecAugment masks, level and frequency shifts,
mixup, class-balanced windows.

All of it works on the cached log-mel features (dB of mel power), never on audio: mixing two
sounds adds their power spectra, so an event is mixed into another sequence by adding its
mel power (``10^(dB/10)``) at a random gain and taking the dB again. Independent sources'
power spectra add in expectation, so this is the log-mel of the mixed audio up to the phase
interference of bins the two share, which is what remixing audio and recomputing features
would give on average, for a fraction of the cost and with the features cache untouched.

Each training window carries its own seed (drawn from the run's seed, the epoch and its place
in the epoch), and its augmentation draws from a generator made from that seed: a resumed run
augments every window as the uninterrupted one did, whichever process loads it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tfstudio.train.targets import FrameTargets

__all__ = [
    "EventBank",
    "EventSpan",
    "EventVariation",
    "SpecAugment",
    "add_power_db",
    "balance_windows",
    "mix_event",
    "mixup_batch",
    "positive_weights",
]


@dataclass(frozen=True)
class EventSpan:
    """Frames ``[start, stop)`` of training recording ``recording`` where ``cls`` is active."""

    recording: int
    start: int
    stop: int
    cls: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


class EventBank:
    """Every labelled stretch of the training recordings, grouped by class.

    Spans are the runs of each class's frame targets, so a span's bounds are exactly those the
    targets use. Drawing picks a class uniformly, then one of its spans: rare classes are mixed
    in as often as common ones.
    """

    def __init__(self, targets: Sequence[np.ndarray | FrameTargets]):
        by_class: dict[int, list[EventSpan]] = {}
        for index, frame_targets in enumerate(targets):
            active = np.asarray(frame_targets) > 0.5
            padded = np.zeros((active.shape[0] + 2, active.shape[1]), dtype=np.int8)
            padded[1:-1] = active
            edges = np.diff(padded, axis=0)
            for cls in range(active.shape[1]):
                starts = np.flatnonzero(edges[:, cls] == 1)
                stops = np.flatnonzero(edges[:, cls] == -1)
                by_class.setdefault(cls, []).extend(
                    EventSpan(index, int(a), int(b), cls) for a, b in zip(starts, stops)
                )
        self.by_class = {c: spans for c, spans in sorted(by_class.items()) if spans}

    def __len__(self) -> int:
        return sum(len(s) for s in self.by_class.values())

    def draw(self, rng: np.random.Generator) -> EventSpan | None:
        if not self.by_class:
            return None
        classes = list(self.by_class)
        spans = self.by_class[classes[int(rng.integers(len(classes)))]]
        return spans[int(rng.integers(len(spans)))]


@dataclass(frozen=True)
class EventVariation:
    """Makes a cut event sound like another instance of its class before it is mixed in.

    ``filter_db``: a random smooth equaliser (FilterAugment, Nam et al. 2022): 3 to 6 gains
    drawn in ± ``filter_db`` dB at random mel positions, linearly interpolated across the
    bands, so the event's timbre changes as with another source, microphone or distance.
    ``shift_bands``: the event's spectrum moves by up to ± that many mel bands (another
    pitch). ``stretch``: its frames are resampled in time by a factor in
    [1 / (1 + stretch), 1 + stretch] (another tempo or length), labels following.

    Only the cut event changes, never the background it is mixed into: a whole window's
    static colour is what background subtraction removes anyway, while an unheard source
    differs from the heard ones in exactly these ways. Zeros switch a part off.
    """

    filter_db: float = 0.0
    shift_bands: int = 0
    stretch: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.filter_db or self.shift_bands or self.stretch)

    def __call__(
        self, feats: np.ndarray, targets: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """A varied copy of an event's (frames, bands) dB ``feats`` and (frames, classes)
        ``targets``; the inputs are left as they are."""
        feats = np.array(feats, dtype=np.float32)
        targets = np.asarray(targets)
        length, n_mels = feats.shape
        if self.stretch and length > 1:
            factor = float(np.exp(rng.uniform(-1.0, 1.0) * math.log1p(self.stretch)))
            new_length = max(1, round(length * factor))
            where = np.linspace(0.0, length - 1.0, new_length)
            low = np.floor(where).astype(np.int64)
            high = np.minimum(low + 1, length - 1)
            frac = (where - low).astype(np.float32)[:, None]
            feats = feats[low] * (1 - frac) + feats[high] * frac
            targets = targets[np.rint(where).astype(np.int64)]
        if self.shift_bands:
            shift = int(rng.integers(-self.shift_bands, self.shift_bands + 1))
            if shift:
                source = np.clip(np.arange(n_mels) - shift, 0, n_mels - 1)
                feats = feats[:, source]
        if self.filter_db and n_mels > 1:
            feats = feats + filter_curve(n_mels, self.filter_db, rng)[None, :]
        return feats, targets


def filter_curve(n_mels: int, max_db: float, rng: np.random.Generator) -> np.ndarray:
    """A random smooth gain per mel band (dB): 3 to 6 gains in ± ``max_db`` at the two edge
    bands and at random bands between them, linearly interpolated (FilterAugment's linear
    type)."""
    points = int(rng.integers(3, 7))
    inner = np.sort(rng.uniform(0.0, n_mels - 1.0, points - 2))
    positions = np.concatenate(([0.0], inner, [n_mels - 1.0]))
    gains = rng.uniform(-max_db, max_db, points)
    return np.interp(np.arange(n_mels, dtype=np.float64), positions, gains).astype(np.float32)


def add_power_db(here: np.ndarray, added: np.ndarray, gain_db: float = 0.0) -> None:
    """``here`` (dB) becomes the dB of its power plus ``added``'s (dB, raised by ``gain_db``),
    in place: two sounds mixed, in the log-mel domain."""
    louder = np.asarray(added, dtype=np.float32) + np.float32(gain_db)
    high = np.maximum(here, louder)
    low = np.minimum(here, louder)
    # Computed stably: max + 10 log10(1 + 10^(-|a - b| / 10)).
    here[:] = high + 10.0 * np.log10(1.0 + np.power(10.0, (low - high) / 10.0, dtype=np.float32))


def mix_event(
    feats: np.ndarray,
    targets: np.ndarray,
    valid: int,
    event_feats: np.ndarray,
    event_targets: np.ndarray,
    gain_db: float,
    rng: np.random.Generator,
) -> None:
    """Add an event (its log-mel frames and target rows) into ``feats[:valid]`` in place.

    The event is placed at a random frame (cropped at random when longer than ``valid``), its
    mel power scaled by ``gain_db``; the targets of the frames it covers become the union of
    both, so every class sounding in the cut (an overlapping event too) stays labelled.
    """
    length = len(event_feats)
    if valid <= 0 or length == 0:
        return
    if length > valid:
        skip = int(rng.integers(length - valid + 1))
        event_feats, event_targets = event_feats[skip : skip + valid], event_targets[skip:]
        length = valid
    at = int(rng.integers(valid - length + 1))
    add_power_db(feats[at : at + length], event_feats, gain_db)
    np.maximum(targets[at : at + length], event_targets[:length], out=targets[at : at + length])


@dataclass(frozen=True)
class SpecAugment:
    """Masks and shifts on normalised features (SpecAugment, Park et al. 2019).

    Two frequency masks of up to ``freq_mask_bands`` mel bands and two time masks of up to
    ``time_mask_frames`` frames are set to the band mean (0 after normalisation); the level
    moves by up to ± ``gain_db`` dB; the spectrum moves by up to ± ``freq_shift_bands`` mel
    bands (edge bands repeated), a small pitch change. Zeros switch a part off.
    """

    freq_mask_bands: int = 0
    time_mask_frames: int = 0
    gain_db: float = 0.0
    freq_shift_bands: int = 0

    @property
    def active(self) -> bool:
        return bool(
            self.freq_mask_bands or self.time_mask_frames or self.gain_db or self.freq_shift_bands
        )

    def __call__(
        self, feats: np.ndarray, valid: int, std: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Augment normalised ``feats[:valid]`` in place (``std``: the normaliser's per band)."""
        if self.gain_db:
            gain = rng.uniform(-self.gain_db, self.gain_db)
            feats[:valid] += gain / std
        n_mels = feats.shape[1]
        if self.freq_shift_bands:
            shift = int(rng.integers(-self.freq_shift_bands, self.freq_shift_bands + 1))
            if shift:
                source = np.clip(np.arange(n_mels) - shift, 0, n_mels - 1)
                feats[:valid] = feats[:valid, source]
        for _ in range(2 if self.freq_mask_bands else 0):
            width = int(rng.integers(0, self.freq_mask_bands + 1))
            start = int(rng.integers(0, max(1, n_mels - width + 1)))
            feats[:valid, start : start + width] = 0.0
        for _ in range(2 if self.time_mask_frames and valid > 1 else 0):
            width = int(rng.integers(0, min(self.time_mask_frames, valid // 4) + 1))
            start = int(rng.integers(0, max(1, valid - width + 1)))
            feats[start : start + width] = 0.0


def mixup_batch(
    batch: dict[str, torch.Tensor], probability: float, alpha: float
) -> dict[str, torch.Tensor]:
    """Mixup (Zhang et al. 2018) of a batch with a shuffled copy of itself.

    Each sequence is, with ``probability``, replaced by ``λ x + (1 − λ) x'`` with its targets
    mixed alike (soft targets) and its frame weights too (0 where either frame is padding); λ ~ Beta(α, α),
    folded to ≥ 0.5 so the first sequence dominates.
    """
    features = batch["features"]
    size = features.shape[0]
    if probability <= 0 or size < 2:
        return batch
    chosen = torch.rand(size) < probability
    if not bool(chosen.any()):
        return batch
    lam = torch.distributions.Beta(alpha, alpha).sample((size,))
    lam = torch.where(lam < 0.5, 1 - lam, lam)
    lam = torch.where(chosen, lam, torch.ones_like(lam))
    other = torch.randperm(size)
    out = dict(batch)
    shape = (size,) + (1,) * (features.dim() - 1)
    out["features"] = lam.view(shape) * features + (1 - lam.view(shape)) * features[other]
    targets = batch["targets"]
    out["targets"] = lam.view(shape) * targets + (1 - lam.view(shape)) * targets[other]
    # Weights mix like the targets where both frames count; a padded frame (weight 0) in
    # either sequence is left out (a product would square positive weights instead).
    weights = batch["weights"]
    both = (weights > 0) & (weights[other] > 0)
    mixed = torch.where(
        both, lam.view(shape) * weights + (1 - lam.view(shape)) * weights[other], 0.0
    )
    out["weights"] = torch.where(chosen.view(shape), mixed, weights)
    return out


def positive_weights(
    targets: Sequence[np.ndarray | FrameTargets], power: float, cap: float = 10.0
) -> np.ndarray:
    """Per-class weight of positive frames in the BCE: ``(negatives / positives) ** power``,
    capped; 0 gives ones. A class never labelled gets weight 1."""
    if not targets:
        return np.ones(0, dtype=np.float32)
    n_classes = targets[0].shape[1]
    if power <= 0:
        return np.ones(n_classes, dtype=np.float32)
    pos = np.zeros(n_classes)
    total = 0
    for t in targets:
        pos += (np.asarray(t) > 0.5).sum(0)
        total += len(t)
    ratio = np.where(pos > 0, (total - pos) / np.maximum(pos, 1), 1.0)
    return np.clip(ratio**power, 1.0, cap).astype(np.float32)


def balance_windows(
    windows: Sequence[tuple[int, int]],
    targets: Sequence[np.ndarray | FrameTargets],
    seq_len: int,
    *,
    epoch: int,
    seed: int,
) -> list[tuple[int, int]]:
    """As many windows as given, drawn with replacement so each class is seen about equally.

    A window's weight is the sum, over the classes sounding in it, of 1 / (windows with that
    class); windows with no event keep the weight of the rarest class's, so background is
    still seen. Deterministic in (seed, epoch).
    """
    if not windows:
        return []
    presence = np.stack(
        [np.asarray(targets[i][s : s + seq_len]).max(0) > 0.5 for i, s in windows]
        if targets[0].shape[1]
        else [np.zeros(0, bool) for _ in windows]
    )
    counts = presence.sum(0)
    inverse = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
    weight = presence @ inverse
    empty = ~presence.any(1)
    if empty.any():
        weight[empty] = inverse.max() if inverse.size and inverse.max() > 0 else 1.0
    if not math.isfinite(weight.sum()) or weight.sum() <= 0:
        return list(windows)
    rng = np.random.default_rng([seed, epoch, 104729])
    picks = rng.choice(len(windows), size=len(windows), replace=True, p=weight / weight.sum())
    return [windows[int(i)] for i in picks]
