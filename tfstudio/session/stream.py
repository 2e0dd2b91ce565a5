"""Following a training child: split its output into lines, decode the JSON events, smooth
the loss, estimate the time left and explain a failure in plain words.

Free of Qt, so that anything that reads ``train --json`` can use it: split the output with
:class:`LineSplitter`, read each line with :func:`read_event` and get the typed records of
:mod:`tfstudio.train.events` the training generator yielded.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tfstudio.train.events import TrainEvent, parse_event


class LineSplitter:
    """Turns chunks of bytes into complete text lines; keeps a partial last line for later.

    A child writes lines in pieces (pipe buffers are 4-64 KiB, a flush can land mid-line),
    so a JSON object must only be decoded once its newline has arrived. Carriage returns
    (progress bars) end a line too, so a bar redrawn in place becomes separate log lines.
    """

    def __init__(self, max_line_bytes: int = 1 << 20) -> None:
        self._buffer = bytearray()
        self._max = max_line_bytes

    def feed(self, chunk: bytes) -> list[str]:
        """Add bytes; return the complete lines they finish (without line endings)."""
        self._buffer.extend(chunk)
        lines: list[str] = []
        while True:
            cut = _first_line_end(self._buffer)
            if cut < 0:
                break
            raw = bytes(self._buffer[:cut])
            # \r\n is one ending, not an empty line after a \r.
            end = cut + 2 if self._buffer[cut : cut + 2] == b"\r\n" else cut + 1
            del self._buffer[:end]
            lines.append(raw.decode("utf-8", errors="replace"))
        if len(self._buffer) > self._max:
            # A runaway line without a newline must not grow memory without bound.
            lines.append(bytes(self._buffer).decode("utf-8", errors="replace"))
            self._buffer.clear()
        return lines

    def flush(self) -> list[str]:
        """The partial last line, if any (call when the stream has ended)."""
        if not self._buffer:
            return []
        rest = bytes(self._buffer).decode("utf-8", errors="replace")
        self._buffer.clear()
        return [rest]


def _first_line_end(buffer: bytearray) -> int:
    n = buffer.find(b"\n")
    r = buffer.find(b"\r")
    if r >= 0 and r == len(buffer) - 1:
        # A trailing \r may be the first half of \r\n: wait for the next byte.
        r = -1
    if n < 0:
        return r
    if r < 0:
        return n
    return min(n, r)


def decode_line(line: str) -> dict[str, Any] | None:
    """The JSON object on a line, or None when the line is no JSON object (a log line).

    Any object, not only training events: ``detect --json`` prints progress and a summary.
    """
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read_event(line: str) -> TrainEvent | None:
    """The training event on a line of ``train --json`` as its typed record
    (:func:`tfstudio.train.events.parse_event`), or None for anything else."""
    obj = decode_line(line)
    return None if obj is None else parse_event(obj)


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None (NaN, inf, missing, text)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


class Ema:
    """Exponential moving average with bias correction, so early values are not pulled to 0."""

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = alpha
        self._mean = 0.0
        self._weight = 0.0

    def update(self, value: float) -> float:
        self._mean = (1.0 - self.alpha) * self._mean + self.alpha * value
        self._weight = (1.0 - self.alpha) * self._weight + self.alpha
        return self._mean / self._weight

    def reset(self) -> None:
        self._mean = self._weight = 0.0


def ema(values: Iterable[float], alpha: float = 0.05) -> list[float]:
    """The bias-corrected EMA of a whole series (for curves read back from the store)."""
    smoother = Ema(alpha)
    return [smoother.update(v) for v in values]


@dataclass
class Progress:
    """Elapsed time and an ETA from the batch rate seen in this session.

    The rate is measured from the first batch of this session (not from the start of the
    process), so model building, feature caching and a resumed run's earlier batches do not
    distort it. Early stopping can end a run sooner: the ETA is an upper bound.
    """

    started: float
    batches_per_epoch: int | None = None
    epochs: int | None = None
    first_iteration: int | None = None
    first_time: float | None = None
    iteration: int | None = None
    last_time: float | None = None
    _recent: deque = field(default_factory=lambda: deque(maxlen=200))

    def on_batch(self, iteration: int, now: float) -> None:
        if self.first_iteration is None:
            self.first_iteration, self.first_time = iteration, now
        self.iteration, self.last_time = iteration, now
        self._recent.append((iteration, now))

    @property
    def total_batches(self) -> int | None:
        if self.batches_per_epoch and self.epochs:
            return self.batches_per_epoch * self.epochs
        return None

    def fraction(self) -> float | None:
        total = self.total_batches
        if total is None or self.iteration is None:
            return None
        return min(1.0, (self.iteration + 1) / total)

    def seconds_per_batch(self) -> float | None:
        # The recent window follows a rate that changes (validation pauses, thermal limits).
        if len(self._recent) >= 2:
            (i0, t0), (i1, t1) = self._recent[0], self._recent[-1]
            if i1 > i0:
                return (t1 - t0) / (i1 - i0)
        return None

    def eta(self) -> float | None:
        """Seconds until the planned last batch, or None while unknown."""
        total = self.total_batches
        rate = self.seconds_per_batch()
        if total is None or rate is None or self.iteration is None:
            return None
        return max(0.0, (total - 1 - self.iteration) * rate)


def format_duration(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = round(max(0.0, seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


# What a user can do about the usual ways a training dies, recognised in stderr or a message.
_FAILURE_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED", re.I),
        "Out of GPU memory. Try a smaller batch size or the fast preset.",
    ),
    (
        re.compile(r"MemoryError|Cannot allocate memory|std::bad_alloc", re.I),
        "Out of memory. Try a smaller batch size or the fast preset.",
    ),
    (
        re.compile(
            r"Torch not compiled with CUDA|CUDA is not available|no CUDA|"
            r"no NVIDIA driver|Found no NVIDIA|CUDA driver|cuda.*not available",
            re.I,
        ),
        "CUDA is not available here. Choose Auto or CPU as the device.",
    ),
    (
        re.compile(r"MPS.*not available|mps.*not available", re.I),
        "Apple MPS is not available here. Choose Auto or CPU as the device.",
    ),
    (
        re.compile(r"\bnan\b|not finite|non-finite|\binf\b", re.I),
        "The loss stopped being a number (NaN/inf). Try a lower learning rate.",
    ),
    (
        re.compile(r"no label|no events|nothing to train|no training (data|recordings)", re.I),
        "There is nothing to train on: label some recordings in the train split first.",
    ),
)


def failure_hint(text: str) -> str | None:
    """A plain sentence for a recognised failure in ``text`` (stderr or a run message)."""
    for pattern, hint in _FAILURE_HINTS:
        if pattern.search(text):
            return hint
    return None


def last_error_line(stderr_tail: str) -> str:
    """The line that says what went wrong: the exception line of a traceback, else the last."""
    lines = [ln.strip() for ln in stderr_tail.splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b", line) or _PROGRAM_ERROR.match(
            line
        ):
            return line
    return lines[-1] if lines else ""


# ``error: …``, ``tfstudio: error: …`` and argparse's ``tfstudio train: error: …``.
_PROGRAM_ERROR = re.compile(r"^(tfstudio(?: [a-z-]+)?: )?(error|usage error):", re.I)


def _sentence(text: str) -> str:
    """``tfstudio train: error: no classes`` → ``No classes``: the program's name is noise."""
    text = re.sub(r"^(tfstudio(?: [a-z-]+)?: )?(error|usage error): ", "", text.strip(), flags=re.I)
    return text[:1].upper() + text[1:]


def describe_failure(
    *,
    stderr_tail: str,
    exit_code: int | None,
    crashed: bool,
    message: str = "",
    killed_by_us: bool = False,
) -> str:
    """One or two plain sentences for the banner: what happened and what to try."""
    if killed_by_us:
        return "Training was stopped by force (it did not finish its batch in time)."
    line = last_error_line(stderr_tail)
    detail = _sentence(message or line)
    # The program's own error line says all: the usage argparse prints above it lists options
    # whose names would read as a failure (an option "--nan-at" as "the loss became NaN").
    said = message or (line if _PROGRAM_ERROR.match(line) else stderr_tail)
    hint = failure_hint(f"{message}\n{said}")
    if crashed and not detail:
        head = "The training process was killed (perhaps out of memory)."
    elif crashed:
        head = "The training process crashed."
    elif exit_code not in (None, 0):
        head = f"Training failed (exit code {exit_code})."
    else:
        head = "Training failed."
    parts = [head]
    if detail:
        parts.append(detail.rstrip(".") + ".")
    if hint:
        parts.append(hint)
    return " ".join(parts)
