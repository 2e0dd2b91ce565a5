"""The ``tfstudio`` command line: argument handling and printing only; never imports Qt.

Each command module offers ``register(subparsers)``; a command's handler takes the parsed
arguments and returns the exit code: 0 done, 1 a runtime failure (``EXIT_RUNTIME``), 2 a usage
mistake (``EXIT_USAGE``: an unknown command or option, a project that cannot be opened), 3 done
but items skipped (``EXIT_SKIPPED``). ``tfstudio [PROJECT]`` with no command is the GUI's
(:mod:`tfstudio.__main__` decides); a command that wants the GUI afterwards (``demo --open``)
raises :class:`OpenGui` for it.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence

from tfstudio import __version__
from tfstudio.cli import (
    bench_cmds,
    check_cmds,
    doctor_cmds,
    info_cmds,
    project_cmds,
    review_cmds,
    split_cmds,
    suggest_cmds,
    train_cmds,
)
from tfstudio.cli.common import EXIT_RUNTIME, EXIT_USAGE, OpenGui, UserError, err
from tfstudio.store import ProjectError

__all__ = ["OpenGui", "build_parser", "is_command_line", "main", "unknown_command"]

COMMAND_MODULES = (
    project_cmds,
    info_cmds,
    check_cmds,
    split_cmds,
    train_cmds,
    review_cmds,
    suggest_cmds,
    doctor_cmds,
    bench_cmds,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfstudio",
        description="Sound event annotation and training. "
        "Run 'tfstudio [PROJECT]' to open the app, or a command below.",
    )
    parser.add_argument("--version", action="version", version=f"tfstudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def is_command_line(argv: Sequence[str]) -> bool:
    """True when ``argv`` names a command or an option, or mistypes a command; False for
    ``[PROJECT]`` (the GUI). The entry point decides the same without loading the commands
    (its list of them is checked against the parser's by a test)."""
    from tfstudio.launch import wants_gui

    return not wants_gui(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; raises :class:`OpenGui` when the command asks for the app afterwards."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        # Ctrl+C reads the same wherever it lands: while the parser is built or the arguments
        # read (a traceback there), in a command, or while another error's line is printed.
        err("interrupted")
        return EXIT_INTERRUPTED


# The status of a process that SIGINT ended (128 + 2), as shells report Ctrl+C.
EXIT_INTERRUPTED = 130


def _run(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    commands = _commands(parser)
    if args_list[0] not in commands and not args_list[0].startswith("-"):
        err(parser.format_usage().rstrip())
        err(unknown_command(args_list[0], commands))
        return EXIT_USAGE
    args = _parse_args(parser, args_list)
    try:
        return int(args.func(args))
    except UserError as exc:
        err(f"error: {exc}")
        return exc.exit_code
    except ProjectError as exc:
        # A damaged, read-only or locked project met mid-command: the store's message names
        # the file and what to do.
        err(f"error: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader of stdout went away ('tfstudio info P | head'): stop quietly, as Unix
        # tools do, with the status a process killed by SIGPIPE has (128 + 13).
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        # A file that could not be read or written (a full disk, a permission): one line.
        where = f"{exc.filename}: " if exc.filename else ""
        err(f"error: {where}{exc.strerror or exc}")
        return EXIT_RUNTIME


EXIT_BROKEN_PIPE = 141


def _parse_args(parser: argparse.ArgumentParser, args_list: list[str]) -> argparse.Namespace:
    """The command's arguments, its PATHs wherever they stand: argparse's ``parse_args`` gives
    a ``PATH ...`` positional only the words before the first option, so ``tfstudio import P
    --split train a.wav`` failed with "unrecognized arguments: a.wav" under the top-level
    usage. ``parse_intermixed_args`` takes them anywhere, but not through subparsers: the
    command's own parser reads its words."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            command = action.choices.get(args_list[0])
            if command is not None and any(
                a.nargs in ("*", "+") for a in command._get_positional_actions()
            ):
                # Parsed as before where that works, so that its messages stay argparse's
                # usual ones (the intermixed parser calls an optional PATH required).
                args, extra = command.parse_known_args(args_list[1:])
                if extra:
                    args = command.parse_intermixed_args(args_list[1:])
                args.command = args_list[0]
                return args
    return parser.parse_args(args_list)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second BrokenPipeError
    (Python's own advice for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to flush
        pass


def unknown_command(word: str, commands: Sequence[str] | set[str]) -> str:
    """The message for a word that is not a command, with the nearest commands as a hint."""
    close = difflib.get_close_matches(word, sorted(commands), n=2, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"tfstudio: error: unknown command {word!r}{hint} "
        f"(commands: {', '.join(sorted(commands))}; 'tfstudio PROJECT' opens the app)"
    )
