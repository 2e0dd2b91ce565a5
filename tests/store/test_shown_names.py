"""How recordings are shown when several share a file name: the shortest end of each path
that is its own, which a command's --recording finds it by again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from tfstudio.importer import import_audio
from tfstudio.store import Project, Recording, shown_names


def recording(rec_id: int, path: str) -> Recording:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    return Recording(rec_id, path, name, stem, 0, 0.0, "", 8000, 1, 8000, 1.0, None, "ok", 0.0)


def test_a_unique_name_is_shown_alone_and_shared_ones_with_their_own_folders():
    recordings = [
        recording(1, "/d/site1/a/x.wav"),
        recording(2, "/d/site2/a/x.wav"),
        recording(3, "/d/site3/x.wav"),
        recording(4, "/d/y.wav"),
        recording(5, r"C:\field\site4\x.wav"),  # a Windows path, as a project made there has
        recording(6, "/e/site1/a/x.wav"),
    ]
    assert shown_names(recordings) == {
        1: "d/site1/a/x.wav",
        2: "site2/a/x.wav",
        3: "site3/x.wav",
        4: "y.wav",
        5: "site4/x.wav",
        6: "e/site1/a/x.wav",
    }
    assert shown_names([]) == {}


def test_a_shown_name_finds_its_recording_again(tmp_path):
    rng = np.random.default_rng(3)
    files = []
    for folder in ("north/site1", "south/site1", "south/site2"):
        path = tmp_path / "field" / folder / "20240501_050000.WAV"
        path.parent.mkdir(parents=True)
        sf.write(path, rng.normal(0, 0.01, 8000).astype("float32"), 8000)
        files.append(path)
    with Project.create(tmp_path / "proj") as project:
        assert import_audio(project, files).added == 3
        recordings = project.recordings()
        shown = shown_names(recordings)
        assert sorted(shown.values()) == [
            "north/site1/20240501_050000.WAV",
            "site2/20240501_050000.WAV",
            "south/site1/20240501_050000.WAV",
        ]
        for rec in recordings:
            assert project.find_recording(shown[rec.id]) == rec
            assert Path(rec.path).as_posix().endswith(shown[rec.id])
