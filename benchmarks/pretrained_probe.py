"""Does a CNN pretrained on sound-effects libraries know the real-sounds benchmark's unheard
sources? A probe, outside the app: frozen embeddings of the aiSFX model (Ma & Lerch, ISMIR
2022; weights CC BY 4.0, code MIT, shipped inside the ``aisfx`` wheel on PyPI — the one
pretrained general-audio model found that needs no download at run time) under a small
BiGRU trained on the benchmark's train clips, scored on its never-heard test clips; and,
given a kept benchmark project, the late fusion of that probe's posteriors with the
project's CRNN run (mean of the two, thresholds tuned per class on val).

    .venv/bin/python benchmarks/real_sounds.py build --unlabelled-clips 120 --unlabelled-side test
    .venv/bin/python benchmarks/pretrained_probe.py DATA [--seeds 0,1,2] [--project P]

``DATA`` is a data set folder that ``real_sounds.py build`` made; ``--project`` a project that
``real_sounds.py run --project P --keep-project`` kept, after ``tfstudio detect P --split
val`` (the run then holds posteriors of val and test). Prints one JSON object.

The aiSFX network is rebuilt here (four blocks of two 3×3 convolutions with batch norm,
64 → 512 channels, 2×2 max pooling after the first three), so its package and its pinned
dependencies are not installed: only its checkpoint is read. Its input is the log10(1 + 10⁴
·mel power) of 96 HTK mel bands (filters of unit sum) of 44.1 kHz audio, n_fft 2048, hop 1024,
divided by 9.4578, each file peak-normalised, as the package computes it. An embedding frame
is 8 hops (186 ms), the block-4 maps averaged over frequency (512 values).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio
from torch import nn

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import real_sounds
from tfstudio.train import metrics

CACHE = Path("~/.cache/tfstudio/bench/aisfx").expanduser()
WHEEL = "aisfx==0.1.2"
RATE, N_FFT, HOP, BANDS, SCALE = 44100, 2048, 1024, 96, 9.457798957824707
FRAME_S = 8 * HOP / RATE  # one embedding frame


def checkpoint() -> Path:
    """The aiSFX checkpoint, taken out of its wheel (fetched once with pip)."""
    target = CACHE / "checkpoint.pth"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(CACHE)],
        check=True,
    )
    (wheel,) = CACHE.glob("aisfx-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        target.write_bytes(zf.read("aisfx/models/checkpoint.pth"))
    return target


class Block(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor, pool: int) -> torch.Tensor:
        x = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
        return nn.functional.max_pool2d(x, pool) if pool > 1 else x


class Embedder(nn.Module):
    """(B, frames, 96) compressed mel → (B, frames // 8, 512)."""

    def __init__(self) -> None:
        super().__init__()
        sizes = (1, 64, 128, 256, 512)
        for i in range(4):
            self.add_module(f"conv_block{i + 1}", Block(sizes[i], sizes[i + 1]))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel[:, None]
        for i, pool in enumerate((2, 2, 2, 1)):
            x = getattr(self, f"conv_block{i + 1}")(x, pool)
        return x.mean(3).transpose(1, 2)


def load_embedder() -> Embedder:
    weights, _ = torch.load(checkpoint(), map_location="cpu", weights_only=False)
    net = Embedder()
    prefix = "embedding_net."
    net.load_state_dict({k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)})
    return net.eval()


_FILTERS = torchaudio.functional.melscale_fbanks(
    N_FFT // 2 + 1, 0.0, RATE / 2, BANDS, RATE, norm=None, mel_scale="htk"
)
_FILTERS = _FILTERS / _FILTERS.sum(0, keepdim=True).clamp_min(1e-12)
_WINDOW = torch.hann_window(N_FFT)


def compressed_mel(path: Path) -> torch.Tensor:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    y = torchaudio.functional.resample(torch.from_numpy(audio.mean(1)), rate, RATE)
    y = y / y.abs().max().clamp_min(1e-9)
    spec = torch.stft(y, N_FFT, HOP, window=_WINDOW, return_complex=True).abs() ** 2
    return torch.log10(spec.T @ _FILTERS * 1e4 + 1) / SCALE


def reference(data: Path, split: str) -> list[metrics.Event]:
    with open(data / f"{split}.tsv", newline="") as f:
        return [
            metrics.Event(r["filename"], float(r["onset"]), float(r["offset"]), r["event_label"])
            for r in csv.DictReader(f, delimiter="\t")
        ]


def frame_targets(events: list[metrics.Event], name: str, frames: int, classes: list[str]):
    y = torch.zeros(frames, len(classes))
    for e in events:
        if e.recording != name:
            continue
        a, b = e.onset / FRAME_S, e.offset / FRAME_S
        for k in range(frames):
            if min(b, k + 1) - max(a, k) > 0.5:
                y[k, classes.index(e.label)] = 1
    return y


def to_events(names, posts, thresholds, hop_s: float, classes, median: int = 1):
    out = []
    for name, post in zip(names, posts):
        active = post > thresholds
        for k, label in enumerate(classes):
            a = active[:, k].astype(np.int8)
            if median > 1:
                padded = np.pad(a, median // 2, mode="edge")
                a = (np.convolve(padded, np.ones(median), "valid") > median / 2).astype(np.int8)
            edges = np.diff(np.concatenate([[0], a, [0]]))
            for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
                out.append(metrics.Event(name, s * hop_s, min(e * hop_s, real_sounds.CLIP_S), label))
    return out


def tuned(score_val, n_classes: int) -> np.ndarray:
    """Per-class thresholds maximising each class's segment F1 on val, one class at a time."""
    thresholds = np.full(n_classes, 0.5)
    for k in range(n_classes):
        best = (-1.0, 0.5)
        for t in np.arange(0.1, 0.9, 0.05):
            trial = thresholds.copy()
            trial[k] = t
            f = score_val(trial)["per_class_f1"][k]
            if f > best[0]:
                best = (f, float(t))
        thresholds[k] = best[1]
    return thresholds


def brief(s) -> dict:
    return {k: s[k] for k in ("segment_f1", "segment_er", "event_f1", "detected_events")}


def probe(data: Path, seeds: list[int], project: Path | None) -> dict:
    torch.set_num_threads(2)
    classes = sorted({e.label for e in reference(data, "train")})
    net = load_embedder()
    splits = {}
    for split in ("train", "val", "test"):
        names = sorted(p.name for p in (data / split).glob("*.wav"))
        with torch.no_grad():
            feats = torch.cat([net(compressed_mel(data / split / n)[None]) for n in names])
        ref = reference(data, split)
        ys = torch.stack([frame_targets(ref, n, feats.shape[1], classes) for n in names])
        splits[split] = (names, feats, ys, ref)
    crnn = crnn_posteriors(project, classes) if project else None

    def score(split, posts, thresholds, hop_s, names, median=1):
        s = real_sounds.score(
            splits[split][3], to_events(names, posts, thresholds, hop_s, classes, median), classes
        )
        s["per_class_f1"] = [s["per_class"][c]["segment_f1"] or 0.0 for c in classes]
        return s

    result: dict = {"classes": classes, "frame_s": FRAME_S, "seeds": {}}
    for seed in seeds:
        post = train_head(splits, seed)
        names = {s: splits[s][0] for s in ("val", "test")}
        thresholds = tuned(lambda t: score("val", post["val"], t, FRAME_S, names["val"]), len(classes))
        row = {
            "test_at_0.5": brief(score("test", post["test"], np.full(len(classes), 0.5), FRAME_S, names["test"])),
            "test_tuned": brief(score("test", post["test"], thresholds, FRAME_S, names["test"])),
        }
        if crnn is not None:
            row["fusion"] = fusion(crnn, post, names, score, len(classes))
        result["seeds"][seed] = row
    return result


def train_head(splits, seed: int) -> dict[str, np.ndarray]:
    """A BiGRU (64 a direction) over standardised embeddings, best val loss of 80 epochs."""
    _, x, y, _ = splits["train"]
    _, xv, yv, _ = splits["val"]
    mean, std = x.flatten(0, 1).mean(0), x.flatten(0, 1).std(0) + 1e-5
    torch.manual_seed(seed)
    gru = nn.GRU(x.shape[2], 64, batch_first=True, bidirectional=True)
    out = nn.Linear(128, y.shape[2])
    drop = nn.Dropout(0.3)
    params = [*gru.parameters(), *out.parameters()]
    opt = torch.optim.Adam(params, 1e-3, weight_decay=1e-4)

    def logits(batch: torch.Tensor) -> torch.Tensor:
        return out(gru(drop((batch - mean) / std))[0])

    best, state = float("inf"), None
    for _ in range(80):
        drop.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 8):
            idx = order[i : i + 8]
            loss = nn.functional.binary_cross_entropy_with_logits(logits(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        drop.eval()
        with torch.no_grad():
            val = nn.functional.binary_cross_entropy_with_logits(logits(xv), yv).item()
        if val < best:
            best, state = val, [p.detach().clone() for p in params]
    assert state is not None
    with torch.no_grad():
        for p, kept in zip(params, state):
            p.copy_(kept)
        return {s: torch.sigmoid(logits(splits[s][1])).numpy() for s in ("val", "test")}


def crnn_posteriors(project: Path, classes: list[str]) -> tuple[dict[str, np.ndarray], float]:
    """The latest run's stored posteriors by file name, columns in ``classes`` order."""
    run = sorted((project / "runs").glob("run-*"), key=lambda p: int(p.name[4:]))[-1]
    saved = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    order = [saved["classes"].index(c) for c in classes]
    hop_s = saved["feature_config"]["hop_length"] / saved["feature_config"]["sample_rate"]
    with sqlite3.connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True) as con:
        by_hash = dict(con.execute("SELECT content_hash, name FROM recordings"))
    posts = {}
    for path in glob.glob(str(run / "posteriors" / "*.npy")):
        name = by_hash.get(Path(path).stem)
        if name is not None:
            posts[name] = np.load(path)[:, order]
    return posts, hop_s


def fusion(crnn, probe_posts, names, score, n_classes: int) -> dict:
    """Weight w of the probe in a mean of posteriors, on the CRNN's frames (median 5)."""
    posts, hop_s = crnn
    rows = {}
    for w in (0.0, 0.25, 0.5):
        fused = {}
        for split in ("val", "test"):
            fused[split] = []
            for name, p in zip(names[split], probe_posts[split]):
                c = posts[name]
                at = np.clip(((np.arange(len(c)) + 0.5) * hop_s / FRAME_S).astype(int), 0, len(p) - 1)
                fused[split].append((1 - w) * c + w * p[at])
        thresholds = tuned(lambda t: score("val", fused["val"], t, hop_s, names["val"], 5), n_classes)
        rows[str(w)] = brief(score("test", fused["test"], thresholds, hop_s, names["test"], 5))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--project", type=Path)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(json.dumps(probe(args.data, seeds, args.project), indent=1))


if __name__ == "__main__":
    main()
