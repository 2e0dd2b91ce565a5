"""What the app's start loads: torch never (training and detection run in a child process), and
the packages that cost seconds to import only when their work is first needed (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

NEVER = ("torch", "torchaudio", "torchlibrosa")
LATER = ("sed_eval", "pandas")  # evaluation: loaded when metrics are computed
SCIPY = ("scipy",)  # spectrogram tiles: loaded when the first tile is computed


def _loaded_by(code: str, packages: tuple[str, ...]) -> list[str]:
    probe = (
        f"{code}\n"
        "import json, sys\n"
        f"print(json.dumps(sorted({{m.partition('.')[0] for m in sys.modules}} & {set(packages)!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_window_loads_no_torch_and_nothing_heavy():
    assert _loaded_by("import tfstudio.qt.main_window", NEVER + LATER) == []


def test_importing_the_window_loads_no_scipy():
    assert _loaded_by("import tfstudio.qt.main_window", SCIPY) == []


def test_the_window_loads_no_cuda_bindings_and_leaves_them_importable():
    """pyqtgraph's RawImageWidget would import the CUDA Python bindings (0.2 s); the app keeps
    them out of pyqtgraph's import only, so code that needs them (torch) still gets them."""
    probe = (
        "import importlib.util, sys, tfstudio.qt.main_window\n"
        "loaded = 'cuda.bindings' in sys.modules\n"
        "installed = importlib.util.find_spec('cuda') is not None and "
        "importlib.util.find_spec('cuda.bindings') is not None\n"
        "if installed:\n"
        "    import cuda.bindings.runtime\n"
        "print(loaded, installed)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.stdout.split()[0] == "False"


# Not loaded while the window is built and opens a project, only after its first paint (or
# never): the player's QtMultimedia (~0.1 s with its FFmpeg backend and the sound server's
# devices), numpy.ma (~30 ms, which np.unique loads), the training widgets' modules (~35 ms,
# built after the paint) and the CUDA Python bindings that pyqtgraph would load (0.2 s).
AFTER_PAINT = ("PySide6.QtMultimedia", "numpy.ma", "tfstudio.qt.training", "cuda.bindings")


def test_the_window_loads_its_deferred_modules_after_the_first_paint(tmp_path):
    """Build the window and open a labelled project as ``tfstudio PROJECT`` does; once the
    window has painted, the player starts and the status bar says whether sound can be played."""
    from tests.conftest import write_wav
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    write_wav(audio / "rec.wav", 3.0)
    project = Project.create(tmp_path / "proj")
    import_audio(project, [audio])
    bird = project.add_class("bird")
    project.add_event(project.recordings()[0].id, bird.id, 0.5, 1.0)
    project.close()
    probe = (
        "import json, sys, time\n"
        "from tfstudio.qt.app import create_application\n"
        "from tfstudio.qt.main_window import MainWindow\n"
        "app = create_application()\n"
        "window = MainWindow()\n"
        "window.show()\n"
        f"assert window.open_project({str(tmp_path / 'proj')!r})\n"
        "assert window.view.lane_map.order\n"
        f"loaded = sorted(m for m in {AFTER_PAINT!r} if m in sys.modules)\n"
        "before = (loaded, window.player.started, window.play_label.text())\n"
        "deadline = time.monotonic() + 30\n"
        "while not window.player.started and time.monotonic() < deadline:\n"
        "    app.processEvents()\n"
        "after = ('PySide6.QtMultimedia' in sys.modules, window.player.started,\n"
        "         window.play_label.text(), window.player.available, window.player.reason)\n"
        "print(json.dumps({'before': before, 'after': after}))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("TFSTUDIO_NO_AUDIO", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["before"] == [[], False, "Stopped · 1×"]
    loaded, started, label, available, reason = report["after"]
    assert started
    if available:
        assert loaded and label == "Stopped · 1×" and reason == ""
    else:
        assert reason and label == f"Playback off: {reason}"


def test_the_app_paints_its_window_on_a_project_without_torch(tmp_path):
    """The real start (``python -m tfstudio PROJECT``) up to the first paint of the window,
    through the start-up probe that ``tfstudio bench startup`` reads."""
    from tests.conftest import write_wav
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    write_wav(audio / "rec.wav", 5.0)
    project = Project.create(tmp_path / "proj")
    import_audio(project, [audio])
    project.add_class("bird")
    project.close()
    probe = tmp_path / "probe.json"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TFSTUDIO_NO_AUDIO": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TFSTUDIO_STARTUP_PROBE": str(probe),
    }
    subprocess.run(
        [sys.executable, "-m", "tfstudio", str(tmp_path / "proj")],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    report = json.loads(probe.read_text(encoding="utf-8"))
    times = report["times"]
    assert times["run"] <= times["imported"] <= times["shown"] <= times["opened"]
    assert times["opened"] <= times["painted"]
    assert report["cpu_s"] > 0
    assert not set(report["heavy"]) & set(NEVER + LATER)


def test_the_entry_point_tells_the_app_from_a_command_as_the_command_line_does():
    """``tfstudio.__main__`` decides without importing the command modules; its list of
    commands must be the parser's."""
    from tfstudio.__main__ import COMMANDS, wants_gui
    from tfstudio.cli import _commands, build_parser, is_command_line

    assert _commands(build_parser()) == COMMANDS
    for args in ([], ["proj"], ["train"], ["init", "p"], ["--version"], ["-h"], ["a", "b"]):
        assert wants_gui(args) == (not is_command_line(args))


def test_a_mistyped_command_is_not_taken_for_a_project(tmp_path, monkeypatch):
    """``tfstudio imprt`` says "unknown command" (exit 2) instead of opening the app on a
    project called "imprt"; a folder of that name is still opened."""
    from tfstudio.__main__ import wants_gui

    monkeypatch.chdir(tmp_path)
    assert not wants_gui(["imprt"]) and not wants_gui(["trian"])
    assert wants_gui(["my-birds"])  # not close to any command: a new project's folder
    (tmp_path / "imprt").mkdir()
    assert wants_gui(["imprt"])
    (tmp_path / "imprt").rmdir()
    out = subprocess.run(
        [sys.executable, "-m", "tfstudio", "imprt"], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 2, out.stderr
    assert "unknown command 'imprt'" in out.stderr and "import" in out.stderr


def test_the_modules_the_app_imports_before_qt_are_the_windows_own_and_free_of_qt():
    """``tfstudio.__main__.BEFORE_QT`` is imported before PySide6 (which reads the source of
    every module imported after it): none of them may load Qt, and the app and its window
    need each."""
    from tfstudio.__main__ import BEFORE_QT

    before = (
        "import importlib, sys\n"
        "from tfstudio.__main__ import BEFORE_QT\n"
        "for name in BEFORE_QT:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", before], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    window = (
        "import json, sys, tfstudio.qt.app, tfstudio.qt.main_window\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", window],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert set(BEFORE_QT) <= set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_app_start_imports_no_command_module():
    probe = (
        "from tfstudio.__main__ import wants_gui\n"
        "assert wants_gui(['proj'])\n"
        "import sys, tfstudio.qt.main_window\n"
        "print(sorted(m for m in sys.modules if m.startswith('tfstudio.cli')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
