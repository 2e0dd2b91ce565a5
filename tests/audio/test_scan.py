import os
import sys
from pathlib import Path

import pytest

from tfstudio.audio import AUDIO_SUFFIXES, scan


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_suffixes_cover_the_common_formats():
    for suffix in (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif"):
        assert suffix in AUDIO_SUFFIXES
    assert all(s == s.lower() and s.startswith(".") for s in AUDIO_SUFFIXES)
    assert ".txt" not in AUDIO_SUFFIXES and ".mat" not in AUDIO_SUFFIXES


def test_folder_walk_is_recursive_sorted_and_skips_hidden(tmp_path):
    _touch(
        tmp_path,
        "b.wav",
        "a.FLAC",
        "notes.txt",
        ".hidden.wav",
        ".git/inside.wav",
        "sub/z.mp3",
        "sub/c.Ogg",
        "sub/deeper/d.wav",
        "c.opus",
    )
    found = [p.relative_to(tmp_path).as_posix() for p in scan([tmp_path])]
    assert found == ["a.FLAC", "b.wav", "c.opus", "sub/c.Ogg", "sub/deeper/d.wav", "sub/z.mp3"]


def test_explicit_paths_are_yielded_as_given(tmp_path):
    _touch(tmp_path, "odd.dat", ".hidden.wav", "dir/a.wav")
    given = [tmp_path / "odd.dat", tmp_path / "missing.wav", tmp_path / ".hidden.wav"]
    assert list(scan([*given, tmp_path / "dir"])) == [*given, tmp_path / "dir" / "a.wav"]


def test_each_file_once(tmp_path):
    _touch(tmp_path, "a.wav", "b.wav")
    found = list(scan([tmp_path / "a.wav", tmp_path, str(tmp_path / "b.wav")]))
    assert found == [tmp_path / "a.wav", tmp_path / "b.wav"]


def test_odd_names(tmp_path):
    names = ["-dash.wav", "new\nline.wav", "space name.wav", "ünï 声音.WAV"]
    _touch(tmp_path, *names)
    assert sorted(p.name for p in scan([tmp_path])) == sorted(names)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loop_terminates(tmp_path):
    _touch(tmp_path, "sub/a.wav")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    assert [p.name for p in scan([tmp_path])] == ["a.wav"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unlistable_folder_is_reported(tmp_path):
    _touch(tmp_path, "locked/a.wav", "open/b.wav")
    locked = tmp_path / "locked"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("this user can list a folder with mode 000 (root)")
        errors = []
        found = list(scan([tmp_path], on_error=lambda path, err: errors.append(path)))
        assert [p.name for p in found] == ["b.wav"]
        assert errors == [locked]
    finally:
        locked.chmod(0o755)


def test_listing_errors_go_to_on_error(tmp_path, monkeypatch):
    _touch(tmp_path, "locked/a.wav", "open/b.wav")
    locked = tmp_path / "locked"
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors = []
    found = list(scan([tmp_path], on_error=lambda path, err: errors.append((path, type(err)))))
    assert [p.name for p in found] == ["b.wav"]
    assert errors == [(locked, PermissionError)]
    assert [p.name for p in scan([tmp_path])] == ["b.wav"]  # without a handler: skipped
