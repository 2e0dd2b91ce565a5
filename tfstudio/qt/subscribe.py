"""Widgets hear the session's plain-Python events for exactly as long as they exist.

The session's events (psygnal) outlive widgets: a dock closed with its C++ half deleted, a
dialog gone, a test's window torn down while the workspace lives on. psygnal knows nothing of
Qt, so a bound method of a deleted widget would still be called and fail inside Qt ("Internal
C++ object already deleted"), and psygnal stops an emission at the first callback that raises,
so the widgets after it would miss the change and the code that changed the session would get
the exception.

:func:`listen` connects ``callback`` on behalf of ``owner``: it is disconnected when ``owner``
is destroyed, never called once ``owner``'s C++ object is gone, and an exception it raises is
handed to ``sys.excepthook`` (the app shows it, pytest-qt fails the test) while the other
subscribers still hear the event.
"""

from __future__ import annotations

import inspect
import sys
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from psygnal import SignalInstance
from PySide6.QtCore import QObject

__all__ = ["listen"]


def _max_args(callback: Callable[..., Any]) -> int | None:
    """How many of an event's arguments ``callback`` takes (None: all of them)."""
    try:
        parameters = inspect.signature(callback).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it everything
        return None
    count = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            count += 1
    return count


def listen(owner: QObject, signal: SignalInstance, callback: Callable[..., Any]) -> None:
    """Call ``callback`` on each ``signal`` emission while ``owner`` exists (see the module
    docstring). The callback may take fewer arguments than the event carries, as with
    psygnal's own ``connect``."""
    limit = _max_args(callback)
    # Weak, as psygnal holds bound methods: a subscription never keeps a widget alive.
    owner_ref = weakref.ref(owner)
    callback_ref: Callable[[], Callable[..., Any] | None] = (
        weakref.WeakMethod(callback) if inspect.ismethod(callback) else lambda: callback
    )

    def guarded(*args: Any) -> None:
        target, function = owner_ref(), callback_ref()
        if target is None or function is None or not shiboken6.isValid(target):
            signal.disconnect(guarded, missing_ok=True)
            return
        try:
            function(*(args if limit is None else args[:limit]))
        except Exception:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]

    signal.connect(guarded)
    owner.destroyed.connect(lambda *_: signal.disconnect(guarded, missing_ok=True))
