"""``tfstudio`` and ``python -m tfstudio``: the app for ``[PROJECT]``, else the command line.

This is the one place that chooses between them, so :mod:`tfstudio.cli` never imports Qt and a
command (``train``, ``detect``...) never pays for loading it.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
from collections.abc import Sequence

from tfstudio.launch import COMMANDS, wants_gui

__all__ = ["COMMANDS", "main", "open_gui", "wants_gui"]


# The window's Qt-free modules, imported before PySide6: once loaded, PySide6 reads the source of
# each module imported after it (its __feature__ hook, ~0.6 ms a module), and these bring ~200
# (the store's sqlite-utils with click, pluggy and dateutil; psygnal; the session's models).
BEFORE_QT = (
    "tfstudio.logs",
    "tfstudio.store",
    "tfstudio.session.workspace",
    "tfstudio.session.view_settings",
    "tfstudio.session.detection_model",
    "tfstudio.session.review",
    "tfstudio.session.runs",
    "tfstudio.features.envelope_queue",
    "tfstudio.features.tile_queue",
)


def open_gui(project: str | None) -> int:
    for name in BEFORE_QT:
        importlib.import_module(name)
    from tfstudio.qt.app import run

    return int(run(project))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_gui(args):
        return open_gui(args[0] if args else None)
    from tfstudio.cli import OpenGui
    from tfstudio.cli import main as cli_main
    from tfstudio.cli.compute import claim_process

    if argv is None:  # the program itself, not a caller's in-process use
        claim_process()

    try:
        return cli_main(args)
    except OpenGui as request:
        return open_gui(request.project)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
