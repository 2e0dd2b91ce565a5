"""`tfstudio import` on hostile inputs (issue 10, case 8 and the importer's side of 9/10).

Each bad input is a reported skip naming the path and why, with no traceback; the rest is
imported. Real files, real projects, the real command line in a child process. Permission
tests skip where the user ignores permissions (root).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.store import Project

EXIT_SKIPPED = 3
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names and modes")


def tfstudio(*args: str | Path | bytes) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", *map(os.fsdecode, args)],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env={**os.environ, "PYTHONIOENCODING": "utf-8:backslashreplace"},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def wav(path: Path | bytes, seconds: float = 1.0) -> None:
    # soundfile cannot open a path that is not valid UTF-8: write, then rename.
    target = os.fsencode(path)
    tmp = os.path.join(os.path.dirname(target), b"writing.wav")
    sf.write(os.fsdecode(tmp), np.zeros(int(8000 * seconds), dtype="float32"), 8000)
    os.rename(tmp, target)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "proj"
    assert tfstudio("init", root).returncode == 0
    return root


def recordings(root: Path) -> list[str]:
    with Project.open(root) as p:
        return sorted(r.name for r in p.recordings())


def labels(root: Path) -> list[tuple[str, str, float, float]]:
    with Project.open(root) as p:
        names = {r.id: r.name for r in p.recordings()}
        classes = {c.id: c.name for c in p.classes()}
        return sorted(
            (names[e.recording_id], classes[e.class_id], e.onset, e.offset) for e in p.labels()
        )


@contextmanager
def locked(path: Path):
    """``path`` with mode 000 for the duration; skips the test when that does not lock it."""
    mode = path.stat().st_mode
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("this user reads files and folders with mode 000 (root)")
        yield path
    finally:
        path.chmod(mode)


@posix_only
def test_a_file_name_that_is_not_utf8_is_a_reported_skip(tmp_path, project):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    wav(audio / "good.wav")
    wav(os.fsencode(audio) + b"/caf\xe9.wav")  # Latin-1 é, as an old Windows share names it
    wav(audio / "sub" / "deep.wav")
    result = tfstudio("import", project, audio, "-q")
    assert result.returncode == EXIT_SKIPPED
    assert f"skipped {audio}/caf\\xe9.wav: the file name is not valid UTF-8; rename it" in (
        result.stderr
    )
    assert "2 added, 0 already present, 0 moved, 1 skipped" in result.stdout
    assert recordings(project) == ["deep.wav", "good.wav"]
    # given explicitly, the same
    result = tfstudio("import", project, os.fsencode(audio) + b"/caf\xe9.wav", "-q")
    assert result.returncode == EXIT_SKIPPED and "not valid UTF-8" in result.stderr


@posix_only
def test_an_unreadable_subfolder_is_a_reported_skip(tmp_path, project):
    audio = tmp_path / "audio"
    (audio / "locked").mkdir(parents=True)
    wav(audio / "good.wav")
    wav(audio / "locked" / "hidden.wav")
    with locked(audio / "locked"):
        result = tfstudio("import", project, audio, "-q")
    assert result.returncode == EXIT_SKIPPED
    assert (
        f"skipped {audio}/locked: folder cannot be read (Permission denied); "
        "nothing in it was imported" in result.stderr
    )
    assert "1 added, 0 already present, 0 moved, 1 skipped" in result.stdout
    assert recordings(project) == ["good.wav"]


@posix_only
def test_files_given_explicitly_that_cannot_be_read_are_reported_skips(tmp_path, project):
    (tmp_path / "locked").mkdir()
    wav(tmp_path / "good.wav")
    wav(tmp_path / "locked" / "in.wav")
    (tmp_path / "locked" / "in.txt").write_text("0.1\t0.2\tbird\n")
    (tmp_path / "good.txt").write_text("0.5\t0.75\tfrog\n")
    denied = tmp_path / "denied.txt"
    denied.write_text("0.1\t0.2\tbird\n")
    with locked(tmp_path / "locked"), locked(denied):
        result = tfstudio(
            "import",
            project,
            tmp_path / "locked" / "in.wav",
            tmp_path / "good.wav",
            "-q",
            "--labels",
            tmp_path / "locked" / "in.txt",
            "--labels",
            denied,
            "--labels",
            tmp_path / "good.txt",
        )
    assert result.returncode == EXIT_SKIPPED
    err = result.stderr
    assert f"skipped {tmp_path}/locked/in.wav: cannot be read (Permission denied)" in err
    assert f"{tmp_path}/locked/in.txt: cannot be read (Permission denied)" in err
    # not "cannot tell the label format": the reason is that the file cannot be read
    assert f"{denied}: cannot be read: Permission denied" in err
    assert "cannot tell the label format" not in err
    assert recordings(project) == ["good.wav"]
    assert labels(project) == [("good.wav", "frog", 0.5, 0.75)]


@posix_only
def test_an_unreadable_label_subfolder_is_reported(tmp_path, project):
    wav(tmp_path / "rec.wav")
    assert tfstudio("import", project, tmp_path / "rec.wav", "-q").returncode == 0
    folder = tmp_path / "labels"
    (folder / "locked").mkdir(parents=True)
    (folder / "rec.txt").write_text("0.1\t0.2\tbird\n")
    (folder / "locked" / "rec.more.txt").write_text("0.3\t0.4\tfrog\n")
    with locked(folder / "locked"):
        result = tfstudio("import", project, "--labels", folder)
    assert result.returncode == EXIT_SKIPPED
    assert f"{folder}/locked: folder cannot be read (Permission denied)" in result.stderr
    assert labels(project) == [("rec.wav", "bird", 0.1, 0.2)]


@posix_only
def test_a_label_file_whose_name_is_not_utf8_is_imported(tmp_path, project):
    wav(tmp_path / "rec.wav")
    assert tfstudio("import", project, tmp_path / "rec.wav", "-q").returncode == 0
    folder = tmp_path / "labels"
    folder.mkdir()
    name = os.fsencode(folder) + b"/rec.caf\xe9.txt"
    with open(name, "w") as handle:
        handle.write("0.1\t0.2\tbird\n0.3\tx\tfrog\n")
    result = tfstudio("import", project, "--labels", folder)
    assert result.returncode == EXIT_SKIPPED  # the bad line, named with a printable path
    assert f"{folder}/rec.caf\\xe9.txt:2: offset 'x' is not a number" in result.stderr
    assert labels(project) == [("rec.wav", "bird", 0.1, 0.2)]


def test_bad_label_values_cost_their_line_and_the_rest_is_imported(tmp_path, project):
    wav(tmp_path / "rec.wav", seconds=4)
    tsv = tmp_path / "labels.tsv"
    tsv.write_bytes(
        b"filename\tonset\toffset\tevent_label\n"
        b"rec.wav\t0.5\t1.0\tdog\n"
        b"rec.wav\t1.0\t2.0\t" + b"x" * 10_000_000 + b"\n"
        b"rec.wav\t1.5\t2.0\tcaf\xe9\n"
        b"rec.wav\t2.0\t3.0\tcat\n"
    )
    result = tfstudio("import", project, tmp_path / "rec.wav", "-q", "--labels", tsv)
    assert result.returncode == EXIT_SKIPPED
    assert f"{tsv}:3: class name 'xxx" in result.stderr
    assert "is 10000000 characters long (at most 200)" in result.stderr
    assert f"{tsv}:4: not UTF-8 text (byte 0xe9 at column 20)" in result.stderr
    assert len(result.stderr) < 2000
    assert labels(project) == [("rec.wav", "cat", 2.0, 3.0), ("rec.wav", "dog", 0.5, 1.0)]
    with Project.open(project) as p:
        assert sorted(c.name for c in p.classes()) == ["cat", "dog"]


def test_class_names_with_tabs_or_line_breaks_are_refused_on_import(tmp_path, project):
    # Audacity keeps the rest of the line after the second tab as the label; a JSON label may
    # hold anything. Neither may become a class name that no tab-separated format can write.
    wav(tmp_path / "rec.wav", seconds=4)
    (tmp_path / "rec.txt").write_text("0.5\t1.0\tdog\tbark\n2.0\t3.0\tcat\n")
    doc = tmp_path / "more.json"
    doc.write_text(
        '{"format": "tfstudio-labels", "version": 1, "classes": ["two\\nlines"], "events": [\n'
        '{"recording": "rec.wav", "onset": 1, "offset": 2, "label": "bird\\tsong"},\n'
        '{"recording": "rec.wav", "onset": 3, "offset": 4, "label": "frog"}]}\n'
    )
    result = tfstudio(
        "import", project, tmp_path / "rec.wav", "-q", "--labels", tmp_path / "rec.txt"
    )
    assert result.returncode == EXIT_SKIPPED
    assert f"{tmp_path}/rec.txt:1: class name 'dog\\tbark' contains a tab" in result.stderr
    result = tfstudio("import", project, "--labels", doc)
    assert result.returncode == EXIT_SKIPPED
    assert f"{doc}:1: class 1: class name 'two\\nlines' contains a line break" in result.stderr
    assert f"{doc}:2: event 1: class name 'bird\\tsong' contains a tab" in result.stderr
    assert labels(project) == [("rec.wav", "cat", 2.0, 3.0), ("rec.wav", "frog", 3.0, 4.0)]
    with Project.open(project) as p:
        assert sorted(c.name for c in p.classes()) == ["cat", "frog"]


def test_json_nested_too_deeply_is_one_line_not_a_traceback(tmp_path, project):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    header = tmp_path / "header.json"
    header.write_text(
        '{"format": "tfstudio-labels", "version": 1, "x": ' + "[" * 5000 + "]" * 5000 + "}"
    )
    for path, fmt in ((deep, None), (deep, "soundevent"), (header, None)):
        extra = ("--format", fmt) if fmt else ()
        result = tfstudio("import", project, "--labels", path, *extra)
        assert result.returncode == EXIT_SKIPPED, result.stderr
        assert f"{path}: not a label file: its JSON is nested too deeply" in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    result = tfstudio("import", project, "--labels", empty)
    assert f"{empty}: is empty, not a JSON document" in result.stderr


@posix_only
def test_a_fifo_given_as_labels_is_refused_without_reading_it(tmp_path, project):
    fifo = tmp_path / "labels.txt"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", "import", str(project), "--labels", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # reading it would block for ever
    )
    assert result.returncode == EXIT_SKIPPED
    assert f"{fifo}: not a file (it is a special file), not a label file" in result.stderr


def test_names_in_another_unicode_normal_form_find_their_recording(tmp_path, project):
    """macOS writes decomposed accents (NFD); Linux keeps what it is given (here NFC)."""
    import unicodedata

    name = "Bird song ñandú 鳥.wav"
    wav(tmp_path / name)
    assert tfstudio("import", project, tmp_path / name, "-q").returncode == 0
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    tsv = tmp_path / "labels.tsv"
    tsv.write_text(f"filename\tonset\toffset\tevent_label\n{nfd}\t0.1\t0.2\tbird\n", "utf-8")
    audacity = tmp_path / unicodedata.normalize("NFD", "Bird song ñandú 鳥.txt")
    audacity.write_text("0.3\t0.4\tfrog\n", "utf-8")
    result = tfstudio("import", project, "--labels", tsv, "--labels", audacity)
    assert result.returncode == 0, result.stderr
    assert labels(project) == [(name, "bird", 0.1, 0.2), (name, "frog", 0.3, 0.4)]


def test_labels_past_the_recording_in_time_or_frequency_are_kept_with_a_warning(tmp_path, project):
    wav(tmp_path / "rec.wav", seconds=2)  # 8 kHz: it holds up to 4 kHz
    assert tfstudio("import", project, tmp_path / "rec.wav", "-q").returncode == 0
    labels_file = tmp_path / "rec.txt"
    labels_file.write_text("0.5\t1.0\tbird\n\\\t100\t60000\n1.5\t2.5\tfrog\n")
    result = tfstudio("import", project, "--labels", labels_file)
    assert result.returncode == 0, result.stderr
    assert "event 'bird' at 0.5 s reaches 60000 Hz, above what rec.wav holds (4000 Hz" in (
        result.stderr
    )
    assert "event 'frog' 1.5–2.5 s ends after rec.wav (2.000 s); kept as is" in result.stderr
    assert labels(project) == [("rec.wav", "bird", 0.5, 1.0), ("rec.wav", "frog", 1.5, 2.5)]


@posix_only
def test_a_name_with_a_line_break_prints_on_one_line(tmp_path, project):
    # Each problem is one line of the output, whatever the names in it hold: a name with a
    # line break prints as Python writes it (quoted, escaped), so the next line is the next
    # problem.
    audio = tmp_path / "audio"
    audio.mkdir()
    bad = audio / "bad\nname.wav"
    bad.write_bytes(b"not audio")
    wav(audio / "good\nrec.wav", seconds=1)
    result = tfstudio("import", project, audio, "-q")
    assert result.returncode == EXIT_SKIPPED
    assert result.stderr.splitlines() == [
        f"skipped {str(bad)!r}: not an audio file, or a format soundfile cannot read"
    ]
    folder = tmp_path / "labels"
    folder.mkdir()
    unmatched = folder / "lab\nels.txt"
    unmatched.write_text("0.0\t1.0\tdog\n")
    birdnet = folder / "good\nrec.BirdNET.results.txt"
    birdnet.write_text("0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n")
    result = tfstudio("import", project, "-q", "--labels", folder)
    assert result.returncode == EXIT_SKIPPED
    assert result.stderr.splitlines() == [
        f"{str(unmatched)!r}: no recording in the project matches this file's name "
        "(expected e.g. 'lab\\nels.wav'; import the audio first)",
        f"warning: {str(birdnet)!r}: event 'Turdus merula, Eurasian Blackbird' 0.0–3.0 s "
        "ends after good\\nrec.wav (1.000 s); kept as is",
    ]
    assert len(result.stdout.splitlines()) == 3  # labels, detections, new classes
    # --json keeps the names as they are (JSON escapes them itself), its messages one line.
    birdnet.unlink()
    result = tfstudio("import", project, "-q", "--json", "--labels", folder)
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["path"] == str(unmatched)
    assert "\n" not in problem["message"]


def test_a_label_file_given_as_audio_says_to_give_it_with_labels(tmp_path, project):
    wav(tmp_path / "a.wav")
    table = tmp_path / "labels.tsv"
    table.write_text("filename\tonset\toffset\tevent_label\na.wav\t0.1\t0.5\tdog\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("not labels, not audio\n")
    result = tfstudio("import", project, tmp_path / "a.wav", table, notes, "-q")
    assert result.returncode == EXIT_SKIPPED
    assert f"skipped {table}: not an audio file" in result.stderr
    assert "a label file? give it with --labels" in result.stderr
    # A file that is no label file either gets no such hint.
    (line,) = [x for x in result.stderr.splitlines() if str(notes) in x]
    assert "--labels" not in line
    assert recordings(project) == ["a.wav"]


def test_a_folder_without_audio_is_a_reported_skip_naming_its_label_files(tmp_path, project):
    labels_folder = tmp_path / "labels" / "site1"
    labels_folder.mkdir(parents=True)
    for name in ("a.txt", "b.txt"):  # Audacity label tracks
        (labels_folder / name).write_text("0.1\t0.5\tdog\n")
    (labels_folder / "README").write_text("field notes\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    audio = tmp_path / "audio"
    audio.mkdir()
    wav(audio / "a.wav")
    result = tfstudio("import", project, tmp_path / "labels", empty, audio, "-q")
    assert result.returncode == EXIT_SKIPPED
    assert (
        f"skipped {tmp_path / 'labels'}: no audio files in this folder, but 2 label file(s): "
        "give it with --labels"
    ) in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if str(empty) in x]
    assert "no audio files in this folder (.wav, .flac" in line and "--labels" not in line
    assert recordings(project) == ["a.wav"]


def test_a_label_folders_other_files_are_passed_over_and_said_once(tmp_path, project):
    """BirdNET writes BirdNET_analysis_params.csv beside its tables; an AudioMoth a CONFIG.TXT.
    In a folder given with --labels they are no problem (exit 0); named alone, one is."""
    audio = tmp_path / "audio"
    audio.mkdir()
    wav(audio / "a.wav")
    assert tfstudio("import", project, audio, "-q").returncode == 0
    results = tmp_path / "results"
    results.mkdir()
    (results / "a.txt").write_text("0.1\t0.5\tdog\n")
    params = results / "BirdNET_analysis_params.csv"
    params.write_text("File splitting duration (s),Segment length (s)\n600,3.0\n")
    (results / "CONFIG.TXT").write_text("Device ID: 24F319046\n")
    result = tfstudio("import", project, "--labels", results)
    assert result.returncode == 0, result.stderr
    assert "2 file(s) in the folders are not label files of a known format" in result.stderr
    assert labels(project) == [("a.wav", "dog", 0.1, 0.5)]
    result = tfstudio("import", project, "--labels", params)
    assert result.returncode == EXIT_SKIPPED
    assert "cannot tell the label format" in result.stderr
