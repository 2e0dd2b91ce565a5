"""Front-end pretraining (benchmarks/frontend.py) on a small generated corpus in the corpus
builder's format: its mixtures say where each sound is, and what it writes is a front end that
a fast-preset run accepts (nothing is downloaded here)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from benchmarks import frontend as fe
from tfstudio.model.crnn import config_from_preset
from tfstudio.train.config import TrainConfig
from tfstudio.train.frontend import load_frontend

SR = 22050
# Steps of pretraining in the tests (about 15 s on 2 quiet cores); counted, not timed, so that
# a busy machine gives the same result.
STEPS = 40


@pytest.fixture
def corpus_dir(tmp_path):
    """Eight tone groups of two takes each (0.3-1.5 s) and two 12 s noise beds."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "corpus"
    (folder / "audio").mkdir(parents=True)
    sounds = []
    for i in range(18):
        kind = "long" if i >= 16 else "event"
        n = round(SR * (12.0 if kind == "long" else rng.uniform(0.3, 1.5)))
        t = np.arange(n) / SR
        if kind == "long":
            audio = rng.normal(0, 0.01, n)
        else:
            audio = 0.3 * np.sin(2 * np.pi * (300 + 400 * (i // 2)) * t)
        np.save(folder / "audio" / f"{i:06d}.npy", audio.astype(np.float32))
        sounds.append(
            {
                "id": i,
                "file": f"audio/{i:06d}.npy",
                "package": "gen",
                "version": "1",
                "path": f"s{i}.wav",
                "licence": "CC0-1.0",
                "group": f"g{i // 2}",
                "seconds": n / SR,
                "kind": kind,
                "excerpt": None,
            }
        )
    manifest = {"sample_rate": SR, "sounds": sounds, "packages": {"gen": {}}, "totals": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_mixtures_place_each_sound_where_it_is_labelled(corpus_dir):
    cfg = TrainConfig.from_preset("fast")
    corpus = fe.load_corpus(corpus_dir, cfg.feature_config)
    assert len(corpus.by_class) == 8 and len(corpus.longs) == 2
    rng = np.random.default_rng(1)
    for _ in range(20):
        window, placed = fe.mixture(corpus, 128, 64, rng, max_events=3)
        assert window.shape == (128, 64) and 1 <= len(placed) <= 3
        assert len({cls for cls, _, _ in placed}) == len(placed)  # no class twice
        loud = window.max(1)
        for _cls, first, stop in placed:
            assert 0 <= first < stop <= 128
            # A tone 0-25 dB over its background: its frames are louder than the quietest.
            assert loud[first:stop].mean() > np.percentile(loud, 10)


def test_pretraining_learns_and_writes_a_front_end_a_run_accepts(corpus_dir, tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig.from_preset("fast")
    corpus = fe.load_corpus(corpus_dir, cfg.feature_config)
    trainer = fe.Pretrainer(corpus, cfg, seed=0, frames=64, max_events=2)
    held = trainer.batch(32, np.random.default_rng(5), augment=False)
    before = trainer.evaluate(*held)
    trainer.train(minutes=10, batch_size=8, lr=2e-3, log_every=1000, max_steps=STEPS)
    after = trainer.evaluate(*held)
    assert after["loss"] < before["loss"] - 0.3, (before, after)

    out = tmp_path / "front.pt"
    assert fe.main(["pretrain", "--corpus", str(corpus_dir), "--out", str(out), "--minutes",
                    "0.05", "--batch-size", "4", "--frames", "64", "--threads", "1"]) == 0  # fmt: skip
    model = config_from_preset("fast", 64, 6, **cfg.model)
    state = load_frontend(out, model, cfg.feature_config, cfg.background_percentile)
    assert all(k.split(".")[0].isdigit() for k in state)  # the CNN's blocks alone
    saved = torch.load(out, weights_only=True)
    assert saved["pretraining"]["corpus"]["groups"] == 8


def test_package_balance_draws_packages_by_the_square_root_of_their_groups(corpus_dir):
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    for s in manifest["sounds"]:  # groups g0-g5 from one package, g6 and g7 from another
        s["package"] = "small" if s["group"] in ("g6", "g7") else "big"
    (corpus_dir / "manifest.json").write_text(json.dumps(manifest))
    corpus = fe.load_corpus(corpus_dir, TrainConfig.from_preset("fast").feature_config)

    def small_share(how: str) -> float:
        corpus.balance(how)
        rng = np.random.default_rng(3)
        draws = [fe.mixture(corpus, 64, 64, rng, max_events=1)[1][0][0] for _ in range(3000)]
        return float(np.mean([corpus.group_package[c] == "small" for c in draws]))

    assert abs(small_share("group") - 2 / 8) < 0.03
    assert abs(small_share("package") - np.sqrt(2) / (np.sqrt(2) + np.sqrt(6))) < 0.03
    with pytest.raises(ValueError, match="balance"):
        corpus.balance("sound")


def test_path_words_name_the_sound_not_the_package_or_the_folder_boilerplate():
    words = fe.path_words("usr/share/games/hedgewars/Data/Sounds/voices/Classic/Ouch.ogg",
                          "hedgewars-data")  # fmt: skip
    assert words == {"voice", "classic", "ouch"}
    assert fe.path_words("usr/share/sounds/CowMoo2_big.wav", "x") == {"cow", "moo"}
    assert fe.path_words("a/explosions/glass.flac", "y") == {"explosion", "glass"}


def _relabel(corpus_dir, paths):
    """Give the event groups of the generated corpus these paths and packages."""
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    for s in manifest["sounds"]:
        if s["kind"] == "event":
            s["package"], s["path"] = paths[int(s["group"][1:])]
    (corpus_dir / "manifest.json").write_text(json.dumps(manifest))


def test_word_vocabulary_keeps_words_that_several_packages_and_groups_share(corpus_dir):
    paths = [
        ("p1", "dog/bark.wav"), ("p1", "dog/growl.wav"), ("p1", "engine/idle.wav"),
        ("p2", "dog_howl.wav"), ("p2", "engine/start.wav"), ("p2", "engine/stop.wav"),
        ("p3", "bark/tree.wav"), ("p3", "bark/oak.wav"),
    ]  # fmt: skip
    _relabel(corpus_dir, paths)
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    vocabulary, words = fe.group_words(manifest["sounds"], min_packages=2, min_groups=3)
    # dog, engine and bark: 3 groups each, of 2 packages; growl, idle, tree...: one group.
    assert vocabulary == ["bark", "dog", "engine"]
    assert words["p1:g1"] == {"dog"} and words["p3:g7"] == {"bark"}
    assert fe.group_words(manifest["sounds"], min_packages=3, min_groups=3)[0] == []
    fc = TrainConfig.from_preset("fast").feature_config
    corpus = fe.load_corpus(corpus_dir, fc, word_min_groups=3)
    assert corpus.vocabulary == ["bark", "dog", "engine"]
    assert corpus.summary["vocabulary"] == 3 and corpus.summary["groups_with_words"] == 8
    assert fe.load_corpus(corpus_dir, fc).vocabulary == []  # 5 groups a word by default


def test_word_target_pretrains_the_front_end_to_name_the_words(corpus_dir):
    # Two kinds of tone, named alike across two packages: low ones "hum", high ones "beep".
    paths = [(f"p{g % 2}", f"{'hum' if g < 4 else 'beep'}/{g}.wav") for g in range(8)]
    _relabel(corpus_dir, paths)
    torch.manual_seed(0)
    # The tones are steady and fill the 64-frame mixtures: a window's median (the fast
    # preset's background subtraction since 2026-11-29) takes most of them away, its 10th
    # percentile only the noise floor, which leaves a pitch to name.
    cfg = TrainConfig.from_preset("fast", background_percentile=10.0)
    corpus = fe.load_corpus(corpus_dir, cfg.feature_config)
    with pytest.raises(ValueError, match="no shared words"):
        fe.Pretrainer(corpus, cfg, seed=0, frames=64, max_events=1, target="words")
    corpus = fe.load_corpus(corpus_dir, cfg.feature_config, word_min_groups=2)
    assert corpus.vocabulary == ["beep", "hum"]
    trainer = fe.Pretrainer(corpus, cfg, seed=0, frames=64, max_events=1, target="words")
    held = trainer.batch(32, np.random.default_rng(5), augment=False)
    before = trainer.evaluate(*held)
    trainer.train(minutes=10, batch_size=8, lr=2e-3, log_every=1000, max_steps=STEPS)
    after = trainer.evaluate(*held)
    assert after["word_p1"] >= 0.9 and before["word_p1"] < 0.8, (before, after)
    with pytest.raises(ValueError, match="target"):
        fe.Pretrainer(corpus, cfg, seed=0, target="captions")
