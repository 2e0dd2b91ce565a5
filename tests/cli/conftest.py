"""Fixtures the command-line tests share."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main


@pytest.fixture
def two_recordings(tmp_path) -> Path:
    """A project with rec1.wav and rec2.wav (9 s of silence each, 8 kHz)."""
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("rec1.wav", "rec2.wav"):
        sf.write(audio / name, np.zeros(9 * 8000, dtype="float32"), 8000)
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    return root


@pytest.fixture(scope="session")
def tiny_trained_demo(tmp_path_factory) -> Path:
    """A tiny demo project (3 recordings of 4 s) with one finished run of a tiny model, made
    once: copy it (``trained_demo``) before changing it."""
    import torch

    from tfstudio.importer import create_demo
    from tfstudio.train import TrainConfig, train

    root = tmp_path_factory.mktemp("tiny_trained_demo") / "template"
    config = TrainConfig.from_preset(
        "fast",
        epochs=1,
        batch_size=4,
        seq_len=64,
        max_batches_per_epoch=2,
        model={"channels": 4, "gru_hidden": 8},
        device="cpu",
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with create_demo(root, recordings=3, seconds=4.0, seed=1) as project:
            events = list(train(project, config))
    finally:
        torch.set_num_threads(threads)
    assert events[-1].status == "done"
    return root


@pytest.fixture
def trained_demo(tiny_trained_demo, tmp_path) -> Path:
    """A copy of :func:`tiny_trained_demo` of this test's own."""
    root = tmp_path / "p"
    shutil.copytree(tiny_trained_demo, root)
    return root


# Recordings of one file name in several folders, as an AudioMoth deployment of several sites
# has them (tests of importing other tools' files onto them).
SITES = ("site1", "site2")
HOURS = ("20240501_050000.WAV", "20240501_060000.WAV")


def write_sites(root: Path) -> Path:
    """``root/site1`` and ``root/site2``, each with the same two file names (4 s, 16 kHz,
    noise of their own: equal files would be one file moved)."""
    rng = np.random.default_rng(7)
    for site in SITES:
        (root / site).mkdir(parents=True)
        for hour in HOURS:
            sf.write(root / site / hour, rng.normal(0, 0.01, 4 * 16000).astype("float32"), 16000)
    return root


def project_of(path: Path, audio: Path) -> Path:
    """A new project at ``path`` with the recordings under ``audio``."""
    assert main(["init", str(path)]) == 0
    assert main(["import", str(path), str(audio), "-q"]) == 0
    return path
