"""Deterministic polyphonic recordings with exact labels: the demo, the test data, a first set.

Six classes with clearly different spectro-temporal shapes are scattered over coloured
background noise, up to three at a time. Every event's parameters (frequency, duration, level,
rate) vary, so a model has to learn the shape rather than one pattern. Labels are exact: an
event's onset and offset are the first and one-past-last sample of its signal, divided by the
sample rate, and its band holds all of its energy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from tfstudio.audio.probe import native_path

__all__ = [
    "CLASSES",
    "DemoClass",
    "DemoEvent",
    "DemoRecording",
    "generate_demo",
]

MAX_POLYPHONY = 3
_RAMP_S = 0.005  # long enough to be click-free, short enough that the label is the sound
_GRID_S = 0.01  # onsets and durations are drawn on this grid, then snapped to whole samples
_SAME_CLASS_GAP_S = 0.1  # two events of a class never touch, so frame labels keep them apart
_EVENTS_PER_SECOND = 0.6
_SNR_DB = (6.0, 30.0)
_NOISE_DBFS = (-55.0, -40.0)
_PEAK = 0.89  # about -1 dBFS

_Synthesis = tuple[np.ndarray, float, float]  # signal, label's low and high edge in Hz


@dataclass(frozen=True)
class DemoClass:
    """One sound class of the demo: its name, GUI colour, frequency region and durations."""

    name: str
    color: str
    low_hz: float
    high_hz: float
    min_duration: float
    max_duration: float
    description: str


# Okabe–Ito colours: distinct for colour-blind users and on a dark spectrogram.
CLASSES: tuple[DemoClass, ...] = (
    DemoClass("tone", "#56B4E9", 400.0, 3000.0, 0.5, 3.0, "steady sinusoid"),
    DemoClass("sweep", "#E69F00", 800.0, 6000.0, 0.3, 1.2, "exponential chirp, up or down"),
    DemoClass("clicks", "#009E73", 1500.0, 7000.0, 0.4, 2.0, "train of short tone pips"),
    DemoClass("noise_burst", "#F0E442", 300.0, 6000.0, 0.3, 1.5, "band-limited noise"),
    DemoClass("harmonic", "#CC79A7", 150.0, 4000.0, 0.5, 2.5, "harmonic stack, 3–6 partials"),
    DemoClass("warble", "#D55E00", 1000.0, 5000.0, 0.6, 3.0, "frequency-modulated tone"),
)


@dataclass
class DemoEvent:
    """One labelled event: times in seconds, band in Hz."""

    onset: float
    offset: float
    label: str
    low_hz: float
    high_hz: float


@dataclass
class DemoRecording:
    """One generated file, its split (train/val/test) and its exact labels."""

    path: Path
    split: str
    events: list[DemoEvent] = field(default_factory=list)
    duration: float = 0.0


def generate_demo(
    folder: Path,
    *,
    recordings: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    sample_rate: int = 22050,
    progress: Callable[[int, int], None] | None = None,
) -> list[DemoRecording]:
    """Write ``folder/demo_000.wav``… (16-bit PCM) and return their exact labels.

    The same arguments give byte-identical files and identical labels. Recording ``i`` depends
    only on ``seed`` and ``i``, so asking for more recordings keeps the first ones. Splits are
    about 60/20/20 % train/val/test, each non-empty from three recordings on.
    """
    if recordings < 0:
        raise ValueError("recordings must not be negative")
    if seconds < 1.0:
        raise ValueError("seconds must be at least 1")
    if sample_rate < 8000:
        raise ValueError("sample_rate must be at least 8000 Hz")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(recordings)
    splits = _assign_splits(recordings, np.random.default_rng([seed, recordings]))
    width = max(3, len(str(recordings - 1)))
    result = []
    for i in range(recordings):
        mix, _events_only, events = _render_recording(
            np.random.default_rng(seeds[i]), seconds, sample_rate
        )
        path = folder / f"demo_{i:0{width}d}.wav"
        sf.write(native_path(path), _to_pcm16(mix), sample_rate, subtype="PCM_16", format="WAV")
        result.append(DemoRecording(path, splits[i], events, len(mix) / sample_rate))
        if progress is not None:
            progress(i + 1, recordings)
    return result


def _assign_splits(n: int, rng: np.random.Generator) -> list[str]:
    if n < 3:
        return ["train"] * n
    n_val = max(1, round(0.2 * n))
    n_test = max(1, round(0.2 * n))
    splits = ["val"] * n_val + ["test"] * n_test + ["train"] * (n - n_val - n_test)
    return [splits[j] for j in rng.permutation(n)]


def _to_pcm16(x: np.ndarray) -> np.ndarray:
    scaled = np.clip(x, -1.0, 1.0) * np.float32(32767.0)
    return np.rint(scaled, out=scaled).astype(np.int16)


def _render_recording(
    rng: np.random.Generator, seconds: float, sr: int
) -> tuple[np.ndarray, np.ndarray, list[DemoEvent]]:
    """The mix, the events alone (same scale as in the mix) and the labels of one recording."""
    n = round(seconds * sr)
    noise_rms = 10.0 ** (rng.uniform(*_NOISE_DBFS) / 20.0)
    background = _background(rng, n, sr)
    background *= np.float32(noise_rms)
    events_only = np.zeros(n, dtype=np.float32)
    events = []
    for cls, start, stop in _place_events(rng, n, sr):
        x, low_hz, high_hz = _SYNTHS[cls.name](rng, stop - start, sr, *_band(cls, sr))
        # Level over the samples that sound, so sparse clicks are as loud as a tone.
        active = int(np.count_nonzero(x))
        rms = math.sqrt(float(np.dot(x, x)) / max(1, active))
        snr = rng.uniform(*_SNR_DB)
        events_only[start:stop] += x * (noise_rms * 10.0 ** (snr / 20.0) / max(rms, 1e-12))
        events.append(
            DemoEvent(start / sr, stop / sr, cls.name, max(0.0, low_hz), min(high_hz, sr / 2))
        )
    mix = background
    mix += events_only
    peak = max(float(mix.max()), -float(mix.min())) if n else 0.0
    if peak > _PEAK:  # scale the whole recording, which keeps every SNR
        mix *= np.float32(_PEAK / peak)
        events_only *= np.float32(_PEAK / peak)
    events.sort(key=lambda e: (e.onset, e.offset, e.label))
    return mix, events_only, events


def _band(cls: DemoClass, sr: int) -> tuple[float, float]:
    """The class's region, kept clear of Nyquist at low sample rates."""
    high = min(cls.high_hz, 0.45 * sr)
    return min(cls.low_hz, high / 2.0), high


def _place_events(rng: np.random.Generator, n: int, sr: int) -> list[tuple[DemoClass, int, int]]:
    """Choose classes and sample spans: ≤ MAX_POLYPHONY at once, quiet stretches left empty."""
    seconds = n / sr
    grid = round(_GRID_S * sr) or 1
    quiet: list[tuple[int, int]] = []
    for _ in range(0 if seconds < 10 else 1 + int(seconds // 20)):
        length = round(rng.uniform(1.5, 3.0) * sr)
        for _attempt in range(20):
            start = int(rng.integers(0, n - length + 1))
            if not any(start < b and start + length > a for a, b in quiet):
                quiet.append((start, start + length))
                break
    # Whole shuffled rounds of the classes, so that every class is placed early and often.
    target = max(len(CLASSES), round(seconds * _EVENTS_PER_SECOND))
    order = [c for _ in range(-(-target // len(CLASSES))) for c in rng.permutation(len(CLASSES))]
    placed: list[tuple[DemoClass, int, int]] = []
    gap = round(_SAME_CLASS_GAP_S * sr)
    for index in order[:target]:
        cls = CLASSES[index]
        if cls.min_duration > seconds:
            continue
        for _attempt in range(30):
            duration = rng.uniform(cls.min_duration, min(cls.max_duration, seconds))
            length = max(1, round(round(duration / _GRID_S) * _GRID_S * sr))
            slots = (n - length) // grid
            if slots < 0:
                break
            start = int(rng.integers(0, slots + 1)) * grid
            stop = start + length
            if any(start < b and stop > a for a, b in quiet):
                continue
            if any(c is cls and start < b + gap and stop + gap > a for c, a, b in placed):
                continue
            if _peak_overlap(placed, start, stop) >= MAX_POLYPHONY:
                continue
            placed.append((cls, start, stop))
            break
    return placed


def _peak_overlap(placed: list[tuple[DemoClass, int, int]], start: int, stop: int) -> int:
    """The most events already sounding at one instant of ``[start, stop)``."""
    edges = []
    for _cls, a, b in placed:
        if a < stop and b > start:
            edges.append((max(a, start), 1))
            edges.append((min(b, stop), -1))
    edges.sort()  # at equal times the -1 (an end) comes first: half-open spans do not overlap
    current = peak = 0
    for _t, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def _background(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Unit-RMS float32 noise between pink and brown, a little white, slowly changing level."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    alpha = rng.uniform(0.8, 1.8)  # 1 is pink, 2 is brown
    white_db = rng.uniform(-20.0, -8.0)
    m = _fast_length(n)  # shape a little more noise than needed; keep the first n samples
    freqs = np.fft.rfftfreq(m, 1.0 / sr).astype(np.float32)
    coloured = np.zeros_like(freqs)
    audible = freqs >= 20.0  # below that, brown noise is all rumble and DC drift
    coloured[audible] = freqs[audible] ** np.float32(-alpha / 2.0)
    # One spectral shape for both parts: coloured at unit power plus white at white_db.
    coloured /= np.sqrt(np.mean(coloured**2))
    shape = coloured + np.float32(10.0 ** (white_db / 20.0))
    spectrum = np.fft.rfft(rng.standard_normal(m, dtype=np.float32))
    noise = np.fft.irfft(spectrum * shape, m)[:n].astype(np.float32)
    noise /= np.float32(_rms(noise))
    # ±3 dB drifts every few seconds, so the background is not one stationary level.
    knots = max(2, int(n / sr / 3.0) + 2)
    level_db = rng.uniform(-3.0, 3.0, knots)
    gain = 10.0 ** (level_db / 20.0)
    noise *= np.interp(np.arange(n, dtype=np.float32), np.linspace(0, n - 1, knots), gain).astype(
        np.float32
    )
    return noise


def _rms(x: np.ndarray) -> float:
    return max(math.sqrt(float(np.dot(x, x)) / max(1, len(x))), 1e-12)


def _ramped(x: np.ndarray, sr: int) -> np.ndarray:
    """Raised-cosine fades inside the span: zero at the onset sample, full level 5 ms later."""
    ramp = min(round(_RAMP_S * sr), len(x) // 2)
    if ramp > 0:
        fade = (0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)).astype(x.dtype)
        x[:ramp] *= fade
        x[len(x) - ramp :] *= fade[::-1]
    return x


def _sin_cycles(cycles: np.ndarray) -> np.ndarray:
    """float32 sin(2π·cycles); whole turns are dropped in float64 first to keep the precision."""
    # float32 sin is SIMD and ~20 times faster than float64 here; that is the demo's speed.
    turn = (cycles - np.floor(cycles)).astype(np.float32)
    turn *= np.float32(2.0 * np.pi)
    return np.sin(turn, out=turn)


def _fast_length(n: int) -> int:
    """The smallest 5-smooth length ≥ n: FFTs of awkward (prime-heavy) lengths are 10× slower."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            candidate = p35 << max(0, (-(-n // p35) - 1).bit_length())
            best = min(best, candidate)
            p35 *= 3
        p5 *= 5
    return best


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(max(low, high)))))


def _tone(rng: np.random.Generator, n: int, sr: int, low: float, high: float) -> _Synthesis:
    f = _log_uniform(rng, low, high)
    x = _sin_cycles(np.arange(n) * (f / sr) + rng.random())
    return _ramped(x, sr), f / 1.04, f * 1.04


def _sweep(rng: np.random.Generator, n: int, sr: int, low: float, high: float) -> _Synthesis:
    ratio_min = min(1.6, high / low)
    f_lo = _log_uniform(rng, low, high / ratio_min)
    f_hi = _log_uniform(rng, f_lo * ratio_min, min(high, f_lo * 4.0))
    f0, f1 = (f_lo, f_hi) if rng.random() < 0.5 else (f_hi, f_lo)
    duration = n / sr
    k = math.log(f1 / f0)
    # Exponential chirp: instantaneous frequency f0 * (f1/f0)^(t/T).
    cycles = f0 * duration / k * np.expm1(np.arange(n) * (k / n))
    return _ramped(_sin_cycles(cycles), sr), f_lo / 1.03, f_hi * 1.03


def _clicks(rng: np.random.Generator, n: int, sr: int, low: float, high: float) -> _Synthesis:
    pip = max(8, round(rng.uniform(0.0015, 0.003) * sr))
    half_width = 2.0 * sr / pip  # main lobe of a Hann-windowed pip: ±2 / length
    centre_lo = low + half_width
    fc = _log_uniform(rng, centre_lo, max(centre_lo, high - half_width))
    rate = rng.uniform(6.0, 25.0)
    count = max(2, round(n / sr * rate))
    # First pip starts at the onset and the last ends at the offset.
    starts = np.round(np.linspace(0, n - pip, count)).astype(int)
    window = np.hanning(pip + 2)[1:-1].astype(np.float32)  # no zeros: every sample sounds
    steps = np.arange(pip) * (fc / sr)
    x = np.zeros(n, dtype=np.float32)
    for s in dict.fromkeys(starts.tolist()):
        x[s : s + pip] += window * _sin_cycles(steps + rng.random())
    return x, max(0.0, fc - half_width), fc + half_width


def _noise_burst(rng: np.random.Generator, n: int, sr: int, low: float, high: float) -> _Synthesis:
    octaves = min(rng.uniform(0.5, 1.2), math.log2(high / low))
    f_lo = _log_uniform(rng, low, high / 2.0**octaves)
    f_hi = f_lo * 2.0**octaves
    m = _fast_length(n)  # filter a little more noise than needed and keep the first n samples
    spectrum = np.fft.rfft(rng.standard_normal(m, dtype=np.float32))
    freqs = np.fft.rfftfreq(m, 1.0 / sr)
    # Raised-cosine skirts inside [f_lo, f_hi], so the whole burst lies in its label's band.
    skirt = 0.05 * math.log(2.0)
    logf = np.log(np.maximum(freqs, 1e-9))
    rise = np.clip((logf - math.log(f_lo)) / skirt, 0.0, 1.0)
    fall = np.clip((math.log(f_hi) - logf) / skirt, 0.0, 1.0)
    gain = (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))
    x = np.fft.irfft(spectrum * gain.astype(np.float32), m)[:n].astype(np.float32)
    return _ramped(x, sr), f_lo, f_hi


def _harmonic(rng: np.random.Generator, n: int, sr: int, low: float, high: float) -> _Synthesis:
    f0 = _log_uniform(rng, low, min(500.0, high / 3.0))
    partials = max(1, min(int(rng.integers(3, 7)), int(high // f0)))
    fundamental = np.arange(n) * (f0 / sr)
    x = np.zeros(n, dtype=np.float32)
    for k in range(1, partials + 1):
        amplitude = np.float32(k**-0.7 * rng.uniform(0.6, 1.0))
        x += amplitude * _sin_cycles(k * fundamental + rng.random())
    return _ramped(x, sr), f0 / 1.04, partials * f0 * 1.04


def _warble(rng: np.random.Generator, n: int, sr: int, low: float, high: float) -> _Synthesis:
    depth = rng.uniform(0.04, 0.12)  # peak deviation as a fraction of the carrier
    fc = _log_uniform(rng, low / (1 - depth), high / (1 + depth))
    rate = rng.uniform(4.0, 12.0)
    steps = np.arange(n) / sr
    vibrato = _sin_cycles(steps * rate + rng.random())
    cycles = steps * fc + (depth * fc / (2 * np.pi * rate)) * vibrato
    return _ramped(_sin_cycles(cycles), sr), fc * (1 - depth) / 1.03, fc * (1 + depth) * 1.03


_SYNTHS: dict[str, Callable[[np.random.Generator, int, int, float, float], _Synthesis]] = {
    "tone": _tone,
    "sweep": _sweep,
    "clicks": _clicks,
    "noise_burst": _noise_burst,
    "harmonic": _harmonic,
    "warble": _warble,
}
