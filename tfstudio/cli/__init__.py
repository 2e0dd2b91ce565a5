"""The ``tfstudio`` command line: argument handling and printing only.

Each command module offers ``register(subparsers)``; a command's handler takes the parsed
arguments and returns the exit code. ``tfstudio [PROJECT]`` with no command opens the GUI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tfstudio import __version__
from tfstudio.cli import project_cmds, train_cmds
from tfstudio.cli.common import UserError, err

COMMAND_MODULES = (project_cmds, train_cmds)


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


def open_gui(project: str | None) -> int:
    # The GUI is loaded by name so that the core (this package included) never imports Qt.
    app = importlib.import_module("tfstudio.qt.app")
    return int(app.run(project))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list or (
        args_list[0] not in _commands(parser) and not args_list[0].startswith("-")
    ):
        if len(args_list) > 1:
            parser.error(f"unknown command {args_list[0]!r}")
        return open_gui(args_list[0] if args_list else None)
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args))
    except UserError as exc:
        err(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("interrupted")
        return 130
