"""``tfstudio`` and ``python -m tfstudio``: the app for ``[PROJECT]``, else the command line.

This is the one place that chooses between them, so :mod:`tfstudio.cli` never imports Qt and a
command (``train``, ``detect``...) never pays for loading it.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence


def open_gui(project: str | None) -> int:
    from tfstudio.qt.app import run

    return int(run(project))


def main(argv: Sequence[str] | None = None) -> int:
    from tfstudio.cli import OpenGui, is_command_line
    from tfstudio.cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    if not is_command_line(args):
        return open_gui(args[0] if args else None)
    try:
        return cli_main(args)
    except OpenGui as request:
        return open_gui(request.project)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
