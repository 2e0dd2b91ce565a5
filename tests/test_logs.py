"""The log file (tfstudio.logs) and where tfstudio's own files are (tfstudio.paths)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from tfstudio import logs
from tfstudio.paths import folder_size, log_dir, resource_path, resources_dir


@pytest.fixture
def fresh_logging():
    """Each test sets up its own log; the handler is taken down afterwards."""
    yield
    if logs._handler is not None:
        logs.logger.removeHandler(logs._handler)
        logs._handler.close()
        logs._handler = None


def test_the_log_goes_to_a_file_under_the_given_folder(tmp_path, fresh_logging):
    path = logs.setup_logging(tmp_path / "a" / "log")
    assert path == tmp_path / "a" / "log" / "tfstudio.log"
    assert logs.current_log_file() == path.resolve()
    logging.getLogger("tfstudio.session").warning("a warning from a submodule")
    text = path.read_text(encoding="utf-8")
    assert "tfstudio 0.1.0" in text
    assert "WARNING tfstudio.session: a warning from a submodule" in text


def test_the_log_rotates_at_its_size_and_keeps_the_backups(tmp_path, fresh_logging):
    path = logs.setup_logging(tmp_path, max_bytes=2000, backups=2)
    for i in range(200):
        logs.logger.info("line %03d %s", i, "x" * 40)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["tfstudio.log", "tfstudio.log.1", "tfstudio.log.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 2000
    assert "line 199" in path.read_text(encoding="utf-8")


def test_an_exception_is_logged_with_its_traceback(tmp_path, fresh_logging):
    path = logs.setup_logging(tmp_path)

    def inner():
        raise ValueError("the slot failed")

    try:
        inner()
    except ValueError:
        logs.log_exception(*sys.exc_info())
    text = path.read_text(encoding="utf-8")
    assert "ERROR tfstudio: uncaught exception" in text
    assert "Traceback (most recent call last)" in text
    assert "in inner" in text
    assert "ValueError: the slot failed" in text


def test_setting_up_twice_moves_the_log_and_adds_no_second_handler(tmp_path, fresh_logging):
    logs.setup_logging(tmp_path / "one")
    logs.setup_logging(tmp_path / "one")
    second = logs.setup_logging(tmp_path / "two")
    handlers = [h for h in logs.logger.handlers if isinstance(h, logging.FileHandler)]
    assert len(handlers) == 1
    logs.logger.info("only in two")
    assert "only in two" in second.read_text(encoding="utf-8")
    assert "only in two" not in (tmp_path / "one" / "tfstudio.log").read_text(encoding="utf-8")


def test_a_folder_that_cannot_be_made_means_no_log_not_a_crash(tmp_path, fresh_logging):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.setup_logging(blocker / "log") is None
    assert logs.current_log_file() is None


def test_the_platform_log_folders():
    home = {"HOME": "/home/ann"}
    assert log_dir("linux", home) == Path("/home/ann/.local/state/tfstudio/log")
    assert log_dir("linux", {**home, "XDG_STATE_HOME": "/s"}) == Path("/s/tfstudio/log")
    # A relative XDG_STATE_HOME is ignored, as the XDG specification says.
    assert log_dir("linux", {**home, "XDG_STATE_HOME": "rel"}) == Path(
        "/home/ann/.local/state/tfstudio/log"
    )
    assert log_dir("darwin", home) == Path("/home/ann/Library/Logs/tfstudio")
    assert log_dir("win32", {"USERPROFILE": "C:/u", "LOCALAPPDATA": "C:/u/L"}) == Path(
        "C:/u/L/tfstudio/Logs"
    )
    assert log_dir("linux", {**home, "TFSTUDIO_LOG_DIR": "/x"}) == Path("/x")


def test_the_icon_is_found_from_a_checkout():
    assert resource_path("icons/tfstudio.svg").is_file()
    assert resource_path("icons/tfstudio.svg").read_text(encoding="utf-8").lstrip().startswith("<")
    assert resources_dir().name == "resources"


def test_folder_size_counts_files_below(tmp_path):
    assert folder_size(tmp_path / "missing") == (0, 0)
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one").write_bytes(b"x" * 10)
    (tmp_path / "a" / "b" / "two").write_bytes(b"y" * 5)
    assert folder_size(tmp_path) == (15, 2)
