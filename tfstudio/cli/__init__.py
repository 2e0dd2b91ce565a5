"""The ``tfstudio`` command line: argument handling and printing only; never imports Qt.

Each command module offers ``register(subparsers)``; a command's handler takes the parsed
arguments and returns the exit code. ``tfstudio [PROJECT]`` with no command is the GUI's
(:mod:`tfstudio.__main__` decides); a command that wants the GUI afterwards (``demo --open``)
raises :class:`OpenGui` for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tfstudio import __version__
from tfstudio.cli import (
    bench_cmds,
    check_cmds,
    doctor_cmds,
    info_cmds,
    project_cmds,
    train_cmds,
)
from tfstudio.cli.common import OpenGui, UserError, err
from tfstudio.store import ProjectError

__all__ = ["OpenGui", "build_parser", "is_command_line", "main"]

COMMAND_MODULES = (project_cmds, info_cmds, check_cmds, train_cmds, doctor_cmds, bench_cmds)


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
    """True when ``argv`` names a command or an option; False for ``[PROJECT]`` (the GUI)."""
    args = list(argv)
    if not args:
        return False
    return args[0] in _commands(build_parser()) or args[0].startswith("-") or len(args) > 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; raises :class:`OpenGui` when the command asks for the app afterwards."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list:
        parser.print_help(sys.stderr)
        return 2
    if args_list[0] not in _commands(parser) and not args_list[0].startswith("-"):
        parser.error(f"unknown command {args_list[0]!r}")
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args))
    except UserError as exc:
        err(f"error: {exc}")
        return exc.exit_code
    except ProjectError as exc:
        # A damaged, read-only or locked project met mid-command: the store's message names
        # the file and what to do.
        err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        err("interrupted")
        return 130
