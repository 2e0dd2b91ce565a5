"""``tfstudio bench startup``: how long the app takes to show its window.

Starts the app as a user does (``python -m tfstudio PROJECT`` and ``python -m tfstudio`` alone),
each time in a fresh process with its own empty settings, and reads the times of its start-up
steps from the app's start-up probe (``$TFSTUDIO_STARTUP_PROBE``, see ``tfstudio.qt.app``): the
app quits at the first paint of its main window. Also times ``import tfstudio.qt.main_window``
alone in a fresh interpreter. Prints medians; asserts nothing.

Without a display (no ``$DISPLAY`` or ``$WAYLAND_DISPLAY``) the app runs on Qt's offscreen
platform; run it under ``xvfb-run -a`` to include a real window system.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfstudio.paths import self_command

PROBE_VARIABLE = "TFSTUDIO_STARTUP_PROBE"  # tfstudio.qt.app.STARTUP_PROBE (no Qt here)
STEPS = ("run", "imported", "shown", "opened", "painted")
TIMEOUT_S = 300.0
IMPORT_SNIPPET = (
    "import sys, time\n"
    "t = time.perf_counter()\n"
    "import tfstudio.qt.main_window\n"
    "print(time.perf_counter() - t)\n"
)

Say = Callable[[str], None]


@dataclass
class StartupResult:
    """Median seconds from the process's start to each start-up step, per way of starting:
    ``run`` (``tfstudio.qt.app.run`` entered: the interpreter, the entry point, the store and
    the session's models, PySide6 and pyqtgraph imported), ``imported`` (the main window's
    modules), ``shown`` (the application and the window made and shown), ``opened`` (the
    project opened) and ``painted``; and the median CPU seconds the process used up to its
    first paint, which other work on a shared machine inflates much less than the wall-clock
    times."""

    platform: str
    repeats: int
    project: str
    starts: dict[str, dict[str, float]] = field(default_factory=dict)
    heavy: dict[str, list[str]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    import_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "repeats": self.repeats,
            "project": self.project,
            "starts": self.starts,
            "heavy_packages": self.heavy,
            "cpu_to_paint_s": self.cpu,
            "import_main_window_s": round(self.import_seconds, 4),
        }


def _environment(config_home: Path, probe: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    # Settings of a fresh user: no recent projects, nothing remembered from earlier runs.
    env["XDG_CONFIG_HOME"] = str(config_home)
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env["QT_QPA_PLATFORM"] = "offscreen"
    if probe is not None:
        env[PROBE_VARIABLE] = str(probe)
    return env


def start_once(project: Path | None, work: Path) -> tuple[dict[str, float], list[str], float]:
    """Seconds from spawning ``python -m tfstudio [PROJECT]`` to each start-up step, the heavy
    packages it loaded and its CPU seconds up to the first paint."""
    probe = work / "probe.json"
    probe.unlink(missing_ok=True)
    config_home = Path(tempfile.mkdtemp(prefix="config-", dir=work))
    argv = [*self_command(), *([str(project)] if project is not None else [])]
    started = time.time()
    done = subprocess.run(
        argv,
        env=_environment(config_home, probe),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0 or not probe.exists():
        raise RuntimeError(
            f"{' '.join(argv)} exited with {done.returncode} before painting its window:\n"
            + done.stderr[-2000:]
        )
    report = json.loads(probe.read_text(encoding="utf-8"))
    return (
        {step: report["times"][step] - started for step in STEPS},
        list(report["heavy"]),
        float(report["cpu_s"]),
    )


def import_once(work: Path) -> float:
    """Seconds ``import tfstudio.qt.main_window`` takes in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SNIPPET],
        env=_environment(work, None),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def _demo_project(folder: Path) -> Path:
    from tfstudio.importer import create_demo

    create_demo(folder).close()
    return folder


def run_startup_bench(
    project: Path | None, repeats: int, *, say: Say = print, work: Path | None = None
) -> StartupResult:
    """Start the app ``repeats`` times with ``project`` (a generated demo when None) and without
    one, and time the import of its main window; medians of each."""
    with tempfile.TemporaryDirectory(prefix="tfstudio-startup-") as tmp:
        scratch = Path(tmp) if work is None else work
        if project is None:
            say("generating a demo project…")
            project = _demo_project(scratch / "demo")
        result = StartupResult(
            platform=_environment(scratch, None).get("QT_QPA_PLATFORM", "default"),
            repeats=repeats,
            project=str(project),
        )
        for name, target in (("tfstudio PROJECT", project), ("tfstudio", None)):
            runs, cpu = [], []
            for _ in range(repeats):
                times, heavy, cpu_s = start_once(target, scratch)
                runs.append(times)
                cpu.append(cpu_s)
                result.heavy[name] = heavy
            result.cpu[name] = round(statistics.median(cpu), 4)
            result.starts[name] = {
                step: round(statistics.median(r[step] for r in runs), 4) for step in STEPS
            }
            say(_line(name, result.starts[name], result.cpu[name], result.heavy[name]))
        result.import_seconds = statistics.median(import_once(scratch) for _ in range(repeats))
        say(f"  import tfstudio.qt.main_window   {result.import_seconds:6.2f} s")
    return result


def _line(name: str, times: dict[str, float], cpu: float, heavy: list[str]) -> str:
    steps = (
        f"to app.run {times['run']:.2f}, window imports {times['imported'] - times['run']:.2f}, "
        f"window {times['shown'] - times['imported']:.2f}, "
        f"project {times['opened'] - times['shown']:.2f}, "
        f"paint {times['painted'] - times['opened']:.2f}"
    )
    loaded = ", ".join(heavy) if heavy else "none"
    return (
        f"  {name:<18} first paint {times['painted']:6.2f} s, cpu {cpu:.2f} s ({steps}); "
        f"heavy: {loaded}"
    )
