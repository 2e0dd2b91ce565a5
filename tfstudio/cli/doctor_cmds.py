"""doctor: what this installation runs on and offers for training.

Versions (tfstudio, Python, torch, torchaudio, numpy, soundfile/libsndfile, SQLite), the
compute devices torch sees and the one ``--device auto`` picks, the training presets, the
generalisation recipe switched off, the teacher-forcing schedules and ``train``'s options.
``--json`` prints all of it as one object; that is how the app learns the machine's devices
without loading torch itself (it asks in a child process).

torch is imported inside the handler, as in :mod:`tfstudio.cli.train_cmds`, so ``tfstudio
--help`` stays quick. A library that fails to load or a device that fails to answer is listed
under ``errors`` and the rest is still reported: the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sqlite3
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from tfstudio import __version__
from tfstudio.cli.common import emit_json
from tfstudio.cli.train_cmds import train_options

__all__ = ["doctor_report", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command to the parser."""
    p = sub.add_parser(
        "doctor",
        help="show versions, compute devices and training presets",
        description="Show what tfstudio runs on: the versions of tfstudio, Python, torch, "
        "torchaudio, numpy, soundfile/libsndfile and SQLite; the compute devices torch sees "
        "and the one '--device auto' picks; the training presets, the generalisation recipe "
        "switched off, the teacher-forcing schedules and the train command's options. "
        "Problems are listed, not fatal: the exit code is 0.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    report = doctor_report()
    if args.json:
        emit_json(report)
    else:
        _print_report(report)
    return 0


def doctor_report() -> dict[str, Any]:
    """Everything ``doctor --json`` prints (importing torch, and initialising CUDA if present)."""
    from tfstudio.model.schedules import SCHEDULE_NAMES
    from tfstudio.train.config import RECIPE_OFF, TRAIN_PRESETS, TrainConfig

    errors: list[str] = []
    versions: dict[str, str | None] = {
        "tfstudio": __version__,
        "python": platform.python_version(),
    }
    torch = _load("torch", versions, errors)
    versions["cuda"] = getattr(getattr(torch, "version", None), "cuda", None)
    _load("torchaudio", versions, errors)
    _load("numpy", versions, errors)
    soundfile = _load("soundfile", versions, errors)
    versions["libsndfile"] = getattr(soundfile, "__libsndfile_version__", None)
    versions["sqlite"] = sqlite3.sqlite_version
    devices, auto = _devices(torch, errors)
    return {
        "versions": versions,
        "platform": platform.platform(),
        "devices": devices,
        "auto_device": auto,
        "presets": {name: TrainConfig.from_preset(name).to_dict() for name in TRAIN_PRESETS},
        "recipe_off": dict(RECIPE_OFF),
        "schedules": list(SCHEDULE_NAMES),
        "train_options": train_options(),
        "errors": errors,
    }


def _load(name: str, versions: dict[str, str | None], errors: list[str]) -> ModuleType | None:
    """Import ``name`` and note its version; a failure is noted in ``errors`` (None is returned)."""
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # ImportError, or an OSError from a missing shared library
        versions[name] = None
        errors.append(f"{name}: {type(exc).__name__}: {exc}")
        return None
    versions[name] = str(getattr(module, "__version__", "") or "") or None
    return module


def _devices(
    torch: ModuleType | None, errors: list[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """The CPU, each CUDA device, Apple MPS when present, and what ``--device auto`` picks
    (None when torch does not load: nothing can train)."""
    cpu: dict[str, Any] = {
        "device": "cpu",
        "name": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    devices = [cpu]
    if torch is None:
        return devices, None
    from tfstudio.train.config import TrainError
    from tfstudio.train.device import resolve_device

    cpu["threads"] = torch.get_num_threads()
    try:
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                devices.append(
                    {
                        "device": f"cuda:{i}",
                        "name": props.name,
                        "memory_bytes": int(props.total_memory),
                        "capability": f"{props.major}.{props.minor}",
                    }
                )
    except Exception as exc:  # a driver that is present but broken
        errors.append(f"cuda: {type(exc).__name__}: {exc}")
    try:
        resolve_device("mps")
    except TrainError:
        pass  # not on this machine
    except Exception as exc:
        errors.append(f"mps: {type(exc).__name__}: {exc}")
    else:
        devices.append({"device": "mps", "name": "Apple MPS"})
    try:
        auto: str | None = str(resolve_device("auto"))
    except Exception as exc:
        errors.append(f"--device auto: {type(exc).__name__}: {exc}")
        auto = None
    return devices, auto


# ------------------------------------------------------------------------- text
def _print_report(report: dict[str, Any]) -> None:
    versions = report["versions"]
    print(f"tfstudio {versions['tfstudio']}, Python {versions['python']}, {report['platform']}")
    print("  " + ", ".join(_version_texts(versions)))

    print("\nDevices")
    width = max(len(d["device"]) for d in report["devices"]) + 2
    for device in report["devices"]:
        print(f"  {device['device']:<{width}}{_device_text(device)}")
    auto = report["auto_device"]
    print(f"  --device auto trains on {auto}" if auto else "  nothing can train (no torch)")

    presets: dict[str, dict[str, Any]] = report["presets"]
    print("\nTraining presets (train --preset NAME): where they differ; --json shows every field")
    print(_preset_table(presets))

    print("\nGeneralisation recipe switched off (train --set FIELD=VALUE)")
    print(_wrapped(f"{k}={_value_text(v)}" for k, v in report["recipe_off"].items()))
    print("\nTeacher-forcing schedules (train --schedule NAME)")
    print(_wrapped(report["schedules"]))
    print("\ntrain options")
    print(_wrapped(_option_text(o) for o in report["train_options"]))
    if report["errors"]:
        print("\nProblems")
        for line in report["errors"]:
            print(f"  {line}")


def _version_texts(versions: dict[str, str | None]) -> list[str]:
    def named(label: str, key: str) -> str:
        return f"{label} {versions.get(key) or 'missing'}"

    torch = named("torch", "torch")
    if versions.get("cuda"):
        torch += f" (CUDA {versions['cuda']})"
    soundfile = named("soundfile", "soundfile")
    if versions.get("libsndfile"):
        soundfile += f" (libsndfile {versions['libsndfile']})"
    return [
        torch,
        named("torchaudio", "torchaudio"),
        named("numpy", "numpy"),
        soundfile,
        named("SQLite", "sqlite"),
    ]


def _device_text(device: dict[str, Any]) -> str:
    parts = [str(device.get("name") or device["device"])]
    if device.get("cores"):
        threads = device.get("threads")
        parts.append(
            f"{device['cores']} cores" + (f" (torch uses {threads} threads)" if threads else "")
        )
    if device.get("memory_bytes"):
        parts.append(f"{device['memory_bytes'] / 2**30:.1f} GiB")
    if device.get("capability"):
        parts.append(f"compute capability {device['capability']}")
    return ", ".join(parts)


def _preset_table(presets: dict[str, dict[str, Any]]) -> str:
    flat = {name: _flatten(values) for name, values in presets.items()}
    fields = [
        f
        for f in dict.fromkeys(f for values in flat.values() for f in values)
        if f != "preset" and len({repr(values.get(f)) for values in flat.values()}) > 1
    ]
    rows = [["", *flat], *([f, *(_value_text(v.get(f)) for v in flat.values())] for f in fields)]
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]))]
    return "\n".join(
        "  " + "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _value_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    return str(value)


def _option_text(option: dict[str, Any]) -> str:
    name = "/".join(option["names"])
    if not option["takes_value"]:
        return name
    if option["choices"]:
        return f"{name} {{{','.join(map(str, option['choices']))}}}"
    return f"{name} {option['metavar'] or 'VALUE'}"


def _wrapped(items: Iterable[str], width: int = 96) -> str:
    """``items`` joined by commas in lines of at most ``width``, never breaking an item."""
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(line) + len(item) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else f"  {item}"
    return "\n".join([*lines, line])
