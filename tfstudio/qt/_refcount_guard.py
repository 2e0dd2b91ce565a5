"""Keep None, True and False alive under PySide6 6.12 on Python < 3.12.

PySide6/shiboken6 6.12 (abi3 wheels) returns ``None`` from every void method and ``True`` or
``False`` from ``Signal.emit`` without taking a new reference, as if they were immortal objects
(they are from Python 3.12 on, PEP 683). On Python 3.11 each such call therefore drops the
singleton's reference count by one, and after a few thousand paints the interpreter aborts with
"Fatal Python error: none_dealloc". Giving the three singletons a huge reference count makes
them effectively immortal here too; on 3.12+ nothing is done.
"""

from __future__ import annotations

import ctypes
import platform
import sys

_BUMP = 1 << 48  # far more calls than any session makes, far below the counter's range
_applied = False


def apply() -> bool:
    """Bump the singletons' reference counts once; returns True when it did."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object (a Py_ssize_t).
        ctypes.c_ssize_t.from_address(id(obj)).value += _BUMP
    _applied = True
    return True
