"""The real-sounds benchmark's mixing, splitting, label writing and scoring, on generated sounds
(nothing is downloaded here)."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import real_sounds as rs
from tfstudio.formats import dcase

SR = rs.SR
CLASSES = ("alpha", "beta", "gamma", "delta")


def burst(rng, *, pad=(0.4, 0.6), length=1.0, freq=None):
    """Silence, a tone (or noise) burst of ``length`` s, silence."""
    n = round(length * SR)
    if freq is None:
        core = rng.standard_normal(n).astype(np.float32) * 0.3
    else:
        core = 0.5 * np.sin(2 * np.pi * freq * np.arange(n) / SR).astype(np.float32)
    return np.concatenate([np.zeros(round(pad[0] * SR)), core, np.zeros(round(pad[1] * SR))])


def make_sounds(seed=0, per_class=6, groups_per_class=3):
    rng = np.random.default_rng(seed)
    sounds = []
    for k, label in enumerate(CLASSES):
        for i in range(per_class):
            length = float(rng.uniform(0.3, 5.0))
            audio = burst(
                rng, pad=tuple(rng.uniform(0.05, 0.8, 2)), length=length, freq=200 * (k + 1)
            )
            sounds.append(
                rs.Sound(f"{label}-{i}", label, audio, group=f"{label}-g{i % groups_per_class}")
            )
    return sounds


def silent_backgrounds(n=2):
    return [rs.Sound(f"bg{i}", rs.BACKGROUND, np.zeros(3 * SR), group=f"bg{i}") for i in range(n)]


def noisy_backgrounds(seed=1, n=3):
    rng = np.random.default_rng(seed)
    return [
        rs.Sound(f"bg{i}", rs.BACKGROUND, rng.standard_normal(4 * SR) * 0.1, group=f"bg{i}")
        for i in range(n)
    ]


def by_label(sounds):
    out = {}
    for s in sounds:
        out.setdefault(s.label, []).append(s)
    return out


def test_find_regions_trims_silence_and_merges_short_gaps():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            np.zeros(SR // 2),
            0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR),  # 0.5 .. 1.5 s
            np.zeros(round(0.7 * SR)),
            rng.standard_normal(round(0.3 * SR)) * 0.2,  # 2.2 .. 2.5 s
            np.zeros(round(0.1 * SR)),
            rng.standard_normal(round(0.3 * SR)) * 0.2,  # 2.6 .. 2.9 s, merged with the last
            np.zeros(SR // 2),
        ]
    ).astype(np.float32)
    regions, threshold = rs.find_regions(x)
    assert threshold > 0
    assert len(regions) == 2
    (a0, b0), (a1, b1) = regions
    frame = rs.FRAME / SR
    assert a0 / SR == pytest.approx(0.5, abs=frame)
    assert b0 / SR == pytest.approx(1.5, abs=frame)
    assert a1 / SR == pytest.approx(2.2, abs=frame)
    assert b1 / SR == pytest.approx(2.9, abs=frame)
    # Region edges hold sound: the first and last frame of each region is above threshold.
    for a, b in regions:
        assert rs.rms(x[a : a + rs.FRAME]) > 0 and rs.rms(x[b - rs.FRAME : b]) > 0


def test_noise_margin_ignores_a_recordings_hiss():
    rng = np.random.default_rng(3)
    hiss = rng.standard_normal(3 * SR).astype(np.float32) * 0.02  # -34 dBFS: within 35 dB
    call = np.zeros(3 * SR, dtype=np.float32)
    call[SR : 2 * SR] = 0.5 * np.sin(2 * np.pi * 500 * np.arange(SR) / SR)
    x = hiss + call
    assert rs.find_regions(x)[0] == [(0, len(x))]
    (a, b), *rest = rs.find_regions(x, noise_margin_db=10)[0]
    assert not rest
    assert a / SR == pytest.approx(1.0, abs=rs.FRAME / SR)
    assert b / SR == pytest.approx(2.0, abs=rs.FRAME / SR)


def test_labels_are_exactly_where_the_events_were_placed():
    sounds = make_sounds()
    clips, _ = rs.make_split(
        "train", 25, by_label(sounds), silent_backgrounds(), seed=3, keep_stems=True
    )
    n = round(rs.CLIP_S * SR)
    for clip in clips:
        assert len(clip.audio) == n
        assert clip.stems is not None and len(clip.stems) == len(clip.events)
        inside = np.zeros(n, dtype=bool)
        for event, stem in zip(clip.events, clip.stems):
            a, b = round(event.onset * SR), round(event.offset * SR)
            assert event.onset * SR == pytest.approx(a) and event.offset * SR == pytest.approx(b)
            nz = np.flatnonzero(stem)
            # Sound only inside the label, and right up to both of its edges.
            assert nz[0] >= a and nz[-1] < b
            assert nz[0] - a < rs.FRAME and b - 1 - nz[-1] < rs.FRAME
            assert rs.rms(stem[a : a + rs.FRAME]) > 1e-4
            assert rs.rms(stem[b - rs.FRAME : b]) > 1e-4
            inside[a:b] = True
        # A silent background: the mix is the sum of the stems, and silent outside the labels.
        np.testing.assert_allclose(clip.audio, np.sum(clip.stems, axis=0), atol=1e-6)
        assert not np.any(clip.audio[~inside])


def test_event_lengths_follow_the_trimmed_sources():
    # Each source is one burst shorter than max_event_s: every event is that burst, to a frame.
    rng = np.random.default_rng(5)
    lengths = {}
    sounds = []
    for k, label in enumerate(CLASSES):
        for i in range(3):
            length = round(float(rng.uniform(0.3, 3.5)), 3)
            sid = f"{label}-{i}"
            lengths[sid] = length
            sounds.append(rs.Sound(sid, label, burst(rng, length=length, freq=300 * (k + 1))))
    clips, _ = rs.make_split("val", 20, by_label(sounds), silent_backgrounds(), seed=1)
    events = [e for c in clips for e in c.events]
    assert events
    for e in events:
        assert e.length == pytest.approx(lengths[e.source], abs=rs.FRAME / SR)


def test_long_sources_are_cut_to_max_event_seconds():
    rng = np.random.default_rng(2)
    sounds = [
        rs.Sound(f"{label}-0", label, burst(rng, length=9.0, freq=300 * (k + 1)))
        for k, label in enumerate(CLASSES)
    ]
    clips, _ = rs.make_split("x", 10, by_label(sounds), noisy_backgrounds(), seed=0)
    assert all(e.length <= 4.0 + 1e-9 for c in clips for e in c.events)


def test_clips_are_10_s_with_1_to_3_events_polyphony_at_most_3_and_balanced_classes():
    sounds = make_sounds(seed=4)
    clips, _ = rs.make_split("train", 40, by_label(sounds), noisy_backgrounds(), seed=7)
    counts = {label: 0 for label in CLASSES}
    for clip in clips:
        assert len(clip.audio) == round(10.0 * SR)
        assert clip.audio.dtype == np.float32
        assert 1 <= len(clip.events) <= 3
        assert rs.polyphony(clip.events) <= 3
        assert len({e.label for e in clip.events}) == len(clip.events)
        assert np.max(np.abs(clip.audio)) <= 0.98 + 1e-6
        for e in clip.events:
            assert 0 <= e.onset < e.offset <= 10.0
            assert 0 <= e.snr_db <= 20
            counts[e.label] += 1
        assert len(clip.background) == 2 and clip.background[0] != clip.background[1]
    assert max(counts.values()) - min(counts.values()) <= 1
    assert any(rs.polyphony(c.events) > 1 for c in clips)  # overlaps happen


def test_max_polyphony_holds_with_many_events():
    sounds = make_sounds(seed=9, per_class=4)
    clips, _ = rs.make_split(
        "x",
        15,
        by_label(sounds),
        noisy_backgrounds(),
        seed=2,
        events_per_clip=(4, 4),
        event_weights=None,
        max_polyphony=2,
        max_event_s=3.0,
    )
    assert all(rs.polyphony(c.events) <= 2 for c in clips)


def test_same_seed_same_clips_other_seed_other_clips():
    sounds = make_sounds(seed=1)
    a, _ = rs.make_split("test", 6, by_label(sounds), noisy_backgrounds(), seed=11)
    b, _ = rs.make_split("test", 6, by_label(sounds), noisy_backgrounds(), seed=11)
    c, _ = rs.make_split("test", 6, by_label(sounds), noisy_backgrounds(), seed=12)
    for x, y in zip(a, b):
        assert x.name == y.name and x.events == y.events
        np.testing.assert_array_equal(x.audio, y.audio)
    assert [x.events for x in a] != [z.events for z in c]
    # Splits draw from their own streams: val's size does not change train.
    d, _ = rs.make_split("val", 3, by_label(sounds), noisy_backgrounds(), seed=11)
    assert d[0].events != a[0].events


def test_split_by_group_keeps_groups_and_files_on_one_side():
    sounds = make_sounds(seed=0, per_class=12, groups_per_class=6)
    sides = rs.split_by_group(sounds, 0.35, seed=5)
    for label in CLASSES:
        train, test = sides["train"][label], sides["test"][label]
        assert {s.id for s in train}.isdisjoint({s.id for s in test})
        assert {s.group for s in train}.isdisjoint({s.group for s in test})
        assert len({s.group for s in test}) == 2  # round(0.35 * 6)
        assert len(train) + len(test) == 12
    again = rs.split_by_group(sounds, 0.35, seed=5)
    assert {k: [s.id for s in v] for k, v in again["test"].items()} == {
        k: [s.id for s in v] for k, v in sides["test"].items()
    }
    # Test clips only ever use test-side sources.
    clips, mixer = rs.make_split("test", 20, sides["test"], noisy_backgrounds(), seed=5)
    test_ids = {s.id for v in sides["test"].values() for s in v}
    assert {e.source for c in clips for e in c.events} <= test_ids
    assert set(mixer.used) - {"bg0", "bg1", "bg2"} <= test_ids


def test_a_single_group_stays_on_the_train_side():
    sounds = [rs.Sound(f"a{i}", "alpha", np.ones(SR), group="one") for i in range(4)]
    sides = rs.split_by_group(sounds, 0.5, seed=0)
    assert len(sides["train"]["alpha"]) == 4 and "alpha" not in sides["test"]


def test_duplicates_are_found_and_merged_into_one_group():
    rng = np.random.default_rng(8)
    base = burst(rng, length=1.5)
    other = burst(rng, length=1.5)
    sounds = [
        rs.Sound("p1:x", "alpha", base, group="p1:x"),
        rs.Sound("p2:x", "alpha", 0.5 * np.concatenate([np.zeros(300), base]), group="p2:x"),
        rs.Sound("p2:y", "alpha", other, group="p2:y"),
    ]
    pairs = rs.find_duplicates(sounds)
    assert [set(p) for p in pairs] == [{"p1:x", "p2:x"}]
    rs.merge_groups(sounds, pairs)
    assert sounds[0].group == sounds[1].group != sounds[2].group


def test_written_labels_read_back_and_import_into_a_project(tmp_path):
    from tfstudio.importer import import_audio, import_labels
    from tfstudio.store import Project

    sounds = make_sounds(seed=2)
    clips, _ = rs.make_split("train", 4, by_label(sounds), noisy_backgrounds(), seed=0)
    rs.write_clips(clips, tmp_path / "train")
    rs.write_labels(clips, tmp_path / "train.tsv")
    header = (tmp_path / "train.tsv").read_text().splitlines()[0]
    assert header == "filename\tonset\toffset\tevent_label"
    events = dcase.read(tmp_path / "train.tsv").events
    expected = [(c.name, e.onset, e.offset, e.label) for c in clips for e in c.events]
    got = [(e.recording, e.onset, e.offset, e.label) for e in events]
    assert len(got) == len(expected)
    for (n1, on1, off1, l1), (n2, on2, off2, l2) in zip(got, expected):
        assert (n1, l1) == (n2, l2)
        assert on1 == pytest.approx(on2, abs=1e-6) and off1 == pytest.approx(off2, abs=1e-6)

    project = Project.create(tmp_path / "proj")
    try:
        import_audio(project, [tmp_path / "train"], split="train")
        report = import_labels(project, [tmp_path / "train.tsv"])
        assert report.ok, report.summary()
        recs = project.recordings("train")
        assert sorted(r.name for r in recs) == sorted(c.name for c in clips)
        assert all(r.duration == pytest.approx(10.0) and r.sample_rate == SR for r in recs)
        assert len(project.labels()) == len(expected)
    finally:
        project.close()


def test_score_perfect_empty_and_out_of_range_detections():
    ref = [
        rs.metrics.Event("a.wav", 1.0, 2.5, "alpha"),
        rs.metrics.Event("a.wav", 2.0, 3.0, "beta"),
        rs.metrics.Event("b.wav", 4.0, 6.0, "alpha"),
    ]
    perfect = rs.score(ref, ref, ["alpha", "beta"])
    assert perfect["segment_f1"] == 1.0 and perfect["segment_er"] == 0.0
    assert perfect["event_f1"] == 1.0
    assert perfect["per_class"]["alpha"]["reference_events"] == 2
    empty = rs.score(ref, [], ["alpha", "beta"])
    # Nothing detected: precision (so F1) undefined, as in sed_eval; every reference deleted.
    assert empty["segment_f1"] is None and empty["segment_er"] == 1.0
    noisy = [
        *ref,
        rs.metrics.Event("c.wav", 0.0, 1.0, "alpha"),  # not a test recording
        rs.metrics.Event("a.wav", 0.0, 1.0, "zeta"),  # unknown class
        rs.metrics.Event("b.wav", 4.0, 11.0, "alpha"),  # runs past the clip: clipped to 10 s
    ]
    out = rs.score(ref, noisy, ["alpha", "beta"])
    assert out["ignored_detections"] == {"other_recording": 1, "unknown_label": 1}
    assert out["detected_events"] == 4


def test_score_command_prints_json(tmp_path, capsys):
    ref = tmp_path / "ref.tsv"
    det = tmp_path / "det.tsv"
    ref.write_text("filename\tonset\toffset\tevent_label\nx.wav\t1\t2\talpha\nx.wav\t3\t4\tbeta\n")
    det.write_text("filename\tonset\toffset\tevent_label\nx.wav\t1.05\t2.1\talpha\n")
    assert rs.main(["score", str(ref), str(det), "--out", str(tmp_path / "s.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["event_f1"] == pytest.approx(2 / 3)
    assert out["per_class"]["beta"]["detected_events"] == 0
    assert json.loads((tmp_path / "s.json").read_text()) == out


def test_opensfx_catalogue_and_dep5_parsing():
    wav = b"RIFF" + b"\0" * 60
    names = [b'"Cow". Original "moo.wav" by "x". License: Creative Commons Zero 1.0.', b"Empty"]
    blobs = [bytes([len(n) + 1]) + n + b"\0" + body for n, body in zip(names, [wav, b""])]
    table_size = 8 * len(blobs)
    offsets, pos = [], table_size
    for b in blobs:
        offsets.append(pos)
        pos += len(b)
    table = b"".join(struct.pack("<II", o | 0x80000000, len(b)) for o, b in zip(offsets, blobs))
    entries = rs.read_opensfx_cat(table + b"".join(blobs))
    assert [e[1] for e in entries] == [wav, b""]
    assert entries[0][0].startswith('"Cow"')

    text = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: someone\nLicense: GPL-2+\n This program is free software\n\n"
        "Files: stereo/bell.oga\n stereo/complete.oga\nCopyright: other\nLicense: CC-BY-3.0\n"
    )
    stanzas = rs.parse_dep5(text)
    assert stanzas == [(["*"], "GPL-2+"), (["stereo/bell.oga", "stereo/complete.oga"], "CC-BY-3.0")]
    assert rs.dep5_lookup(stanzas, "usr/share/sounds/freedesktop/stereo/complete.oga") == (
        1,
        "CC-BY-3.0",
    )
    assert rs.dep5_lookup(stanzas, "usr/share/sounds/x.oga") == (0, "GPL-2+")
    assert rs.parse_dep5("This package was debianized by ...\n") == []


def test_loop_to_fills_the_clip_without_gaps():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(SR) * 0.1).astype(np.float32)
    out = rs.loop_to(x, 5 * SR, rng, xfade=round(0.3 * SR))
    assert len(out) == 5 * SR
    frames = rs.frame_rms(out)
    assert frames.min() > 0.3 * frames.mean()  # crossfades leave no holes


def test_train_args_may_start_with_a_dash(monkeypatch):
    seen = {}

    def fake_ensure(data, cache, params, force=False):
        raise SystemExit(0)

    monkeypatch.setattr(rs, "ensure_data", fake_ensure)
    real_parse = rs.argparse.ArgumentParser.parse_args

    def spy(self, args=None, namespace=None):
        ns = real_parse(self, args, namespace)
        seen["train_args"] = getattr(ns, "train_args", None)
        return ns

    monkeypatch.setattr(rs.argparse.ArgumentParser, "parse_args", spy)
    with pytest.raises(SystemExit):
        rs.main(["--train-args", "--no-mixing", "--seed", "3"])
    assert seen["train_args"] == "--no-mixing"


def test_unlabelled_clips_change_neither_the_other_splits_nor_older_builds_parameters(tmp_path):
    plain = rs.BuildParams()
    with_unlabelled = rs.BuildParams(unlabelled_clips=30, unlabelled_side="train")
    # A build without unlabelled clips keeps the parameters (and so the cache) it had.
    assert "unlabelled_clips" not in plain.to_dict()
    assert plain.splits == ("train", "val", "test")
    assert with_unlabelled.to_dict()["unlabelled_clips"] == 30
    assert with_unlabelled.to_dict()["unlabelled_side"] == "train"
    assert with_unlabelled.splits[-1] == "unlabelled"
    ns = rs.argparse.Namespace(
        data=None,
        cache=str(tmp_path),
        seed=0,
        train_clips=60,
        val_clips=20,
        test_clips=40,
        test_fraction=0.35,
        snr=(6, 24),
        unlabelled_clips=0,
        unlabelled_side="test",
        val_side="heard",
    )
    assert rs._data_dir(ns).name == "data-seed0-60-20-40-snr6-24"
    ns.unlabelled_clips = 120
    assert rs._data_dir(ns).name == "data-seed0-60-20-40-snr6-24-u120test"
    ns.val_side = "unheard"
    assert rs._data_dir(ns).name == "data-seed0-60-20-40-snr6-24-u120test-valunheard"


def _scores(f1, er, ef1, per_class=None, review=None):
    run = {"segment_f1": f1, "segment_er": er, "event_f1": ef1, "event_er": 1.0}
    run["per_class"] = per_class or {"speech": {"segment_f1": f1}}
    if review is not None:
        run["review"] = review
    return run


def test_parse_seeds():
    assert rs.parse_seeds("0,1, 2") == [0, 1, 2]
    for bad in ("0,x", "1,1", ""):
        with pytest.raises(ValueError):
            rs.parse_seeds(bad)


def test_seeds_summary_means_ranges_classes_and_review():
    runs = {
        0: _scores(0.5, 0.7, 0.2, review=_scores(0.7, 0.4, 0.5)),
        1: _scores(0.6, 0.6, 0.3, review=_scores(0.8, 0.3, 0.4)),
        2: {"error": "exit code 1"},
    }
    summary = rs.seeds_summary(runs)
    assert summary["scored"] == [0, 1]
    assert summary["segment_f1"] == {"mean": 0.55, "min": 0.5, "max": 0.6}
    assert summary["segment_er"]["mean"] == 0.65
    assert summary["event_f1"] == {"mean": 0.25, "min": 0.2, "max": 0.3}
    assert summary["per_class_segment_f1"] == {"speech": 0.55}
    assert summary["review"]["segment_f1"]["mean"] == 0.75
    assert summary["review"]["event_f1"] == {"mean": 0.45, "min": 0.4, "max": 0.5}
    # One run without a review: no review statistics rather than a mean of some.
    runs[1] = _scores(0.6, 0.6, 0.3)
    assert "review" not in rs.seeds_summary(runs)
    assert rs.seeds_summary({3: {"error": "x"}}) == {"scored": []}


def test_seeds_summary_of_review_rounds_picked_several_ways():
    def run(f1, first, uncertain):
        out = _scores(f1, 0.6, 0.3, review=_scores(first, 0.5, 0.4))
        out["reviews"] = {"first": out["review"], "uncertain": _scores(uncertain, 0.4, 0.5)}
        return out

    summary = rs.seeds_summary({0: run(0.5, 0.6, 0.7), 1: run(0.5, 0.7, 0.9)})
    assert summary["reviews"]["first"]["segment_f1"]["mean"] == 0.65
    assert summary["reviews"]["uncertain"]["segment_f1"] == {"mean": 0.8, "min": 0.7, "max": 0.9}
    # A pick only some runs made has no statistics.
    runs = {0: run(0.5, 0.6, 0.7), 1: _scores(0.5, 0.6, 0.3, review=_scores(0.6, 0.5, 0.4))}
    runs[1]["reviews"] = {"first": runs[1]["review"]}
    assert set(rs.seeds_summary(runs)["reviews"]) == {"first"}


def _parsed(argv):
    """The namespace ``main`` parses ``argv`` into (stopped before any data is built)."""
    seen = {}
    real_parse = rs.argparse.ArgumentParser.parse_args

    def spy(self, args=None, namespace=None):
        ns = real_parse(self, args, namespace)
        seen["args"] = ns
        raise SystemExit(0)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rs.argparse.ArgumentParser, "parse_args", spy)
        with pytest.raises(SystemExit):
            rs.main(argv)
    return seen["args"]


@pytest.mark.parametrize("picks", ["best", "first,first", "first,"])
def test_an_unknown_or_repeated_review_pick_is_refused_before_any_data_is_built(
    picks, tmp_path, capsys
):
    with pytest.raises(SystemExit) as exc:
        rs.main(["run", "--cache", str(tmp_path), "--review-pick", picks])
    assert exc.value.code == 2
    assert "--review-pick: each of first, uncertain at most once" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_seed_command_repeats_the_run_with_one_training_seed(tmp_path):
    argv = [
        "run", "--train-args", "--set mix_probability=0", "--unlabelled-clips", "120",
        "--snr", "0", "20", "--review", "60", "--training-seeds", "0,1", "--jobs", "2",
        "--project", str(tmp_path / "p"), "--sed-eval", "--val-side", "unheard",
        "--review-pick", "first,uncertain",
    ]  # fmt: skip
    args = _parsed(argv)
    cmd = rs.seed_command(args, tmp_path / "data", 1, tmp_path / "s1.json")
    assert cmd[:2] == [sys.executable, str(Path(rs.__file__).resolve())]
    child = _parsed(cmd[2:])
    assert child.train_args == "--set mix_probability=0 --seed 1"
    assert child.training_seeds is None and child.jobs == 1
    assert child.data == str(tmp_path / "data") and child.out == str(tmp_path / "s1.json")
    assert child.project == str(tmp_path / "p" / "seed-1")
    assert (child.unlabelled_clips, child.snr, child.review) == (120, [0.0, 20.0], 60)
    assert child.review_pick == "first,uncertain"
    assert child.val_side == "unheard"  # the children build (or find) the same data set
    assert child.sed_eval and not child.cli_evaluate
    # No train args of its own: the seed alone.
    args = _parsed(["run", "--training-seeds", "3"])
    child = _parsed(rs.seed_command(args, tmp_path, 3, tmp_path / "o.json")[2:])
    assert child.train_args == "--seed 3" and child.project is None


def test_run_seeds_runs_each_seed_in_its_own_process_and_keeps_failures(tmp_path, monkeypatch):
    """The children are stand-ins that write what a finished run writes (a real run needs
    Debian packages and minutes of training): two at a time, one failing."""
    child = tmp_path / "child.py"
    child.write_text(
        "import json, os, sys, time\n"
        "seed, out, marks = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
        "open(os.path.join(marks, f'start-{seed}'), 'w').write(str(time.time()))\n"
        "time.sleep(0.5)\n"
        "running = len([n for n in os.listdir(marks) if n.startswith('start-')])"
        " - len([n for n in os.listdir(marks) if n.startswith('end-')])\n"
        "open(os.path.join(marks, f'end-{seed}'), 'w').write(str(running))\n"
        "print('progress of', seed, file=sys.stderr)\n"
        "if seed == 2: sys.exit(3)\n"
        "json.dump({'segment_f1': 0.5 + seed / 10, 'segment_er': 0.7, 'event_f1': 0.2,"
        " 'event_er': 1.0, 'threads': os.environ['OMP_NUM_THREADS']}, open(out, 'w'))\n",
        encoding="utf-8",
    )
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(rs.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(
        rs,
        "seed_command",
        lambda args, data, seed, out: [sys.executable, str(child), str(seed), str(out), str(marks)],
    )
    args = _parsed(
        ["run", "--training-seeds", "0,1,2", "--jobs", "2", "--project", str(tmp_path / "p")]
    )
    result = rs.run_seeds(args, tmp_path / "data", [0, 1, 2])
    assert result["failed"] == [2]
    assert result["runs"]["2"]["error"] == "exit code 3"
    assert "progress of 2" in result["runs"]["2"]["log_tail"]
    assert result["seeds"]["scored"] == [0, 1]
    assert result["runs"]["1"]["threads"] == "2"  # 4 cores, 2 jobs
    assert result["seeds"]["segment_f1"]["mean"] == pytest.approx(0.55)
    # Never more than two at a time, and the third waited for one of the first two.
    assert max(int((marks / f"end-{s}").read_text()) for s in (0, 1, 2)) <= 2
    assert (tmp_path / "p" / "seed-2.log").read_text().strip() == "progress of 2"
    with pytest.raises(SystemExit, match="not empty"):
        rs.run_seeds(args, tmp_path / "data", [0])


def test_unheard_val_sources_are_kept_apart_from_the_train_clips():
    """val_side "unheard": the val clips use only sources the train clips never do, and the
    test side stays as it was."""
    sounds = make_sounds(seed=0, per_class=16, groups_per_class=8)
    backgrounds = noisy_backgrounds(n=6)
    sides = rs.split_by_group(sounds, 0.35, seed=5)
    bg_sides = rs.split_by_group(backgrounds, 0.35, seed=5)
    apart, bg_apart = rs.val_sides(sides, bg_sides, seed=5)
    assert apart["test"] is sides["test"] and set(apart) == {"train", "val", "test"}
    for label in CLASSES:
        train_groups = {s.group for s in apart["train"][label]}
        val_groups = {s.group for s in apart["val"][label]}
        assert train_groups and val_groups and train_groups.isdisjoint(val_groups)
        assert train_groups | val_groups == {s.group for s in sides["train"][label]}
    train_clips, _ = rs.make_split("train", 12, apart["train"], bg_apart["train"][rs.BACKGROUND], 5)
    val_clips, _ = rs.make_split("val", 6, apart["val"], bg_apart["val"][rs.BACKGROUND], 5)
    train_sources = {e.source for c in train_clips for e in c.events}
    assert train_sources.isdisjoint({e.source for c in val_clips for e in c.events})
    train_backgrounds = {b for c in train_clips for b in c.background}
    assert train_backgrounds.isdisjoint({b for c in val_clips for b in c.background})
    params = rs.BuildParams(val_side="unheard").to_dict()
    assert (params["val_side"], params["val_fraction"]) == ("unheard", 0.25)
    assert "val_side" not in rs.BuildParams().to_dict()  # older builds keep their cache
    with pytest.raises(RuntimeError, match="too few source groups"):
        rs.val_sides(rs.split_by_group(make_sounds(groups_per_class=2), 0.35, 5), bg_sides, 5)
