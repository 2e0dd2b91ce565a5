"""Where tfstudio's own files are: the resources it ships (icons) and its log folder.

No Qt here: the command line and the app find them the same way.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "APP_NAME",
    "folder_size",
    "log_dir",
    "resource_path",
    "resources_dir",
    "self_command",
]

APP_NAME = "tfstudio"

_PACKAGE = Path(__file__).resolve().parent


def self_command() -> list[str]:
    """The command that runs this very tfstudio (``[python, -m, tfstudio]`` from a checkout or
    an installed wheel; the executable alone in a frozen bundle, which has no ``python``)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "tfstudio"]


def resources_dir() -> Path:
    """The folder of the shipped resources: ``tfstudio/resources`` inside an installed wheel
    or a PyInstaller bundle (both put it there), else the checkout's ``resources/``."""
    packaged = _PACKAGE / "resources"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "resources"


def resource_path(name: str) -> Path:
    """The shipped resource ``name`` (``"icons/tfstudio.svg"``); it may not exist."""
    return resources_dir() / name


def log_dir(platform: str | None = None, environ: dict[str, str] | None = None) -> Path:
    """The platform's folder for this user's tfstudio logs.

    Linux and other Unix: ``$XDG_STATE_HOME/tfstudio/log`` (``~/.local/state/tfstudio/log``);
    macOS: ``~/Library/Logs/tfstudio``; Windows: ``%LOCALAPPDATA%\\tfstudio\\Logs``.
    ``$TFSTUDIO_LOG_DIR`` overrides all of them.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    override = env.get("TFSTUDIO_LOG_DIR")
    if override:
        return Path(override)
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform == "darwin":
        return home / "Library" / "Logs" / APP_NAME
    if platform == "win32":
        local = env.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
        return base / APP_NAME / "Logs"
    state = env.get("XDG_STATE_HOME")
    # XDG says a relative path is to be ignored.
    base = Path(state) if state and Path(state).is_absolute() else home / ".local" / "state"
    return base / APP_NAME / "log"


def folder_size(folder: Path) -> tuple[int, int]:
    """The bytes and number of files under ``folder`` (0, 0 when it does not exist)."""
    total = count = 0
    if not folder.is_dir():
        return 0, 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
                count += 1
        except OSError:
            continue
    return total, count
