"""What several benchmarks share: generated long recordings and the process's memory.

Peak memory is read from Linux's ``/proc/self/status`` (``VmHWM``, the high-water mark of the
resident set), which :class:`PeakRss` resets at the start of a measurement (writing ``5`` to
``/proc/self/clear_refs``), so the peak belongs to the measured work and not to whatever ran
before it in the same process (an import of torch, generating the audio). Where that is not
possible the peak is the whole process's (``getrusage``), and :attr:`PeakRss.scoped` says so.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["PeakRss", "rss_mb", "write_long_wav"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _process_peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def rss_mb() -> float:
    """Resident memory of this process now, in MiB (the process's peak where /proc is absent)."""
    now = _status_mb("VmRSS")
    return now if now is not None else _process_peak_mb()


class PeakRss:
    """Peak resident memory (MiB) from the moment it is made (or :meth:`reset`)."""

    def __init__(self) -> None:
        self.scoped = False
        self.reset()

    def reset(self) -> None:
        try:
            _CLEAR_REFS.write_text("5")
            self.scoped = _status_mb("VmHWM") is not None
        except OSError:
            self.scoped = False

    def mb(self) -> float:
        if self.scoped:
            peak = _status_mb("VmHWM")
            if peak is not None:
                return peak
        return _process_peak_mb()


def write_long_wav(path: Path, seconds: float, sample_rate: int, *, block_s: float = 60.0) -> int:
    """A mono 16-bit WAV of ``seconds``: quiet noise with a tone every 10 s and a sweep every 7 s,
    written a block at a time (memory bounded by the block, whatever the length). Written under
    a temporary name and renamed; gives the number of frames."""
    rng = np.random.default_rng(0)
    total = max(1, round(seconds * sample_rate))
    block = max(1, round(sample_rate * block_s))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.wav")
    with sf.SoundFile(tmp, "w", samplerate=sample_rate, channels=1, subtype="PCM_16") as f:
        for start in range(0, total, block):
            n = min(block, total - start)
            t = (start + np.arange(n)) / sample_rate
            x = 0.005 * rng.standard_normal(n).astype(np.float32)
            phase = t % 10.0
            x += (0.2 * np.sin(2 * np.pi * 1500 * t) * (phase < 1.5)).astype(np.float32)
            sweep = 500 + 3000 * ((t % 7.0) / 7.0)
            x += (0.1 * np.sin(2 * np.pi * sweep * t) * ((t % 7.0) < 2.0)).astype(np.float32)
            f.write(x)
    tmp.replace(path)
    return total
