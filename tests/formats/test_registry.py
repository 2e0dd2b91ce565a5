"""The format registry: names, the shared module contract, format guessing, core purity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tfstudio.formats as formats
from tfstudio.formats import FORMATS, LabelEvent, get_format, guess_format

EXPECTED = {
    "dcase": (False, ".tsv"),
    "audacity": (True, ".txt"),
    "raven": (True, ".Table.1.selections.txt"),
    "textgrid": (True, ".TextGrid"),
    "json": (False, ".json"),
    "soundevent": (False, ".json"),
    "sonicvisualiser": (True, ".svl"),
    "labelstudio": (False, ".json"),
    "audition": (True, ".csv"),
    "reaper": (True, ".csv"),
    "birdnet": (False, ".BirdNET.results.csv"),
    "kaleidoscope": (False, ".id.csv"),
}


def test_every_format_is_registered_with_its_contract():
    assert set(FORMATS) == set(EXPECTED)
    for name, module in FORMATS.items():
        assert name == module.NAME
        assert EXPECTED[name] == (module.PER_RECORDING, module.SUFFIX)
        assert callable(module.read) and callable(module.write)


def test_get_format_names_the_valid_choices():
    assert get_format("raven") is FORMATS["raven"]
    with pytest.raises(ValueError) as info:
        get_format("csv")
    assert str(info.value) == (
        "unknown label format 'csv'; choose one of: dcase, audacity, raven, textgrid, json, "
        "soundevent, sonicvisualiser, labelstudio, audition, reaper, birdnet, kaleidoscope"
    )


def test_base_records_are_reexported():
    for name in ("LabelEvent", "ParseIssue", "ParseResult", "FormatError", "format_time"):
        assert name in formats.__all__ and hasattr(formats, name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_format_round_trips_the_same_events(tmp_path, name, sort_events):
    module = get_format(name)
    recording = "" if module.PER_RECORDING else "rec 1.wav"
    events = [
        LabelEvent(recording, 0.1 + 0.2, 1 / 3 + 1, "Turdus merula"),
        LabelEvent(recording, 0.5, 2.0, "Turdus merula"),  # overlaps the first
        LabelEvent(recording, 1e-7, 0.25, "鳥 song"),
        LabelEvent(recording, 1234.000001, 1235.5, "dog"),
    ]
    path = tmp_path / f"rec 1{module.SUFFIX}"
    module.write(events, path)
    result = module.read(path)
    assert result.issues == []
    assert sort_events(result.events) == sort_events(events)
    assert guess_format(path) == name


@pytest.mark.parametrize(
    ("file_name", "text", "expected"),
    [
        ("a.TextGrid", "", "textgrid"),
        ("a.textgrid", "", "textgrid"),
        ("a.json", "", "json"),
        ("a.json", '{"format": "tfstudio-labels", "version": 1}', "json"),
        ("a.json", '{"version": "1.1.0", "data": {"collection_type": "model_run"}}', "soundevent"),
        (
            "a.txt",
            '{"version": "1.1.0", "data": {"collection_type": "annotation_set"}}',
            "soundevent",
        ),
        ("a.tsv", "a.wav\t0\t1\tdog\n", "dcase"),
        ("a.tsv", "0\t1\tdog\n", "dcase"),
        ("a.txt", "filename\tonset\toffset\tevent_label\n", "dcase"),
        ("a.txt", "a.wav\t0\t1\tdog\n", "dcase"),
        ("a.txt", "\ufeffSelection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\n", "raven"),
        ("a.tsv", "Begin Time (s)\tEnd Time (s)\tSpecies\n", "raven"),
        ("a.txt", "0.5\t1.5\tdog\n", "audacity"),
        ("a.txt", "0.5\t1.5\tdog\n\\\t100\t200\n", "audacity"),
        ("a.txt", "", "audacity"),
        ("a.txt", 'File type = "ooTextFile"\nObject class = "TextGrid"\n', "textgrid"),
        ("a.txt", "hello world\n", None),
        ("a.csv", "0.5\t1.5\tdog\n", None),
        # Sonic Visualiser: a layer file by its suffix or its <sv> root, its CSV export by the
        # header or the nine decimals it writes seconds with (comma or tab-separated).
        ("a.svl", "", "sonicvisualiser"),
        ("a.xml", '<?xml version="1.0"?>\n<!DOCTYPE sonic-visualiser>\n<sv/>', "sonicvisualiser"),
        ("a.xml", '<?xml version="1.0"?>\n<sv>\n<data/></sv>', "sonicvisualiser"),
        ("a.xml", '<?xml version="1.0"?>\n<svg/>', None),
        ("a.csv", "TIME,VALUE,DURATION,LABEL\n1.500000000,1,0.250000000,dog\n", "sonicvisualiser"),
        ("a.csv", "FRAME,VALUE,DURATION,LABEL\n", "sonicvisualiser"),
        ("a.csv", "1.500000000,1,0.250000000,dog\n", "sonicvisualiser"),
        ("a.txt", "1.500000000\t1\t0.250000000\tdog\n", "sonicvisualiser"),
        ("a.txt", "1.500000\t1.750000\tdog\n", "audacity"),
        ("a.csv", "start,end,label\n0.5,1.5,dog\n", None),
        # Label Studio's exports: the JSON task list, JSON-MIN, one task, CSV/TSV.
        ("a.json", '[{"id": 1, "annotations": [], "data": {"audio": "a.wav"}}]', "labelstudio"),
        ("a.json", '[{"audio": "a.wav", "id": 1, "annotation_id": 3}]', "labelstudio"),
        ("a.json", '{"id": 1, "data": {"audio": "a.wav"}, "predictions": []}', "labelstudio"),
        ("a.json", "[]", "json"),
        ("a.csv", '"annotation_id","annotator","audio","id","label"\n', "labelstudio"),
        ("a.tsv", "annotation_id\tannotator\taudio\tid\tlabel\n", "labelstudio"),
        # Adobe Audition's marker list (tabs in a .csv), and one written with commas.
        ("a.csv", "Name\tStart\tDuration\tTime Format\tType\tDescription\n", "audition"),
        ("a.txt", "\ufeffName\tStart\tDuration\tTime Format\tType\tDescription\n", "audition"),
        ("a.csv", "Name,Start,Duration,Time Format,Type,Description\n", "audition"),
        # REAPER's region/marker list.
        ("a.csv", "#,Name,Start,End,Length,Color\nR1,a,0:01.000,0:02.000,0:01.000,\n", "reaper"),
        ("a.csv", "#,Name,Start,End,Length\n", "reaper"),
    ],
)
def test_guess_format(tmp_path, file_name, text, expected):
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    assert guess_format(path) == expected


def test_guess_format_of_missing_or_binary_files(tmp_path):
    assert guess_format(tmp_path / "missing.txt") is None
    assert guess_format(tmp_path / "missing.TextGrid") == "textgrid"
    (tmp_path / "b.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert guess_format(tmp_path / "b.txt") is None


def test_formats_import_neither_qt_nor_torch(tmp_path):
    script = f"""
import sys
from pathlib import Path
from tfstudio.formats import FORMATS, LabelEvent
for module in FORMATS.values():
    path = Path({str(tmp_path)!r}) / (module.NAME + module.SUFFIX)
    recording = "" if module.PER_RECORDING else "x.wav"
    module.write([LabelEvent(recording, 0.0, 1.0, "a")], path)
    module.read(path)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "PySide6", "pyqtgraph"))
assert not loaded, loaded
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_package_docstring_states_the_contract():
    assert "ParseResult" in (formats.__doc__ or "")
    assert Path(formats.__file__).parent.name == "formats"
