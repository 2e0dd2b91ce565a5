"""Pretrain the fast preset's CNN front end on many real sounds, for ``init_cnn``.

Why: on ``benchmarks/real_sounds.py`` the detector trained on a day of labels maps sounds of
sources it never heard onto the nearest heard class (see benchmarks/README.md). A front end
that has learnt to tell thousands of other recordings apart may place an unheard sound nearer
to its own kind. No pretrained audio front end can be fetched here (the PyPI packages download
their weights at run time), so this trains one on the corpus ``frontend_corpus.py`` builds
from Debian packages that the benchmark does not use.

The task: 2.6 s (128-frame) mixtures of one to three corpus sounds over a long corpus
recording (music, ambience) or a noise floor, built in the log-mel domain as the training
recipe's event mixing does; each placed sound is to be named among the corpus's sound groups.
The network is exactly the CRNN's CNN at the fast preset (features, background subtraction,
per-band normalisation and SpecAugment as training applies them); a sound's CNN features are
averaged over its frames and go through batch norm and one linear layer to a softmax over the
groups, so the CNN must make the frames of each sound tell it apart. Only the CNN is kept.
(A frame-wise multi-label head over the groups, and this head without the batch norm, stayed
at the chance loss for hundreds of steps.)

    .venv/bin/python benchmarks/frontend.py pretrain --minutes 25 --batch-size 32 --out frontend.pt

The file holds the CNN's state dict, the model and feature parameters it fits, and the corpus
summary and pretraining history; ``tfstudio train P --init-cnn frontend.pt`` starts from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfstudio.features.config import FeatureConfig
from tfstudio.features.melspec import logmel
from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.train.augment import SpecAugment, add_power_db
from tfstudio.train.config import TrainConfig
from tfstudio.train.data import subtract_background
from tfstudio.train.frontend import FRONTEND_FORMAT, frontend_fields

CACHE = Path.home() / ".cache" / "tfstudio" / "bench" / "frontend"
FLOOR_DB = -100.0
TARGETS = ("groups", "words", "both")


def _say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


@dataclass
class Corpus:
    """Log-mel frames of the corpus: events (each with its group's class index) and the long
    recordings that serve as backgrounds."""

    events: list[np.ndarray]
    event_class: np.ndarray
    by_class: list[np.ndarray]
    longs: list[np.ndarray]
    groups: list[str]
    summary: dict[str, Any]
    group_package: list[str]
    # How often each group is drawn into a mixture; None: every group alike.
    weights: np.ndarray | None = None
    # Per group, the indices of its words in ``vocabulary`` (see :func:`group_words`).
    group_words: list[list[int]] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)

    def balance(self, how: str) -> None:
        """``group``: every group alike (a package with many groups, such as one game's voice
        packs, fills most mixtures). ``package``: a package is drawn with probability
        proportional to the square root of its number of groups, then one of its groups, so
        the big packages still give more, but far less than their share of groups."""
        if how == "group":
            self.weights = None
            return
        if how != "package":
            raise ValueError(f"balance: {how!r} (group or package)")
        sizes = Counter(self.group_package)
        share = {name: np.sqrt(n) for name, n in sizes.items()}
        total = sum(share.values())
        self.weights = np.asarray(
            [share[name] / total / sizes[name] for name in self.group_package]
        )
        self.weights /= self.weights.sum()


# Path words that say where a file lies or what format it is, not what it sounds like.
_STOP_TEXT = (
    "usr share games game sounds sound sfx snd data audio wav ogg oga flac mp3 voc aif "
    "aiff sample samples effects effect fx music misc default common media base lib local "
    "pkg and the for with from new old big small low high short long left right loop var "
    "version members wz pk3 drumkits drumkit h2drumkit kit"
)
_PATH_STOP = frozenset(_STOP_TEXT.split())


def path_words(path: str, package: str) -> set[str]:
    """The words of a file's path that may name its sound: split at case changes and
    anything not a letter, lower-cased, plural ``s`` dropped; without the package's own name
    parts, path boilerplate and words under three letters (``usr/share/games/hedgewars/
    Sounds/voices/Classic/Ouch.ogg`` -> voice, classic, ouch)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", path)
    drop = _PATH_STOP | set(re.split(r"[^a-z]+", package.lower()))
    words: set[str] = set()
    for word in re.split(r"[^a-z]+", spaced.lower()):
        if word in drop:
            continue
        if word.endswith("s") and len(word) > 4 and not word.endswith("ss"):
            word = word[:-1]
        if len(word) >= 3 and word not in drop:
            words.add(word)
    return words


def group_words(
    sounds: list[dict[str, Any]], min_packages: int = 2, min_groups: int = 5
) -> tuple[list[str], dict[str, set[str]]]:
    """A vocabulary of path words and each event group's words in it. A word is kept when
    groups of at least ``min_packages`` packages and ``min_groups`` groups use it: a word that
    one game alone uses says more about that game than about a kind of sound."""
    words_of: dict[str, set[str]] = {}
    for s in sounds:
        if s["kind"] == "long":
            continue
        key = f"{s['package']}:{s['group']}"
        words_of.setdefault(key, set()).update(path_words(s["path"], s["package"]))
    packages: dict[str, set[str]] = {}
    groups: Counter[str] = Counter()
    for key, words in words_of.items():
        for word in words:
            packages.setdefault(word, set()).add(key.split(":", 1)[0])
            groups[word] += 1
    vocabulary = sorted(
        w for w, pk in packages.items() if len(pk) >= min_packages and groups[w] >= min_groups
    )
    keep = set(vocabulary)
    return vocabulary, {key: words & keep for key, words in words_of.items()}


def load_corpus(folder: Path, fc: FeatureConfig, *, word_min_groups: int = 5) -> Corpus:
    """The corpus's sounds as log-mel, computed once and cached beside it; the path words
    of at least ``word_min_groups`` groups (of two packages or more) are its vocabulary."""
    text = (folder / "manifest.json").read_bytes()
    manifest = json.loads(text)
    if manifest["sample_rate"] != fc.sample_rate:
        raise SystemExit(
            f"{folder}: corpus at {manifest['sample_rate']} Hz, features want {fc.sample_rate}"
        )
    # Keyed by the manifest too: a rebuilt corpus must not reuse another one's frames.
    built = hashlib.blake2b(text, digest_size=6).hexdigest()
    cache = folder / f"logmel-{fc.key()}-{built}.npz"
    sounds = manifest["sounds"]
    if cache.exists():
        data = np.load(cache)
        frames, offsets = data["frames"], data["offsets"]
    else:
        _say(f"log-mel of {len(sounds)} sounds ...")
        pieces = [logmel(np.load(folder / s["file"]), fc) for s in sounds]
        offsets = np.cumsum([0] + [len(p) for p in pieces])
        frames = np.concatenate(pieces).astype(np.float32)
        np.savez(cache, frames=frames, offsets=offsets)
    events: list[np.ndarray] = []
    classes: list[int] = []
    longs: list[np.ndarray] = []
    index: dict[str, int] = {}
    package_of: list[str] = []
    for i, s in enumerate(sounds):
        feats = frames[offsets[i] : offsets[i + 1]]
        if s["kind"] == "long":
            longs.append(feats)
            continue
        events.append(feats)
        key = f"{s['package']}:{s['group']}"
        if key not in index:
            index[key] = len(index)
            package_of.append(s["package"])
        classes.append(index[key])
    event_class = np.asarray(classes, dtype=np.int64)
    by_class = [np.flatnonzero(event_class == c) for c in range(len(index))]
    vocabulary, words_of = group_words(sounds, min_groups=word_min_groups)
    position = {w: i for i, w in enumerate(vocabulary)}
    words = [sorted(position[w] for w in words_of.get(key, ())) for key in index]
    summary = {
        "sounds": len(sounds),
        "events": len(events),
        "groups": len(index),
        "long": len(longs),
        "hours": round(float(sum(s["seconds"] for s in sounds)) / 3600, 2),
        "packages": sorted(
            name for name, info in manifest.get("packages", {}).items() if info.get("files_used")
        ),
        "by_licence": manifest.get("totals", {}).get("by_licence"),
        "vocabulary": len(vocabulary),
        "groups_with_words": sum(1 for w in words if w),
    }
    return Corpus(
        events, event_class, by_class, longs, list(index), summary, package_of,
        group_words=words, vocabulary=vocabulary,
    )  # fmt: skip


def _level(feats: np.ndarray) -> float:
    """A loudness in dB: the 90th percentile of the frames' mean power."""
    power = np.power(10.0, feats / 10.0).mean(1)
    return float(10.0 * np.log10(np.percentile(power, 90) + 1e-10))


def mixture(
    corpus: Corpus, frames: int, n_mels: int, rng: np.random.Generator, max_events: int = 3
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """One training window (frames, n_mels) in dB and its events (class, first, stop)."""
    if corpus.longs and rng.random() < 0.8:
        bed = corpus.longs[int(rng.integers(len(corpus.longs)))]
        reps = math.ceil(frames / len(bed)) + 1
        start = int(rng.integers(len(bed)))
        window = np.tile(bed, (reps, 1))[start : start + frames].astype(np.float32).copy()
        window += np.float32(-10.0 - _level(window) + rng.uniform(-15.0, 10.0))
    else:
        tilt = np.linspace(0.0, rng.uniform(-30.0, 10.0), n_mels, dtype=np.float32)
        window = (rng.uniform(-80.0, -45.0) + tilt + rng.normal(0, 3.0, (frames, n_mels))).astype(
            np.float32
        )
    background = _level(window)
    placed: list[tuple[int, int, int]] = []
    count = int(rng.integers(1, max_events + 1))
    # p=None keeps the uniform draw's random stream as it always was.
    for cls in rng.choice(len(corpus.by_class), size=count, replace=False, p=corpus.weights):
        members = corpus.by_class[int(cls)]
        feats = corpus.events[int(members[int(rng.integers(len(members)))])]
        length = len(feats)
        if length > frames:
            skip = int(rng.integers(length - frames + 1))
            feats, length = feats[skip : skip + frames], frames
        at = int(rng.integers(frames - length + 1))
        gain = background + rng.uniform(0.0, 25.0) - _level(feats)
        add_power_db(window[at : at + length], feats, gain)
        placed.append((int(cls), at, at + length))
    return window, placed


class Pretrainer:
    """The CNN of a CRNN and a linear per-frame head over the corpus's groups."""

    def __init__(
        self,
        corpus: Corpus,
        cfg: TrainConfig,
        seed: int,
        frames: int = 128,
        max_events: int = 3,
        target: str = "groups",
        word_weight: float = 1.0,
    ) -> None:
        if target not in TARGETS:
            raise ValueError(f"target: {target!r} ({', '.join(TARGETS)})")
        if target != "groups" and not corpus.vocabulary:
            raise ValueError("target words: the corpus's paths give no shared words")
        self.target = target
        self.word_weight = word_weight
        self.corpus = corpus
        self.cfg = cfg
        self.fc = FeatureConfig.from_dict(cfg.features)
        model_config = config_from_preset(cfg.preset, self.fc.n_mels, 1, **cfg.model)
        torch.manual_seed(seed)
        self.model_config = model_config
        self.cnn_model = CRNN(model_config)
        # Batch norm over the pooled features first: with a plain linear layer the loss stayed
        # at log(groups) for 400 steps (the pooled ReLU features share a large common part).
        self.head = nn.Sequential(
            nn.BatchNorm1d(model_config.cnn_features),
            nn.Linear(model_config.cnn_features, len(corpus.by_class)),
        )
        # The words of a sound's path (shared across packages) as a multi-label target, from
        # the same pooled features: sounds that different games name alike ("explosion",
        # "engine", "bell") must come out alike, which telling groups apart does not ask.
        self.word_head = nn.Sequential(
            nn.BatchNorm1d(model_config.cnn_features),
            nn.Linear(model_config.cnn_features, max(1, len(corpus.vocabulary))),
        )
        self.word_targets = torch.zeros(len(corpus.by_class), max(1, len(corpus.vocabulary)))
        for group, indices in enumerate(corpus.group_words):
            self.word_targets[group, indices] = 1.0
        self.frames = frames
        self.max_events = max_events
        self.augment = SpecAugment(
            cfg.freq_mask_bands, cfg.time_mask_frames, cfg.gain_db, cfg.freq_shift_bands
        )
        self.rng = np.random.default_rng(seed)
        self.mean, self.std = self._statistics()

    def _front(self, window: np.ndarray) -> np.ndarray:
        return subtract_background(window, self.cfg.background_percentile)

    def _statistics(self, windows: int = 400) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(12345)
        stack = np.stack(
            [
                self._front(mixture(self.corpus, self.frames, self.fc.n_mels, rng)[0])
                for _ in range(windows)
            ]
        ).reshape(-1, self.fc.n_mels)
        return stack.mean(0).astype(np.float32), np.maximum(stack.std(0), 1e-3).astype(np.float32)

    def batch(
        self, size: int, rng: np.random.Generator, augment: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Normalised mixtures (size, frames, n_mels), and per placed sound its pooling row
        (1 / length over its frames of the flattened batch) and its class."""
        frames = self.frames
        feats = np.empty((size, frames, self.fc.n_mels), np.float32)
        rows: list[np.ndarray] = []
        classes: list[int] = []
        for b in range(size):
            window, placed = mixture(self.corpus, frames, self.fc.n_mels, rng, self.max_events)
            feats[b] = (self._front(window) - self.mean) / self.std
            if augment:
                self.augment(feats[b], frames, self.std, rng)
            for cls, first, stop in placed:
                row = np.zeros(size * frames, np.float32)
                row[b * frames + first : b * frames + stop] = 1.0 / (stop - first)
                rows.append(row)
                classes.append(cls)
        return (
            torch.from_numpy(feats),
            torch.from_numpy(np.stack(rows)),
            torch.tensor(classes, dtype=torch.long),
        )

    def pooled(self, feats: Tensor, pooling: Tensor) -> Tensor:
        """Each placed sound's mean CNN features over its frames."""
        encoded = self.cnn_model.convolve(feats)
        return pooling @ encoded.reshape(-1, encoded.shape[-1])

    def loss(self, feats: Tensor, pooling: Tensor, classes: Tensor) -> Tensor:
        """The pretext loss: cross-entropy over the groups, the word loss (binary
        cross-entropy summed over the vocabulary, per sound), or both."""
        pooled = self.pooled(feats, pooling)
        total = torch.zeros(())
        if self.target in ("groups", "both"):
            total = total + F.cross_entropy(self.head(pooled), classes)
        if self.target in ("words", "both"):
            word_logits = self.word_head(pooled)
            total = total + self.word_weight * F.binary_cross_entropy_with_logits(
                word_logits, self.word_targets[classes], reduction="sum"
            ) / len(classes)
        return total

    def train(
        self,
        minutes: float,
        batch_size: int,
        lr: float,
        log_every: int = 50,
        max_steps: int | None = None,
    ) -> dict[str, Any]:
        """Train for ``minutes`` (or ``max_steps`` steps, whichever ends first), the learning
        rate decaying by a cosine over whichever of the two is the budget."""
        params = (
            list(self.cnn_model.cnn.parameters())
            + list(self.head.parameters())
            + list(self.word_head.parameters())
        )
        optimizer = torch.optim.Adam(params, lr=lr)
        held = self.batch(64, np.random.default_rng(999), augment=False)
        started = time.monotonic()
        deadline = started + minutes * 60
        history = []
        step = 0
        self.cnn_model.train()
        while time.monotonic() < deadline and (max_steps is None or step < max_steps):
            # A cosine decay over the budget.
            done = (
                step / max_steps
                if max_steps is not None
                else (time.monotonic() - started) / (minutes * 60)
            )
            for group in optimizer.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))
            feats, pooling, classes = self.batch(batch_size, self.rng, augment=True)
            loss = self.loss(feats, pooling, classes)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            optimizer.step()
            step += 1
            if step % log_every == 0:
                score = self.evaluate(*held)
                history.append({"step": step, "loss": round(loss.item(), 4), **score})
                _say(
                    f"step {step:5d}  {time.monotonic() - started:6.0f} s  loss {loss.item():.4f}  "
                    f"held-out loss {score['loss']:.4f}  top-1 {score['top1']:.3f}  "
                    f"top-5 {score['top5']:.3f}  word precision@1 {score['word_p1']:.3f}"
                )
        return {"steps": step, "seconds": round(time.monotonic() - started, 1), "history": history}

    @torch.no_grad()
    def evaluate(self, feats: Tensor, pooling: Tensor, classes: Tensor) -> dict[str, float]:
        """Loss and top-1 / top-5 accuracy on fixed mixtures, without augmentation."""
        modules = (self.cnn_model, self.head, self.word_head)
        for module in modules:
            module.eval()
        pooled = self.pooled(feats, pooling)
        logits = self.head(pooled)
        word_logits = self.word_head(pooled)
        for module in modules:
            module.train()
        top = logits.topk(5, dim=-1).indices
        # Of the sounds that have words: how often the best-scored word is one of them.
        targets = self.word_targets[classes]
        has = targets.sum(-1) > 0
        best = word_logits.argmax(-1)
        hits = targets[torch.arange(len(classes)), best][has]
        return {
            "loss": round(F.cross_entropy(logits, classes).item(), 4),
            "top1": round((top[:, 0] == classes).float().mean().item(), 4),
            "top5": round((top == classes[:, None]).any(-1).float().mean().item(), 4),
            "word_p1": round(hits.mean().item(), 4) if len(hits) else math.nan,
        }


def pretrain(args: argparse.Namespace) -> dict[str, Any]:
    cfg = TrainConfig.from_preset("fast")
    fc = FeatureConfig.from_dict(cfg.features)
    corpus = load_corpus(Path(args.corpus), fc, word_min_groups=args.word_min_groups)
    corpus.balance(args.balance)
    _say(f"corpus: {json.dumps(corpus.summary)}")
    torch.set_num_threads(args.threads)
    trainer = Pretrainer(
        corpus, cfg, args.seed, args.frames, args.max_events, args.target, args.word_weight
    )
    result = trainer.train(args.minutes, args.batch_size, args.lr)
    fields = frontend_fields(trainer.model_config, fc, cfg.background_percentile)
    torch.save(
        {
            "format": FRONTEND_FORMAT,
            **fields,
            "cnn": trainer.cnn_model.cnn.state_dict(),
            "pretraining": {
                "corpus": corpus.summary,
                "minutes": args.minutes,
                "batch_size": args.batch_size,
                "frames": args.frames,
                "max_events": args.max_events,
                "balance": args.balance,
                "target": args.target,
                "word_weight": args.word_weight,
                "word_min_groups": args.word_min_groups,
                "vocabulary": corpus.vocabulary,
                "lr": args.lr,
                "seed": args.seed,
                **result,
            },
        },
        args.out,
    )
    return {"out": str(args.out), **fields, **result, "corpus": corpus.summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pretrain", help="train the front end on the corpus")
    p.add_argument("--corpus", default=str(CACHE / "corpus"))
    p.add_argument("--out", default=str(CACHE / "frontend-fast.pt"))
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=128, help="frames per mixture")
    p.add_argument("--max-events", type=int, default=3, help="sounds per mixture, at most")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--balance",
        choices=("group", "package"),
        default="group",
        help="draw every sound group alike (default), or packages by the square root of "
        "their number of groups",
    )
    p.add_argument(
        "--target",
        choices=TARGETS,
        default="groups",
        help="name each placed sound's group (default), the words of its path shared across "
        "packages, or both",
    )
    p.add_argument("--word-weight", type=float, default=1.0, help="the word loss's weight")
    p.add_argument(
        "--word-min-groups",
        type=int,
        default=5,
        help="a path word joins the vocabulary when this many groups use it (default 5)",
    )
    args = parser.parse_args(argv)
    result = pretrain(args)
    result.pop("history", None)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
