"""Fixtures shared by every test package."""

from __future__ import annotations

import os

import pytest

# Qt tests run without a display; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def project(tmp_path):
    """An empty project that is closed after the test."""
    from tfstudio.store import Project

    proj = Project.create(tmp_path / "proj")
    yield proj
    proj.close()


def fake_recording(
    project, name: str = "rec1.wav", duration: float = 10.0, split: str | None = "train"
):
    """Register a recording row without an audio file (store-only tests)."""
    return project.add_recording(
        path=project.root / name,
        sample_rate=16000,
        channels=1,
        frames=int(duration * 16000),
        duration=duration,
        size=int(duration * 32000),
        mtime=0.0,
        content_hash=f"hash-{name}",
        split=split,
    ).recording_id
