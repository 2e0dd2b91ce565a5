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


# The commands of tfstudio.cli (a test keeps the two in step): telling the app's arguments from
# a command's here spares the app's start importing every command module (~0.1 s).
COMMANDS = frozenset(
    {"bench", "check", "demo", "detect", "doctor", "evaluate", "export", "import", "info"}
    | {"init", "train"}
)


def wants_gui(args: Sequence[str]) -> bool:
    """True for ``[PROJECT]``: nothing, or one argument that is neither a command nor an
    option (``tfstudio.cli.is_command_line`` says the same without this list)."""
    return not args or (len(args) == 1 and not args[0].startswith("-") and args[0] not in COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_gui(args):
        return open_gui(args[0] if args else None)
    from tfstudio.cli import OpenGui
    from tfstudio.cli import main as cli_main

    try:
        return cli_main(args)
    except OpenGui as request:
        return open_gui(request.project)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
