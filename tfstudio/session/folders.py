"""Choosing a folder for a new project: what is in it already, and a free name inside it."""

from __future__ import annotations

import itertools
from pathlib import Path

NEW_PROJECT_NAME = "tfstudio-project"


def other_entries(folder: Path) -> list[str]:
    """The names of what ``folder`` holds, hidden ones left out, sorted; none when it does not
    exist or cannot be listed (creating the project there will say why)."""
    try:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:
        return []


def free_folder(parent: Path, stem: str = NEW_PROJECT_NAME) -> Path:
    """``parent / stem``, or ``stem-2``, ``stem-3``…: the first that does not exist."""
    names = itertools.chain([stem], (f"{stem}-{i}" for i in itertools.count(2)))
    return next(parent / name for name in names if not (parent / name).exists())


def listing(names: list[str], shown: int = 3) -> str:
    """A few of ``names`` for a sentence: 'a.wav, b.wav, c and 4 more'."""
    head = ", ".join(names[:shown])
    rest = len(names) - shown
    return f"{head} and {rest} more" if rest > 0 else head
