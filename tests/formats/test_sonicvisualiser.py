"""Sonic Visualiser layers: .svl files and SV's CSV export, read and written.

The files here are written in the shape of Sonic Visualiser's own "Export Annotation Layer"
output (its export tests' expected files, sonic-visualiser/export-tests/layers-expected/*.svl,
and svcore's CSV writer), with other sample rates, labels and damage.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, guess_format
from tfstudio.formats import sonicvisualiser as sv

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sonic-visualiser>\n<sv>\n  <data>\n'
TAIL = "  </data>\n</sv>\n"


def layer(model: str, points: list[str], display: str = "") -> str:
    body = "".join(f"      {p}\n" for p in points)
    return (
        HEAD
        + f"    {model}\n"
        + '    <dataset id="9" dimensions="3">\n'
        + body
        + "    </dataset>\n"
        + TAIL[: -len("</sv>\n")]
        + (f"  <display>\n    {display}\n  </display>\n" if display else "")
        + "</sv>\n"
    )


REGION_MODEL = (
    '<model id="10" name="rec.wav: Segmenter" sampleRate="22050" start="0" end="88200" '
    'type="sparse" dimensions="3" resolution="1" notifyOnAdd="true" dataset="9" '
    'subtype="region" valueQuantization="0" minimum="1" maximum="3" units="" />'
)
REGIONS = layer(
    REGION_MODEL,
    [
        '<point frame="0" value="1" duration="44100" label="song thrush" />',
        '<point frame="44100" value="2" duration="11025" label="rödhake &amp; &quot;co&quot;" />',
        '<point frame="55125" value="3" duration="22050" label="鳥のさえずり" />',
        '<point frame="77175" value="3" duration="11025" label="" />',
    ],
    '<layer id="11" type="regions" name="dog barks" model="10" verticalScale="1" '
    'plotStyle="1" colourName="Green" colour="#008000" darkBackground="false" />',
)


def write(tmp_path: Path, text: str, name: str = "rec.svl", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def spans(events: list[LabelEvent]) -> list[tuple[float, float, str]]:
    return [(e.onset, e.offset, e.label) for e in events]


def test_a_region_layer_reads_as_its_regions_at_its_sample_rate(tmp_path):
    result = sv.read(write(tmp_path, REGIONS))
    assert result.issues == []
    assert spans(result.events) == [
        (0.0, 2.0, "song thrush"),
        (2.0, 2.5, 'rödhake & "co"'),
        (2.5, 3.5, "鳥のさえずり"),
        # A region without a label is of the class its layer is named after, said once.
        (3.5, 4.0, "dog barks"),
    ]
    assert [str(w) for w in result.warnings] == [
        f"{tmp_path / 'rec.svl'}:5: 1 point(s) of region layer 'dog barks' have no label: "
        "imported as the class named by the layer"
    ]
    assert guess_format(tmp_path / "rec.svl") == "sonicvisualiser"


def test_a_layer_without_its_display_part_takes_the_models_name(tmp_path):
    # The model's name is "<audio file>: <output>" when a plugin made the layer.
    text = layer(REGION_MODEL, ['<point frame="0" value="1" duration="22050" label="" />'])
    assert spans(sv.read(write(tmp_path, text)).events) == [(0.0, 1.0, "Segmenter")]
    nameless = text.replace('name="rec.wav: Segmenter"', 'name=""')
    result = sv.read(write(tmp_path, nameless))
    assert result.events == []
    assert [i.line for i in result.issues] == [7]
    assert "empty label, and its layer has no name" in result.issues[0].reason


def test_a_note_layer_reads_its_notes_and_says_the_pitches_are_left_out(tmp_path):
    text = layer(
        '<model id="16" name="" sampleRate="48000" start="960" end="96000" type="sparse" '
        'dimensions="3" resolution="68" notifyOnAdd="true" dataset="9" subtype="note" '
        'valueQuantization="0" minimum="329.628" maximum="554.365" units="Hz" />',
        [
            '<point frame="960" value="415.305" duration="47040" level="0.354331" label="G#4" />',
            '<point frame="48000" value="440" duration="48000" label="A4" />',
        ],
        '<layer id="17" type="notes" name="Note transcription" model="16" />',
    )
    result = sv.read(write(tmp_path, text))
    assert result.issues == []
    assert spans(result.events) == [(0.02, 1.0, "G#4"), (1.0, 2.0, "A4")]
    assert [e.low_hz for e in result.events] == [None, None]
    assert len(result.warnings) == 1
    assert "note layer 'Note transcription': the notes' pitches" in result.warnings[0].reason


def test_a_box_layer_reads_as_events_with_their_band(tmp_path):
    text = HEAD + (
        '    <model id="25" name="" sampleRate="32000" start="0" end="64000" type="sparse" '
        'dimensions="2" resolution="1" notifyOnAdd="true" dataset="24" subtype="box" '
        'minimum="318.507" maximum="634.188" units="Hz" />\n'
        '    <dataset id="24" dimensions="2">\n'
        '      <point frame="0" value="374.5" duration="16000" extent="101.5" '
        'label="Area of no interest" />\n'
        # SV 4.0's development files called the lowest frequency "frequency".
        '      <point frame="32000" frequency="1000" duration="32000" extent="500" label="wren" />\n'
        "    </dataset>\n" + TAIL
    )
    result = sv.read(write(tmp_path, text))
    assert result.issues == []
    assert [(e.onset, e.offset, e.label, e.low_hz, e.high_hz) for e in result.events] == [
        (0.0, 0.5, "Area of no interest", 374.5, 476.0),
        (1.0, 2.0, "wren", 1000.0, 1500.0),
    ]


def test_time_instants_read_as_zero_length_events(tmp_path):
    # An onset layer as SV's Note Onsets plugin makes it: no labels, the layer named.
    text = HEAD + (
        '    <model id="1" name="rec.wav: Note Onsets" sampleRate="16000" start="557" '
        'end="16000" type="sparse" dimensions="1" resolution="557" notifyOnAdd="true" '
        'dataset="0" />\n'
        '    <dataset id="0" dimensions="1">\n'
        '      <point frame="8000" label="" />\n'
        '      <point frame="16000" label="Glottal stop" />\n'
        "    </dataset>\n" + TAIL
    )
    result = sv.read(write(tmp_path, text))
    assert result.issues == []
    assert spans(result.events) == [(0.5, 0.5, "Note Onsets"), (1.0, 1.0, "Glottal stop")]
    reasons = [w.reason for w in result.warnings]
    assert any("2 instant(s) read as zero-length events (onset = offset)" in r for r in reasons)
    assert any("1 point(s) of time-instant layer 'Note Onsets' have no label" in r for r in reasons)


VALUES = HEAD + (
    '    <model id="4" name="rec.wav: Estimated f0" sampleRate="48000" start="1024" '
    'end="1536" type="sparse" dimensions="2" resolution="256" notifyOnAdd="true" dataset="3" '
    'minimum="400" maximum="500" units="Hz" />\n'
    '    <dataset id="3" dimensions="2">\n'
    '      <point frame="1024" value="415.621" label="" />\n'
    '      <point frame="1280" value="415.193" label="" />\n'
    "    </dataset>\n" + TAIL
)


def test_a_time_value_layer_is_refused_naming_the_file_and_what_it_holds(tmp_path):
    path = write(tmp_path, VALUES)
    with pytest.raises(FormatError) as info:
        sv.read(path)
    assert info.value.path == path
    assert info.value.reason == (
        "holds no events: it has a time-value layer (values over time, not events); tfstudio "
        "imports region, note, box and time-instant layers"
    )
    text_layer = VALUES.replace('units="Hz"', 'subtype="text"')
    with pytest.raises(FormatError, match="it has a text layer"):
        sv.read(write(tmp_path, text_layer))


def test_a_time_value_layer_beside_a_region_layer_is_left_out_with_a_warning(tmp_path):
    both = REGIONS.replace(
        "  </data>", VALUES.split("<data>\n")[1].split("  </data>")[0] + "  </data>"
    )
    result = sv.read(write(tmp_path, both))
    assert len(result.events) == 4 and result.issues == []
    assert any(
        w.reason == "time-value layer (values over time, not events) 'Estimated f0' left out"
        for w in result.warnings
    )


@pytest.mark.parametrize("cut", [40, 120])
def test_a_file_cut_short_keeps_the_points_before_the_cut(tmp_path, cut):
    text = REGIONS[: REGIONS.index('<point frame="55125"') + cut]
    result = sv.read(write(tmp_path, text))
    # Cut inside the third point's tag (line 9), or inside the fourth's (line 10): the whole
    # points before it are kept and the damage is one issue at its line.
    kept, line = (2, 9) if cut == 40 else (3, 10)
    assert spans(result.events)[:2] == [(0.0, 2.0, "song thrush"), (2.0, 2.5, 'rödhake & "co"')]
    assert len(result.events) == kept
    assert len(result.issues) == 1
    assert result.issues[0].reason.startswith("the file ends early (cut short?)")
    assert f"the {kept} point(s) before it are kept" in result.issues[0].reason
    assert result.issues[0].line == line


def test_damage_in_the_middle_keeps_what_comes_before_it(tmp_path):
    text = REGIONS.replace('<point frame="55125"', '<point frame="55125" <broken', 1)
    result = sv.read(write(tmp_path, text))
    assert len(result.events) == 2
    [issue] = result.issues
    assert issue.line == 9
    assert issue.reason.startswith("the XML is broken here (not well-formed (invalid token)")


def test_a_file_broken_before_its_first_point_is_refused_with_the_line(tmp_path):
    text = REGIONS[: REGIONS.index('<point frame="0"') + 10]
    with pytest.raises(FormatError, match=r"line 7: the file ends early"):
        sv.read(write(tmp_path, text))
    with pytest.raises(FormatError, match=r"not a Sonic Visualiser layer file \(its XML is <svg>"):
        sv.read(write(tmp_path, '<?xml version="1.0"?>\n<svg></svg>\n'))
    with pytest.raises(FormatError, match=r"not a Sonic Visualiser layer file: line 1"):
        sv.read(write(tmp_path, "<sv <<"))


def test_entity_declarations_are_refused(tmp_path):
    text = REGIONS.replace(
        "<!DOCTYPE sonic-visualiser>",
        '<!DOCTYPE sv [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    )
    with pytest.raises(FormatError, match="declares an XML entity"):
        sv.read(write(tmp_path, text))


def test_bad_points_are_issues_at_their_lines_and_the_others_kept(tmp_path):
    text = layer(
        REGION_MODEL,
        [
            '<point frame="-5" value="1" duration="10" label="a" />',
            '<point frame="0" value="1" label="no duration" />',
            '<point frame="0" value="1" duration="nan" label="b" />',
            '<point value="1" duration="1" label="no frame" />',
            '<point frame="22050" value="1" duration="22050" label="kept" />',
        ],
    )
    result = sv.read(write(tmp_path, text))
    assert spans(result.events) == [(1.0, 2.0, "kept")]
    assert [(i.line, i.reason) for i in result.issues] == [
        (7, "point: frame -5 is negative"),
        (8, "point: no duration (a region layer point has one)"),
        (9, "point: duration 'nan' is not a number"),
        (10, "point: no frame"),
    ]


def test_a_model_without_a_usable_sample_rate_is_one_issue(tmp_path):
    text = layer(
        REGION_MODEL.replace('sampleRate="22050"', 'sampleRate="0"'),
        ['<point frame="0" value="1" duration="10" label="a" />'],
    )
    result = sv.read(write(tmp_path, text))
    assert result.events == []
    assert [(i.line, i.reason) for i in result.issues] == [
        (5, "region layer '10': sampleRate is 0; its points are left out")
    ]


def test_utf16_and_a_line_that_is_not_utf8(tmp_path):
    utf16 = REGIONS.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "rec.svl"
    path.write_bytes(utf16.encode("utf-16"))
    assert [e.label for e in sv.read(path).events][:3] == [
        "song thrush",
        'rödhake & "co"',
        "鳥のさえずり",
    ]
    data = REGIONS.encode("utf-8").replace(b"song thrush", b"song thr\xfcsh")
    path.write_bytes(data)
    result = sv.read(path)
    assert result.events[0].label == 'rödhake & "co"'
    assert [(i.line, i.reason[:30]) for i in result.issues] == [
        (7, "point: not UTF-8 text (byte 0x")
    ]


# --- writing --------------------------------------------------------------------------------


def test_written_layers_read_back_exactly(tmp_path, random_events):
    events = [
        e for e in random_events(5, 60, with_band=True) if (e.low_hz is None) == (e.high_hz is None)
    ]
    assert any(e.low_hz is not None for e in events) and any(e.onset == e.offset for e in events)
    path = tmp_path / "rec.svl"
    sv.write(events, path, sample_rate=22050)
    result = sv.read(path)
    assert result.issues == []
    key = lambda e: (e.onset, e.offset, e.label, e.low_hz or 0.0, e.high_hz or 0.0)  # noqa: E731
    assert sorted(result.events, key=key) == sorted(events, key=key)


def test_written_file_has_the_structure_sonic_visualiser_reads(tmp_path):
    events = [
        LabelEvent("", 0.1 + 0.2, 1.25, "Turdus merula"),
        LabelEvent("", 2.0, 3.0, 'say "hi" <&>'),
        LabelEvent("", 1.0, 1.0, "onset"),
        LabelEvent("", 0.5, 0.75, "wren", 2000.0, 8000.5),
    ]
    path = tmp_path / "rec.svl"
    sv.write(events, path, sample_rate=32000)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sonic-visualiser>\n<sv '
    )
    root = ET.fromstring(text.split("\n", 2)[2])
    assert root.tag == "sv" and [c.tag for c in root] == ["data", "display"]
    models = {m.get("id"): m for m in root.iter("model")}
    datasets = {d.get("id"): d for d in root.iter("dataset")}
    layers = list(root.find("display") or [])
    # What SV's SVFileReader requires: a model with an id, sampleRate, type "sparse",
    # dimensions, resolution and its dataset's id; a dataset with the same dimensions; points
    # with whole frames (and durations), read with toInt; a display layer naming the model.
    kinds = {}
    for model in models.values():
        assert model.get("sampleRate") == "32000" and model.get("type") == "sparse"
        assert model.get("resolution") == "1"
        dataset = datasets[model.get("dataset")]
        assert dataset.get("dimensions") == model.get("dimensions")
        for point in dataset:
            assert point.tag == "point" and point.get("frame").isdigit()
            if model.get("dimensions") != "1":
                assert point.get("duration").isdigit()
                float(point.get("value"))
        kinds[(model.get("dimensions"), model.get("subtype"))] = [p.get("label") for p in dataset]
    assert kinds == {
        ("3", "region"): ["Turdus merula", 'say "hi" <&>'],
        ("2", "box"): ["wren"],
        ("1", None): ["onset"],
    }
    assert sorted(
        (layer.get("type"), models[layer.get("model")].get("subtype")) for layer in layers
    ) == [
        ("boxes", "box"),
        ("regions", "region"),
        ("timeinstants", None),
    ]
    box = next(
        iter(
            datasets[
                models[next(k for k, m in models.items() if m.get("subtype") == "box")].get(
                    "dataset"
                )
            ]
        )
    )
    assert (box.get("frame"), box.get("duration"), box.get("value"), box.get("extent")) == (
        "16000",
        "8000",
        "2000.0",
        "6000.5",
    )
    region = next(iter(datasets["0"]))
    assert (region.get("frame"), region.get("duration")) == ("9600", "30400")
    # The region values number the classes, so SV's segmentation style colours them by class.
    assert [p.get("value") for p in datasets["0"]] == ["1", "2"]


def test_an_empty_recording_gets_an_empty_region_layer(tmp_path):
    path = tmp_path / "rec.svl"
    sv.write([], path, sample_rate=8000)
    root = ET.fromstring(path.read_text(encoding="utf-8").split("\n", 2)[2])
    assert [m.get("subtype") for m in root.iter("model")] == ["region"]
    assert sv.read(path).events == []


def test_the_written_file_is_the_same_text_to_the_byte(tmp_path):
    # Pinned as the writer made it when it built the whole document in memory (it now writes
    # a line at a time): points in frame order (ties by their end, then as given), values
    # numbering the classes, attributes escaped as SV escapes them, ids in layer order.
    events = [
        LabelEvent("", 2.0, 3.0, 'say "hi" <&>\''),
        LabelEvent("", 0.1 + 0.2, 1.25, "Turdus merula"),
        LabelEvent("", 1.0, 1.0, "onset"),
        LabelEvent("", 0.5, 0.75, "wren", 2000.0, 8000.5),
        LabelEvent("", 0.25, 0.5, "鳥", 0.0, 1 / 3),
        LabelEvent("", 0.30001, 0.9, "Turdus merula"),
    ]
    path = tmp_path / "rec.svl"
    sv.write(events, path, sample_rate=32000)
    expected = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!DOCTYPE sonic-visualiser>\n"
        '<sv xmlns:tfstudio="urn:tfstudio:sonic-visualiser">\n'
        "  <data>\n"
        '    <model id="1" name="Regions" sampleRate="32000" start="9600" end="96000" '
        'type="sparse" dimensions="3" resolution="1" notifyOnAdd="true" dataset="0" '
        'subtype="region" valueQuantization="0" minimum="1" maximum="2" units="" />\n'
        '    <dataset id="0" dimensions="3">\n'
        '      <point frame="9600" value="1" duration="19200" label="Turdus merula" '
        'tfstudio:onset="0.30001" tfstudio:offset="0.9" />\n'
        '      <point frame="9600" value="1" duration="30400" label="Turdus merula" '
        'tfstudio:onset="0.30000000000000004" tfstudio:offset="1.25" />\n'
        '      <point frame="64000" value="2" duration="32000" label="say &quot;hi&quot; '
        '&lt;&amp;&gt;&apos;" tfstudio:onset="2.0" tfstudio:offset="3.0" />\n'
        "    </dataset>\n"
        '    <model id="4" name="Boxes" sampleRate="32000" start="8000" end="24000" '
        'type="sparse" dimensions="2" resolution="1" notifyOnAdd="true" dataset="3" '
        'subtype="box" minimum="0" maximum="8000.5" units="Hz" />\n'
        '    <dataset id="3" dimensions="2">\n'
        '      <point frame="8000" value="0.0" duration="8000" '
        'extent="0.3333333333333333" label="鳥" tfstudio:onset="0.25" '
        'tfstudio:offset="0.5" tfstudio:high="0.3333333333333333" />\n'
        '      <point frame="16000" value="2000.0" duration="8000" extent="6000.5" '
        'label="wren" tfstudio:onset="0.5" tfstudio:offset="0.75" tfstudio:high="8000.5" '
        "/>\n"
        "    </dataset>\n"
        '    <model id="7" name="Time Instants" sampleRate="32000" start="32000" '
        'end="32000" type="sparse" dimensions="1" resolution="1" notifyOnAdd="true" '
        'dataset="6" />\n'
        '    <dataset id="6" dimensions="1">\n'
        '      <point frame="32000" label="onset" tfstudio:onset="1.0" '
        'tfstudio:offset="1.0" />\n'
        "    </dataset>\n"
        "  </data>\n"
        "  <display>\n"
        '    <layer id="2" type="regions" name="Regions" model="1" verticalScale="0" '
        'plotStyle="1" colourName="Green" colour="#008000" darkBackground="false" />\n'
        '    <layer id="5" type="boxes" name="Boxes" model="4" verticalScale="0" '
        'colourName="Orange" colour="#ff9632" darkBackground="false" />\n'
        '    <layer id="8" type="timeinstants" name="Time Instants" model="7" '
        'plotStyle="0" colourName="Purple" colour="#c832ff" darkBackground="false" />\n'
        "  </display>\n"
        "</sv>\n"
    )
    assert path.read_bytes() == expected.encode("utf-8")
    assert sorted(sv.read(path).events, key=lambda e: e.onset) == sorted(
        events, key=lambda e: e.onset
    )


def test_frames_win_over_exact_times_that_disagree_with_them(tmp_path):
    path = tmp_path / "rec.svl"
    sv.write([LabelEvent("", 1 / 3, 2 / 3, "a")], path, sample_rate=48000)
    assert sv.read(path).events[0].onset == 1 / 3
    # The region moved by hand (or by SV, which drops attributes it does not know).
    moved = path.read_text(encoding="utf-8").replace('frame="16000"', 'frame="24000"')
    path.write_text(moved, encoding="utf-8")
    [event] = sv.read(path).events
    assert event.onset == 0.5 and math.isclose(event.offset, 0.5 + 16000 / 48000)


def test_what_a_layer_cannot_hold_is_refused_before_writing(tmp_path):
    path = tmp_path / "rec.svl"
    with pytest.raises(ValueError, match="sample rate 0 is not a positive number"):
        sv.write([LabelEvent("", 0.0, 1.0, "a")], path, sample_rate=0)
    with pytest.raises(ValueError, match="empty label"):
        sv.write([LabelEvent("", 0.0, 1.0, " ")], path)
    assert not path.exists()


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["TIME,VALUE,DURATION,LABEL\n", ""])
def test_a_region_csv_in_seconds_with_or_without_its_header(tmp_path, header):
    text = header + (
        "0.500000000,1,1.250000000,song thrush\n"
        '2.000000000,2,0.500000000,"rödhake, ""co"""\n'
        '3.000000000,3,0.250000000,say "hi"\n'
        "4.000000000,0,0.100000000\n"
    )
    path = write(tmp_path, text, "rec.csv")
    assert guess_format(path) == "sonicvisualiser"
    result = sv.read(path)
    assert spans(result.events) == [
        (0.5, 1.75, "song thrush"),
        (2.0, 2.5, 'rödhake, "co"'),
        (3.0, 3.25, 'say "hi"'),
    ]
    [issue] = result.issues
    assert issue.line == len(header and "x") + 4
    assert issue.reason == "no label (Sonic Visualiser leaves the label out of a row without one)"


def test_a_tab_separated_export_reads_the_same(tmp_path):
    path = write(tmp_path, "1.000000000\t1\t2.000000000\tcar horn (far)\n", "rec.txt")
    assert guess_format(path) == "sonicvisualiser"
    assert spans(sv.read(path).events) == [(1.0, 3.0, "car horn (far)")]


@pytest.mark.parametrize("header", ["FRAME,VALUE,DURATION,LABEL\n", ""])
def test_frame_times_need_the_recordings_sample_rate(tmp_path, header):
    path = write(tmp_path, header + "22050,1,11025,dog\n44100,1,44100,cat\n", "rec.csv")
    assert spans(sv.read(path, sample_rate=22050).events) == [(1.0, 1.5, "dog"), (2.0, 4.0, "cat")]
    with pytest.raises(FormatError, match="its times are sample frames"):
        sv.read(path)


def test_csv_of_notes_boxes_and_instants_by_their_headers(tmp_path):
    notes = "TIME,VALUE,DURATION,LEVEL,LABEL\n1.000000000,440,0.500000000,0.8,A4\n"
    assert spans(sv.read(write(tmp_path, notes, "n.csv")).events) == [(1.0, 1.5, "A4")]
    boxes = "START,END,EXTENT START,EXTENT END,LABEL\n1.000000000,2.000000000,100,900,wren\n"
    [box] = sv.read(write(tmp_path, boxes, "b.csv")).events
    assert (box.onset, box.offset, box.low_hz, box.high_hz, box.label) == (
        1.0,
        2.0,
        100,
        900,
        "wren",
    )
    frames = "STARTFRAME,ENDFRAME,EXTENT START,EXTENT END,LABEL\n8000,16000,100,900,wren\n"
    [box] = sv.read(write(tmp_path, frames, "b.csv"), sample_rate=8000).events
    assert (box.onset, box.offset) == (1.0, 2.0)
    instants = "TIME,LABEL\n1.500000000,onset\n"
    result = sv.read(write(tmp_path, instants, "i.csv"))
    assert spans(result.events) == [(1.5, 1.5, "onset")]
    assert "read as zero-length events" in result.warnings[0].reason


def test_a_time_value_csv_is_refused(tmp_path):
    path = write(tmp_path, "TIME,VALUE,LABEL\n1.000000000,440,\n", "f0.csv")
    with pytest.raises(FormatError, match="is a time-value layer's export"):
        sv.read(path)


SESSION = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sonic-visualiser>
<sv>
<data>
  <model id="0" name="rec.wav" sampleRate="44100" start="0" end="441000" type="wavefile" file="/home/me/rec.wav" mainModel="true"/>
  <playparameters mute="false" pan="0" gain="1" pluginId="" model="0"/>
  <model id="2" name="" sampleRate="44100" start="0" end="88200" type="sparse" dimensions="3" resolution="1" notifyOnAdd="true" dataset="1" subtype="region" valueQuantization="0" minimum="0" maximum="0" units=""/>
  <dataset id="1" dimensions="3">
    <point frame="44100" value="0" duration="44100" label="cut" />
  </dataset>
  <layer id="3" type="timeruler" name="Ruler" model="0" colourName="Black" colour="#000000" darkBackground="false" />
  <layer id="4" type="waveform" name="Waveform" model="0" gain="1" colourName="Black" colour="#000000" darkBackground="false" />
  <layer id="6" type="regions" name="jasa-el" model="2" colourName="Blue" colour="#0000ff" darkBackground="false" />
</data>
<display>
  <window width="1024" height="768"/>
  <view centre="220500" zoom="1024" followPan="1" followZoom="1" tracking="page" type="pane" centreLineVisible="1" height="400" >
    <layer id="3" type="timeruler" name="Ruler" model="0" visible="true"/>
    <layer id="6" type="regions" name="jasa-el" model="2" visible="true"/>
  </view>
</display>
<selections >
</selections>
</sv>
"""


def test_a_saved_session_reads_its_layers(tmp_path):
    import bz2

    path = tmp_path / "rec.sv"
    path.write_bytes(bz2.compress(SESSION.encode("utf-8")))
    assert guess_format(path) == "sonicvisualiser"
    result = sv.read(path)
    assert result.issues == [] and result.warnings == []
    assert spans(result.events) == [(1.0, 2.0, "cut")]
    # Cut short (a copy that stopped): what unpacks is read as far as it goes.
    # bzip2 unpacks whole blocks (100 kB of text at level 1): the session's block is whole.
    filler = b"<!--" + bytes(range(97, 123)) * 12_000 + b"-->"
    packed = bz2.compress(SESSION.encode("utf-8") + filler, compresslevel=1)
    path.write_bytes(packed[: len(packed) - 20])
    result = sv.read(path)
    assert spans(result.events) == [(1.0, 2.0, "cut")]
    assert [i.reason[:32] for i in result.issues] == ["the file ends early (cut short?)"]
    path.write_bytes(packed[:30])
    with pytest.raises(FormatError, match="is a compressed session cut short"):
        sv.read(path)
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(FormatError, match="is a binary file, not a text label file"):
        sv.read(path)
