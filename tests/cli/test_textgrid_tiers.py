"""TextGrids through a project (issue 14): one tier in is one tier out, with the same intervals
and points and in the same order; zero-length events go out as points of TextTiers.

The real command in a child process, on a real project and real WAV files; the TextGrids are
written here in Praat's long and short text forms, and read back by praatio as other tools
would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.formats import jsonfmt, textgrid
from tfstudio.store import Project

# Two tiers as a forced aligner writes them (Praat's long form): the same "sil" interval is in
# both, and the second tier's first label comes before the first tier's.
TALK = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 2
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 2
        intervals: size = 5
        intervals [1]:
            xmin = 0
            xmax = 0.1
            text = ""
        intervals [2]:
            xmin = 0.1
            xmax = 0.25
            text = "sil"
        intervals [3]:
            xmin = 0.25
            xmax = 1
            text = "hello"
        intervals [4]:
            xmin = 1
            xmax = 1.1
            text = ""
        intervals [5]:
            xmin = 1.1
            xmax = 2
            text = "world"
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 2
        intervals: size = 8
        intervals [1]:
            xmin = 0
            xmax = 0.1
            text = "pau"
        intervals [2]:
            xmin = 0.1
            xmax = 0.25
            text = "sil"
        intervals [3]:
            xmin = 0.25
            xmax = 0.4
            text = "h"
        intervals [4]:
            xmin = 0.4
            xmax = 0.6
            text = "e"
        intervals [5]:
            xmin = 0.6
            xmax = 1
            text = "lo"
        intervals [6]:
            xmin = 1
            xmax = 1.1
            text = ""
        intervals [7]:
            xmin = 1.1
            xmax = 1.5
            text = "w"
        intervals [8]:
            xmin = 1.5
            xmax = 2
            text = "orld"
"""

# One tier of a bird's syllables (Praat's short form): two classes, one tier.
SONG = """File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
1
"IntervalTier"
"syllables"
0
1.5
5
0
0.3
""
0.3
0.7
"a"
0.7
0.9
"b"
0.9
1.2
"a"
1.2
1.5
""
"""


def tiers(path: Path) -> list[tuple[str, list[tuple[float, float, str]]]]:
    """Every tier of a TextGrid as praatio reads it: name and all intervals, empty ones too, or
    all points (time, time, mark)."""
    from praatio.utilities import textgrid_io

    grid = textgrid_io.parseTextgridStr(
        path.read_text(encoding="utf-8"), includeEmptyIntervals=True
    )
    return [
        (
            tier["name"],
            [(float(e[0]), float(e[-2]), str(e[-1])) for e in tier["entries"]],
        )
        for tier in grid["tiers"]
    ]


@pytest.fixture
def project(tmp_path) -> Path:
    """talk.wav (2 s), song.wav (1.5 s) and calls.wav (1 s), with the TextGrids of the first
    two imported."""
    audio = tmp_path / "audio"
    audio.mkdir()
    for name, seconds in (("talk.wav", 2.0), ("song.wav", 1.5), ("calls.wav", 1.0)):
        sf.write(audio / name, np.zeros(int(seconds * 8000), dtype="float32"), 8000)
    grids = tmp_path / "grids"
    grids.mkdir()
    (grids / "talk.TextGrid").write_text(TALK, encoding="utf-8")
    (grids / "song.TextGrid").write_text(SONG, encoding="utf-8")
    root = tmp_path / "proj"
    assert tfstudio("init", root).returncode == 0
    result = tfstudio("import", root, audio, "-q", "--labels", grids)
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.parametrize("form", ["long", "short"])
def test_the_tiers_of_an_imported_textgrid_come_back_out(project, tmp_path, form):
    out = tmp_path / "out"
    result = tfstudio("export", project, "--format", "textgrid", "-o", out, "--textgrid-form", form)
    assert result.returncode == 0, result.stderr
    grids = tmp_path / "grids"
    # Both tiers, in the file's order, with every interval (the empty ones too) as it was.
    assert tiers(out / "talk.TextGrid") == tiers(grids / "talk.TextGrid")
    assert [name for name, _ in tiers(out / "talk.TextGrid")] == ["words", "phones"]
    # One tier named "syllables" in, one tier named "syllables" out (not one per class).
    assert tiers(out / "song.TextGrid") == tiers(grids / "song.TextGrid")
    assert [name for name, _ in tiers(out / "song.TextGrid")] == ["syllables"]
    # A recording without labels still gets its TextGrid, without tiers as Praat writes one
    # (praatio cannot read a short-form grid without tiers, so read it here).
    assert textgrid.read(out / "calls.TextGrid").events == []
    assert "<exists>" in (out / "calls.TextGrid").read_text(encoding="utf-8")


def test_importing_the_same_textgrid_again_adds_nothing_and_keeps_the_tiers(project, tmp_path):
    result = tfstudio("import", project, "--labels", tmp_path / "grids" / "talk.TextGrid")
    assert result.returncode == 0, result.stderr
    assert "labels: 0 added, 10 already present" in result.stdout
    with Project.open(project) as p:
        talk = p.find_recording("talk.wav")
        assert sorted(e.tier for e in p.labels(talk.id)) == ["phones"] * 7 + ["words"] * 3
    out = tmp_path / "out"
    assert tfstudio("export", project, "--format", "textgrid", "-o", out).returncode == 0
    assert tiers(out / "talk.TextGrid") == tiers(tmp_path / "grids" / "talk.TextGrid")


def test_labels_without_a_tier_keep_one_tier_per_class(project, tmp_path):
    # A label drawn in the app and labels from a DCASE file name no tier: as before, each
    # class is a tier of its own, after the tiers the TextGrid brought.
    with Project.open(project) as p:
        talk = p.find_recording("talk.wav")
        p.add_event(talk.id, p.ensure_class("cough").id, 1.2, 1.4)
    table = tmp_path / "calls.tsv"
    table.write_text("filename\tonset\toffset\tevent_label\ncalls.wav\t0.5\t0.75\twren\n")
    assert tfstudio("import", project, "--labels", table).returncode == 0
    out = tmp_path / "out"
    assert tfstudio("export", project, "--format", "textgrid", "-o", out).returncode == 0
    assert [name for name, _ in tiers(out / "talk.TextGrid")] == ["words", "phones", "cough"]
    assert tiers(out / "calls.TextGrid") == [
        ("wren", [(0.0, 0.5, ""), (0.5, 0.75, "wren"), (0.75, 1.0, "")])
    ]


def test_tiers_survive_a_json_export_and_import_into_another_project(project, tmp_path):
    labels = tmp_path / "labels.json"
    assert tfstudio("export", project, "--format", "json", "-o", labels).returncode == 0
    tiers_read = {e.tier for e in jsonfmt.read(labels).events}
    assert tiers_read == {"words", "phones", "syllables"}
    other = tmp_path / "other"
    assert tfstudio("init", other).returncode == 0
    result = tfstudio("import", other, tmp_path / "audio", "-q", "--labels", labels)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert tfstudio("export", other, "--format", "textgrid", "-o", out).returncode == 0
    assert tiers(out / "song.TextGrid") == tiers(tmp_path / "grids" / "song.TextGrid")
    assert [name for name, _ in tiers(out / "talk.TextGrid")] == ["words", "phones"]


# Points as Praat writes them (long form): call onsets on a tier of their own, next to an
# interval tier; a blank mark is no event.
CALLS = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "calls"
        xmin = 0
        xmax = 1
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.2
            text = ""
        intervals [2]:
            xmin = 0.2
            xmax = 0.6
            text = "wren"
        intervals [3]:
            xmin = 0.6
            xmax = 1
            text = ""
    item [2]:
        class = "TextTier"
        name = "onsets"
        xmin = 0
        xmax = 1
        points: size = 4
        points [1]:
            number = 0
            mark = "start"
        points [2]:
            number = 0.2
            mark = "wren"
        points [3]:
            number = 0.45
            mark = ""
        points [4]:
            number = 1
            mark = "end"
"""


def labels(root: Path) -> list[tuple[str, float, float, str, str | None]]:
    """Every label of a project: recording, onset, offset, class and tier, in a fixed order."""
    with Project.open(root) as p:
        classes = {c.id: c.name for c in p.classes()}
        return sorted(
            (rec.name, e.onset, e.offset, classes[e.class_id], e.tier)
            for rec in p.recordings()
            for e in p.labels(rec.id)
        )


def test_the_points_of_a_point_tier_import_as_zero_length_labels(project, tmp_path):
    grid = tmp_path / "grids" / "calls.TextGrid"
    grid.write_text(CALLS, encoding="utf-16")  # as Praat saves a grid with other than ASCII
    result = tfstudio("import", project, "--labels", grid)
    assert (result.returncode, result.stderr) == (0, "")
    assert "labels: 4 added" in result.stdout
    assert [label for label in labels(project) if label[0] == "calls.wav"] == [
        ("calls.wav", 0.0, 0.0, "start", "onsets"),
        ("calls.wav", 0.2, 0.2, "wren", "onsets"),
        ("calls.wav", 0.2, 0.6, "wren", "calls"),
        ("calls.wav", 1.0, 1.0, "end", "onsets"),
    ]


@pytest.mark.parametrize("form", ["long", "short"])
def test_zero_length_labels_go_out_as_points_and_come_back_exactly(project, tmp_path, form):
    # They were left out before (exit 3): a point label from Audacity or a soundevent time
    # stamp could not reach Praat.
    (tmp_path / "grids" / "calls.TextGrid").write_text(CALLS, encoding="utf-8")
    assert tfstudio("import", project, "--labels", tmp_path / "grids").returncode == 0
    with Project.open(project) as p:
        song, calls = p.find_recording("song.wav"), p.find_recording("calls.wav")
        p.add_event(song.id, p.class_by_name("a").id, 0.95, 0.95)  # drawn: no tier
        beep = p.ensure_class("beep").id
        p.add_event(calls.id, beep, 0.5, 0.5)
        p.add_event(calls.id, beep, 0.5, 0.5)  # Praat holds one point per time in a tier
        p.add_event(calls.id, beep, 0.75, 0.75)
    out = tmp_path / "out"
    result = tfstudio("export", project, "--format", "textgrid", "-o", out, "--textgrid-form", form)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert "wrote 21 label(s) in textgrid format" in result.stdout
    text = (out / "calls.TextGrid").read_text(encoding="utf-8")
    point_tiers = ["onsets", "beep", "beep (2)"]
    assert [name for name, _ in tiers(out / "calls.TextGrid")] == ["calls", *point_tiers]
    assert text.count('"TextTier"') == 3 and text.count('"IntervalTier"') == 1
    # The class "a" has intervals on the tier "syllables": its point is a tier "a".
    assert [name for name, _ in tiers(out / "song.TextGrid")] == ["syllables", "a"]

    # Into a fresh project of the same audio: every label, time and tier name as it was.
    other = tmp_path / "other"
    assert tfstudio("init", other).returncode == 0
    result = tfstudio("import", other, tmp_path / "audio", "-q", "--labels", out)
    assert (result.returncode, result.stderr) == (0, "")
    before = labels(project)
    after = labels(other)
    assert [label[:4] for label in after] == [label[:4] for label in before]
    # Labels drawn in the app had no tier; they come back on the tier named by their class.
    named = [(*label[:4], label[4] or label[3]) for label in before]
    named[named.index(("calls.wav", 0.5, 0.5, "beep", "beep"))] = (
        "calls.wav",
        0.5,
        0.5,
        "beep",
        "beep (2)",
    )
    assert after == sorted(named)
    # And out again, the same files.
    again = tmp_path / "again"
    result = tfstudio("export", other, "--format", "textgrid", "-o", again, "--textgrid-form", form)
    assert (result.returncode, result.stderr) == (0, "")
    for name in ("talk", "song", "calls"):
        grid = f"{name}.TextGrid"
        assert (again / grid).read_bytes() == (out / grid).read_bytes(), grid


def test_a_point_past_the_recording_is_left_out_by_name_and_time_with_exit_3(project, tmp_path):
    with Project.open(project) as p:
        song = p.find_recording("song.wav")  # 1.5 s
        p.add_event(song.id, p.class_by_name("a").id, 1.5, 1.5)  # at its end: kept
        p.add_event(song.id, p.class_by_name("a").id, 1.505, 1.505)  # rounding: moved
        p.add_event(song.id, p.class_by_name("b").id, 2.0, 2.0)  # past it: left out
    out = tmp_path / "out"
    result = tfstudio("export", project, "--format", "textgrid", "-o", out)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        "skipped song.wav: zero-length 'b' event at 2.0 s is after the recording's end (1.5 s); "
        "its TextGrid, which spans the recording, cannot hold it",
        "warning: song.wav: zero-length 'a' event at 1.505 s, 5 ms after the recording (1.5 s); "
        "moved to its end in the TextGrid",
    ]
    assert "wrote 15 label(s) in textgrid format" in result.stdout and "1 skipped" in result.stdout
    song_tiers = tiers(out / "song.TextGrid")
    assert song_tiers[0] == tiers(tmp_path / "grids" / "song.TextGrid")[0]
    assert [e for e in textgrid.read(out / "song.TextGrid").events if e.onset == e.offset] == [
        textgrid.LabelEvent("", 1.5, 1.5, "a"),
        textgrid.LabelEvent("", 1.5, 1.5, "a"),
    ]

    result = tfstudio("export", project, "--format", "textgrid", "-o", out, "--force", "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert (report["ok"], report["exit_code"], report["events"]) == (False, 3, 15)
    (skipped,) = report["skipped"]
    assert skipped["reason"].startswith("song.wav: zero-length 'b' event at 2.0 s")


@pytest.mark.parametrize("fmt", ["dcase", "audacity", "raven", "json", "soundevent", "textgrid"])
def test_the_formats_write_a_zero_length_event_and_exit_0(project, tmp_path, fmt):
    # The TextGrid too, as a point.
    with Project.open(project) as p:
        song = p.find_recording("song.wav")
        p.add_event(song.id, p.class_by_name("a").id, 0.95, 0.95)
    result = tfstudio("export", project, "--format", fmt, "-o", tmp_path / "out", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ok"], report["skipped"], report["events"]) == (True, [], 14)


def test_a_textgrid_a_few_microseconds_past_its_wav_goes_in_and_out(tmp_path):
    # Labelled on another copy of the sound: the TextGrid's xmax, where its last syllable
    # ends, is 4 µs past this WAV's end. It imports, and exports cut to the WAV with a warning.
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "song.wav", np.zeros(12000, dtype="float32"), 8000)  # 1.5 s
    grid = tmp_path / "song.TextGrid"
    grid.write_text(
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1.500004\n<exists>\n1\n'
        '"IntervalTier"\n"syllables"\n0\n1.500004\n3\n'
        '0\n0.3\n""\n0.3\n0.7\n"a"\n0.7\n1.500004\n"b"\n',
        encoding="utf-8",
    )
    root = tmp_path / "proj"
    assert tfstudio("init", root).returncode == 0
    result = tfstudio("import", root, audio, "-q", "--labels", grid)
    assert (result.returncode, result.stderr) == (0, "")
    out = tmp_path / "out"
    result = tfstudio("export", root, "--format", "textgrid", "-o", out)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "warning: song.wav: 'b' event ends at 1.500004 s, 0.004 ms after the recording "
        "(1.5 s); cut at its end in the TextGrid"
    ]
    assert tiers(out / "song.TextGrid") == [
        ("syllables", [(0.0, 0.3, ""), (0.3, 0.7, "a"), (0.7, 1.5, "b")])
    ]
