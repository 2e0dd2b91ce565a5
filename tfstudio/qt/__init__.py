"""The desktop app: every widget, view, worker and plot (the only package that imports Qt). What
they show and the rules their edits follow without Qt live in :mod:`tfstudio.session`.

``tfstudio.qt.app.run(project)`` opens the main window; ``python -m tfstudio.qt.screenshots``
renders screenshots (``--review``: detections and evaluation too); ``python -m tfstudio.qt.bench``
and ``python -m tfstudio.qt.bench_review`` (the threshold slider) print performance numbers.
"""

import sys as _sys


def _import_pyqtgraph() -> None:
    """Import pyqtgraph without the CUDA Python bindings: its ``RawImageWidget`` (never used
    here) imports ``cuda.bindings.runtime`` when installed (torch brings it), 0.2 s of every
    start. The block lasts only for pyqtgraph's own import, so torch still finds the bindings.
    Done here because this package's import runs before any of its modules imports pyqtgraph."""
    if "pyqtgraph" in _sys.modules:
        return
    blocked = next(
        (n for n in ("cuda.bindings", "cuda.bindings.runtime") if n not in _sys.modules), None
    )
    if blocked is not None:
        _sys.modules[blocked] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import pyqtgraph  # noqa: F401
    finally:
        if blocked is not None and _sys.modules.get(blocked, False) is None:
            del _sys.modules[blocked]


_import_pyqtgraph()
