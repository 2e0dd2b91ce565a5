import re
import sys
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import CLASSES, DemoEvent, generate_demo, probe

demo_module = sys.modules["tfstudio.audio.demo"]

SR = 16000


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return generate_demo(folder, recordings=4, seconds=20.0, seed=7, sample_rate=SR)


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    """The demo exactly as `tfstudio demo` makes it."""
    return generate_demo(tmp_path_factory.mktemp("default"))


def test_classes_are_distinct_and_coloured():
    names = [c.name for c in CLASSES]
    assert len(names) >= 6 and len(set(names)) == len(names)
    assert {"tone", "sweep", "clicks", "noise_burst", "harmonic", "warble"} <= set(names)
    for c in CLASSES:
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", c.color)
        assert 0 < c.low_hz < c.high_hz
        assert 0.3 <= c.min_duration < c.max_duration <= 3.0
    assert len({c.color.lower() for c in CLASSES}) == len(CLASSES)


def test_files_are_16_bit_wavs_of_the_given_length(small):
    assert [r.path.name for r in small] == [f"demo_{i:03d}.wav" for i in range(4)]
    for recording in small:
        info = probe(recording.path)
        assert (info.format, info.subtype, info.sample_rate, info.channels) == (
            "WAV",
            "PCM_16",
            SR,
            1,
        )
        assert info.frames == 20 * SR
        assert recording.duration == 20.0


def test_same_seed_same_bytes_and_labels(small, tmp_path):
    again = generate_demo(tmp_path, recordings=4, seconds=20.0, seed=7, sample_rate=SR)
    for a, b in zip(small, again):
        assert a.path.read_bytes() == b.path.read_bytes()
        assert (a.events, a.split, a.duration) == (b.events, b.split, b.duration)


def test_recordings_do_not_depend_on_how_many_are_asked_for(small, tmp_path):
    fewer = generate_demo(tmp_path, recordings=2, seconds=20.0, seed=7, sample_rate=SR)
    assert fewer[1].path.read_bytes() == small[1].path.read_bytes()
    assert fewer[1].events == small[1].events


def test_another_seed_another_demo(small, tmp_path):
    other = generate_demo(tmp_path, recordings=1, seconds=20.0, seed=8, sample_rate=SR)
    assert other[0].path.read_bytes() != small[0].path.read_bytes()


def test_labels_are_sane(small):
    names = {c.name for c in CLASSES}
    for recording in small:
        assert recording.events == sorted(recording.events, key=lambda e: (e.onset, e.offset))
        for e in recording.events:
            assert isinstance(e, DemoEvent)
            assert e.label in names
            assert 0.0 <= e.onset < e.offset <= recording.duration
            assert 0.3 - 1e-9 <= e.offset - e.onset <= 3.0 + 1e-9
            assert 0.0 <= e.low_hz < e.high_hz <= SR / 2


def _peak_polyphony(events: list[DemoEvent]) -> int:
    edges = sorted([(e.onset, 1) for e in events] + [(e.offset, -1) for e in events])
    current = peak = 0
    for _t, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def test_at_most_three_at_once_and_no_class_overlaps_itself(small, default):
    peaks = []
    for recording in [*small, *default]:
        peaks.append(_peak_polyphony(recording.events))
        for name in {e.label for e in recording.events}:
            same = [e for e in recording.events if e.label == name]
            assert _peak_polyphony(same) == 1
    assert max(peaks) == 3  # the limit is reached, so it is really enforced


def test_events_are_exactly_where_the_sound_is():
    rng = np.random.default_rng(3)
    _mix, events_only, events = demo_module._render_recording(rng, 15.0, SR)
    sounding = np.zeros(len(events_only), bool)
    for e in events:
        start, stop = round(e.onset * SR), round(e.offset * SR)
        assert start / SR == e.onset and stop / SR == e.offset  # labels sit on whole samples
        sounding[start:stop] = True
        assert np.any(events_only[start : start + 16]), e  # starts at the onset
        assert np.any(events_only[stop - 16 : stop]), e  # and lasts until the offset
    assert not np.any(events_only[~sounding])


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_each_event_lies_in_its_band(cls):
    rng = np.random.default_rng(11)
    low, high = demo_module._band(cls, SR)
    for _ in range(5):
        n = round(rng.uniform(cls.min_duration, cls.max_duration) * SR)
        x, low_hz, high_hz = demo_module._SYNTHS[cls.name](rng, n, SR, low, high)
        power = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
        freqs = np.fft.rfftfreq(n, 1 / SR)
        inside = power[(freqs >= low_hz) & (freqs <= high_hz)].sum()
        assert inside / power.sum() > 0.97, (cls.name, low_hz, high_hz)


def _band_power(path):
    x, sr = sf.read(path, dtype="float32")
    n_fft, hop = 512, 256
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    times = (np.arange(len(power)) * hop + n_fft / 2) / sr
    return power, times, np.fft.rfftfreq(n_fft, 1 / sr)


def test_event_energy_stands_out_from_the_background(small):
    for recording in small:
        power, times, freqs = _band_power(recording.path)
        for e in recording.events:
            band = (freqs >= e.low_hz) & (freqs <= e.high_hz)
            band_power = power[:, band].mean(axis=1)
            inside = (times >= e.onset + 0.02) & (times <= e.offset - 0.02)
            busy = np.zeros(len(times), bool)  # anything sounding in this band, with a margin
            for o in recording.events:
                if o.low_hz < e.high_hz and o.high_hz > e.low_hz:
                    busy |= (times >= o.onset - 0.05) & (times <= o.offset + 0.05)
            ratio = band_power[inside].mean() / band_power[~busy].mean()
            assert ratio > 4.0, (recording.path.name, e, ratio)  # at least 6 dB


def test_splits_default(default):
    assert Counter(r.split for r in default) == {"train": 12, "val": 4, "test": 4}
    for split in ("train", "val", "test"):
        labels = {e.label for r in default if r.split == split for e in r.events}
        assert labels == {c.name for c in CLASSES}, split


def test_default_recordings_have_silent_stretches(default):
    for recording in default:
        edges = sorted((e.onset, e.offset) for e in recording.events)
        longest_gap, covered_until = edges[0][0], 0.0
        for onset, offset in edges:
            longest_gap = max(longest_gap, onset - covered_until)
            covered_until = max(covered_until, offset)
        longest_gap = max(longest_gap, recording.duration - covered_until)
        assert longest_gap >= 1.5, recording.path.name


def test_parameters_vary_within_a_class(default):
    for name in ("tone", "sweep", "warble"):
        events = [e for r in default for e in r.events if e.label == name]
        assert len({round(e.low_hz) for e in events}) > len(events) // 2
        assert len({round(e.offset - e.onset, 2) for e in events}) > 5


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, {}),
        (1, {"train": 1}),
        (2, {"train": 2}),
        (3, {"train": 1, "val": 1, "test": 1}),
        (5, {"train": 3, "val": 1, "test": 1}),
        (10, {"train": 6, "val": 2, "test": 2}),
    ],
)
def test_split_sizes(n, expected):
    splits = demo_module._assign_splits(n, np.random.default_rng(0))
    assert Counter(splits) == expected


def test_progress_and_tiny_demos(tmp_path):
    calls = []
    recordings = generate_demo(
        tmp_path, recordings=2, seconds=3.0, sample_rate=8000, progress=lambda *a: calls.append(a)
    )
    assert calls == [(1, 2), (2, 2)]
    assert [r.split for r in recordings] == ["train", "train"]
    for r in recordings:
        assert r.events and _peak_polyphony(r.events) <= 3
        assert all(e.high_hz <= 4000 for e in r.events)


def test_invalid_arguments(tmp_path):
    for kwargs in ({"recordings": -1}, {"seconds": 0.5}, {"sample_rate": 4000}):
        with pytest.raises(ValueError):
            generate_demo(tmp_path, **kwargs)
