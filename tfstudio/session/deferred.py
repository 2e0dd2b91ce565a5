"""Work a session model does a little later, without an event loop of its own.

A model asks for a callback to run "soon" (after everyone has heard of the current change) or
"in N ms" (at most one preview per frame) through a :data:`Schedule` it is given: the GUI
passes one that runs it in a later turn of Qt's event loop (:mod:`tfstudio.qt.workspace`),
a script or a test may run it at once (:func:`run_now`) or when it says so (:class:`CallQueue`).
"""

from __future__ import annotations

from collections.abc import Callable

Schedule = Callable[[int, Callable[[], None]], None]
"""``schedule(delay_ms, callback)``: run ``callback`` once, ``delay_ms`` from now or later."""


def run_now(delay_ms: int, callback: Callable[[], None]) -> None:
    """A :data:`Schedule` without an event loop: the callback runs at once."""
    callback()


class CallQueue:
    """A :data:`Schedule` whose callbacks wait until :meth:`run` (an event loop's next turn,
    played by hand); delays are ignored, the order is kept."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []

    def __call__(self, delay_ms: int, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def __len__(self) -> int:
        return len(self._callbacks)

    def run(self) -> int:
        """Run what is waiting (and what that asks for meanwhile); returns how many ran."""
        ran = 0
        while self._callbacks:
            callback = self._callbacks.pop(0)
            callback()
            ran += 1
        return ran


class Deferred:
    """One callback to run ``delay_ms`` after :meth:`start`, once however often it is asked
    for before then; :meth:`stop` cancels it (a single-shot timer, without Qt)."""

    def __init__(self, callback: Callable[[], None], schedule: Schedule, delay_ms: int = 0):
        self._callback = callback
        self._schedule = schedule
        self.delay_ms = delay_ms
        self._generation = 0
        self._active = False

    def is_active(self) -> bool:
        return self._active

    def start(self) -> None:
        """Ask for the callback (nothing more when it is already on its way)."""
        if self._active:
            return
        self._active = True
        generation = self._generation
        self._schedule(self.delay_ms, lambda: self._fire(generation))

    def stop(self) -> None:
        """Cancel the callback asked for, if any."""
        self._active = False
        self._generation += 1

    def _fire(self, generation: int) -> None:
        if not self._active or generation != self._generation:
            return  # stopped (and perhaps started again) since
        self._active = False
        self._generation += 1
        self._callback()
