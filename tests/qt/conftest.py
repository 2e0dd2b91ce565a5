"""Qt test fixtures: offscreen platform, no audio, isolated QSettings, small real projects."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TFSTUDIO_NO_AUDIO", "1")  # no sound server on CI; tested separately

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """Each test gets its own QSettings (recent projects, view settings, window state)."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    yield


def write_wav(path: Path, seconds: float, sample_rate: int = 16000, seed: int = 0) -> Path:
    """Noise with a few tones, written in blocks so long files need little memory."""
    rng = np.random.default_rng(seed)
    block = sample_rate * 30
    total = int(seconds * sample_rate)
    with sf.SoundFile(path, "w", samplerate=sample_rate, channels=1, subtype="PCM_16") as f:
        for start in range(0, total, block):
            n = min(block, total - start)
            t = (start + np.arange(n)) / sample_rate
            x = 0.01 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 1000 * t) * ((t % 4) < 1)
            f.write(x.astype(np.float32))
    return path


@pytest.fixture
def small_project(tmp_path):
    """A project with three 10 s recordings and two classes, closed after the test."""
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    for i in range(3):
        write_wav(audio / f"rec{i}.wav", 10.0, seed=i)
    project = Project.create(tmp_path / "proj")
    import_audio(project, [audio])
    project.add_class("bird")
    project.add_class("frog")
    root = project.root
    project.close()
    return root


@pytest.fixture
def window(qtbot, small_project):
    """The main window on the small project, shown and laid out."""
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    create_application()
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_project(small_project)
    qtbot.waitUntil(lambda: win.view.has_image(), timeout=5000)
    yield win
    win.close()


@pytest.fixture
def wav_writer():
    return write_wav
