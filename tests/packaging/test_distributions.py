"""The wheel and the source distribution, built by the real build backend (hatchling)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def build(kind: str, out: Path) -> Path:
    """Build ``kind`` (wheel or sdist) of this checkout into ``out``, as a PEP 517 frontend
    would: the backend's hook, run in a child with the repository as its folder."""
    code = f"import sys, hatchling.build as b; print(b.build_{kind}(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    wheel = build("wheel", tmp_path_factory.mktemp("wheel"))
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory) -> list[str]:
    sdist = build("sdist", tmp_path_factory.mktemp("sdist"))
    with tarfile.open(sdist) as archive:
        # Names without the "tfstudio-0.1.0/" prefix.
        return [name.partition("/")[2] for name in archive.getnames()]


def test_the_wheel_carries_the_icon_where_the_app_looks(wheel_names):
    assert "tfstudio/resources/icons/tfstudio.svg" in wheel_names
    assert "tfstudio/paths.py" in wheel_names
    licenses = [n for n in wheel_names if n.endswith("/LICENSE") and ".dist-info/" in n]
    assert licenses, "the MIT licence text is in the wheel's metadata"


def test_the_wheel_holds_no_tests_caches_or_screenshots(wheel_names):
    assert not [n for n in wheel_names if n.startswith("tests/")]
    assert not [n for n in wheel_names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in wheel_names if n.endswith(".png")]


def test_the_sdist_has_what_builds_and_tests_and_no_junk(sdist_names):
    for needed in (
        "pyproject.toml",
        "LICENSE",
        "README.md",
        "uv.lock",
        "tfstudio/__main__.py",
        "tfstudio/qt/screenshots.py",  # code named like the junk folder stays
        "resources/icons/tfstudio.svg",
        "tests/conftest.py",
        "packaging/build.sh",
    ):
        assert needed in sdist_names, needed
    junk = [
        n
        for n in sdist_names
        if n.startswith((".import_linter_cache", ".venv", ".tools", "build/", "dist/", "docs/"))
        or "screenshots/" in n
        or "__pycache__" in n
        or n.startswith((".mypy_cache", ".pytest_cache", ".ruff_cache"))
    ]
    assert junk == []


def test_the_licence_is_mit_as_the_metadata_says():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "the tfstudio authors" in text
