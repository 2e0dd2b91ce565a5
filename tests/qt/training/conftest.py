"""Fixtures for the training widgets: a fake engine, a tiny demo project, private settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tfstudio.qt.training.engine import engine_info
from tfstudio.session.engine import EngineInfo

FAKE_TRAIN = Path(__file__).with_name("fake_train.py")


@pytest.fixture
def fake_program() -> list[str]:
    """A command prefix that runs the fake engine instead of ``python -m tfstudio``."""
    return [sys.executable, str(FAKE_TRAIN)]


@pytest.fixture
def engine() -> EngineInfo:
    """A CPU machine, as ``tfstudio doctor`` reports one (presets and options are the real ones)."""
    return engine_info(known=True)


@pytest.fixture
def settings(tmp_path):
    """QSettings in a private file, so tests neither read nor change the user's."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    """A tiny demo project (4 recordings of 4 s), shared by a module's real trainings."""
    from tfstudio.cli import main

    root = tmp_path_factory.mktemp("demo") / "proj"
    assert main(["demo", str(root), "--recordings", "4", "--seconds", "4"]) == 0
    return root


@pytest.fixture
def empty_root(tmp_path) -> Path:
    from tfstudio.store import Project

    root = tmp_path / "empty"
    Project.create(root).close()
    return root
