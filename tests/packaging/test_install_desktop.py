"""packaging/linux/install-desktop.sh registers a checkout's or a bundle's tfstudio with the
desktop (run for real, into a private XDG_DATA_HOME)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINUX = REPO / "packaging" / "linux"
ID = "io.github.tfstudio.TFStudio"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a freedesktop.org desktop")


def install(script: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    return subprocess.run(
        ["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=60
    )


def exec_line(data: Path) -> str:
    desktop = (data / "applications" / f"{ID}.desktop").read_text(encoding="utf-8")
    [line] = [line for line in desktop.splitlines() if line.startswith("Exec=")]
    return line


def make_bundle(folder: Path) -> Path:
    """The layout packaging/build.sh writes: tfstudio, _internal/…/tfstudio.svg, linux/."""
    exe = folder / "tfstudio"
    folder.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n", encoding="utf-8")
    exe.chmod(0o755)
    icons = folder / "_internal" / "tfstudio" / "resources" / "icons"
    icons.mkdir(parents=True)
    (icons / "tfstudio.svg").write_text("<svg id='bundled'/>", encoding="utf-8")
    shutil.copytree(LINUX, folder / "linux")
    return exe


def test_from_a_checkout_it_starts_the_venv(tmp_path):
    done = install(LINUX / "install-desktop.sh", tmp_path)
    if not (REPO / ".venv" / "bin" / "tfstudio").exists():
        assert done.returncode == 2 and "no tfstudio executable" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    assert exec_line(tmp_path) == f'Exec="{REPO}/.venv/bin/tfstudio" %f'
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / f"{ID}.svg"
    assert icon.read_bytes() == (REPO / "resources" / "icons" / "tfstudio.svg").read_bytes()
    assert (tmp_path / "metainfo" / f"{ID}.metainfo.xml").is_file()


def test_from_inside_a_bundle_it_starts_the_bundle_with_its_icon(tmp_path):
    exe = make_bundle(tmp_path / "my apps" / "tfstudio")
    data = tmp_path / "share"
    done = install(exe.parent / "linux" / "install-desktop.sh", data)
    assert done.returncode == 0, done.stderr
    assert exec_line(data) == f'Exec="{exe}" %f'
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / f"{ID}.svg"
    assert icon.read_text(encoding="utf-8") == "<svg id='bundled'/>"


def test_a_path_with_special_characters_is_escaped_as_the_spec_says(tmp_path):
    exe = make_bundle(tmp_path / 'odd "$name"')
    data = tmp_path / "share"
    done = install(LINUX / "install-desktop.sh", data, str(exe))
    assert done.returncode == 0, done.stderr
    # Inside the quotes " and $ get a backslash; the file's string escaping doubles it.
    expected = str(exe).replace('"', '\\\\"').replace("$", "\\\\$")
    assert exec_line(data) == f'Exec="{expected}" %f'
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / f"{ID}.svg"
    assert icon.read_text(encoding="utf-8") == "<svg id='bundled'/>"


def test_no_executable_is_an_error(tmp_path):
    done = install(LINUX / "install-desktop.sh", tmp_path, str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert "no tfstudio executable" in done.stderr
    assert not (tmp_path / "applications").exists()
