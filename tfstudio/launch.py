"""Which of the two ``tfstudio`` is wanted, the app or a command, decided without loading
either (Qt or the command modules): :func:`wants_gui`."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_RUNTIME", "EXIT_SKIPPED", "EXIT_USAGE", "wants_gui"]

# Exit codes every command keeps to (here, not in tfstudio.cli, so the app reads a child's
# exit without importing the command modules).
EXIT_OK = 0
EXIT_RUNTIME = 1  # it could not be done: a file could not be written, the project is locked…
EXIT_USAGE = 2  # the command line or its input needs changing: a bad option, a missing project
EXIT_SKIPPED = 3  # done, but some items were skipped (each said on stderr, or in --json)

# The commands of tfstudio.cli (a test keeps the two in step): telling the app's arguments from
# a command's here spares the app's start importing every command module (~0.1 s).
COMMANDS = frozenset(
    {"bench", "check", "demo", "detect", "doctor", "evaluate", "export", "import", "info"}
    | {"init", "relink", "review", "split", "suggest", "train"}
)


def wants_gui(args: Sequence[str]) -> bool:
    """True for ``[PROJECT]``: nothing, or one argument that is neither a command nor an
    option (``tfstudio.cli.is_command_line`` says the same without this list), nor a
    mistyped command (``tfstudio imprt``: no such folder, and close to ``import``), which
    the command line answers with "unknown command"."""
    if not args:
        return True
    if len(args) != 1 or args[0].startswith("-") or args[0] in COMMANDS:
        return False
    return Path(args[0]).exists() or not difflib.get_close_matches(args[0], COMMANDS, 1, 0.75)
