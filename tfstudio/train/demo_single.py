"""A monophonic demo project for the single-label task: a Zipf vocabulary of sound types.

``create_single_label_demo(folder, classes=V)`` writes recordings in which one sound at a time
sounds over a quiet background, each drawn from V types with Zipf frequencies (type k, the
k-th most frequent, has probability ∝ 1 / (k + 1)), and makes a project of them with exact
labels and train/val/test splits, like :func:`tfstudio.importer.create_demo` for the
polyphonic demo. V may be as large as 100 000: a type is a code of five features that a
spectrogram shows, so every type sounds different from every other:

- pitch: 40 steps of 1.2 semitones from 350 Hz (up to about 3.6 kHz);
- contour: flat, rising, falling, arch, U, trill, steep rise, steep fall, rise then level, or a
  jump;
- rhythm: 1 to 5 notes, evenly spaced or with a long first note;
- timbre: pure, with its octave, three harmonics, odd harmonics, or noisy;
- length: 0.12 to 0.5 s.

Types are numbered by frequency rank and mapped to codes by a multiplication modulo the
number of codes (a bijection), so even a small vocabulary spreads over every feature.
Nothing here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from tfstudio.audio.probe import native_path
from tfstudio.importer import add_generated_recordings
from tfstudio.store import Project

__all__ = [
    "MAX_TYPES",
    "SingleLabelEvent",
    "SingleLabelRecording",
    "SoundType",
    "create_single_label_demo",
    "generate_single_label_demo",
    "sound_type",
    "type_names",
]

_PITCHES, _CONTOURS, _RHYTHMS, _TIMBRES, _LENGTHS = 40, 10, 10, 5, 5
MAX_TYPES = _PITCHES * _CONTOURS * _RHYTHMS * _TIMBRES * _LENGTHS  # 100 000
# Coprime with MAX_TYPES (odd, not a multiple of 5): k ↦ k · _SPREAD mod MAX_TYPES is a bijection.
_SPREAD = 38183
_LOWEST_HZ = 350.0
_PITCH_STEP = 1.2  # semitones
_LENGTHS_S = (0.12, 0.18, 0.26, 0.36, 0.5)
_GAP_S = (0.08, 0.6)  # silence between two sounds: at least 4 frames at a 20 ms hop
_SNR_DB = (12.0, 28.0)
_NOISE_DBFS = -45.0
_RAMP_S = 0.005
_PEAK = 0.89
_COLORS = (
    "#56B4E9", "#E69F00", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999",
)  # fmt: skip

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SoundType:
    """The five features of a type (indices into the lists of the module's docstring)."""

    pitch: int
    contour: int
    rhythm: int
    timbre: int
    length: int

    @property
    def f0(self) -> float:
        return _LOWEST_HZ * 2.0 ** (self.pitch * _PITCH_STEP / 12.0)

    @property
    def duration(self) -> float:
        return _LENGTHS_S[self.length]


def sound_type(k: int) -> SoundType:
    """The code of type ``k`` (0 ≤ k < MAX_TYPES); distinct types have distinct codes."""
    if not 0 <= k < MAX_TYPES:
        raise ValueError(f"a type is a number in [0, {MAX_TYPES}), got {k}")
    code = (k * _SPREAD) % MAX_TYPES
    code, pitch = divmod(code, _PITCHES)
    code, contour = divmod(code, _CONTOURS)
    code, rhythm = divmod(code, _RHYTHMS)
    length, timbre = divmod(code, _TIMBRES)
    return SoundType(pitch, contour, rhythm, timbre, length)


def type_names(classes: int) -> list[str]:
    """The class names of a vocabulary: ``type0`` … in frequency-rank order, zero-padded."""
    width = len(str(max(0, classes - 1)))
    return [f"type{k:0{width}d}" for k in range(classes)]


@dataclass
class SingleLabelEvent:
    """One labelled sound: times in seconds, band in Hz, its type's rank."""

    onset: float
    offset: float
    label: str
    low_hz: float
    high_hz: float
    rank: int


@dataclass
class SingleLabelRecording:
    """One generated file, its split and its labels (never overlapping)."""

    path: Path
    split: str
    events: list[SingleLabelEvent] = field(default_factory=list)
    duration: float = 0.0


def generate_single_label_demo(
    folder: Path | str,
    *,
    classes: int = 50,
    recordings: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    sample_rate: int = 22050,
    progress: Progress | None = None,
) -> list[SingleLabelRecording]:
    """Write ``folder/mono_000.wav``… (16-bit PCM) and return their exact labels.

    The same arguments give the same files; recording ``i`` depends only on ``seed``, ``i``
    and ``classes``. Splits are about 60/20/20 % train/val/test, each non-empty from three
    recordings on.
    """
    if not 2 <= classes <= MAX_TYPES:
        raise ValueError(f"classes must be between 2 and {MAX_TYPES}, got {classes}")
    if recordings < 0:
        raise ValueError("recordings must not be negative")
    if seconds < 1.0:
        raise ValueError("seconds must be at least 1")
    if sample_rate < 8000:
        raise ValueError("sample_rate must be at least 8000 Hz")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = type_names(classes)
    zipf = 1.0 / np.arange(1, classes + 1, dtype=np.float64)
    cdf = np.cumsum(zipf / zipf.sum())
    seeds = np.random.SeedSequence([seed, classes]).spawn(recordings)
    splits = _assign_splits(recordings, np.random.default_rng([seed, recordings, 1]))
    width = max(3, len(str(recordings - 1)))
    result = []
    for i in range(recordings):
        rng = np.random.default_rng(seeds[i])
        audio, events = _render(rng, seconds, sample_rate, cdf, names)
        path = folder / f"mono_{i:0{width}d}.wav"
        pcm = np.rint(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
        sf.write(native_path(path), pcm, sample_rate, subtype="PCM_16", format="WAV")
        result.append(SingleLabelRecording(path, splits[i], events, len(audio) / sample_rate))
        if progress is not None:
            progress(i + 1, recordings)
    return result


def create_single_label_demo(
    folder: Path | str,
    *,
    classes: int = 50,
    recordings: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> Project:
    """A ready project of generated monophonic recordings over a Zipf vocabulary of
    ``classes`` sound types (every type a class, in frequency-rank order, even those that
    no recording happens to use), with exact labels and splits; train it with
    ``tfstudio train P --task single-label``. The project is returned open."""
    folder = Path(folder)
    project = Project.create(folder)
    try:
        demo = generate_single_label_demo(
            folder / "audio",
            classes=classes,
            recordings=recordings,
            seconds=seconds,
            seed=seed,
            progress=progress,
        )
        names = type_names(classes)
        project.add_classes(names, [_COLORS[k % len(_COLORS)] for k in range(len(names))])
        add_generated_recordings(project, demo)
    except BaseException:
        project.close()
        raise
    return project


def _assign_splits(n: int, rng: np.random.Generator) -> list[str]:
    if n < 3:
        return ["train"] * n
    n_val = max(1, round(0.2 * n))
    n_test = max(1, round(0.2 * n))
    splits = ["val"] * n_val + ["test"] * n_test + ["train"] * (n - n_val - n_test)
    return [splits[j] for j in rng.permutation(n)]


def _render(
    rng: np.random.Generator, seconds: float, sr: int, cdf: np.ndarray, names: list[str]
) -> tuple[np.ndarray, list[SingleLabelEvent]]:
    """One recording: sounds one after another over a quiet background, and their labels."""
    n = round(seconds * sr)
    noise_rms = 10.0 ** (_NOISE_DBFS / 20.0)
    audio = _background(rng, n) * np.float32(noise_rms)
    events = []
    t = rng.uniform(*_GAP_S)
    while True:
        rank = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        rank = min(rank, len(names) - 1)
        kind = sound_type(rank)
        duration = kind.duration * rng.uniform(0.9, 1.1)
        start = round(t * sr)
        stop = start + max(1, round(duration * sr))
        if stop > n:
            break
        x, low_hz, high_hz = _synthesise(kind, stop - start, sr, rng)
        snr = rng.uniform(*_SNR_DB)
        audio[start:stop] += x * np.float32(noise_rms * 10.0 ** (snr / 20.0) / _rms(x))
        events.append(
            SingleLabelEvent(start / sr, stop / sr, names[rank], low_hz, min(high_hz, sr / 2), rank)
        )
        t = stop / sr + rng.uniform(*_GAP_S)
    peak = float(np.max(np.abs(audio))) if n else 0.0
    if peak > _PEAK:
        audio *= np.float32(_PEAK / peak)
    return audio, events


def _background(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS pinkish noise."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return (noise / max(_rms(noise), 1e-12)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return max(math.sqrt(float(np.dot(x, x)) / max(1, len(x))), 1e-12)


def _contour(kind: int, u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Pitch offset in semitones over normalised time ``u`` (and seconds ``t``)."""
    if kind == 0:
        return np.zeros_like(u)
    if kind == 1:
        return 4.0 * u
    if kind == 2:
        return -4.0 * u
    if kind == 3:
        return 4.0 * np.sin(np.pi * u)
    if kind == 4:
        return -4.0 * np.sin(np.pi * u)
    if kind == 5:
        return 1.5 * np.sin(2.0 * np.pi * 25.0 * t)
    if kind == 6:
        return 9.0 * u
    if kind == 7:
        return -9.0 * u
    if kind == 8:
        return 6.0 * np.minimum(1.0, 3.0 * u)
    return np.where(u < 0.5, 0.0, 5.0)


def _envelope(rhythm: int, n: int, sr: int) -> np.ndarray:
    """Notes of the rhythm: 1 to 5 of them, even or with a long first note, 5 ms ramps."""
    notes = 1 + rhythm % 5
    long_first = rhythm >= 5
    parts = np.ones(notes)
    if long_first and notes > 1:
        parts[0] = 2.0
    # Each note takes its share of 80 % of the span; gaps share the rest (none for one note).
    sound = 0.8 if notes > 1 else 1.0
    lengths = parts / parts.sum() * sound * n
    gap = (1.0 - sound) * n / max(1, notes - 1)
    env = np.zeros(n, dtype=np.float32)
    ramp = max(1, round(_RAMP_S * sr))
    position = 0.0
    for length in lengths:
        a, b = round(position), min(n, round(position + length))
        if b > a:
            note = np.ones(b - a, dtype=np.float32)
            r = min(ramp, (b - a) // 2)
            if r > 0:
                fade = (0.5 - 0.5 * np.cos(np.pi * np.arange(r) / r)).astype(np.float32)
                note[:r] *= fade
                note[-r:] *= fade[::-1]
            env[a:b] = note
        position += length + gap
    return env


_HARMONICS = (
    ((1, 1.0),),
    ((1, 1.0), (2, 0.5)),
    ((1, 1.0), (2, 0.6), (3, 0.4)),
    ((1, 1.0), (3, 1 / 3), (5, 1 / 5)),
    ((1, 1.0),),  # noisy: the tone's band filled with noise (below)
)


def _synthesise(
    kind: SoundType, n: int, sr: int, rng: np.random.Generator
) -> tuple[np.ndarray, float, float]:
    """The samples of one sound of ``kind`` and its band (Hz)."""
    t = np.arange(n) / sr
    u = np.arange(n) / max(1, n - 1)
    freq = kind.f0 * 2.0 ** (_contour(kind.contour, u, t) / 12.0)
    cycles = np.cumsum(freq) / sr + rng.random()
    x = np.zeros(n, dtype=np.float64)
    top = 0.0
    for harmonic, amplitude in _HARMONICS[kind.timbre]:
        if harmonic * freq.max() < 0.45 * sr:
            x += amplitude * np.sin(2.0 * np.pi * harmonic * cycles)
            top = max(top, harmonic * float(freq.max()))
    if kind.timbre == 4:
        # Ring-modulated low-pass noise: a band about ±150 Hz wide around the tone.
        noise = rng.standard_normal(n)
        width = max(1, round(sr / 300.0))
        noise = np.convolve(noise, np.ones(width) / width, mode="same")
        x = x * (0.4 + 3.0 * noise)
        top += 150.0
    x = (x * _envelope(kind.rhythm, n, sr)).astype(np.float32)
    low = float(freq.min()) - (150.0 if kind.timbre == 4 else 0.0)
    return x, max(0.0, low), top
