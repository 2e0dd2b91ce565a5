"""The project commands end to end: demo → info → export in every format → re-import."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import build_parser, main
from tfstudio.store import Project

FREQ_FORMATS = {"audacity", "raven", "json"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "proj"
    assert main(["demo", str(root), "--recordings", "5", "--seconds", "6", "--seed", "3"]) == 0
    return root


def _events(root, with_freq=True):
    with Project.open(root) as p:
        names = {r.id: r.name for r in p.recordings()}
        classes = {c.id: c.name for c in p.classes()}
        return sorted(
            (names[e.recording_id], classes[e.class_id], e.onset, e.offset)
            + ((e.low_hz, e.high_hz) if with_freq else ())
            for e in p.labels()
        )


def test_every_command_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "info" in a.choices)
    for name, command in sub.choices.items():
        assert command.description or command.format_help(), name
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: tfstudio " + name in capsys.readouterr().out


def test_info_json_contract(demo, capsys):
    assert main(["info", str(demo), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["recordings"] == 5
    assert info["duration_s"] == pytest.approx(30.0)
    assert info["events"] == sum(info["classes"].values()) > 0
    assert len(info["classes"]) >= 6
    assert sum(info["splits"].values()) == 5 and info["splits"]["test"] >= 1


@pytest.mark.parametrize("fmt", ["dcase", "audacity", "raven", "textgrid", "json"])
def test_export_then_import_reproduces_the_events(demo, tmp_path, fmt, capsys):
    out = tmp_path / (
        "labels.tsv" if fmt == "dcase" else "labels.json" if fmt == "json" else "labels"
    )
    assert main(["export", str(demo), "--format", fmt, "-o", str(out)]) == 0
    if fmt not in ("dcase", "json"):
        assert sorted(p.name for p in out.iterdir())[0].startswith("demo_000.")
    copy = tmp_path / "copy"
    assert main(["init", str(copy)]) == 0
    args = ["import", str(copy), str(demo / "audio"), "-q", "--labels", str(out), "--format", fmt]
    assert main(args) == 0, capsys.readouterr().err
    with_freq = fmt in FREQ_FORMATS
    assert _events(copy, with_freq) == _events(demo, with_freq)
    # importing the same labels again adds nothing
    assert main(args) == 0
    assert len(_events(copy)) == len(_events(demo))


def test_bad_audio_and_bad_label_lines_are_reported_and_the_rest_kept(tmp_path, capsys):
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "good.wav", np.zeros(8000, dtype="float32"), 8000)
    (audio / "fake.wav").write_text("not audio")
    (audio / "empty.flac").write_bytes(b"")
    labels = tmp_path / "labels.tsv"
    labels.write_text(
        "filename\tonset\toffset\tevent_label\n"
        "good.wav\t0.1\t0.2\tbird\n"
        "good.wav\tx\t0.5\tbird\n"
        "good.wav\t0.6\t0.3\tbird\n"
        "missing.wav\t0.1\t0.2\tbird\n"
        "good.wav\t0.4\t0.9\tfrog\n"
    )
    root = tmp_path / "p"
    main(["init", str(root)])
    code = main(["import", str(root), str(audio), "-q", "--labels", str(labels)])
    err = capsys.readouterr().err
    assert code == 3
    assert "fake.wav" in err and "empty.flac" in err
    assert f"{labels}:3:" in err and f"{labels}:4:" in err
    assert "missing.wav" in err
    with Project.open(root) as p:
        assert [r.name for r in p.recordings()] == ["good.wav"]
        assert [(e.onset, e.offset) for e in p.labels()] == [(0.1, 0.2), (0.4, 0.9)]


def test_per_recording_label_files_match_the_longest_stem(tmp_path, capsys):
    audio = tmp_path / "a"
    audio.mkdir()
    for stem in ("rec1", "rec10"):
        sf.write(audio / f"{stem}.wav", np.zeros(16000, dtype="float32"), 8000)
    (tmp_path / "rec1.txt").write_text("0.5\t1.0\tbird\n")
    (tmp_path / "rec10.txt").write_text("1.0\t1.5\tfrog\n")
    root = tmp_path / "p"
    main(["init", str(root)])
    main(["import", str(root), str(audio), "-q"])
    assert (
        main(
            [
                "import",
                str(root),
                "--labels",
                str(tmp_path / "rec1.txt"),
                "--labels",
                str(tmp_path / "rec10.txt"),
            ]
        )
        == 0
    )
    assert _events(root, False) == [("rec1.wav", "bird", 0.5, 1.0), ("rec10.wav", "frog", 1.0, 1.5)]


def test_user_mistakes_are_one_line_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", "info", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "Traceback" not in result.stderr
    assert "tfstudio init" in result.stderr


def test_textgrid_export_writes_zero_length_events_as_points(tmp_path, capsys):
    audio = tmp_path / "a"
    audio.mkdir()
    sf.write(audio / "r.wav", np.zeros(16000, dtype="float32"), 8000)
    root = tmp_path / "p"
    main(["init", str(root)])
    main(["import", str(root), str(audio), "-q"])
    with Project.open(root) as p:
        cls = p.add_class("click")
        rec = p.recordings()[0].id
        p.add_event(rec, cls.id, 0.5, 0.5)
        p.add_event(rec, cls.id, 1.0, 1.25)
    capsys.readouterr()
    # Left out before (exit 3): now a point of a TextTier, next to the click's IntervalTier
    # (named apart, in time order: praatio refuses two tiers of one name).
    assert main(["export", str(root), "--format", "textgrid", "-o", str(tmp_path / "tg")]) == 0
    assert capsys.readouterr().err == ""
    text = (tmp_path / "tg" / "r.TextGrid").read_text()
    assert 'class = "TextTier" \n        name = "click" ' in text
    assert 'class = "IntervalTier" \n        name = "click (2)" ' in text and "1.25" in text
    assert 'points [1]:\n            number = 0.5 \n            mark = "click" ' in text


def test_info_prints_a_run_named_with_a_line_break_on_one_line(tmp_path, capsys):
    root = tmp_path / "p"
    with Project.create(root) as project:
        run = project.create_run({}, name="imported a\nb.txt")
        project.update_run(run.id, status="done", message="2 detection(s)\nfrom a\x1bb.txt")
    capsys.readouterr()
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if "imported" in x]
    assert line.endswith("imported a\\nb.txt  (2 detection(s)\\nfrom a\\x1bb.txt)")
    assert main(["info", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_list"][0]["name"] == "imported a\nb.txt"


def test_a_reader_that_stops_early_ends_the_command_quietly(demo):
    """'tfstudio info P | head -1': the reader goes away; there was an 'error: Broken pipe'
    line (and Python's own complaint at exit) where Unix tools stop without a word."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfstudio", "info", str(demo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # before the command writes anything
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 141
    assert stderr.decode() == ""


def test_info_says_how_many_labelled_recordings_have_no_split(demo, tmp_path, capsys):
    import shutil

    root = tmp_path / "unsplit"
    shutil.copytree(demo, root)
    with Project.open(root) as project:
        first, second, *_ = project.recordings()
        project.set_split([first.id, second.id], None)
    capsys.readouterr()
    assert main(["info", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labelled_without_split"] == 2
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "2 labelled recording(s) without a split: 'tfstudio split' puts them" in out
    assert main(["info", str(demo)]) == 0
    assert "without a split" not in capsys.readouterr().out
