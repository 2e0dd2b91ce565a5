"""Checkpoint files: written atomically, read with ``weights_only``, damage reported in words.

A checkpoint is a plain dict (tensors, numbers, strings, lists); ``torch.load`` with
``weights_only=True`` refuses anything that would run code. Whatever goes wrong while
reading one (truncated, not a zip, not a tfstudio checkpoint, missing keys) becomes one
:class:`TrainError` naming the file, never a traceback.
"""

from __future__ import annotations

import os
import pickle
import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from tfstudio.store.check import checkpoint_damage
from tfstudio.train.config import TrainError

__all__ = ["CHECKPOINT_FORMAT", "copy_checkpoint", "read_checkpoint", "write_checkpoint"]

# Bumped when the dict layout changes incompatibly.
CHECKPOINT_FORMAT = 1

# What every tfstudio checkpoint has, whatever wrote it.
REQUIRED_KEYS = ("model", "model_config", "train_config", "feature_config", "classes", "normalizer")


def write_checkpoint(path: Path, state: Mapping[str, Any]) -> None:
    """Write then rename: a kill or a full disk during the save leaves the previous file.

    A failed write (full disk, no permission; torch reports a full disk as a RuntimeError
    from its zip writer) is a :class:`TrainError` naming the file, so the run ends as failed
    with that reason and its last good checkpoint.
    """
    _replace(path, lambda tmp: torch.save(dict(state), tmp))


def copy_checkpoint(source: Path, path: Path) -> None:
    """``path`` becomes a copy of the checkpoint ``source`` (the best one, of the last), as
    :func:`write_checkpoint` writes: whole or not at all, a failure a :class:`TrainError`."""
    _replace(path, lambda tmp: shutil.copyfile(source, tmp))


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        tmp.unlink(missing_ok=True)
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror  # "No space left on device", not "[Errno 28] No space…"
        kept = "the previous one is kept" if path.exists() else "no earlier checkpoint exists"
        raise TrainError(
            f"{path}: could not save the checkpoint ({reason}); {kept}. Free disk space or "
            "fix the folder's permissions, then resume the run"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_checkpoint(
    path: Path | str,
    map_location: str | torch.device = "cpu",
    *,
    required: Iterable[str] = REQUIRED_KEYS,
) -> dict[str, Any]:
    """The checkpoint's dict; :class:`TrainError` naming ``path`` when it cannot be used."""
    path = Path(path)
    # torch.load does not look at the archive's checksums: a file damaged in the middle
    # (a bad disk, a partial copy over it) would load with wrong weights, and detect would
    # replace good detections with what that model says. `tfstudio check` asks the same.
    damage = checkpoint_damage(path) if path.is_file() else None
    if damage is not None:
        raise TrainError(
            f"{path}: not a readable tfstudio checkpoint ({damage}); the file is damaged: "
            "train the run again or choose another run"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise TrainError(f"checkpoint not found: {path}") from None
    except IsADirectoryError:
        raise TrainError(f"{path}: is a folder, not a checkpoint file") from None
    except PermissionError:
        raise TrainError(f"{path}: cannot be read (permission denied)") from None
    except (
        OSError,
        RuntimeError,
        EOFError,
        ValueError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        AttributeError,
        KeyError,
        IndexError,
        TypeError,
    ) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainError(
            f"{path}: not a readable tfstudio checkpoint ({reason[:200]}); the file is damaged "
            "or was not written by tfstudio: train the run again or choose another run"
        ) from None
    if not isinstance(state, dict):
        raise TrainError(f"{path}: not a tfstudio checkpoint (it holds a {type(state).__name__})")
    fmt = state.get("format", CHECKPOINT_FORMAT)
    if fmt != CHECKPOINT_FORMAT:
        raise TrainError(f"{path}: unknown checkpoint format {fmt!r}")
    missing = [key for key in required if key not in state]
    if missing:
        raise TrainError(f"{path}: not a tfstudio checkpoint (missing {', '.join(missing)})")
    return state
