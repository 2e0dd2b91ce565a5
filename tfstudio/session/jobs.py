"""A ``tfstudio`` command run as a child of the GUI, without Qt: its command line and
environment, how it ended, and why it failed in the CLI's own words.

:class:`tfstudio.qt.job.Job` runs the child (QProcess) with these.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfstudio.paths import self_command


def tfstudio_command(args: list[str], program: list[str] | None = None) -> tuple[str, list[str]]:
    """The program and arguments that run ``tfstudio *args`` with this very tfstudio.

    ``program`` replaces the ``tfstudio`` prefix (tests run a stand-in with it).
    """
    # A frozen app's executable is tfstudio itself (``__main__`` runs the CLI for a command).
    prefix = list(program) if program else self_command()
    return prefix[0], [*prefix[1:], *args]


def train_args(project_root: Path | str, args: list[str]) -> list[str]:
    """``train PROJECT *args --json`` (``--json`` once)."""
    args = list(args)
    if "--json" not in args:
        args.append("--json")
    return ["train", str(project_root), *args]


def train_command(
    project_root: Path | str, args: list[str], program: list[str] | None = None
) -> tuple[str, list[str]]:
    """The program and arguments that run ``tfstudio train`` for ``project_root``."""
    return tfstudio_command(train_args(project_root, args), program)


def child_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables a child's environment sets on top of ``environ`` (the GUI's): unbuffered UTF-8
    output and, run from a source checkout, this very ``tfstudio`` first on the path."""
    env = {
        "PYTHONUNBUFFERED": "1",  # lines arrive as they are printed, not per 8 KiB
        "PYTHONIOENCODING": "utf-8",
    }
    if not getattr(sys, "frozen", False):
        # The child must import the same package as the GUI.
        package_parent = str(Path(__file__).resolve().parents[2])
        old = environ.get("PYTHONPATH", "")
        env["PYTHONPATH"] = package_parent + (os.pathsep + old if old else "")
    return env


@dataclass(frozen=True)
class JobResult:
    """How a job ended: ``status`` is done, failed or cancelled (a stop was asked for);
    ``result`` is the last JSON object the child printed."""

    status: str
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    elapsed_s: float = 0.0
    exit_code: int | None = None  # None when it crashed (a signal) or never started
    crashed: bool = False
    forced: bool = False  # killed: it did not stop in time, or stop was pressed twice
    stderr_tail: tuple[str, ...] = ()
    started: bool = True  # False: the program could not be started at all
    forced_by_user: bool = False  # killed because stop was pressed twice (not a timeout)


def exit_failure(
    name: str, stderr_tail: Sequence[str], exit_code: int | None, crashed: bool
) -> str:
    """Why the child ``name`` (``tfstudio detect``) failed, from the last lines of its stderr:
    the CLI's ``error: …`` line, else what happened and the tail."""
    lines = list(stderr_tail)
    # The CLI reports a user error as one "error: ..." line; a crash leaves a traceback.
    errors = [line for line in lines if line.lower().startswith("error")]
    if errors:
        return errors[-1].split(":", 1)[-1].strip() or errors[-1]
    if crashed:
        detail = f"the '{name}' process crashed"
    else:
        detail = f"'{name}' exited with code {exit_code}"
    tail = "\n".join(lines[-6:])
    return f"{detail}\n{tail}" if tail else detail
