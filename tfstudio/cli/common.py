"""Small helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from tfstudio.launch import EXIT_OK as EXIT_OK
from tfstudio.launch import EXIT_RUNTIME as EXIT_RUNTIME
from tfstudio.launch import EXIT_SKIPPED as EXIT_SKIPPED
from tfstudio.launch import EXIT_USAGE as EXIT_USAGE
from tfstudio.store import AmbiguousRecording, Project, ProjectError, Recording


class OpenGui(Exception):
    """Raised by a command that ends by opening the app on ``project`` (the caller, which may
    import Qt, does that; the command line itself never does)."""

    def __init__(self, project: str | None) -> None:
        super().__init__(project)
        self.project = project


# Exit codes every command keeps to: EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_SKIPPED (defined in
# tfstudio.launch, where the app reads them without loading the command modules).


class UserError(Exception):
    """A mistake the user can fix: printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit_json(obj: Any) -> None:
    """One JSON object per line on stdout, flushed (a reader may be waiting on it)."""
    sys.stdout.write(json.dumps(obj, allow_nan=False, default=str) + "\n")
    sys.stdout.flush()


def open_project(path: str, *, create: bool = False) -> Project:
    try:
        return Project.open(path, create=create)
    except ProjectError as exc:
        raise UserError(str(exc)) from None


def progress(total: int | None, desc: str, *, quiet: bool = False, unit: str = "it") -> tqdm:
    """A progress bar on stderr, hidden when not a terminal or when quiet."""
    return tqdm(
        total=total, desc=desc, unit=unit, disable=quiet or None, file=sys.stderr, leave=False
    )


def bar_step(bar: tqdm) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback that moves ``bar``."""

    def step(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return step


def add_recording_option(parser: argparse.ArgumentParser) -> None:
    """``--recording ID`` (repeatable), read by :func:`chosen_recordings`."""
    parser.add_argument(
        "--recording",
        action="append",
        default=[],
        metavar="ID",
        help="only this recording (its id or file name; repeatable)",
    )


def chosen_recordings(project: Project, items: list[str]) -> list[Recording]:
    """The recordings a command's ``--recording ID`` options name (by id or file name), each
    once, in the order given; UserError names the first that matches none."""
    chosen: dict[int, Recording] = {}
    for item in items:
        rec = None
        if item.isdigit():
            try:
                rec = project.recording(int(item))
            except ProjectError:  # no such id: try it as a name
                rec = None
        if rec is None:
            try:
                rec = project.find_recording(item)
            except AmbiguousRecording as exc:
                raise UserError(f"--recording {exc}") from None
        if rec is None:
            raise UserError(f"--recording {item!r}: no recording with that id or name")
        chosen.setdefault(rec.id, rec)
    return list(chosen.values())


def json_errors(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """With ``--json``, a refused command still prints its one object: ``{"ok": false,
    "error", "exit_code"}`` (the error line goes to stderr as always)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (UserError, ProjectError) as exc:
            if args.json:
                code = exc.exit_code if isinstance(exc, UserError) else 2
                emit_json({"ok": False, "error": str(exc), "exit_code": code})
            raise

    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run
