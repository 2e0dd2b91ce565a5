"""Tiny demo projects for the training tests: made once per session, copied per test."""

from __future__ import annotations

import shutil

import pytest

from tfstudio.features import FEATURE_PRESETS, FeatureCache, FeatureConfig
from tfstudio.store import Project

# A model and a schedule small enough for two shared CPU cores.
TINY = dict(
    epochs=2,
    batch_size=4,
    seq_len=64,
    max_batches_per_epoch=3,
    model={"channels": 4, "gru_hidden": 8},
    device="cpu",
)


def _tiny_config(**overrides):
    from tfstudio.train import TrainConfig

    return TrainConfig.from_preset("fast", **{**TINY, **overrides})


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models train faster on one thread than on two shared cores (a module's tests
    share it: ``pytestmark = pytest.mark.usefixtures("one_thread")``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_config():
    """A factory of tiny training configurations: ``tiny_config(epochs=3, ...)``."""
    return _tiny_config


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """5 recordings of 6 s (3 train, 1 val, 1 test) with exact labels and cached features."""
    from tfstudio.importer import create_demo

    root = tmp_path_factory.mktemp("demo") / "template"
    project = create_demo(root, recordings=5, seconds=6.0, seed=1)
    # The fast preset's features (what training uses by default) and the plain defaults.
    for config in {FEATURE_PRESETS["fast"], FeatureConfig()}:
        cache = FeatureCache(project.cache_dir, config)
        for rec in project.recordings():
            cache.load(rec.content_hash, project.absolute_path(rec))
    project.close()
    return root


@pytest.fixture
def demo_project(demo_template, tmp_path):
    """A fresh copy of the tiny demo project, closed after the test."""
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    project = Project.open(root)
    yield project
    project.close()


@pytest.fixture
def demo_root(demo_template, tmp_path):
    """A fresh copy of the tiny demo project as a folder (for the command line)."""
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    return root
