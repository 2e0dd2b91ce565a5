"""A polyphonic sound-event benchmark made of real recordings shipped in Debian packages.

    .venv/bin/python benchmarks/real_sounds.py [run] [options]        # build if needed, train, score
    .venv/bin/python benchmarks/real_sounds.py build [options]        # only make the data set
    .venv/bin/python benchmarks/real_sounds.py score REF.tsv DET.tsv  # score a detection file

``build`` fetches the packages named in :data:`CATALOGUE` with ``apt-get download`` (no
install, no root needed) into a cache, unpacks them with ``dpkg-deb -x``, and mixes 10 s
clips: real background recordings (two layered, looped, at a modest level) plus 1–3 events of
six classes (speech, animal, instrument, alert, impact, vehicle), each a silence-trimmed
segment of a source recording placed at a seeded onset and SNR, so that the DCASE labels are
exact. The source *files* of every class are split into a train side (train and val clips)
and a test side (test clips only), by group: files that are takes of one recording or one
speaker go to the same side, and near-identical recordings shipped twice are merged into one
group.

``run`` then does what a user does, through the ``tfstudio`` command line, in a fresh
project: init, import train/val with labels and test without, ``train --preset fast`` (plus
``--train-args``), ``detect`` on the test split, ``export --source detections``, and scores
the exported tsv against the test labels with :mod:`tfstudio.train.metrics` (sed_eval's
definitions: segment-based F1/ER with 1 s segments, event-based F1 with a 200 ms onset collar
and an offset collar of max(200 ms, 20 % of the event)). It prints one JSON object.

The mixing code (:class:`Mixer`, :func:`find_regions`, :func:`split_by_group`, ...) works on
arrays and knows nothing about Debian; ``tests/benchmarks`` tests it on generated sounds.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfstudio.formats import dcase
from tfstudio.train import metrics

SR = 22050
CLIP_S = 10.0
CLASSES = ("speech", "animal", "instrument", "alert", "impact", "vehicle")
SPLITS = ("train", "val", "test")
BACKGROUND = "background"
BUILDER_VERSION = 1
DEFAULT_CACHE = Path("~/.cache/tfstudio/bench/real_sounds").expanduser()

# --- sound handling (no Debian here) ------------------------------------------------------


@dataclass
class Sound:
    """One source recording: mono float32 samples at :data:`SR`."""

    id: str
    label: str  # a class, or BACKGROUND
    audio: np.ndarray
    group: str = ""  # files of one group always land on the same side of the split
    meta: dict[str, Any] = field(default_factory=dict)
    _regions: list[tuple[int, int]] | None = field(default=None, repr=False)
    _threshold: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.audio = np.ascontiguousarray(self.audio, dtype=np.float32)
        if not self.group:
            self.group = self.id

    @property
    def regions(self) -> list[tuple[int, int]]:
        """Active regions (sample start, stop), found once."""
        if self._regions is None:
            self._regions, self._threshold = find_regions(
                self.audio, noise_margin_db=self.meta.get("noise_margin_db")
            )
        return self._regions

    @property
    def threshold(self) -> float:
        """Frame RMS above which a frame counts as active."""
        _ = self.regions
        return self._threshold

    @property
    def active_seconds(self) -> float:
        return sum(b - a for a, b in self.regions) / SR


FRAME = 512
HOP = 128


def frame_rms(audio: np.ndarray, frame: int = FRAME, hop: int = HOP) -> np.ndarray:
    """RMS of frames starting every ``hop`` samples (the last frame zero-padded)."""
    n = len(audio)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    count = 1 + max(0, math.ceil((n - frame) / hop))
    padded = np.zeros((count - 1) * hop + frame, dtype=np.float64)
    padded[:n] = audio
    windows = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop]
    return np.sqrt(np.mean(windows**2, axis=1))


def find_regions(
    audio: np.ndarray,
    *,
    rel_db: float = -35.0,
    floor_db: float = -65.0,
    noise_margin_db: float | None = None,
    min_gap_s: float = 0.25,
    min_len_s: float = 0.08,
    threshold: float | None = None,
) -> tuple[list[tuple[int, int]], float]:
    """Active regions of a recording by frame energy, and the threshold used.

    A frame is active when its RMS exceeds ``rel_db`` below the loudest frame and
    ``floor_db`` full scale, and, with ``noise_margin_db``, the recording's noise floor (its
    10th-percentile frame) by that margin (never more than 6 dB below the peak): for field
    recordings whose hiss is within ``rel_db`` of the call. Active runs closer than
    ``min_gap_s`` are merged and runs shorter than ``min_len_s`` dropped. Region edges are the
    first and last samples above the threshold in the first and last active frames, so an
    event cut at them starts and ends with sound.
    """
    rms = frame_rms(audio)
    if threshold is None:
        peak = float(rms.max()) if len(rms) else 0.0
        threshold = max(peak * 10 ** (rel_db / 20), 10 ** (floor_db / 20))
        if noise_margin_db is not None and len(rms):
            noise = float(np.percentile(rms, 10)) * 10 ** (noise_margin_db / 20)
            threshold = max(threshold, min(noise, peak * 10 ** (-6 / 20)))
    active = rms > threshold
    regions: list[list[int]] = []
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return [], threshold
    # Runs of consecutive active frames.
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    gap = min_gap_s * SR
    for s, e in zip(starts, ends):
        a, b = int(s) * HOP, min(int(e) * HOP + FRAME, len(audio))
        if regions and a - regions[-1][1] < gap:
            regions[-1][1] = b
        else:
            regions.append([a, b])
    refined = [_refine(audio, a, b, threshold) for a, b in regions]
    keep = [(a, b) for a, b in refined if b - a >= min_len_s * SR]
    return keep, threshold


def _refine(audio: np.ndarray, a: int, b: int, threshold: float) -> tuple[int, int]:
    """Frame-edge span [a, b) narrowed to its first and last sample louder than threshold."""
    head = np.flatnonzero(np.abs(audio[a : min(b, a + FRAME)]) > threshold)
    tail_start = max(a, b - FRAME)
    tail = np.flatnonzero(np.abs(audio[tail_start:b]) > threshold)
    if len(head) == 0 or len(tail) == 0:
        return a, b
    return a + int(head[0]), tail_start + int(tail[-1]) + 1


def trim(audio: np.ndarray, threshold: float) -> tuple[int, int]:
    """Span from the first to the last active sample of ``audio`` at a frame-RMS threshold."""
    rms = frame_rms(audio)
    idx = np.flatnonzero(rms > threshold)
    if len(idx) == 0:
        return 0, 0
    span = int(idx[0]) * HOP, min(int(idx[-1]) * HOP + FRAME, len(audio))
    return _refine(audio, *span, threshold)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def fade(x: np.ndarray, n: int) -> np.ndarray:
    """Raised-cosine fade in and out over ``n`` samples (in place on a copy)."""
    x = x.copy()
    n = min(n, len(x) // 2)
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


def loop_to(audio: np.ndarray, n: int, rng: np.random.Generator, xfade: int) -> np.ndarray:
    """``n`` samples of ``audio`` repeated from a random start, crossfaded at each wrap."""
    if len(audio) == 0:
        return np.zeros(n, dtype=np.float32)
    xfade = min(xfade, len(audio) // 4)
    start = int(rng.integers(0, max(1, len(audio) - 2 * xfade)))
    out = np.zeros(n + len(audio), dtype=np.float32)
    piece = audio[start:]
    pos = 0
    ramp = np.linspace(0.0, 1.0, xfade, dtype=np.float32) if xfade else None
    while pos < n:
        p = piece.copy()
        if pos > 0 and ramp is not None and len(p) > xfade:
            # Crossfade the new piece's head over the previous piece's tail.
            pos -= xfade
            out[pos : pos + xfade] *= 1.0 - ramp
            p[:xfade] *= ramp
        out[pos : pos + len(p)] += p
        pos += len(p)
        piece = audio
    return out[:n]


def split_by_group(
    sounds: Sequence[Sound], test_fraction: float, seed: int
) -> dict[str, dict[str, list[Sound]]]:
    """``{"train": {label: [...]}, "test": {label: [...]}}``: each label's groups are shuffled
    with a seed of their own and about ``test_fraction`` of them (at least one, when there are
    two or more) go to the test side; all files of a group go to the same side."""
    by_label: dict[str, dict[str, list[Sound]]] = defaultdict(lambda: defaultdict(list))
    for s in sounds:
        by_label[s.label][s.group].append(s)
    out: dict[str, dict[str, list[Sound]]] = {"train": {}, "test": {}}
    for label in sorted(by_label):
        groups = sorted(by_label[label])
        rng = np.random.default_rng([seed, zlib.crc32(label.encode())])
        order = [groups[i] for i in rng.permutation(len(groups))]
        n_test = (
            0
            if len(groups) < 2
            else min(len(groups) - 1, max(1, round(test_fraction * len(groups))))
        )
        sides = {"test": order[:n_test], "train": order[n_test:]}
        for side, names in sides.items():
            members = [
                s for g in sorted(names) for s in sorted(by_label[label][g], key=lambda s: s.id)
            ]
            if members:
                out[side][label] = members
    return out


def val_sides(
    sides: dict[str, dict[str, list[Sound]]],
    bg_sides: dict[str, dict[str, list[Sound]]],
    seed: int,
) -> tuple[dict[str, dict[str, list[Sound]]], dict[str, dict[str, list[Sound]]]]:
    """The train side split again by group into train and val sides (``VAL_FRACTION`` of each
    class's groups, and of the backgrounds', to val), the test side as it was: the val clips
    then hold only sources the train clips never use."""
    out, bg_out = dict(sides), dict(bg_sides)
    for table in (out, bg_out):
        wanted = sorted(table["train"])
        train = [s for members in table["train"].values() for s in members]
        again = split_by_group(train, VAL_FRACTION, seed + 7919)  # a seed of its own
        table["train"], table["val"] = again["train"], again["test"]
        missing = [c for c in wanted if c not in table["val"] or c not in table["train"]]
        if missing:
            raise RuntimeError(f"too few source groups to keep val's apart: {missing}")
    return out, bg_out


@dataclass
class PlacedEvent:
    onset: float  # seconds
    offset: float
    label: str
    source: str
    snr_db: float

    @property
    def length(self) -> float:
        return self.offset - self.onset


@dataclass
class Clip:
    name: str
    audio: np.ndarray
    events: list[PlacedEvent]
    background: list[str]  # ids of the background recordings layered under the clip
    background_db: float
    gain: float = 1.0  # applied to the whole mix to avoid clipping
    stems: list[np.ndarray] | None = None  # per event, when asked for (tests)


class _RoundRobin:
    """Cycles through a seeded shuffle of items, reshuffling at the end of each pass."""

    def __init__(self, items: Sequence[Any], rng: np.random.Generator) -> None:
        self.items = list(items)
        self.rng = rng
        self.queue: list[Any] = []

    def next(self) -> Any:
        if not self.queue:
            self.queue = [self.items[i] for i in self.rng.permutation(len(self.items))]
        return self.queue.pop()


class Mixer:
    """Makes clips from per-class event sources and background recordings, deterministically
    for a given ``rng``. Classes are drawn so that their counts stay balanced; within a class,
    groups are visited round-robin, then the files within a group, so a large group (one
    speaker's many files) does not crowd out the others."""

    def __init__(
        self,
        events: Mapping[str, Sequence[Sound]],
        backgrounds: Sequence[Sound],
        rng: np.random.Generator,
        *,
        clip_s: float = CLIP_S,
        events_per_clip: tuple[int, int] = (1, 3),
        event_weights: Sequence[float] | None = (0.3, 0.4, 0.3),
        max_event_s: float = 4.0,
        min_event_s: float = 0.1,
        max_polyphony: int = 3,
        snr_db: tuple[float, float] = (0.0, 20.0),
        background_db: tuple[float, float] = (-42.0, -32.0),
        background_layers: int = 2,
        layer_db: tuple[float, float] = (-12.0, -3.0),
        fade_s: float = 0.005,
        keep_stems: bool = False,
    ) -> None:
        if not events or any(not v for v in events.values()):
            raise ValueError("every class needs at least one source")
        if not backgrounds:
            raise ValueError("need at least one background")
        self.labels = sorted(events)
        self.rng = rng
        self.clip_n = round(clip_s * SR)
        self.events_per_clip = events_per_clip
        lo, hi = events_per_clip
        self.event_weights = None
        if event_weights is not None and len(event_weights) == hi - lo + 1:
            w = np.asarray(event_weights, dtype=float)
            self.event_weights = w / w.sum()
        self.max_event_n = round(max_event_s * SR)
        self.min_event_n = round(min_event_s * SR)
        self.max_polyphony = max_polyphony
        self.snr_db = snr_db
        self.background_db = background_db
        self.background_layers = background_layers
        self.layer_db = layer_db
        self.fade_n = round(fade_s * SR)
        self.keep_stems = keep_stems
        self.counts = Counter({label: 0 for label in self.labels})
        self._sources: dict[str, _RoundRobin] = {}
        self._groups: dict[str, dict[str, _RoundRobin]] = {}
        for label in self.labels:
            by_group: dict[str, list[Sound]] = defaultdict(list)
            for s in events[label]:
                if any(b - a >= self.min_event_n for a, b in s.regions):
                    by_group[s.group].append(s)
            if not by_group:
                raise ValueError(f"no usable source (active part >= {min_event_s} s) for {label!r}")
            self._sources[label] = _RoundRobin(sorted(by_group), rng)
            self._groups[label] = {g: _RoundRobin(v, rng) for g, v in sorted(by_group.items())}
        self._background_list = list(backgrounds)
        self._backgrounds = _RoundRobin(self._background_list, rng)
        self.used: Counter[str] = Counter()

    def _pick_labels(self, n: int) -> list[str]:
        """The ``n`` least used classes, ties broken at random (no class twice in a clip)."""
        jitter = self.rng.random(len(self.labels))
        order = sorted(
            range(len(self.labels)), key=lambda i: (self.counts[self.labels[i]], jitter[i])
        )
        return [self.labels[i] for i in order[:n]]

    def _segment(self, sound: Sound) -> np.ndarray:
        """A random active region of ``sound``, at most ``max_event_s`` long, trimmed."""
        regions = [(a, b) for a, b in sound.regions if b - a >= self.min_event_n]
        a, b = regions[int(self.rng.integers(len(regions)))]
        if b - a > self.max_event_n:
            a = int(self.rng.integers(a, b - self.max_event_n + 1))
            b = a + self.max_event_n
            # The window may start or end in a quiet stretch: trim it again.
            s, e = trim(sound.audio[a:b], sound.threshold)
            if e - s < self.min_event_n:
                s, e = 0, b - a
            a, b = a + s, a + e
        return sound.audio[a:b]

    def _place(self, length: int, placed: list[tuple[int, int]]) -> int | None:
        for _ in range(100):
            start = int(self.rng.integers(0, self.clip_n - length + 1))
            # Polyphony at any instant inside [start, start + length) stays <= max_polyphony.
            points = sorted({start, *(a for a, _ in placed if start < a < start + length)})
            if all(
                1 + sum(1 for a, b in placed if a <= p < b) <= self.max_polyphony for p in points
            ):
                return start
        return None

    def _pick_backgrounds(self) -> list[Sound]:
        """The next background in turn, plus layers from other groups when there are any."""
        first = self._backgrounds.next()
        picked = [first]
        for _ in range(self.background_layers - 1):
            others = [b for b in self._background_list if b.group not in {p.group for p in picked}]
            if not others:
                break
            picked.append(others[int(self.rng.integers(len(others)))])
        return picked

    def _bed(self, bg: Sound) -> np.ndarray:
        """``bg`` trimmed (and its first and last 0.1 s dropped: fades), looped to the clip
        length with crossfades, at unit RMS."""
        a, b = trim(bg.audio, bg.threshold)
        edge = round(0.1 * SR)
        if b - a > 4 * edge:
            a, b = a + edge, b - edge
        bed = loop_to(bg.audio[a:b], self.clip_n, self.rng, xfade=round(0.3 * SR))
        level = rms(bed)
        return bed / np.float32(level) if level > 0 else bed

    def clip(self, name: str) -> Clip:
        lo, hi = self.events_per_clip
        choices = np.arange(lo, hi + 1)
        n = int(self.rng.choice(choices, p=self.event_weights))
        bgs = self._pick_backgrounds()
        bg_db = float(self.rng.uniform(*self.background_db))
        bg_target = 10 ** (bg_db / 20)
        bed = np.zeros(self.clip_n, dtype=np.float32)
        for k, bg in enumerate(bgs):
            layer = self._bed(bg)
            rel = 0.0 if k == 0 else float(self.rng.uniform(*self.layer_db))
            bed += layer * np.float32(10 ** (rel / 20))
        level = rms(bed)
        mix = bed * np.float32(bg_target / level) if level > 0 else bed
        events: list[PlacedEvent] = []
        stems: list[np.ndarray] = []
        placed: list[tuple[int, int]] = []
        for label in self._pick_labels(n):
            group = self._sources[label].next()
            sound: Sound = self._groups[label][group].next()
            seg = self._segment(sound)
            start = self._place(len(seg), placed)
            if start is None:
                continue
            snr = float(self.rng.uniform(*self.snr_db))
            seg_level = rms(seg)
            gain = bg_target * 10 ** (snr / 20) / seg_level if seg_level > 0 else 0.0
            stem = fade(seg, self.fade_n) * np.float32(gain)
            mix[start : start + len(stem)] += stem
            placed.append((start, start + len(stem)))
            events.append(PlacedEvent(start / SR, (start + len(stem)) / SR, label, sound.id, snr))
            self.counts[label] += 1
            self.used[sound.id] += 1
            if self.keep_stems:
                full = np.zeros(self.clip_n, dtype=np.float32)
                full[start : start + len(stem)] = stem
                stems.append(full)
        for bg in bgs:
            self.used[bg.id] += 1
        peak = float(np.max(np.abs(mix))) if len(mix) else 0.0
        gain = 0.98 / peak if peak > 0.98 else 1.0
        if gain != 1.0:
            mix *= np.float32(gain)
            stems = [s * np.float32(gain) for s in stems]
        order = sorted(range(len(events)), key=lambda i: (events[i].onset, events[i].label))
        events = [events[i] for i in order]
        stems = [stems[i] for i in order] if self.keep_stems else stems
        return Clip(
            name,
            mix.astype(np.float32),
            events,
            [bg.id for bg in bgs],
            bg_db,
            gain,
            stems if self.keep_stems else None,
        )


def polyphony(events: Iterable[PlacedEvent]) -> int:
    """Largest number of events active at one instant."""
    edges = sorted([(e.onset, 1) for e in events] + [(e.offset, -1) for e in events])
    level = best = 0
    for _, step in edges:  # an offset sorts before an onset at the same time
        level += step
        best = max(best, level)
    return best


def make_split(
    split: str,
    n_clips: int,
    events: Mapping[str, Sequence[Sound]],
    backgrounds: Sequence[Sound],
    seed: int,
    **mixer_args: Any,
) -> tuple[list[Clip], Mixer]:
    """``n_clips`` clips named ``{split}_{i:03d}.wav``; each split has its own random stream,
    so changing one split's size leaves the others as they were."""
    rng = np.random.default_rng([seed, zlib.crc32(split.encode())])
    mixer = Mixer(events, backgrounds, rng, **mixer_args)
    return [mixer.clip(f"{split}_{i:03d}.wav") for i in range(n_clips)], mixer


def format_time(t: float) -> str:
    return f"{t:.6f}".rstrip("0").rstrip(".") if t else "0"


def write_labels(clips: Sequence[Clip], path: Path) -> None:
    """DCASE tsv with a header; every clip has at least one event."""
    lines = ["\t".join(dcase.HEADER)]
    for clip in clips:
        if not clip.events:
            lines.append(clip.name)
        for e in clip.events:
            lines.append(f"{clip.name}\t{format_time(e.onset)}\t{format_time(e.offset)}\t{e.label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_clips(clips: Sequence[Clip], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        sf.write(folder / clip.name, clip.audio, SR, subtype="PCM_16")


def to_mono_sr(audio: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at :data:`SR` (polyphase resampling)."""
    from scipy.signal import resample_poly  # slow to import: only when decoding

    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate != SR:
        g = math.gcd(int(rate), SR)
        x = resample_poly(x, SR // g, int(rate) // g)
    return x.astype(np.float32)


# --- duplicates ---------------------------------------------------------------------------


def fingerprint(audio: np.ndarray, seconds: float = 3.0) -> np.ndarray:
    """Log energies in 24 log-spaced bands of 46 ms frames over the first ``seconds``."""
    n_fft, hop = 1024, 512
    x = audio[: round(seconds * SR)].astype(np.float64)
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    edges = np.unique(np.geomspace(2, n_fft // 2, 25).astype(int))
    bands = np.add.reduceat(power, edges[:-1], axis=1)
    return np.log10(bands + 1e-10)


def same_recording(
    fa: np.ndarray, fb: np.ndarray, *, max_lag: int = 4, min_corr: float = 0.95
) -> bool:
    """Whether two fingerprints match at some small lag (gain and codec differences allowed)."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        a = fa[max(0, lag) :]
        b = fb[max(0, -lag) :]
        n = min(len(a), len(b))
        if n < 3:
            continue
        x = a[:n].ravel() - a[:n].mean()
        y = b[:n].ravel() - b[:n].mean()
        den = float(np.linalg.norm(x) * np.linalg.norm(y))
        if den > 0:
            best = max(best, float(x @ y) / den)
    return best >= min_corr


def find_duplicates(sounds: Sequence[Sound]) -> list[tuple[str, str]]:
    """Pairs of sounds whose active spans have about the same length and the same spectral
    fingerprint: one recording shipped twice (other gain, rate or codec)."""
    spans = []
    for s in sounds:
        a, b = trim(s.audio, s.threshold)
        spans.append((s, b - a, fingerprint(s.audio[a:b])))
    spans.sort(key=lambda t: t[1])
    pairs = []
    for i, (s, n, f) in enumerate(spans):
        for t, m, g in spans[i + 1 :]:
            if m > n * 1.1 + 0.05 * SR:
                break
            if same_recording(f, g):
                pairs.append((s.id, t.id))
    return pairs


def merge_groups(sounds: Sequence[Sound], pairs: Iterable[tuple[str, str]]) -> None:
    """Put both sounds of each pair, and their whole groups, into one group (same label)."""
    by_id = {s.id: s for s in sounds}
    parent: dict[str, str] = {}

    def root(g: str) -> str:
        while parent.get(g, g) != g:
            g = parent[g]
        return g

    for a, b in pairs:
        sa, sb = by_id[a], by_id[b]
        if sa.label != sb.label:
            continue
        ra, rb = root(sa.group), root(sb.group)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for s in sounds:
        s.group = root(s.group)


# --- Debian packages ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Files of ``package`` (fnmatch ``patterns`` on their path in the unpacked package, or
    ``<container>::<member>`` for files inside a Qt resource or OpenTTD sample file) that are
    recordings of ``label``. ``group``: ``file`` (each file alone), ``stem`` (file name without
    trailing digits/take numbers), ``lang`` (the language folder: one speaker), ``word`` (first
    word of the file name), ``stanza`` (the debian/copyright paragraph: one author), ``original``
    (the recording an OpenSFX sample was edited from), or ``=NAME``."""

    package: str
    label: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    group: str = "file"
    max_per_group: int | None = None
    min_rate: int = 16000
    noise_margin_db: float | None = None  # see find_regions


def _opensfx(*numbers: int) -> tuple[str, ...]:
    return tuple(f"*opensfx.cat::{n:02d}_*" for n in numbers)


_GC = "*gcompris-qt/rcc/*.rcc::gcompris/src"
_TP = "usr/share/tuxpaint/stamps"
_MT = "usr/share/games/minetest/games/minetest_game/mods"

CATALOGUE: tuple[Rule, ...] = (
    # speech: letters, syllables and words read by one speaker per language (KDE edu), and
    # ALSA's speaker-test voice.
    Rule(
        "klettres-data",
        "speech",
        ("usr/share/klettres/*/alpha/*", "usr/share/klettres/*/syllab/*"),
        group="lang",
        max_per_group=8,
    ),
    Rule(
        "ktuberling-data",
        "speech",
        ("usr/share/ktuberling/sounds/*/*.ogg", "usr/share/ktuberling/sounds/*/*.wav"),
        group="lang",
        max_per_group=8,
    ),
    Rule(
        "alsa-utils",
        "speech",
        ("usr/share/sounds/alsa/*.wav",),
        exclude=("*/Noise.wav",),
        group="=alsa:speaker-test",
    ),
    # animal
    Rule(
        "tuxpaint-stamps-default",
        "animal",
        (f"{_TP}/animals/*.ogg",),
        exclude=("*_desc*",),
        group="word",
    ),
    Rule(
        "gcompris-qt-data",
        "animal",
        (f"{_GC}/activities/explore_farm_animals/resource/animals/*.ogg",),
    ),
    Rule(
        "gcompris-qt-data",
        "animal",
        (f"{_GC}/activities/memory-sound/resource/LRBark_*",),
        group="=gcompris:bark",
    ),
    Rule("openttd-opensfx", "animal", _opensfx(36, 37, 38, 66, 67, 68, 72), group="original"),
    # instrument
    Rule("gcompris-qt-data", "instrument", (f"{_GC}/activities/instruments/resource/*.ogg",)),
    Rule(
        "gcompris-qt-data",
        "instrument",
        (f"{_GC}/activities/melody/resource/xylofon_son*",),
        group="=gcompris:xylophone",
    ),
    Rule(
        "gcompris-qt-data",
        "instrument",
        (f"{_GC}/activities/memory-sound/resource/guitar_*",),
        group="=gcompris:guitar",
    ),
    Rule(
        "tuxpaint-stamps-default",
        "instrument",
        (f"{_TP}/hobbies/music/*.ogg",),
        exclude=("*_desc*",),
    ),
    # alert: desktop notification themes, referee whistles, signals
    Rule(
        "sound-theme-freedesktop",
        "alert",
        ("usr/share/sounds/freedesktop/stereo/*.oga",),
        exclude=(
            "*/audio-channel-*",
            "*/audio-test-signal*",
            "*/audio-volume-change*",
            "*/camera-shutter*",
            "*/screen-capture*",
        ),
        group="stanza",
    ),
    Rule("oxygen-sounds", "alert", ("usr/share/sounds/Oxygen-*.ogg",), group="oxygen"),
    Rule("deepin-sound-theme", "alert", ("usr/share/sounds/deepin/stereo/*.wav",), group="word"),
    Rule("tuxfootball", "alert", ("*/sound/refwhistle*.wav",), group="=tuxfootball:whistle"),
    Rule("openttd-opensfx", "alert", _opensfx(3, 14, 22), group="original"),
    # impact
    Rule(
        "openttd-opensfx", "impact", _opensfx(2, 15, 16, 17, 19, 31, 32, 39, 54), group="original"
    ),
    Rule(
        "gcompris-qt-data",
        "impact",
        (
            f"{_GC}/core/resource/sounds/brick.wav",
            f"{_GC}/core/resource/sounds/crash.wav",
            f"{_GC}/activities/memory-sound/resource/LRHits_*",
            f"{_GC}/activities/memory-sound/resource/LRObject_falling_*",
            f"{_GC}/activities/melody/resource/knock.wav",
            f"{_GC}/activities/mining/resource/pickaxe.wav",
            f"{_GC}/activities/canal_lock/resource/door_close.wav",
            f"{_GC}/activities/canal_lock/resource/lock.wav",
        ),
        group="stem",
    ),
    Rule(
        "tuxpaint-stamps-default",
        "impact",
        (
            f"{_TP}/household/tools/hammer.ogg",
            f"{_TP}/household/tools/mallet_metal.ogg",
            f"{_TP}/household/dishes/bottle.ogg",
            f"{_TP}/household/dishes/glass.ogg",
        ),
    ),
    Rule(
        "minetest-data",
        "impact",
        tuple(
            f"{_MT}/{p}"
            for p in (
                "default/sounds/default_dig_choppy.*",
                "default/sounds/default_dig_cracky.*",
                "default/sounds/default_place_node_hard.*",
                "default/sounds/default_dug_metal.*",
                "default/sounds/default_break_glass.*",
                "default/sounds/default_tool_breaks.*",
                "default/sounds/default_hard_footstep.*",
                "default/sounds/default_wood_footstep.*",
                "doors/sounds/*_close.ogg",
            )
        ),
        group="stem",
    ),
    Rule("kolf", "impact", ("usr/share/kolf/sounds/hit.wav", "usr/share/kolf/sounds/bumper.wav")),
    Rule("tuxfootball", "impact", ("*/sound/kick.wav", "*/sound/bounce.wav")),
    # vehicle
    Rule(
        "openttd-opensfx",
        "vehicle",
        _opensfx(4, 5, 6, 7, 8, 9, 10, 13, 24, 25, 26, 27, 28, 35, 59, 61, 65, 69, 71),
        group="original",
    ),
    Rule(
        "gcompris-qt-data",
        "vehicle",
        (
            f"{_GC}/activities/memory-sound/resource/LRStartAndStopCarEngine*",
            f"{_GC}/activities/memory-sound/resource/LRTrain_slowing_down*",
            f"{_GC}/activities/traffic/resource/car.wav",
            f"{_GC}/activities/railroad/resource/sounds/train.wav",
        ),
    ),
    Rule("minetest-data", "vehicle", (f"{_MT}/carts/sounds/carts_cart_moving.*",), group="stem"),
    Rule("tuxpaint-stamps-default", "vehicle", (f"{_TP}/vehicles/emergency/firetruck.ogg",)),
    # background: steady ambient recordings (machinery, water, fire, rain, wind)
    Rule(
        "minetest-data",
        "background",
        (
            f"{_MT}/env_sounds/sounds/env_sounds_water.*",
            f"{_MT}/env_sounds/sounds/env_sounds_lava.*",
            f"{_MT}/fire/sounds/fire_large.ogg",
            f"{_MT}/fire/sounds/fire_small.ogg",
            f"{_MT}/fire/sounds/fire_fire.*",
            f"{_MT}/default/sounds/default_furnace_active.ogg",
        ),
        group="stem",
        min_rate=SR,
    ),
    Rule(
        "gcompris-qt-data",
        "background",
        (
            f"{_GC}/core/resource/sounds/water.wav",
            f"{_GC}/activities/memory-sound/resource/LRRain_in_garden*",
            f"{_GC}/activities/canal_lock/resource/water_fill.wav",
        ),
        min_rate=SR,
    ),
    Rule("openttd-opensfx", "background", _opensfx(52, 57), group="original", min_rate=SR),
)


# Where a package's debian/copyright names files by their path in the source tree.
UPSTREAM_PATHS = {
    "minetest-data": (("usr/share/games/minetest/games/minetest_game/", "mtg/"),),
}

# Speech, animal calls and impacts were recorded with audible hiss between the sounds: their
# events are where the level is this far above the recording's noise floor.
NOISE_MARGIN_DB = {"speech": 10.0, "animal": 10.0, "impact": 10.0}


def packages() -> list[str]:
    return sorted({r.package for r in CATALOGUE})


class FetchError(RuntimeError):
    pass


def _say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def fetch_package(name: str, cache: Path, patterns: Sequence[str] = ("*",)) -> Path:
    """The unpacked package folder, downloading (``apt-get download``) and unpacking
    (``dpkg-deb -x``) only what the cache lacks. Container files (Qt ``.rcc`` resources,
    OpenTTD's ``.cat``) are expanded under ``_members/``; of the audio files, only those
    matching ``patterns`` are kept (unpacked again from the cached .deb when they change)."""
    debs = cache / "debs"
    root = cache / "pkgs" / name
    done = root / ".unpacked"
    key = _stable_key("\n".join(sorted(patterns)))
    if done.exists() and json.loads(done.read_text()).get("patterns") == key:
        return root
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{name}_*.deb"), key=lambda p: p.stat().st_mtime)
    if not found:
        if shutil.which("apt-get") is None:
            raise FetchError("apt-get is needed to fetch the Debian packages (Debian or Ubuntu)")
        _say(f"downloading {name} ...")
        proc = subprocess.run(
            ["apt-get", "download", "-q", name], cwd=debs, capture_output=True, text=True
        )
        found = sorted(debs.glob(f"{name}_*.deb"), key=lambda p: p.stat().st_mtime)
        if proc.returncode != 0 or not found:
            raise FetchError(
                f"apt-get download {name} failed (run 'apt-get update' first?):\n{proc.stderr.strip()}"
            )
    deb = found[-1]
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    version = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    expand_containers(root)
    prune(root, patterns)
    info = {"deb": deb.name, "version": version, "size": deb.stat().st_size, "patterns": key}
    done.write_text(json.dumps(info))
    return root


def package_info(root: Path) -> dict[str, Any]:
    return json.loads((root / ".unpacked").read_text())


def read_rcc(data: bytes) -> dict[str, bytes]:
    """Files in a Qt binary resource (``rcc``) file: path -> bytes (zlib members inflated)."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node = 14 + (8 if version >= 2 else 0)
    out: dict[str, bytes] = {}

    def name_at(off: int) -> str:
        (n,) = struct.unpack(">H", data[names + off : names + off + 2])
        return data[names + off + 6 : names + off + 6 + 2 * n].decode("utf-16-be")

    def walk(i: int, prefix: str) -> None:
        p = tree + i * node
        name_off, flags = struct.unpack(">IH", data[p : p + 6])
        name = name_at(name_off) if i else ""
        if flags & 2:  # directory
            count, first = struct.unpack(">II", data[p + 6 : p + 14])
            for k in range(count):
                walk(first + k, f"{prefix}{name}/" if i else "")
            return
        (off,) = struct.unpack(">I", data[p + 10 : p + 14])
        q = payload + off
        (size,) = struct.unpack(">I", data[q : q + 4])
        blob = data[q + 4 : q + 4 + size]
        if flags & 1:  # qCompress: 4-byte length, then zlib
            blob = zlib.decompress(blob[4:])
        elif flags & 4:  # zstd: not needed for the files used here
            return
        out[prefix + name] = blob

    walk(0, "")
    return out


def read_opensfx_cat(data: bytes) -> list[tuple[str, bytes]]:
    """(description, WAV bytes) of each sample in OpenTTD's ``.cat`` sample file."""
    first = struct.unpack("<I", data[:4])[0] & 0x7FFFFFFF
    out = []
    for i in range(first // 8):
        off, size = struct.unpack("<II", data[8 * i : 8 * i + 8])
        off &= 0x7FFFFFFF
        blob = data[off : off + size]
        n = blob[0]
        out.append((blob[1 : 1 + n].rstrip(b"\0").decode("latin-1"), blob[1 + n :]))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def expand_containers(root: Path) -> None:
    """Write the audio members of ``*.rcc`` and ``opensfx.cat`` files under ``root/_members``,
    with an ``index.json`` per container (member -> description, licence, original)."""
    for rcc in sorted(root.rglob("*.rcc")):
        members = {k: v for k, v in read_rcc(rcc.read_bytes()).items() if _is_audio(k)}
        if not members:
            continue
        base = root / "_members" / rcc.relative_to(root)
        for member, blob in members.items():
            target = base / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        (base / "index.json").write_text(
            json.dumps({m: {"upstream": m} for m in members}, indent=1)
        )
    for cat in sorted(root.rglob("opensfx.cat")):
        base = root / "_members" / cat.relative_to(root)
        base.mkdir(parents=True, exist_ok=True)
        index = {}
        for i, (text, wav) in enumerate(read_opensfx_cat(cat.read_bytes())):
            title = re.match(r'"([^"]*)"', text)
            name = f"{i:02d}_{_slug(title.group(1) if title else text)}.wav"
            if len(wav) <= 44:
                continue
            (base / name).write_bytes(wav)
            licence = re.search(r"License: (.*?)\.(?: Original is|$)", text)
            original = re.search(r'Original "([^"]+)"', text)
            index[name] = {
                "description": text,
                "licence": licence.group(1).strip() if licence else None,
                "original": original.group(1) if original else None,
                "upstream": f"src/wav/{name}",
            }
        (base / "index.json").write_text(json.dumps(index, indent=1))


def member_name(rel: str) -> str | None:
    """The name rules match for a file at ``rel`` in an unpacked package: the path itself, or
    ``<container path>::<member>`` for a file expanded from a container; None for others."""
    if not rel.startswith("_members/"):
        return rel
    m = re.match(r"(.*?\.(?:rcc|cat))/(.*)", rel[len("_members/") :])
    return f"{m.group(1)}::{m.group(2)}" if m else None


def prune(root: Path, patterns: Sequence[str] = ("*",)) -> None:
    """Delete what the benchmark never reads: everything but ``usr/share/doc``, the
    containers' ``index.json`` and the audio files that match ``patterns``."""
    for p in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink() or p.is_file():
            name = member_name(rel)
            keep = rel.startswith("usr/share/doc/") or p.name == "index.json"
            if not keep and name is not None and _is_audio(rel):
                keep = any(fnmatch.fnmatchcase(name, pat) for pat in patterns)
            if not keep:
                p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()


def _is_audio(path: str) -> bool:
    return path.lower().endswith((".wav", ".ogg", ".oga", ".flac"))


def parse_dep5(text: str) -> list[tuple[list[str], str]]:
    """(Files patterns, License short name) of each ``Files`` paragraph of a machine-readable
    debian/copyright, in order; [] when the file is not in that format."""
    if "Format:" not in text.split("\n\n", 1)[0]:
        return []
    out = []
    for para in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in para.split("\n"):
            if line[:1] in (" ", "\t") and key:
                if key != "License":  # a licence's first line is its name; the rest is text
                    fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip()
                fields[key] = value.strip()
        if "Files" in fields and "License" in fields:
            out.append((fields["Files"].split(), fields["License"]))
    return out


def dep5_lookup(stanzas: list[tuple[list[str], str]], path: str) -> tuple[int, str] | None:
    """Index and licence of the last paragraph whose pattern matches ``path`` or a suffix of
    it (installed paths are deeper than the upstream paths the patterns name)."""
    hit = None
    for i, (patterns, licence) in enumerate(stanzas):
        for p in patterns:
            if fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, "*/" + p):
                hit = (i, licence)
                break
    return hit


@dataclass
class Candidate:
    """A file chosen by a rule, before decoding."""

    id: str
    label: str
    package: str
    path: Path
    member: str  # path inside the package (or container::member)
    group: str
    licence: str
    licence_from: str
    rule: Rule
    extra: dict[str, Any] = field(default_factory=dict)


def _group_of(
    rule: Rule, member: str, lang: str | None, stanza: int | None, extra: dict[str, Any]
) -> str:
    stem = Path(member).name.split(".")[0]
    kind = rule.group
    if kind.startswith("="):
        return kind[1:]
    if kind == "file":
        key = member
    elif kind == "stem":
        key = re.sub(r"[-_ ]*\d+$", "", re.sub(r"_(LA|cut|LACut|LA_cut)$", "", stem))
    elif kind == "word":
        key = re.split(r"[-_]", stem)[0]
        letters = re.match(r"[A-Za-z]+", key)
        key = letters.group(0) if letters else key
    elif kind == "lang":
        return f"lang:{(lang or '?').split('_')[0].split('@')[0]}"
    elif kind == "stanza":
        key = f"stanza{stanza}"
    elif kind == "oxygen":
        key = stem.split("-")[1] if "-" in stem else stem
    elif kind == "original":
        title = re.match(r'"([^"]*)"', extra.get("description", ""))
        key = extra.get("original") or (title.group(1) if title else member)
    else:
        raise ValueError(f"unknown group kind {kind!r}")
    return f"{rule.package}:{key}"


def candidates(
    cache: Path, rules: Sequence[Rule] = CATALOGUE
) -> tuple[list[Candidate], dict[str, Any]]:
    """The files the rules choose (fetching packages as needed) and per-package facts."""
    out: list[Candidate] = []
    info: dict[str, Any] = {}
    seen: set[str] = set()
    for pkg in sorted({r.package for r in rules}):
        pkg_rules = [r for r in rules if r.package == pkg]
        root = fetch_package(pkg, cache, [pat for r in pkg_rules for pat in r.patterns])
        meta = package_info(root)
        copyright_path = root / "usr/share/doc" / pkg / "copyright"
        text = copyright_path.read_text(errors="replace") if copyright_path.exists() else ""
        stanzas = parse_dep5(text)
        info[pkg] = {
            "version": meta["version"],
            "deb": meta["deb"],
            "deb_bytes": meta["size"],
            "copyright": f"/usr/share/doc/{pkg}/copyright",
            "copyright_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "licences_in_copyright": sorted({lic for _, lic in stanzas})
            or sorted(set(re.findall(r"^License: *(.+)$", text, flags=re.M))),
        }
        files: list[tuple[str, Path, dict[str, Any]]] = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if not p.is_file() or not _is_audio(rel):
                continue
            name = member_name(rel)
            if name is None:
                continue
            if "::" in name:
                container, member = name.split("::", 1)
                index = json.loads((root / "_members" / container / "index.json").read_text())
                files.append((name, p, index.get(member, {})))
            else:
                files.append((name, p, {}))
        for rule in (r for r in rules if r.package == pkg):
            for member, path, extra in files:
                if not any(fnmatch.fnmatchcase(member, pat) for pat in rule.patterns):
                    continue
                if any(fnmatch.fnmatchcase(member, pat) for pat in rule.exclude):
                    continue
                cid = f"{pkg}:{member}"
                if cid in seen:
                    continue
                seen.add(cid)
                upstream = extra.get("upstream") or member.split("::")[-1]
                for installed, source in UPSTREAM_PATHS.get(pkg, ()):
                    upstream = upstream.replace(installed, source)
                hit = dep5_lookup(stanzas, upstream)
                if extra.get("licence"):
                    licence, licence_from = extra["licence"], "sample description in opensfx.cat"
                elif hit:
                    licence, licence_from = hit[1], "debian/copyright"
                else:  # no licence stated for this file: not used
                    info[pkg].setdefault("skipped_without_licence", []).append(member)
                    continue
                lang = None
                if rule.group == "lang":
                    parts = member.split("/")
                    lang = parts[3] if pkg == "klettres-data" else parts[-2]
                group = _group_of(rule, member, lang, hit[0] if hit else None, extra)
                out.append(
                    Candidate(
                        cid,
                        rule.label,
                        pkg,
                        path,
                        member,
                        group,
                        licence,
                        licence_from,
                        rule,
                        extra,
                    )
                )
    return out, info


def _stable_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def cap_groups(cands: Sequence[Candidate]) -> list[Candidate]:
    """At most ``rule.max_per_group`` files per (label, group), a fixed pseudo-random choice."""
    by: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in cands:
        by[(c.label, c.group)].append(c)
    keep = []
    for members in by.values():
        cap = min((c.rule.max_per_group for c in members if c.rule.max_per_group), default=None)
        members = sorted(members, key=lambda c: _stable_key(c.id))
        keep.extend(members[:cap] if cap else members)
    return sorted(keep, key=lambda c: c.id)


def load_sound(c: Candidate, cache: Path) -> Sound | None:
    """Decoded, mono, resampled (cached as .npy); None for files too low-rate or silent."""
    info = sf.info(str(c.path))
    if info.samplerate < c.rule.min_rate:
        return None
    key = _stable_key(f"{c.id}|{c.path.stat().st_size}|{SR}")
    npy = cache / "decoded" / f"{key}.npy"
    if npy.exists():
        audio = np.load(npy)
    else:
        data, rate = sf.read(str(c.path), dtype="float32", always_2d=True)
        audio = to_mono_sr(data, rate)
        npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(npy, audio)
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak <= 1e-4:
        return None
    meta = {
        "package": c.package,
        "path": c.member,
        "licence": c.licence,
        "licence_from": c.licence_from,
        "native_rate": info.samplerate,
        "channels": info.channels,
        "seconds": round(len(audio) / SR, 3),
    }
    if c.extra.get("description"):
        meta["description"] = c.extra["description"]
    margin = c.rule.noise_margin_db
    if margin is None:
        margin = NOISE_MARGIN_DB.get(c.label)
    if margin is not None:
        meta["noise_margin_db"] = margin
    return Sound(c.id, c.label, audio / peak, c.group, meta)


# --- building the data set ----------------------------------------------------------------


DEFAULT_SNR_DB = (6.0, 24.0)
# With val_side "unheard": the share of each class's train-side source groups that only the
# val clips use.
VAL_FRACTION = 0.25


@dataclass
class BuildParams:
    seed: int = 0
    train_clips: int = 60
    val_clips: int = 20
    test_clips: int = 40
    test_fraction: float = 0.35
    # Event RMS over background RMS. DESED's synthetic soundscapes use 6–30 dB; at 0 dB a
    # low engine or a quiet voice under broadband rain is invisible in the spectrogram and
    # inaudible, i.e. a label nobody would have made.
    snr_db: tuple[float, float] = DEFAULT_SNR_DB
    # Clips without labels for the mean teacher, mixed from the sources of one side: "test"
    # (sources never labelled, as a user's unlabelled hours hold sounds they never labelled;
    # other mixes than the test clips) or "train" (only sources that were labelled).
    unlabelled_clips: int = 0
    unlabelled_side: str = "test"
    # Where the val clips' sources come from: "heard" (the train side's, as the train clips:
    # val scores sounds training has heard) or "unheard" (a quarter of the train side's
    # groups, kept out of the train clips: val scores sounds never trained on, as a split
    # that keeps each site's recordings together does — `tfstudio split --group-by folder`),
    # or "fewer", its control: the train clips as with "unheard", val mixed from their sources.
    val_side: str = "heard"

    def to_dict(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "builder_version": BUILDER_VERSION,
            "snr_db": list(self.snr_db),
            "seed": self.seed,
            "train_clips": self.train_clips,
            "val_clips": self.val_clips,
            "test_clips": self.test_clips,
            "test_fraction": self.test_fraction,
            "sample_rate": SR,
            "clip_seconds": CLIP_S,
        }
        if self.unlabelled_clips:  # builds without them keep their parameters (and cache)
            params["unlabelled_clips"] = self.unlabelled_clips
            params["unlabelled_side"] = self.unlabelled_side
        if self.val_side != "heard":  # likewise
            params["val_side"] = self.val_side
            params["val_fraction"] = VAL_FRACTION
        return params

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "val", "test", "unlabelled") if self.unlabelled_clips else SPLITS


def split_stats(clips: Sequence[Clip]) -> dict[str, Any]:
    events = [e for c in clips for e in c.events]
    return {
        "clips": len(clips),
        "seconds": round(len(clips) * CLIP_S, 3),
        "events": len(events),
        "event_seconds": round(sum(e.length for e in events), 3),
        "events_per_class": dict(sorted(Counter(e.label for e in events).items())),
        "max_polyphony": max((polyphony(c.events) for c in clips), default=0),
        "clips_with_overlap": sum(1 for c in clips if polyphony(c.events) > 1),
        "mean_event_seconds": round(sum(e.length for e in events) / len(events), 3)
        if events
        else 0,
    }


def build(data: Path, cache: Path, params: BuildParams) -> dict[str, Any]:
    """Fetch, choose, decode, split and mix; writes the clips, three tsv files and
    manifest.json into ``data`` and returns the manifest."""
    t0 = time.time()
    cands, pkg_info = candidates(cache)
    cands = cap_groups(cands)
    sounds = [s for s in (load_sound(c, cache) for c in cands) if s is not None]
    dupes = find_duplicates(sounds)
    merge_groups(sounds, dupes)
    by_id = {s.id: s for s in sounds}
    # One recording filed under two classes: keep it in the first only.
    dropped = sorted({b for a, b in dupes if by_id[a].label != by_id[b].label})
    sounds = [s for s in sounds if s.id not in dropped]
    min_event = round(0.1 * SR)  # Mixer's min_event_s: shorter sounds are never used
    events = [
        s for s in sounds if s.label != BACKGROUND and any(b - a >= min_event for a, b in s.regions)
    ]
    backgrounds = [s for s in sounds if s.label == BACKGROUND and s.active_seconds >= 2.0]
    sides = split_by_group(events, params.test_fraction, params.seed)
    bg_sides = split_by_group(backgrounds, params.test_fraction, params.seed)
    for side in ("train", "test"):
        missing = [c for c in CLASSES if c not in sides[side]]
        if missing or BACKGROUND not in bg_sides[side]:
            raise RuntimeError(f"the {side} side has no sources for {missing or [BACKGROUND]}")
    plan = {
        "train": ("train", params.train_clips),
        "val": ("train", params.val_clips),
        "test": ("test", params.test_clips),
    }
    if params.val_side in ("unheard", "fewer"):
        sides, bg_sides = val_sides(sides, bg_sides, params.seed)
        # "fewer", the control: the train clips' sources as with "unheard", val mixed from
        # them too (what keeping a quarter of the sources apart costs training, alone).
        plan["val"] = ("val" if params.val_side == "unheard" else "train", params.val_clips)
    if params.unlabelled_clips:
        plan["unlabelled"] = (params.unlabelled_side, params.unlabelled_clips)
    data.mkdir(parents=True, exist_ok=True)
    clips_out: dict[str, list[dict[str, Any]]] = {}
    stats: dict[str, Any] = {}
    used: dict[str, Counter[str]] = {}
    for split, (side, n) in plan.items():
        folder = data / split
        if folder.exists():
            shutil.rmtree(folder)
        clips, mixer = make_split(
            split,
            n,
            sides[side],
            bg_sides[side][BACKGROUND],
            params.seed,
            snr_db=params.snr_db,
        )
        write_clips(clips, folder)
        write_labels(clips, data / f"{split}.tsv")
        used[split] = mixer.used
        stats[split] = split_stats(clips)
        clips_out[split] = [
            {
                "name": c.name,
                "background": c.background,
                "background_db": round(c.background_db, 2),
                "gain": round(c.gain, 4),
                "events": [
                    {
                        "onset": e.onset,
                        "offset": e.offset,
                        "label": e.label,
                        "source": e.source,
                        "snr_db": round(e.snr_db, 2),
                    }
                    for e in c.events
                ],
            }
            for c in clips
        ]
    side_names = tuple(sides)  # train, test (and val, kept apart with val_side "unheard")
    side_of = {s.id: side for side in side_names for lab in sides[side].values() for s in lab}
    side_of.update({s.id: side for side in side_names for s in bg_sides[side].get(BACKGROUND, [])})
    source_rows = []
    for s in sorted(sounds, key=lambda s: (s.label, s.id)):
        if s.id not in side_of:
            continue
        source_rows.append(
            {
                "id": s.id,
                "label": s.label,
                **s.meta,
                "version": pkg_info[s.meta["package"]]["version"],
                "group": s.group,
                "side": side_of[s.id],
                "active_seconds": round(s.active_seconds, 3),
                "regions": len(s.regions),
                "used": {split: used[split][s.id] for split in plan if used[split][s.id]},
            }
        )
    summary: dict[str, Any] = {}
    for label in (*CLASSES, BACKGROUND):
        rows = [r for r in source_rows if r["label"] == label]
        summary[label] = {
            side: {
                "files": sum(1 for r in rows if r["side"] == side),
                "groups": len({r["group"] for r in rows if r["side"] == side}),
                "used_files": sum(1 for r in rows if r["side"] == side and r["used"]),
                "packages": dict(
                    sorted(Counter(r["package"] for r in rows if r["side"] == side).items())
                ),
            }
            for side in side_names
        }
    manifest = {
        "params": params.to_dict(),
        "classes": list(CLASSES),
        "packages": pkg_info,
        "sources_per_class": summary,
        "splits": stats,
        "duplicates_merged": [list(p) for p in dupes],
        "dropped_cross_class_duplicates": dropped,
        "sources": source_rows,
        "clips": clips_out,
        "build_seconds": round(time.time() - t0, 1),
    }
    (data / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def ensure_data(
    data: Path, cache: Path, params: BuildParams, force: bool = False
) -> dict[str, Any]:
    """Build unless ``data`` already holds a build with the same parameters."""
    manifest_path = data / "manifest.json"
    if manifest_path.exists() and not force:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params.to_dict() and all(
            (data / f"{s}.tsv").exists() for s in params.splits
        ):
            return manifest
    if data.exists() and any(data.iterdir()) and not manifest_path.exists():
        raise RuntimeError(f"{data} is not empty and holds no manifest.json: not overwriting it")
    return build(data, cache, params)


# --- scoring ------------------------------------------------------------------------------


def read_tsv(path: Path) -> list[metrics.Event]:
    """Events of a DCASE tsv, recordings named by file name (folders dropped)."""
    result = dcase.read(Path(path))
    if result.issues:
        raise ValueError("; ".join(str(i) for i in result.issues))
    return [
        metrics.Event(e.recording.replace("\\", "/").rsplit("/", 1)[-1], e.onset, e.offset, e.label)
        for e in result.events
    ]


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def score(
    reference: Sequence[metrics.Event],
    estimated: Sequence[metrics.Event],
    classes: Sequence[str] | None = None,
    *,
    duration: float | None = CLIP_S,
) -> dict[str, Any]:
    """Segment-based (1 s) and event-based (200 ms collar, 20 % offset collar) scores over the
    reference's recordings, as ``tfstudio evaluate`` computes them. Detections of recordings
    or labels not in the reference are counted and left out; offsets are clipped to
    ``duration``, as evaluate clips them to the recording's length."""
    classes = list(classes) if classes else sorted({e.label for e in reference})
    recs = {e.recording for e in reference}
    kept = []
    ignored = Counter[str]()
    for e in estimated:
        if e.recording not in recs:
            ignored["other_recording"] += 1
        elif e.label not in classes:
            ignored["unknown_label"] += 1
        else:
            off = min(e.offset, duration) if duration else e.offset
            if off > e.onset:
                kept.append(metrics.Event(e.recording, e.onset, off, e.label))
            else:
                ignored["outside_recording"] += 1
    seg = metrics.segment_based(reference, kept, classes, time_resolution=1.0)
    ev = metrics.event_based(reference, kept, classes, t_collar=0.2, percentage_of_length=0.2)

    def overall(s: metrics.Scores) -> dict[str, Any]:
        keys = (
            "f1",
            "precision",
            "recall",
            "error_rate",
            "substitution_rate",
            "deletion_rate",
            "insertion_rate",
        )
        return {
            **{k: _num(getattr(s, k)) for k in keys},
            "n_ref": s.n_ref,
            "n_sys": s.n_sys,
            "class_wise_average": {k: _num(v) for k, v in s.class_wise_average().items()},
        }

    per_class = {
        c: {
            "segment_f1": _num(seg.per_class[c].f1),
            "segment_er": _num(seg.per_class[c].error_rate),
            "event_f1": _num(ev.per_class[c].f1),
            "event_er": _num(ev.per_class[c].error_rate),
            "reference_events": sum(1 for e in reference if e.label == c),
            "detected_events": sum(1 for e in kept if e.label == c),
        }
        for c in classes
    }
    return {
        "segment_f1": _num(seg.f1),
        "segment_er": _num(seg.error_rate),
        "event_f1": _num(ev.f1),
        "event_er": _num(ev.error_rate),
        "segment": overall(seg),
        "event": overall(ev),
        "per_class": per_class,
        "reference_events": len(reference),
        "detected_events": len(kept),
        "ignored_detections": dict(ignored),
    }


def score_sed_eval(
    reference: Sequence[metrics.Event], estimated: Sequence[metrics.Event], classes: Sequence[str]
) -> dict[str, Any]:
    """The same overall scores from sed_eval itself (a cross-check; needs sed_eval)."""
    import dcase_util
    import sed_eval

    def container(events: Iterable[metrics.Event]) -> Any:
        return dcase_util.containers.MetaDataContainer(
            [
                {
                    "filename": e.recording,
                    "onset": e.onset,
                    "offset": e.offset,
                    "event_label": e.label,
                }
                for e in events
            ]
        )

    seg = sed_eval.sound_event.SegmentBasedMetrics(
        event_label_list=list(classes), time_resolution=1.0
    )
    ev = sed_eval.sound_event.EventBasedMetrics(
        event_label_list=list(classes), t_collar=0.2, percentage_of_length=0.2
    )
    ref_c = container(reference)
    est_c = container(estimated)
    for rec in sorted({e.recording for e in reference} | {e.recording for e in estimated}):
        r, e = ref_c.filter(filename=rec), est_c.filter(filename=rec)
        seg.evaluate(reference_event_list=r, estimated_event_list=e)
        ev.evaluate(reference_event_list=r, estimated_event_list=e)
    so, eo = seg.results_overall_metrics(), ev.results_overall_metrics()
    return {
        "segment_f1": _num(so["f_measure"]["f_measure"]),
        "segment_er": _num(so["error_rate"]["error_rate"]),
        "event_f1": _num(eo["f_measure"]["f_measure"]),
        "event_er": _num(eo["error_rate"]["error_rate"]),
    }


def score_files(
    ref: Path, det: Path, classes: Sequence[str] | None = None, *, with_sed_eval: bool = False
) -> dict[str, Any]:
    reference, estimated = read_tsv(ref), read_tsv(det)
    result = score(reference, estimated, classes)
    if with_sed_eval:
        names = list(result["per_class"])
        recs = {e.recording for e in reference}
        kept = [
            metrics.Event(e.recording, e.onset, min(e.offset, CLIP_S), e.label)
            for e in estimated
            if e.recording in recs and e.label in names and min(e.offset, CLIP_S) > e.onset
        ]
        result["sed_eval"] = score_sed_eval(reference, kept, names)
    return result


# --- the user's workflow through the CLI --------------------------------------------------


def tfstudio_command(explicit: str | None) -> list[str]:
    if explicit:
        return shlex.split(explicit)
    beside = Path(sys.executable).with_name("tfstudio")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "tfstudio"]


def _run(
    cmd: list[str], log: list[dict[str, Any]], *, ok: Sequence[int] = (0,)
) -> subprocess.CompletedProcess[str]:
    t0 = time.time()
    _say("$ " + shlex.join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log.append(
        {"command": shlex.join(cmd), "rc": proc.returncode, "seconds": round(time.time() - t0, 2)}
    )
    if proc.returncode not in ok:
        raise RuntimeError(
            f"{shlex.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def train(cmd: list[str], log: list[dict[str, Any]]) -> dict[str, Any]:
    """Run ``train --json``, echo epochs to stderr, and sum up the run."""
    _say("$ " + shlex.join(cmd))
    t0 = time.time()
    t_start = None
    epochs: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    done: dict[str, Any] = {}
    other: list[str] = []
    with (
        tempfile.TemporaryFile("w+") as errfile,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile, text=True) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                other.append(line.rstrip())
                continue
            kind = ev.get("event")
            if kind == "start":
                start, t_start = ev, time.time()
            elif kind == "epoch":
                epochs.append(ev)
                _say(
                    f"  epoch {ev['epoch']}: train loss {ev['train_loss']:.4f}, val loss {ev['val_loss']:.4f}, "
                    f"val F1 {ev['f1']:.3f}, ER {ev['er']:.3f}, {ev.get('seconds', 0):.1f} s"
                )
            elif kind == "done":
                done = ev
        rc = proc.wait()
        errfile.seek(0)
        err = errfile.read()
    seconds = time.time() - t0
    log.append({"command": shlex.join(cmd), "rc": rc, "seconds": round(seconds, 2)})
    if rc != 0 or done.get("status") not in ("done", "stopped"):
        out = "\n".join(other[-20:])
        raise RuntimeError(
            f"training failed (rc {rc}, status {done.get('status')}):\n{out}\n{err[-4000:]}\n"
            f"{done.get('message', '')}"
        )
    per_epoch = [e.get("seconds", 0.0) for e in epochs]
    return {
        "run": done.get("run"),
        "status": done.get("status"),
        "message": done.get("message"),
        "device": start.get("device"),
        "epochs": len(epochs),
        "best_epoch": done.get("best_epoch"),
        "batches_per_epoch": start.get("batches_per_epoch"),
        "parameters": start.get("parameters"),
        "seconds": round(seconds, 2),
        "prepare_seconds": round(t_start - t0, 2) if t_start else None,
        "seconds_per_epoch": round(sum(per_epoch) / len(per_epoch), 2) if per_epoch else None,
        "val_f1_per_epoch": [round(e["f1"], 4) for e in epochs],
        "val_er_per_epoch": [round(e["er"], 4) for e in epochs],
        "val_loss_per_epoch": [round(e["val_loss"], 4) for e in epochs],
        "config": start.get("config"),
    }


def review_round(
    project_dir: Path, run_id: int, truth: Sequence[metrics.Event], names: Sequence[str]
) -> dict[str, int]:
    """A careful reviewer goes through run ``run_id``'s detections on the recordings called
    ``names`` as the GUI lets one: accepts each detection that overlaps a true event of its
    class, its edges corrected to that event's; rejects the others; labels the true events no
    detection found; then moves the recordings into the train split. Returns the counts."""
    from tfstudio.store import Project
    from tfstudio.store.review import accept_detections

    counts = Counter[str]()
    project = Project.open(project_dir)
    try:
        recordings = {rec.name: rec for rec in project.recordings()}
        class_ids = {c.name: c.id for c in project.classes()}
        by_recording = defaultdict(list)
        for event in truth:
            by_recording[event.recording].append(event)
        moved = []
        for name in names:
            rec = recordings[name]
            found: set[int] = set()
            for det in project.events(rec.id, source="model", run_id=run_id):
                label = project.event_class(det.class_id).name
                hits = [
                    (min(det.offset, t.offset) - max(det.onset, t.onset), i)
                    for i, t in enumerate(by_recording[name])
                    if t.label == label and min(det.offset, t.offset) > max(det.onset, t.onset)
                ]
                if hits:
                    _, best = max(hits)
                    true = by_recording[name][best]
                    if best in found:
                        # A second detection of a sound already accepted: a duplicate.
                        project.update_event(det.id, review="rejected")
                        counts["rejected"] += 1
                        continue
                    found.add(best)
                    accept_detections(project, [det.id], onset=true.onset, offset=true.offset)
                    counts["accepted"] += 1
                else:
                    project.update_event(det.id, review="rejected")
                    counts["rejected"] += 1
            missed = [t for i, t in enumerate(by_recording[name]) if i not in found]
            if missed:
                project.add_events(
                    [
                        dict(
                            recording_id=rec.id,
                            class_id=class_ids[t.label],
                            onset=t.onset,
                            offset=t.offset,
                        )
                        for t in missed
                    ]
                )
                counts["labelled"] += len(missed)
            moved.append(rec.id)
        project.set_split(moved, "train")
        counts["recordings"] = len(moved)
        counts["true_events"] = sum(len(by_recording[n]) for n in names)
    finally:
        project.close()
    return dict(counts)


def run_detections(project_dir: Path, run_id: int, split: str) -> list[metrics.Event]:
    """Run ``run_id``'s detections (not rejected) on the recordings of ``split``."""
    from tfstudio.store import Project

    project = Project.open(project_dir)
    try:
        out = []
        for rec in project.recordings(split):
            for det in project.events(rec.id, source="model", run_id=run_id):
                if det.review != "rejected":
                    label = project.event_class(det.class_id).name
                    out.append(metrics.Event(rec.name, det.onset, det.offset, label))
        return out
    finally:
        project.close()


def run_workflow(
    data: Path,
    project: Path,
    train_args: Sequence[str],
    *,
    tfstudio: list[str],
    with_sed_eval: bool = False,
    cli_evaluate: bool = False,
    review: int = 0,
    review_picks: Sequence[str] = ("first",),
) -> dict[str, Any]:
    log: list[dict[str, Any]] = []
    warnings: list[str] = []
    tf = tfstudio
    _run([*tf, "init", str(project)], log)
    for split in ("train", "val"):
        proc = _run(
            [
                *tf,
                "import",
                str(project),
                str(data / split),
                "--labels",
                str(data / f"{split}.tsv"),
                "--split",
                split,
                "--quiet",
            ],
            log,
            ok=(0, 3),
        )
        if proc.returncode == 3:
            warnings.append(f"import {split}: {proc.stdout.strip()} {proc.stderr.strip()}")
    proc = _run(
        [*tf, "import", str(project), str(data / "test"), "--split", "test", "--quiet"],
        log,
        ok=(0, 3),
    )
    if proc.returncode == 3:
        warnings.append(f"import test: {proc.stdout.strip()} {proc.stderr.strip()}")
    if (data / "unlabelled").is_dir():
        # In no split and without labels: the mean teacher's recordings (its truth,
        # unlabelled.tsv, is never imported).
        proc = _run(
            [*tf, "import", str(project), str(data / "unlabelled"), "--quiet"], log, ok=(0, 3)
        )
        if proc.returncode == 3:
            warnings.append(f"import unlabelled: {proc.stdout.strip()} {proc.stderr.strip()}")
    training = train(
        [*tf, "train", str(project), "--preset", "fast", "--json", "--quiet", *train_args], log
    )
    t0 = time.time()
    _run([*tf, "detect", str(project), "--quiet"], log)
    detect_seconds = time.time() - t0
    det = project / "detections.tsv"
    _run(
        [
            *tf,
            "export",
            str(project),
            "--format",
            "dcase",
            "--source",
            "detections",
            "-o",
            str(det),
        ],
        log,
    )
    result = score_files(data / "test.tsv", det, CLASSES, with_sed_eval=with_sed_eval)
    out: dict[str, Any] = {
        "training": training,
        "detect_seconds": round(detect_seconds, 2),
        **result,
    }
    if cli_evaluate:
        _run(
            [*tf, "import", str(project), "--labels", str(data / "test.tsv"), "--quiet"],
            log,
            ok=(0, 3),
        )
        ev = _run([*tf, "evaluate", str(project), "--split", "test", "--json"], log)
        try:
            cli = json.loads(ev.stdout)
        except json.JSONDecodeError:
            lines = [ln for ln in ev.stdout.splitlines() if ln.strip().startswith("{")]
            cli = json.loads(lines[-1]) if lines else {}
        out["cli_evaluate"] = {k: cli.get(k) for k in ("segment_f1", "segment_er", "event_f1")}
    if review:
        rounds = _review_rounds(
            data, project, train_args, review, training["run"], review_picks, tfstudio=tf, log=log
        )
        out.update(rounds)
    out["commands"] = log
    out["warnings"] = warnings
    return out


# How the review round chooses its clips among the unlabelled ones: the first by name (their
# content is drawn at random, so this is a random choice), or those the first run's model is
# least sure about ('tfstudio suggest').
REVIEW_PICKS = ("first", "uncertain")


def _review_rounds(
    data: Path,
    project: Path,
    train_args: Sequence[str],
    count: int,
    run_id: int,
    picks: Sequence[str],
    *,
    tfstudio: list[str],
    log: list[dict[str, Any]],
) -> dict[str, Any]:
    """One review round per way of picking its clips, each on its own copy of the project as
    the first run left it: ``review`` is the first pick's, ``reviews`` every pick's."""
    originals = project.with_name(project.name + "-first-run")
    if len(picks) > 1:
        shutil.copytree(project, originals)
    reviews: dict[str, Any] = {}
    try:
        for i, pick in enumerate(picks):
            where = project
            if i:
                where = project.with_name(f"{project.name}-{pick}")
                shutil.copytree(originals, where)
            reviews[pick] = _review_and_retrain(
                data, where, train_args, count, run_id, pick, tfstudio=tfstudio, log=log
            )
    finally:
        shutil.rmtree(originals, ignore_errors=True)
    return {"review": reviews[picks[0]], "reviews": reviews}


def _review_and_retrain(
    data: Path,
    project: Path,
    train_args: Sequence[str],
    count: int,
    run_id: int,
    pick: str = "first",
    *,
    tfstudio: list[str],
    log: list[dict[str, Any]],
) -> dict[str, Any]:
    """The review loop: detect on ``count`` unlabelled clips (chosen by ``pick``: see
    :data:`REVIEW_PICKS`), review them (accept, correct, reject, label what was missed:
    :func:`review_round`), train a new run with them in the train split, detect on the test
    split again and score that run's detections."""
    tf = tfstudio
    names = sorted(p.name for p in (data / "unlabelled").glob("*.wav"))
    if len(names) < count:
        raise RuntimeError(f"--review {count}: the data set has {len(names)} unlabelled clips")
    if pick == "uncertain":
        proc = _run(
            [*tf, "suggest", str(project), "--split", "none", "--count", str(count), "--json",
             "--quiet", "--run", str(run_id)],
            log,
        )  # fmt: skip
        names = [row["recording"] for row in json.loads(proc.stdout)["suggestions"]]
    elif pick != "first":
        raise ValueError(f"unknown review pick {pick!r}")
    names = names[:count]
    recording_args = [arg for name in names for arg in ("--recording", name)]
    _run([*tf, "detect", str(project), "--quiet", *recording_args], log)
    counts = review_round(project, run_id, read_tsv(data / "unlabelled.tsv"), names)
    _say(f"review: {counts}")
    training = train(
        [*tf, "train", str(project), "--preset", "fast", "--json", "--quiet", *train_args], log
    )
    _run([*tf, "detect", str(project), "--quiet"], log)
    detections = run_detections(project, training["run"], "test")
    return {
        "clips": count,
        "pick": pick,
        "names": names,
        "counts": counts,
        "training": training,
        **score(read_tsv(data / "test.tsv"), detections, CLASSES),
    }


# --- several training seeds ----------------------------------------------------------------

SEED_SCORES = ("segment_f1", "segment_er", "event_f1", "event_er")


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` → [0, 1, 2]; ValueError for anything else (a repeat included)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        seeds = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got {text!r}") from None
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed is given twice in {text!r}")
    return seeds


def seeds_summary(runs: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """Mean, lowest and highest of each overall score over the runs of several training
    seeds, each class's mean segment F1, and the same under ``review`` when every run has
    one. Runs without scores (failed) are left out of the statistics."""
    scored = {seed: run for seed, run in runs.items() if "segment_f1" in run}

    def stats(results: list[Mapping[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in SEED_SCORES:
            values = [float(r[key]) for r in results if r.get(key) is not None]
            if values:
                out[key] = {
                    "mean": round(sum(values) / len(values), 4),
                    "min": round(min(values), 4),
                    "max": round(max(values), 4),
                }
        classes = sorted({c for r in results for c in r.get("per_class", {})})
        out["per_class_segment_f1"] = {
            c: round(
                sum(float(r["per_class"][c].get("segment_f1") or 0.0) for r in results)
                / len(results),
                4,
            )
            for c in classes
            if all(c in r.get("per_class", {}) for r in results)
        }
        return out

    summary: dict[str, Any] = {"scored": sorted(scored)}
    if scored:
        summary.update(stats(list(scored.values())))
        if all("review" in r for r in scored.values()):
            summary["review"] = stats([r["review"] for r in scored.values()])
        picks = [set(r.get("reviews", {})) for r in scored.values()]
        for pick in sorted(set.intersection(*picks)):
            summary.setdefault("reviews", {})[pick] = stats(
                [r["reviews"][pick] for r in scored.values()]
            )
    return summary


def seed_command(args: argparse.Namespace, data: Path, seed: int, out: Path) -> list[str]:
    """The ``run`` command of one training seed: this run's options, one seed, one JSON."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "run",
        "--cache", str(args.cache),
        "--data", str(data),
        "--seed", str(args.seed),
        "--train-clips", str(args.train_clips),
        "--val-clips", str(args.val_clips),
        "--test-clips", str(args.test_clips),
        "--unlabelled-clips", str(args.unlabelled_clips),
        "--unlabelled-side", args.unlabelled_side,
        "--val-side", args.val_side,
        "--test-fraction", str(args.test_fraction),
        "--snr", str(args.snr[0]), str(args.snr[1]),
        "--train-args=" + " ".join(filter(None, [args.train_args, f"--seed {seed}"])),
        "--out", str(out),
    ]  # fmt: skip
    if args.project:
        cmd += ["--project", str(Path(args.project).expanduser() / f"seed-{seed}")]
    if args.keep_project:
        cmd.append("--keep-project")
    if args.tfstudio:
        cmd += ["--tfstudio", args.tfstudio]
    for flag in ("sed_eval", "cli_evaluate"):
        if getattr(args, flag):
            cmd.append("--" + flag.replace("_", "-"))
    if args.review:
        cmd += ["--review", str(args.review), "--review-pick", args.review_pick]
    return cmd


def run_seeds(args: argparse.Namespace, data: Path, seeds: Sequence[int]) -> dict[str, Any]:
    """One ``run`` child per training seed, ``args.jobs`` at a time, each on its share of
    the cores (unless OMP_NUM_THREADS is set); their JSON under ``runs`` and the statistics
    (:func:`seeds_summary`). A child's progress goes to its log file beside the results."""
    if args.project:
        root = Path(args.project).expanduser()
        if root.exists() and any(root.iterdir()):
            raise SystemExit(f"real_sounds.py: error: {root} exists and is not empty")
        root.mkdir(parents=True, exist_ok=True)
        work = root
    else:
        work = Path(tempfile.mkdtemp(prefix="tfstudio-bench-seeds-"))
    threads = str(max(1, (os.cpu_count() or 1) // args.jobs))
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", threads)
    env.setdefault("MKL_NUM_THREADS", env["OMP_NUM_THREADS"])
    pending = list(seeds)
    running: dict[int, tuple[subprocess.Popen[bytes], Any]] = {}
    runs: dict[int, dict[str, Any]] = {}
    t0 = time.time()
    try:
        while pending or running:
            while pending and len(running) < args.jobs:
                seed = pending.pop(0)
                log = open(work / f"seed-{seed}.log", "wb")  # noqa: SIM115 (closed below)
                cmd = seed_command(args, data, seed, work / f"seed-{seed}.json")
                running[seed] = (
                    subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env),
                    log,
                )
                _say(f"training seed {seed}: started ({env['OMP_NUM_THREADS']} thread(s))")
            time.sleep(1.0)
            for seed, (proc, log) in list(running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del running[seed]
                out = work / f"seed-{seed}.json"
                if proc.returncode == 0 and out.exists():
                    runs[seed] = json.loads(out.read_text(encoding="utf-8"))
                    r = runs[seed]
                    _say(
                        f"training seed {seed}: {r['segment_f1']:.3f} / {r['segment_er']:.3f} "
                        f"/ {r['event_f1']:.3f}"
                    )
                else:
                    tail = (work / f"seed-{seed}.log").read_text(errors="replace")[-2000:]
                    runs[seed] = {"error": f"exit code {proc.returncode}", "log_tail": tail}
                    _say(f"training seed {seed}: failed (exit code {proc.returncode})")
    finally:
        for proc, log in running.values():
            proc.kill()
            log.close()
        if not args.project and not args.keep_project:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "training_seeds": list(seeds),
        "jobs": args.jobs,
        "runs": {str(seed): runs[seed] for seed in seeds if seed in runs},
        "failed": [seed for seed in seeds if "error" in runs.get(seed, {"error": 1})],
        "seeds": seeds_summary(runs),
        "total_seconds": round(time.time() - t0, 1),
        "work": str(work) if (args.project or args.keep_project) else None,
    }


# --- command line -------------------------------------------------------------------------


def _params(args: argparse.Namespace) -> BuildParams:
    return BuildParams(
        args.seed,
        args.train_clips,
        args.val_clips,
        args.test_clips,
        args.test_fraction,
        (float(args.snr[0]), float(args.snr[1])),
        args.unlabelled_clips,
        args.unlabelled_side,
        args.val_side,
    )


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data:
        return Path(args.data).expanduser()
    p = _params(args)
    name = (
        f"data-seed{p.seed}-{p.train_clips}-{p.val_clips}-{p.test_clips}"
        f"-snr{p.snr_db[0]:g}-{p.snr_db[1]:g}"
    )
    if p.unlabelled_clips:
        name += f"-u{p.unlabelled_clips}{p.unlabelled_side}"
    if p.val_side != "heard":
        name += f"-val{p.val_side}"
    return Path(args.cache).expanduser() / name


def _emit(result: dict[str, Any], out: str | None) -> None:
    text = json.dumps(result, indent=1)
    print(text)
    if out:
        Path(out).expanduser().write_text(text + "\n", encoding="utf-8")


def _data_summary(manifest: dict[str, Any], data: Path) -> dict[str, Any]:
    return {
        "data": str(data),
        "seed": manifest["params"]["seed"],
        "classes": manifest["classes"],
        "splits": manifest["splits"],
        "sources_per_class": {
            label: {
                side: {k: v for k, v in d.items() if k != "packages"} for side, d in sides.items()
            }
            for label, sides in manifest["sources_per_class"].items()
        },
        "packages": {
            k: {"version": v["version"], "deb_bytes": v["deb_bytes"]}
            for k, v in manifest["packages"].items()
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("build", "run", "score", "-h", "--help"):
        argv.insert(0, "run")
    # "--train-args --no-mixing" would read as two options: glue the value on.
    for i, arg in enumerate(argv[:-1]):
        if arg == "--train-args":
            argv[i : i + 2] = [f"--train-args={argv[i + 1]}"]
            break
    parser = argparse.ArgumentParser(
        prog="real_sounds.py",
        description="Polyphonic SED benchmark from real recordings in Debian packages (default: run).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--cache",
            default=str(DEFAULT_CACHE),
            help="download and decode cache (default %(default)s)",
        )
        p.add_argument("--data", help="data set folder (default: CACHE/data-seedS-TRAIN-VAL-TEST)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--train-clips", type=int, default=60)
        p.add_argument("--val-clips", type=int, default=20)
        p.add_argument("--test-clips", type=int, default=40)
        p.add_argument(
            "--unlabelled-clips",
            type=int,
            default=0,
            help="also make N clips without labels, imported in no split (the mean teacher's)",
        )
        p.add_argument(
            "--unlabelled-side",
            choices=("test", "train"),
            default="test",
            help="mix the unlabelled clips from the test side's sources (never labelled; "
            "default) or the train side's",
        )
        p.add_argument(
            "--val-side",
            choices=("heard", "unheard", "fewer"),
            default="heard",
            help="mix the val clips from the train clips' sources (default) or from a "
            f"quarter of the train side's source groups kept for val ({VAL_FRACTION:g}): val "
            "then scores sounds never trained on; 'fewer', the control: the train clips as "
            "with 'unheard', val from their sources",
        )
        p.add_argument(
            "--test-fraction",
            type=float,
            default=0.35,
            help="share of each class's source groups kept for test",
        )
        p.add_argument(
            "--snr",
            nargs=2,
            type=float,
            default=DEFAULT_SNR_DB,
            metavar=("LOW", "HIGH"),
            help="event-to-background RMS ratio range in dB (default %(default)s; 0 20 is "
            "the harder set with many inaudible labels)",
        )
        p.add_argument("--force", action="store_true", help="rebuild even if the data set exists")
        p.add_argument("--out", help="also write the JSON here")

    b = sub.add_parser("build", help="only make the data set")
    data_options(b)
    r = sub.add_parser(
        "run", help="build if missing, then init/import/train/detect/export and score"
    )
    data_options(r)
    r.add_argument(
        "--project", help="project folder to create (default: a temporary one, removed afterwards)"
    )
    r.add_argument("--keep-project", action="store_true", help="keep the temporary project")
    r.add_argument(
        "--train-args",
        default="",
        help='extra "tfstudio train" arguments, e.g. "--epochs 5 --no-mixing"',
    )
    r.add_argument("--tfstudio", help="the tfstudio command (default: the one beside this Python)")
    r.add_argument("--sed-eval", action="store_true", help="also score with sed_eval itself")
    r.add_argument(
        "--cli-evaluate",
        action="store_true",
        help="also import the test labels and run 'tfstudio evaluate'",
    )
    r.add_argument(
        "--review",
        type=int,
        default=0,
        metavar="N",
        help="then review the first run's detections on N unlabelled clips (needs "
        "--unlabelled-clips), train again with them and score the new run ('review' key)",
    )
    r.add_argument(
        "--review-pick",
        default="first",
        metavar="PICK[,PICK...]",
        help="how the review round chooses its clips: 'first' (by name; their content is "
        "random), 'uncertain' (those the first run is least sure about, 'tfstudio suggest'); "
        "several, comma-separated, review copies of the first run's project one way each "
        "('reviews' key; 'review' is the first's)",
    )
    r.add_argument(
        "--training-seeds",
        metavar="K,K,...",
        help="run the whole workflow once per training seed (train --seed K after "
        "--train-args) and report each run and their mean, lowest and highest scores; a "
        "benchmark result is one seed's luck otherwise (segment F1 moves by ±0.03 between seeds)",
    )
    r.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="with --training-seeds: N runs at a time, each on cores/N threads (default 1)",
    )
    s = sub.add_parser("score", help="score a detection tsv against a reference tsv")
    s.add_argument("reference")
    s.add_argument("detections")
    s.add_argument("--classes", help="comma-separated class list (default: the reference's labels)")
    s.add_argument("--sed-eval", action="store_true")
    s.add_argument("--out")
    args = parser.parse_args(argv)

    if args.command == "score":
        classes = args.classes.split(",") if args.classes else None
        _emit(
            score_files(
                Path(args.reference), Path(args.detections), classes, with_sed_eval=args.sed_eval
            ),
            args.out,
        )
        return 0

    picks = [p.strip() for p in getattr(args, "review_pick", "first").split(",")]
    if any(p not in REVIEW_PICKS for p in picks) or len(set(picks)) != len(picks):
        parser.error(f"--review-pick: each of {', '.join(REVIEW_PICKS)} at most once")
    cache = Path(args.cache).expanduser()
    data = _data_dir(args)
    manifest = ensure_data(data, cache, _params(args), force=args.force)
    summary = _data_summary(manifest, data)
    if args.command == "build":
        summary["sources_per_class"] = manifest["sources_per_class"]
        summary["build_seconds"] = manifest.get("build_seconds")
        _emit(summary, args.out)
        return 0

    if args.training_seeds:
        try:
            seeds = parse_seeds(args.training_seeds)
        except ValueError as exc:
            parser.error(f"--training-seeds: {exc}")
        if args.jobs < 1:
            parser.error("--jobs must be at least 1")
        result = run_seeds(args, data, seeds)
        _emit(
            {
                "benchmark": "real_sounds",
                "train_args": shlex.split(args.train_args),
                **summary,
                **result,
            },
            args.out,
        )
        return 0 if not result["failed"] else 1

    train_args = shlex.split(args.train_args)
    temp = args.project is None
    project = (
        Path(tempfile.mkdtemp(prefix="tfstudio-bench-")) / "project"
        if temp
        else Path(args.project).expanduser()
    )
    if project.exists() and any(project.iterdir()):
        parser.error(f"{project} exists and is not empty")
    t0 = time.time()
    try:
        result = run_workflow(
            data,
            project,
            train_args,
            tfstudio=tfstudio_command(args.tfstudio),
            with_sed_eval=args.sed_eval,
            cli_evaluate=args.cli_evaluate,
            review=args.review,
            review_picks=picks,
        )
    finally:
        if temp and not args.keep_project:
            shutil.rmtree(project.parent, ignore_errors=True)
    out = {
        "benchmark": "real_sounds",
        "train_args": train_args,
        "project": str(project) if (not temp or args.keep_project) else None,
        **summary,
        **result,
        "total_seconds": round(time.time() - t0, 1),
    }
    _emit(out, args.out)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
