"""A corpus of real recorded sounds from Debian game packages, for pretraining a CNN front end.

    .venv/bin/python benchmarks/frontend_corpus.py [--cache DIR] [--out DIR] [--packages a,b,...]

Fetches the packages in :data:`PACKAGES` with ``apt-get download`` (no install, no root) into
its own cache and unpacks them with ``dpkg-deb -x`` (helpers of :mod:`benchmarks.real_sounds`),
also opening the zip archives some games keep their sounds in (Warzone 2100's ``.wz``). Every
audio file whose licence the package's machine-readable ``debian/copyright`` states is decoded
to mono float32 at 22 050 Hz and silence-trimmed as ``real_sounds`` does; files up to 12 s are
one sound each (``event``), longer ones (music, ambience, long voice lines) give at most three
non-overlapping 10 s excerpts (``long``). Takes of one sound share a group. Exact and
near-duplicate recordings are dropped.

The corpus is for pretraining the front end that ``tfstudio train --set init_cnn=FILE`` loads, so it
must stay disjoint from what ``benchmarks/real_sounds.py`` scores on: none of that benchmark's
packages is used (checked), and every sound that is the same recording as one of the
benchmark's source recordings (by :func:`real_sounds.same_recording` on spectral fingerprints,
in both directions and at any offset) is dropped and listed in the manifest.

Output (``--out``, default ``~/.cache/tfstudio/bench/frontend/corpus``): ``audio/NNNNNN.npy``
(float32 mono at the original level) and ``manifest.json`` (every sound's package, version,
path, licence, group, length, kind; per-package facts; what was dropped and why; totals). The
corpus is built in ``OUT.partial`` with the manifest written last, then renamed into place.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import real_sounds as rs

SR = rs.SR
PACKAGES = (
    "supertux-data",
    "wesnoth-1.16-data",
    "hedgewars-data",
    "warzone2100-data",
    "frozen-bubble-data",
    "neverball-data",
    "pingus-data",
    "xmoto-data",
    "lincity-ng-data",
    "extremetuxracer-data",
    "tuxtype-data",
    "scorched3d-data",
    "freedroidrpg-data",
    "megaglest-data",
    # Added on 2026-11-29 for more animals, vehicles and alerts (the first corpus's thin kinds):
    "widelands-data",
    "supertuxkart-data",
    "trigger-rally-data",
    "openarena-data",
    "bzflag-data",
    "pokerth-data",
    "chromium-bsu-data",
    "yaru-theme-sound",
    "gnome-control-center-data",
    "blinken",
    "kapman",
    "granatier",
    "kbounce",
    # and instruments, drums and more alerts and voices:
    "hydrogen-drumkits",
    "lmms-common",
    "kajongg",
    "linphone-common",
    "pidgin-data",
    "psi-plus-sounds",
    "kblocks",
    "kdiamond",
    "knavalbattle",
    "kollision",
    "ksirk",
    "bomber",
)
DEFAULT_CACHE = Path("~/.cache/tfstudio/bench/frontend").expanduser()
EVENT_MAX_S = 12.0  # longer files are "long": excerpts
MIN_S = 0.3  # shorter after trimming: dropped
EXCERPT_S = 10.0
MAX_EXCERPTS = 3
SILENCE_PEAK = 1e-4  # real_sounds.load_sound's digital-silence peak
ARCHIVES = (".wz", ".zip", ".pk3")  # zip archives whose audio members are used too
ARCHIVE_DIR = "_archives"  # where their members are written in the unpacked package
ARCHIVE_MEMBER = re.compile(r"(.*?\.(?:wz|zip|pk3))/(.*)", re.IGNORECASE)  # archive path, member
# Installed path -> the source-tree path debian/copyright names it by: (regular expression
# over the whole installed path, replacement), the first that matches.
UPSTREAM_PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    "supertux-data": ((r"usr/share/games/supertux2/(.*)", r"data/\1"),),
    "hedgewars-data": ((r"usr/share/games/hedgewars/(.*)", r"share/hedgewars/\1"),),
    "warzone2100-data": (
        (r"usr/share/games/warzone2100/base\.wz::(.*)", r"data/base/\1"),
        (r"usr/share/games/warzone2100/mp\.wz::(.*)", r"data/mp/\1"),
    ),
    # Each kit folder is unpacked from one drumkits/KIT.h2drumkit tarball of the source.
    "hydrogen-drumkits": (
        (r"usr/share/hydrogen/data/drumkits/([^/]+)/.*", r"drumkits/\1.h2drumkit"),
    ),
}
# Leakage guard: fingerprints shorter than this are only compared start to start (as
# real_sounds.find_duplicates does), not searched for at every offset of the other recording.
MIN_SCAN_FRAMES = 12  # ~0.3 s of 23 ms hops
SCAN_EDGE = 4  # frames dropped at each end of a searched fingerprint (same_recording's max lag)


def _say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --- packages -----------------------------------------------------------------------------


def check_disjoint(packages: Sequence[str], cache: Path) -> None:
    """Refuse any package (or the cache) of the benchmark in benchmarks/real_sounds.py."""
    shared = sorted(set(packages) & set(rs.packages()))
    if shared:
        raise SystemExit(f"the benchmark's own packages cannot be in the corpus: {shared}")
    if cache.resolve() == rs.DEFAULT_CACHE.resolve():
        raise SystemExit("use a cache of its own, not the real_sounds benchmark's")


def expand_archives(name: str, root: Path, cache: Path) -> None:
    """Write the audio members of the package's zip archives (``.wz``, ``.zip``, ``.pk3``) under
    ``root/_archives/<archive path>/`` (``fetch_package`` prunes the archives themselves)."""
    done = root / ".archives"
    if done.exists():
        return
    debs = sorted((cache / "debs").glob(f"{name}_*.deb"), key=lambda p: p.stat().st_mtime)
    found: list[str] = []
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            rel = member.name.removeprefix("./")
            if not member.isfile() or not rel.lower().endswith(ARCHIVES):
                continue
            blob = tar.extractfile(member)
            if blob is None:
                continue
            try:
                archive = zipfile.ZipFile(io.BytesIO(blob.read()))
            except zipfile.BadZipFile:
                continue
            for info in archive.infolist():
                if info.is_dir() or not rs._is_audio(info.filename):
                    continue
                target = root / ARCHIVE_DIR / rel / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))
            found.append(rel)
    if proc.wait() != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile failed for {debs[-1]}")
    done.write_text(json.dumps({"archives": found}))


@dataclass
class AudioFile:
    package: str
    path: str  # inside the package; "<archive>::<member>" for archive members
    file: Path  # where it is on disk
    licence: str | None


def package_files(name: str, root: Path) -> tuple[list[AudioFile], int]:
    """The package's audio files (symlinks left out: they point at files listed anyway), with
    their licence from ``usr/share/doc/NAME/copyright`` (None where it states none), and the
    number of symlinks skipped."""
    text_path = root / "usr/share/doc" / name / "copyright"
    text = text_path.read_text(errors="replace") if text_path.exists() else ""
    stanzas = rs.parse_dep5(text)
    out: list[AudioFile] = []
    links = 0
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith("usr/share/doc/") or not rs._is_audio(rel):
            continue
        if p.is_symlink():
            links += 1
            continue
        if not p.is_file():
            continue
        if rel.startswith(ARCHIVE_DIR + "/"):
            m = ARCHIVE_MEMBER.match(rel[len(ARCHIVE_DIR) + 1 :])
            if m is None:
                continue
            path = f"{m.group(1)}::{m.group(2)}"
        else:
            member = rs.member_name(rel)  # rs's own containers (.rcc, opensfx.cat)
            if member is None:
                continue
            path = member
        out.append(AudioFile(name, path, p, licence_of(name, stanzas, path)))
    return out, links


def licence_of(name: str, stanzas: list[tuple[list[str], str]], path: str) -> str | None:
    """The licence debian/copyright states for the file at ``path`` in package ``name``, or
    None. Where :data:`UPSTREAM_PATHS` gives the file's path in the source tree, the last
    paragraph whose pattern matches that whole path (the DEP-5 rule): real_sounds.dep5_lookup
    also matches any suffix, so hedgewars' ``Files: hedgewars/*`` (the engine's sources)
    would claim ``share/hedgewars/Data/Sounds/*``. Elsewhere real_sounds.dep5_lookup, whose
    suffix match is what finds installed files under upstream patterns."""
    for installed, source in UPSTREAM_PATHS.get(name, ()):
        m = re.fullmatch(installed, path)
        if m is not None:
            upstream = m.expand(source)
            hit = None
            for patterns, licence in stanzas:
                if any(fnmatch.fnmatchcase(upstream, pat) for pat in patterns):
                    hit = licence
            return hit
    found = rs.dep5_lookup(stanzas, path.split("::")[-1])
    return found[1] if found else None


def group_of(package: str, path: str) -> str:
    """Takes of one sound: same package and directory, same name without digits, separators
    and case (``step1.wav``, ``Step_2.ogg`` -> ``step``)."""
    directory, _, name = path.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    key = re.sub(r"[\d\s_\-.]+", "", stem.lower()) or "_"
    return f"{package}:{directory}/{key}"


# --- sounds -------------------------------------------------------------------------------


def trim_threshold(audio: np.ndarray) -> float:
    """real_sounds.find_regions' default threshold (35 dB under the loudest frame, at least
    65 dB under the peak) for ``audio`` at its own level: the one ``Sound.threshold`` gives for
    the peak-normalised recording, scaled back."""
    level = rs.frame_rms(audio)
    peak = float(np.max(np.abs(audio)))
    return max(float(level.max()) * 10 ** (-35 / 20), peak * 10 ** (-65 / 20))


def full_fingerprint(audio: np.ndarray) -> np.ndarray:
    """real_sounds.fingerprint over the whole of ``audio`` (not only its first 3 s)."""
    return rs.fingerprint(audio, seconds=max(len(audio), 1) / SR)


@dataclass
class Piece:
    """One corpus sound: a whole event file or one excerpt of a long file."""

    excerpt: int | None
    offset: int  # sample offset in the decoded file
    samples: int
    staged: Path
    start_fp: np.ndarray  # fingerprint of its first 3 s
    full_fp: np.ndarray  # fingerprint of all of it


@dataclass
class Item:
    """A decoded file that passed the licence, length and silence checks."""

    order: int
    source: AudioFile
    version: str
    native_rate: int
    kind: str
    length: int  # samples after trimming
    start_fp: np.ndarray  # fingerprint of the trimmed file's first 3 s (near duplicates)
    pieces: list[Piece] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.source.package}:{self.source.path}"


def excerpt_starts(length: int, key: str) -> list[int]:
    """Starts of at most :data:`MAX_EXCERPTS` non-overlapping :data:`EXCERPT_S` excerpts of a
    ``length``-sample recording: one at a seeded random place in each of as many equal
    sections as fit one excerpt each."""
    n = round(EXCERPT_S * SR)
    count = min(MAX_EXCERPTS, length // n)
    edges = np.linspace(0, length, count + 1).astype(int)
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return [int(rng.integers(a, b - n + 1)) for a, b in itertools.pairwise(edges)]


def decode(
    f: AudioFile, version: str, order: int, staging: Path, counts: Counter[str]
) -> tuple[Item | None, str | None]:
    """The file as an :class:`Item` with its pieces staged as .npy, and the hash of its
    trimmed samples; (None, None) when it is unreadable, silent or too short."""
    try:
        info = sf.info(str(f.file))
        data, rate = sf.read(str(f.file), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        _say(f"  unreadable {f.package}:{f.path}: {exc}")
        counts["unreadable"] += 1
        return None, None
    audio = rs.to_mono_sr(data, rate)
    del data
    if len(audio) == 0 or float(np.max(np.abs(audio))) <= SILENCE_PEAK:
        counts["silent"] += 1
        return None, None
    threshold = trim_threshold(audio)
    a, b = rs.trim(audio, threshold)
    if b - a < round(MIN_S * SR):
        counts["too_short"] += 1
        return None, None
    trimmed = audio[a:b]
    digest = hashlib.sha1(trimmed.tobytes()).hexdigest()
    kind = "event" if b - a <= round(EVENT_MAX_S * SR) else "long"
    item = Item(order, f, version, info.samplerate, kind, b - a, rs.fingerprint(trimmed))
    if kind == "event":
        spans = [(None, 0, b - a)]
    else:
        n = round(EXCERPT_S * SR)
        spans = []
        for s in excerpt_starts(b - a, item.name):
            piece = trimmed[s : s + n]
            # An excerpt of a quiet stretch (a pause between voice lines): not used.
            pa, pb = rs.trim(piece, threshold)
            if float(np.max(np.abs(piece))) > SILENCE_PEAK and pb - pa >= round(MIN_S * SR):
                spans.append((len(spans), s, s + n))
        if not spans:
            counts["too_short"] += 1
            return None, None
    for excerpt, s, e in spans:
        piece = np.ascontiguousarray(trimmed[s:e], dtype=np.float32)
        staged = staging / f"{order:06d}_{excerpt or 0}.npy"
        np.save(staged, piece)
        item.pieces.append(
            Piece(excerpt, a + s, e - s, staged, rs.fingerprint(piece), full_fingerprint(piece))
        )
    return item, digest


# --- the benchmark's recordings -----------------------------------------------------------


@dataclass
class BenchSound:
    id: str
    start_fp: np.ndarray
    full_fp: np.ndarray
    length: int


def benchmark_sounds() -> list[BenchSound]:
    """The source recordings benchmarks/real_sounds.py mixes its clips from (its catalogue's
    files, capped per group as its build does), from its decoded cache where they are there
    (decoded here, in memory, where not), trimmed as the corpus is."""
    cache = rs.DEFAULT_CACHE
    cands, _ = rs.candidates(cache)
    out = []
    for c in rs.cap_groups(cands):
        key = rs._stable_key(f"{c.id}|{c.path.stat().st_size}|{SR}")
        npy = cache / "decoded" / f"{key}.npy"
        if npy.exists():
            audio = np.load(npy)
        else:
            try:
                data, rate = sf.read(str(c.path), dtype="float32", always_2d=True)
            except (RuntimeError, sf.LibsndfileError, ValueError):
                continue
            audio = rs.to_mono_sr(data, rate)
        if len(audio) == 0 or float(np.max(np.abs(audio))) <= SILENCE_PEAK:
            continue
        a, b = rs.trim(audio, trim_threshold(audio))
        if b <= a:
            continue
        x = audio[a:b]
        out.append(BenchSound(c.id, rs.fingerprint(x), full_fingerprint(x), b - a))
    return out


def scan(
    queries: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    *,
    min_corr: float = 0.95,
    fft_size: int = 16384,
) -> list[tuple[int, int, int, float]]:
    """(query, target, frame offset, correlation) for each query that matches a window of a
    target as :func:`real_sounds.same_recording` judges it (correlation of the mean-removed
    fingerprints >= ``min_corr``), at its best offset in that target. The correlation at every
    offset comes from FFTs over all targets at once (overlap-save blocks); each hit is
    confirmed with ``same_recording`` itself."""
    if not queries or not targets:
        return []
    lengths = np.array([len(t) for t in targets])
    seg = np.repeat(np.arange(len(targets)), lengths)
    t_all = np.concatenate([np.asarray(t, dtype=np.float64) for t in targets])
    m, bands = t_all.shape
    nmax = max(len(q) for q in queries)
    block = fft_size - nmax + 1
    if block < 1:
        raise ValueError("fft_size too small for the queries")
    spectra = []
    for start in range(0, m, block):
        chunk = t_all[start : start + block + nmax - 1]
        spectra.append(np.fft.rfft(chunk, fft_size, axis=0))
    row1 = np.concatenate([[0.0], np.cumsum(t_all.sum(axis=1))])
    row2 = np.concatenate([[0.0], np.cumsum((t_all**2).sum(axis=1))])
    hits = []
    for qi, q in enumerate(queries):
        n = len(q)
        windows = m - n + 1
        if windows < 1:
            continue
        q0 = q - q.mean()
        qnorm = float(np.linalg.norm(q0))
        if qnorm == 0:
            continue
        fq = np.conj(np.fft.rfft(q0, fft_size, axis=0))
        num = np.concatenate(
            [np.fft.irfft((s * fq).sum(axis=1), fft_size)[:block] for s in spectra]
        )[:windows]
        s1 = row1[n:] - row1[:-n]
        s2 = row2[n:] - row2[:-n]
        var = np.maximum(s2 - s1**2 / (n * bands), 0.0)
        den = qnorm * np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.where(den > 0, num / den, 0.0)
        ok = (corr >= min_corr - 1e-6) & (seg[:windows] == seg[n - 1 :])
        best: dict[int, tuple[float, int]] = {}
        for j in np.flatnonzero(ok):
            t = int(seg[j])
            if t not in best or corr[j] > best[t][0]:
                best[t] = (float(corr[j]), int(j))
        for t, (c, j) in best.items():
            if rs.same_recording(q, t_all[j : j + n], max_lag=0, min_corr=min_corr):
                hits.append((qi, t, j - int(lengths[:t].sum()), round(c, 4)))
    return hits


def _searched(fp: np.ndarray) -> np.ndarray | None:
    """The part of a fingerprint searched at every offset (same_recording's lag allowance
    taken off each end), or None when too short to search without chance matches."""
    if len(fp) < MIN_SCAN_FRAMES + 2 * SCAN_EDGE:
        return None
    return fp[SCAN_EDGE:-SCAN_EDGE]


def benchmark_matches(
    items: Sequence[Item], bench: Sequence[BenchSound]
) -> dict[int, list[dict[str, Any]]]:
    """Items (by order) with a piece that is the same recording as a benchmark source: start to
    start as real_sounds.find_duplicates compares (lengths within 10 % + 50 ms), and the start
    of either searched at every offset of the other."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    pieces = [(it, p) for it in items for p in it.pieces]
    # 1. start to start, similar lengths (find_duplicates' rule, both ways).
    by_len = sorted(range(len(bench)), key=lambda i: bench[i].length)
    lens = np.array([bench[i].length for i in by_len])
    for it, p in pieces:
        n = p.samples
        lo = np.searchsorted(lens, (n - 0.05 * SR) / 1.1, side="left")
        hi = np.searchsorted(lens, n * 1.1 + 0.05 * SR, side="right")
        near = by_len[lo:hi]
        for k, hit in zip(near, same_recording_many(p.start_fp, [bench[k].start_fp for k in near])):
            if hit:
                found[it.order].append({"benchmark": bench[k].id, "how": "start"})
    _say(f"  leakage guard: start-to-start done, {len(found)} files match")
    # 2. a corpus sound's start inside a benchmark recording.
    queries, owners = [], []
    for it, p in pieces:
        q = _searched(p.start_fp)
        if q is not None:
            queries.append(q)
            owners.append(it)
    for qi, ti, off, c in scan(queries, [b.full_fp for b in bench]):
        found[owners[qi].order].append(
            {"benchmark": bench[ti].id, "how": "corpus in benchmark", "frame": off, "corr": c}
        )
    _say(f"  leakage guard: corpus starts searched in the benchmark, {len(found)} files match")
    # 3. a benchmark recording's start inside a corpus sound.
    bq = [(b, _searched(b.start_fp)) for b in bench]
    bq = [(b, q) for b, q in bq if q is not None]
    for qi, ti, off, c in scan([q for _, q in bq], [p.full_fp for _, p in pieces]):
        it = pieces[ti][0]
        found[it.order].append(
            {"benchmark": bq[qi][0].id, "how": "benchmark in corpus", "frame": off, "corr": c}
        )
    _say(f"  leakage guard: benchmark starts searched in the corpus, {len(found)} files match")
    return dict(found)


# --- duplicates within the corpus ---------------------------------------------------------


def same_recording_many(
    fa: np.ndarray, fbs: Sequence[np.ndarray], *, max_lag: int = 4, min_corr: float = 0.95
) -> list[bool]:
    """``[real_sounds.same_recording(fa, fb) for fb in fbs]``, computed for all fingerprints of
    one length at once (the same correlations over the same frames, in matrix products)."""
    out = [False] * len(fbs)
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, fb in enumerate(fbs):
        by_len[len(fb)].append(i)
    for idx in by_len.values():
        stack = np.stack([fbs[i] for i in idx])
        best = np.full(len(idx), -1.0)
        for lag in range(-max_lag, max_lag + 1):
            a = fa[max(0, lag) :]
            b = stack[:, max(0, -lag) :]
            n = min(len(a), b.shape[1])
            if n < 3:
                continue
            x = a[:n].ravel() - a[:n].mean()
            y = b[:, :n].reshape(len(idx), -1)
            y = y - y.mean(axis=1, keepdims=True)
            den = np.linalg.norm(x) * np.linalg.norm(y, axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                corr = np.where(den > 0, (y @ x) / den, -1.0)
            best = np.maximum(best, corr)
        for k, i in enumerate(idx):
            if abs(best[k] - min_corr) < 1e-6:  # too close to call in another summation order
                out[i] = rs.same_recording(fa, fbs[i], max_lag=max_lag, min_corr=min_corr)
            else:
                out[i] = bool(best[k] >= min_corr)
    return out


def near_duplicates(items: Sequence[Item]) -> dict[int, int]:
    """Items (by order) that are the same recording as an earlier item, and that item: trimmed
    lengths within 10 % + 50 ms and matching start fingerprints, as
    real_sounds.find_duplicates compares."""
    spans = sorted(items, key=lambda it: it.length)
    lengths = np.array([it.length for it in spans])
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    for i, it in enumerate(spans):
        stop = int(np.searchsorted(lengths, it.length * 1.1 + 0.05 * SR, side="right"))
        others = spans[i + 1 : stop]
        same = same_recording_many(it.start_fp, [o.start_fp for o in others])
        for other, hit in zip(others, same):
            if hit:
                ra, rb = root(it.order), root(other.order)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    return {i: root(i) for i in parent if root(i) != i}


# --- building -----------------------------------------------------------------------------


def _round(x: float) -> float:
    return round(float(x), 3)


def build(cache: Path, out: Path, packages: Sequence[str]) -> dict[str, Any]:
    """Fetch, decode, deduplicate, guard against leakage and write the corpus; returns the
    manifest."""
    t0 = time.time()
    check_disjoint(packages, cache)
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise SystemExit(f"{out} is not empty and holds no manifest.json: not overwriting it")
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    staging = partial / "staging"
    staging.mkdir(parents=True)

    counts: Counter[str] = Counter()
    pkg_info: dict[str, dict[str, Any]] = {}
    items: list[Item] = []
    exact: dict[str, int] = {}  # hash of trimmed samples -> first item's order
    exact_dups: dict[int, int] = {}  # dropped order -> order of the item it repeats
    dropped_items: dict[int, Item] = {}
    no_licence: Counter[str] = Counter()
    order = 0
    for name in packages:
        t1 = time.time()
        root = rs.fetch_package(name, cache, ("*",))
        expand_archives(name, root, cache)
        meta = rs.package_info(root)
        files, links = package_files(name, root)
        pkg_info[name] = {
            "version": meta["version"],
            "deb_size": meta["size"],
            "files_used": 0,
            "files_skipped_no_licence": 0,
            "seconds": 0.0,
            "audio_files": len(files),
            "symlinks_skipped": links,
        }
        before = len(items)
        for f in files:
            if f.licence is None:
                no_licence[name] += 1
                continue
            item, digest = decode(f, meta["version"], order, staging, counts)
            order += 1
            if item is None or digest is None:
                continue
            if digest in exact:
                exact_dups[item.order] = exact[digest]
                dropped_items[item.order] = item
                for p in item.pieces:
                    p.staged.unlink()
                continue
            exact[digest] = item.order
            items.append(item)
        pkg_info[name]["files_skipped_no_licence"] = no_licence[name]
        _say(
            f"{name} {meta['version']}: {len(files)} audio files, {no_licence[name]} without "
            f"a stated licence, {len(items) - before} kept "
            f"({time.time() - t1:.0f} s)"
        )

    _say(f"leakage guard: {len(items)} files against the benchmark's recordings ...")
    t1 = time.time()
    bench = benchmark_sounds()
    matches = benchmark_matches(items, bench)
    # Exact copies of a file that matched the benchmark are benchmark duplicates too.
    for dup, first in exact_dups.items():
        if first in matches:
            matches[dup] = [
                {"benchmark": m["benchmark"], "how": "exact copy"} for m in matches[first]
            ]
    by_order = {it.order: it for it in items} | dropped_items
    _say(
        f"  {len(bench)} benchmark recordings, {len(matches)} corpus files dropped "
        f"({time.time() - t1:.0f} s)"
    )
    kept = [it for it in items if it.order not in matches]
    t1 = time.time()
    near = near_duplicates(kept)
    _say(f"near duplicates: {len(near)} of {len(kept)} files ({time.time() - t1:.0f} s)")
    kept = [it for it in kept if it.order not in near]

    audio_dir = partial / "audio"
    audio_dir.mkdir()
    sounds: list[dict[str, Any]] = []
    for it in sorted(kept, key=lambda it: it.order):
        for p in it.pieces:
            sid = len(sounds)
            rel = f"audio/{sid:06d}.npy"
            os.replace(p.staged, partial / rel)
            seconds = p.samples / SR
            sounds.append(
                {
                    "id": sid,
                    "file": rel,
                    "package": it.source.package,
                    "version": it.version,
                    "path": it.source.path,
                    "licence": it.source.licence,
                    "group": group_of(it.source.package, it.source.path),
                    "seconds": _round(seconds),
                    "kind": it.kind,
                    "excerpt": p.excerpt,
                    "offset_seconds": _round(p.offset / SR),
                    "native_rate": it.native_rate,
                }
            )
            info = pkg_info[it.source.package]
            info["seconds"] += seconds
        pkg_info[it.source.package]["files_used"] += 1
    shutil.rmtree(staging)
    for info in pkg_info.values():
        info["seconds"] = _round(info["seconds"])

    def tally(key: str) -> dict[str, Any]:
        acc: dict[str, Any] = {}
        for s in sounds:
            d = acc.setdefault(s[key], {"sounds": 0, "seconds": 0.0})
            d["sounds"] += 1
            d["seconds"] += s["seconds"]
        return {k: {**v, "seconds": _round(v["seconds"])} for k, v in sorted(acc.items())}

    total_seconds = sum(s["seconds"] for s in sounds)
    bench_paths = sorted(by_order[i].name for i in matches)
    manifest = {
        "sample_rate": SR,
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "sounds": sounds,
        "packages": pkg_info,
        "dropped": {
            "no_licence": sum(no_licence.values()),
            "too_short": counts["too_short"],
            "duplicates": len(near) + sum(1 for d in exact_dups if d not in matches),
            "benchmark_duplicates": bench_paths,
            "silent": counts["silent"],
            "unreadable": counts["unreadable"],
        },
        "leakage": {
            "benchmark_recordings": len(bench),
            "benchmark_packages": rs.packages(),
            "matches": {by_order[i].name: m for i, m in sorted(matches.items())},
        },
        "duplicates_of": {
            by_order[d].name: by_order[k].name
            for d, k in sorted({**exact_dups, **near}.items())
            if d not in matches
        },
        "totals": {
            "sounds": len(sounds),
            "groups": len({s["group"] for s in sounds}),
            "seconds": _round(total_seconds),
            "hours": round(total_seconds / 3600, 3),
            "by_kind": tally("kind"),
            "by_licence": tally("licence"),
        },
        "build_seconds": round(time.time() - t0, 1),
    }
    tmp = partial / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, partial / "manifest.json")
    old = out.with_name(out.name + f".old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    partial.rename(out)
    if old.exists():
        shutil.rmtree(old)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="frontend_corpus.py",
        description="Build the front-end pretraining corpus from Debian game packages.",
    )
    parser.add_argument(
        "--cache",
        default=str(DEFAULT_CACHE),
        help="download and unpack cache (debs/, pkgs/; default %(default)s)",
    )
    parser.add_argument("--out", help="corpus folder (default: CACHE/corpus)")
    parser.add_argument(
        "--packages",
        help=f"comma-separated packages (default: {','.join(PACKAGES)})",
    )
    args = parser.parse_args(argv)
    cache = Path(args.cache).expanduser()
    out = Path(args.out).expanduser() if args.out else cache / "corpus"
    packages = [p.strip() for p in args.packages.split(",") if p.strip()] if args.packages else []
    manifest = build(cache, out, packages or list(PACKAGES))
    summary = {
        "corpus": str(out),
        **manifest["totals"],
        "packages": {
            k: {kk: v[kk] for kk in ("files_used", "files_skipped_no_licence", "seconds")}
            for k, v in manifest["packages"].items()
        },
        "dropped": {
            **{k: v for k, v in manifest["dropped"].items() if k != "benchmark_duplicates"},
            "benchmark_duplicates": len(manifest["dropped"]["benchmark_duplicates"]),
        },
        "build_seconds": manifest["build_seconds"],
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
