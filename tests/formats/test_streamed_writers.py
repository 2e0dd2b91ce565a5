"""The one-file formats' ``lines``: the file ``write`` writes, made as the events come (an
export streams a million events from the store through them)."""

from __future__ import annotations

import json

import pytest

from tfstudio.formats import LabelEvent, dcase, jsonfmt, soundevent


def mixed_events(random_events) -> list[LabelEvent]:
    events = random_events(3, 40, recording="a.wav", with_band=True)
    events += random_events(4, 30, recording="b.wav")
    events += [
        LabelEvent("b.wav", 1.0, 2.0, "dog", 5.0, 900.0, "model", 0.25, "accepted", tier="w"),
        LabelEvent("c.wav", 0.5, 0.5, "鳥", source="model", confidence=0.75),
    ]
    return events


def written(tmp_path, write, events, **options) -> bytes:
    path = tmp_path / "written"
    write(events, path, **options)
    return path.read_bytes()


def streamed(lines) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


def test_dcase_lines_from_a_generator_are_the_written_file(tmp_path, random_events):
    events = mixed_events(random_events)
    recordings = ["a.wav", "z.wav", "b.wav", "c.wav", "y.wav"]
    expected = written(tmp_path, dcase.write, events, recordings=recordings)
    assert streamed(dcase.lines(iter(events), recordings=iter(recordings))) == expected
    # the recordings without events follow the events, once each
    assert expected.decode().splitlines()[-2:] == ["z.wav\t\t\t", "y.wav\t\t\t"]


@pytest.mark.parametrize("count", [0, 1, 72])
def test_json_lines_from_a_generator_are_the_written_file(tmp_path, random_events, count):
    events = mixed_events(random_events)[:count]
    classes = [{"name": "dog", "color": "#ff0000", "hotkey": "1"}, "鳥"]
    expected = written(tmp_path, jsonfmt.write, events, classes=classes)
    assert streamed(jsonfmt.lines(iter(events), classes=classes)) == expected
    assert len(json.loads(expected)["events"]) == count


@pytest.mark.parametrize("predictions", [False, True, None])
@pytest.mark.parametrize("count", [0, 1, 72])
def test_soundevent_lines_are_what_json_dumps_writes(tmp_path, random_events, predictions, count):
    events = mixed_events(random_events)[:count]
    recordings = [
        {"name": "b.wav", "path": "x/b.wav", "duration": 60.0, "channels": 2, "samplerate": 8000},
        {"name": "q.wav", "path": "q.wav", "duration": 3.5, "channels": 1, "samplerate": 16000},
    ]
    text = streamed(
        soundevent.lines(events, recordings=recordings, predictions=predictions, name="n")
    )
    # The document streamed item by item is laid out exactly as json.dumps lays it out.
    document = json.loads(text)
    dumped = json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    assert text == dumped.encode("utf-8")
    assert text == written(
        tmp_path, soundevent.write, events, recordings=recordings, predictions=predictions, name="n"
    )
    data = document["data"]
    assert len(data["sound_events"]) == count
    entries = data.get("sound_event_predictions", data.get("sound_event_annotations"))
    clip_lists = data.get("clip_predictions", data.get("clip_annotations"))
    # each clip lists the entries of its recording's events, in the events' order
    recording_of = {e["uuid"]: e["recording"] for e in data["sound_events"]}
    for clip in clip_lists:
        (recording,) = [c["recording"] for c in data["clips"] if c["uuid"] == clip["clip"]]
        assert clip["sound_events"] == [
            e["uuid"] for e in entries if recording_of[e["sound_event"]] == recording
        ]
    assert len(soundevent.read(tmp_path / "written").events) == count


def test_a_streamed_writer_stops_at_the_first_event_it_cannot_carry(random_events):
    events = random_events(5, 10, recording="a.wav")
    bad = LabelEvent("a\tb.wav", 1.0, 2.0, "dog")
    made = []
    with pytest.raises(ValueError, match=r"dcase: event 11 \('dog' at 1.0 s in 'a\\tb.wav'\)"):
        for line in dcase.lines(iter([*events, bad, *events])):
            made.append(line)
    assert len(made) == 11  # the header and the ten good events
