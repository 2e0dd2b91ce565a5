"""Help ▸ About: versions, compute device from a real ``tfstudio doctor`` child, log file, and
the project's cache with "Clear cache"."""

from __future__ import annotations

import json
import sys
from importlib import metadata

import numpy
import pytest
from PySide6.QtCore import QTimer, qVersion
from PySide6.QtWidgets import QApplication, QMessageBox

from tfstudio import __version__, logs
from tfstudio.qt.about import AboutDialog, show_about, size_text
from tfstudio.qt.app import create_application
from tfstudio.qt.training.engine import EngineProbe
from tfstudio.session.workspace import Workspace


@pytest.fixture
def workspace(small_project):
    ws = Workspace()
    ws.open_project(small_project)
    yield ws
    ws.close_project()


@pytest.fixture
def log_file(tmp_path):
    path = logs.setup_logging(tmp_path / "logs")
    yield path
    logs.logger.removeHandler(logs._handler)
    logs._handler.close()
    logs._handler = None


def doctor_answering(report: dict) -> EngineProbe:
    """A probe whose ``tfstudio`` prints ``report`` as ``doctor --json`` would."""
    code = f"import sys; assert sys.argv[1:] == ['doctor', '--json']; print({json.dumps(json.dumps(report))})"
    return EngineProbe(program=[sys.executable, "-c", code])


def fill_cache(workspace) -> int:
    cache = workspace.project.cache_dir
    (cache / "features").mkdir(parents=True, exist_ok=True)
    (cache / "features" / "abc-123.npy").write_bytes(b"\0" * 3000)
    (cache / "features" / "def-456.npy").write_bytes(b"\0" * 2000)
    return 5000


def test_about_lists_versions_log_cache_and_the_device_from_tfstudio_doctor(
    qtbot, workspace, log_file
):
    create_application()
    fill_cache(workspace)
    dialog = AboutDialog(workspace, probe=EngineProbe())  # the real doctor child
    qtbot.addWidget(dialog)
    dialog.show()
    labels = {name: label.text() for name, label in dialog.version_labels.items()}
    assert labels["tfstudio"] == __version__
    assert labels["Qt"] == qVersion()
    assert labels["numpy"] == numpy.__version__
    assert labels["torch"] == metadata.version("torch")
    assert dialog.log_label.text() == str(log_file)
    cache = workspace.project.cache_dir
    assert dialog.cache_label.text() == f"{cache}\n5.0 KB in 2 files"
    assert dialog.clear_button.isEnabled()
    assert dialog.device_label.text() == "asking tfstudio doctor…"
    qtbot.waitUntil(
        lambda: dialog.device_label.text() != "asking tfstudio doctor…", timeout=120_000
    )
    assert dialog.device_label.text().startswith(("CPU", "CUDA: ", "Apple MPS"))
    assert dialog.version_labels["torch"].text().startswith(metadata.version("torch"))


def test_a_gpu_machine_shows_its_gpus(qtbot, workspace):
    report = {
        "versions": {"tfstudio": __version__, "torch": "2.11.0+cu130"},
        "devices": [
            {"device": "cpu", "name": "x86_64"},
            {"device": "cuda:0", "name": "NVIDIA H100", "memory_bytes": 80 * 2**30},
            {"device": "cuda:1", "name": "NVIDIA A100", "memory_bytes": 40 * 2**30},
        ],
        "auto_device": "cuda:0",
        "errors": [],
    }
    dialog = AboutDialog(workspace, probe=doctor_answering(report))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "H100" in dialog.device_label.text(), timeout=30_000)
    assert dialog.device_label.text() == "CUDA: NVIDIA H100 — 2 GPUs: NVIDIA H100, NVIDIA A100"
    assert dialog.version_labels["torch"].text() == "2.11.0+cu130"


def test_a_doctor_that_fails_says_the_device_is_unknown(qtbot):
    probe = EngineProbe(program=[sys.executable, "-c", "import sys; sys.exit(3)"])
    dialog = AboutDialog(None, probe=probe)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "unknown" in dialog.device_label.text(), timeout=30_000)
    assert "exit code 3" in dialog.device_label.text()
    assert dialog.cache_label.text() == "no project open"
    assert not dialog.clear_button.isEnabled()


def test_clear_cache_asks_then_deletes_the_cache_and_nothing_else(qtbot, workspace):
    fill_cache(workspace)
    root = workspace.project.root
    before = {p for p in root.rglob("*") if "cache" not in p.relative_to(root).parts}
    classes = [c.name for c in workspace.classes()]
    dialog = AboutDialog(workspace, probe=doctor_answering({"errors": []}))
    qtbot.addWidget(dialog)
    dialog.show()
    seen: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(200, lambda: answer(QMessageBox.StandardButton.No))
    dialog.clear_button.click()
    assert "5.0 KB in 2 files" in seen[0] and "not touched" in seen[0]
    assert len(list((root / "cache").rglob("*.npy"))) == 2  # "No" keeps it

    QTimer.singleShot(200, lambda: answer(QMessageBox.StandardButton.Yes))
    dialog.clear_button.click()
    assert (root / "cache").is_dir()
    assert list((root / "cache").iterdir()) == []
    assert dialog.cache_label.text().endswith("empty")
    assert not dialog.clear_button.isEnabled()
    after = {p for p in root.rglob("*") if "cache" not in p.relative_to(root).parts}
    assert after == before
    assert [c.name for c in workspace.classes()] == classes


def test_show_about_opens_it_over_the_window(qtbot, workspace):
    create_application()
    dialog = show_about(None, workspace)
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.windowTitle() == "About tfstudio"
    # show_about uses the session's shared probe: wait for it so no child outlives the test.
    qtbot.waitUntil(lambda: dialog.probe.info is not None, timeout=120_000)


def test_sizes_read_like_a_file_manager():
    assert size_text(0, 0) == "empty"
    assert size_text(512, 1) == "512 bytes in 1 file"
    assert size_text(12_345_678, 45) == "12.3 MB in 45 files"
    assert size_text(3 * 10**12, 9) == "3000.0 GB in 9 files"
