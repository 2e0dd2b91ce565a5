"""Round trips of awkward but legitimate content through the formats' own writers and readers:
what a tfstudio export writes must read back as the same events (found by a sweep of every
format with unicode, quoted and padded names)."""

from __future__ import annotations

from tfstudio.formats import LabelEvent, dcase, labelstudio, sonicvisualiser, soundevent

QUOTED = ['"q"', 'a""b', '"', 'say "hi", ok', '"loud" bird']


def test_dcase_labels_and_file_names_with_quotes_read_back_as_written(tmp_path):
    events = [
        LabelEvent(f'"{k}".wav' if k % 2 else "rec.wav", 0.1 * k, 0.1 * k + 0.05, label)
        for k, label in enumerate(QUOTED)
    ]
    path = tmp_path / "out.tsv"
    dcase.write(events, path, recordings=['"silent".wav'])

    result = dcase.read(path)

    assert result.issues == []
    assert result.events == events
    # As CSV writers quote them (pandas reads the same labels back).
    assert 'rec.wav\t0.0\t0.05\t"""q"""\n' in path.read_text(encoding="utf-8")


def test_dcase_file_name_with_spaces_around_it_reads_back_as_written(tmp_path):
    events = [LabelEvent(" take 1.wav", 0.5, 1.0, "dog"), LabelEvent("b.wav ", 1.0, 2.0, "cat")]
    path = tmp_path / "out.tsv"
    dcase.write(events, path, recordings=[" silent.wav"])

    result = dcase.read(path)

    assert result.events == events
    assert dcase.recording_aliases(" take 1.wav") == ["take 1.wav"]
    assert dcase.recording_aliases("take 1.wav") == []


def test_dcase_file_name_under_another_header_keeps_its_spaces(tmp_path):
    path = tmp_path / "pred.tsv"
    path.write_text("event_label\tonset\toffset\tfilename\ndog\t0.5\t1.0\t take 1.wav\n")

    assert [e.recording for e in dcase.read(path).events] == [" take 1.wav"]


def test_label_studio_task_of_a_name_with_spaces_around_it_names_it_as_written(tmp_path):
    events = [LabelEvent(" take 1.wav", 0.5, 1.0, "dog")]
    path = tmp_path / "tasks.json"
    labelstudio.write(events, path, recordings=[" take 1.wav"])

    assert labelstudio.read(path).events == events
    assert labelstudio.recording_aliases(" take 1.wav") == ["take 1.wav"]
    assert labelstudio.recording_aliases(" 1a2b3c4d-rec1.wav") == [
        "1a2b3c4d-rec1.wav",
        "rec1.wav",
    ]


def test_soundevent_band_known_on_one_side_reads_back_as_it_was(tmp_path):
    """A box "above 2 kHz" goes out up to the Nyquist frequency (and "above 30 kHz" in a
    16 kHz recording as a flat box at 30 kHz, not as times only), and comes back with the side
    unknown: an export imported again then adds nothing. A real box from 0 Hz stays one."""
    events = [
        LabelEvent("rec1.wav", 1.0, 2.0, "wren", 2000.0, None),
        LabelEvent("rec1.wav", 3.0, 4.0, "hum", None, 300.0),
        LabelEvent("rec1.wav", 4.0, 5.0, "bat", 30000.0, None),
        LabelEvent("rec1.wav", 5.0, 6.0, "hum", 0.0, 300.0),
        LabelEvent("rec1.wav", 6.0, 7.0, "wren", 2000.0, 8000.0),
    ]
    path = tmp_path / "out.json"
    recordings = [{"name": "rec1.wav", "path": "rec1.wav", "duration": 9.0, "samplerate": 16000}]
    soundevent.write(events, path, recordings=recordings)

    assert soundevent.read(path).events == events


def test_sonic_visualiser_band_known_on_one_side_is_a_box_that_reads_back_as_it_was(tmp_path):
    """Such a band refused the whole export ("a Sonic Visualiser box needs both"): it is a box
    from 0 Hz or up to the Nyquist frequency in SV, and unknown on that side again in
    tfstudio. A box whose filled-in side was moved in SV is read from its numbers."""
    events = [
        LabelEvent("", 1.0, 2.0, "wren", 2000.0, None),
        LabelEvent("", 3.0, 4.0, "hum", None, 300.0),
        LabelEvent("", 4.0, 5.0, "bat", 30000.0, None),
        LabelEvent("", 5.0, 6.0, "hum", 0.0, 300.0),
    ]
    path = tmp_path / "rec.svl"
    sonicvisualiser.write(events, path, sample_rate=16000)

    assert sorted(sonicvisualiser.read(path).events, key=lambda e: e.onset) == events
    text = path.read_text(encoding="utf-8")
    assert 'value="2000.0" duration="16000" extent="6000.0"' in text  # up to 8 kHz in SV
    moved = text.replace('value="2000.0" duration="16000" extent="6000.0"',
                         'value="2000.0" duration="16000" extent="5000.0"')  # fmt: skip
    path.write_text(moved, encoding="utf-8")
    wren = [e for e in sonicvisualiser.read(path).events if e.label == "wren"]
    assert [(e.low_hz, e.high_hz) for e in wren] == [(2000.0, 7000.0)]
