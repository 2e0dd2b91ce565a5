import hashlib
import os
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import AudioError, probe

# The package exports the function `probe`, which hides the module of the same name.
probe_module = sys.modules["tfstudio.audio.probe"]

SR = 8000


def _signal(frames: int = SR, channels: int = 2, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((frames, channels)) * 0.1).astype(
        np.float32
    )


def _write(path: Path, frames: int = SR, channels: int = 2, **kwargs) -> Path:
    sf.write(path, _signal(frames, channels), SR, **kwargs)
    return path


def _cut(source: Path, target: Path, keep: float | int) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
    return target


def _reason(path: Path) -> AudioError:
    with pytest.raises(AudioError) as caught:
        probe(path)
    return caught.value


@pytest.mark.parametrize(
    ("name", "kwargs", "fmt", "subtype"),
    [
        ("a.wav", {"subtype": "PCM_16"}, "WAV", "PCM_16"),
        ("a.flac", {}, "FLAC", "PCM_16"),
        ("a.ogg", {}, "OGG", "VORBIS"),
        ("a.aiff", {"subtype": "PCM_24"}, "AIFF", "PCM_24"),
    ],
)
def test_probe_reads_the_header(tmp_path, name, kwargs, fmt, subtype):
    path = _write(tmp_path / name, frames=SR + 123, **kwargs)
    info = probe(path)
    assert (info.sample_rate, info.channels, info.frames) == (SR, 2, SR + 123)
    assert info.duration == pytest.approx((SR + 123) / SR)
    assert (info.format, info.subtype) == (fmt, subtype)
    assert info.path == path
    assert info.size == path.stat().st_size
    assert info.mtime == path.stat().st_mtime


def test_content_hash_is_the_files_identity(tmp_path):
    a = _write(tmp_path / "a.wav")
    info = probe(a)
    expected = hashlib.blake2b(a.read_bytes(), digest_size=16).hexdigest()
    assert info.content_hash == expected and len(expected) == 32
    moved = tmp_path / "elsewhere" / "renamed.wav"
    moved.parent.mkdir()
    a.rename(moved)
    assert probe(moved).content_hash == info.content_hash
    other = tmp_path / "other.wav"
    sf.write(other, _signal(seed=1), SR)
    assert probe(other).content_hash != info.content_hash


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 20)
    err = _reason(path)
    assert err.kind == "not_audio"
    assert "not an audio file" in err.reason
    assert str(err) == f"{path}: {err.reason}"
    assert err.path == path


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    err = _reason(path)
    assert (err.kind, err.reason) == ("empty", "empty file (0 bytes)")


def test_missing_file(tmp_path):
    err = _reason(tmp_path / "gone.wav")
    assert (err.kind, err.reason) == ("missing", "no such file")


def test_folder_is_not_a_file(tmp_path):
    err = _reason(tmp_path)
    assert err.kind == "not_a_file"
    assert "folder" in err.reason


def test_zero_frames(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 1), np.float32), SR)
    err = _reason(path)
    assert err.kind == "no_frames"
    assert "0 frames" in err.reason


@pytest.mark.parametrize("suffix", [".wav", ".aiff", ".w64", ".au"])
def test_uncompressed_file_cut_in_half_is_truncated(tmp_path, suffix):
    # libsndfile opens these and quietly reports only the frames that are there.
    whole = _write(tmp_path / f"whole{suffix}", subtype="PCM_16")
    cut = _cut(whole, tmp_path / f"cut{suffix}", 0.5)
    assert 0 < sf.info(cut).frames < SR
    err = _reason(cut)
    assert err.kind == "truncated"
    assert "truncated" in err.reason
    assert "1.00 s" in err.reason and "0.50 s" in err.reason


@pytest.mark.parametrize("keep", [44, 30, 16])
def test_wav_cut_inside_or_just_after_the_header_is_truncated(tmp_path, keep):
    # Neither "no frames" (44 bytes) nor libsndfile's "no 'data' chunk marker" (30, 16).
    whole = _write(tmp_path / "whole.wav", subtype="PCM_16")
    err = _reason(_cut(whole, tmp_path / "header.wav", keep))
    assert err.kind == "truncated"


def test_wav_with_a_streaming_header_is_accepted(tmp_path):
    # Writers that cannot seek back leave the sizes at 0xFFFFFFFF; libsndfile copes.
    data = bytearray(_write(tmp_path / "a.wav", channels=1, subtype="PCM_16").read_bytes())
    data[4:8] = data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    path = tmp_path / "streamed.wav"
    path.write_bytes(bytes(data))
    assert probe(path).frames == SR


def test_wav_short_by_a_few_bytes_is_accepted(tmp_path):
    whole = _write(tmp_path / "whole.wav", channels=1, subtype="PCM_16")
    cut = _cut(whole, tmp_path / "cut.wav", whole.stat().st_size - 100)
    assert probe(cut).frames == SR - 50


def test_flac_cut_in_half_is_truncated(tmp_path):
    whole = _write(tmp_path / "whole.flac")
    err = _reason(_cut(whole, tmp_path / "cut.flac", 0.5))
    assert err.kind == "truncated"


@pytest.mark.parametrize("frames", [SR, 4 * SR])
@pytest.mark.parametrize("keep", [0.3, 0.5, 0.9])
def test_ogg_cut_short_is_truncated(tmp_path, frames, keep):
    # libsndfile reads such a file up to its last whole page without complaint.
    whole = _write(tmp_path / "whole.ogg", frames=frames)
    err = _reason(_cut(whole, tmp_path / "cut.ogg", keep))
    assert err.kind == "truncated"


def test_opus(tmp_path):
    path = tmp_path / "a.opus"
    sf.write(path, _signal(), 48000, format="OGG", subtype="OPUS")
    info = probe(path)
    assert (info.format, info.subtype, info.sample_rate) == ("OGG", "OPUS", 48000)
    err = _reason(_cut(path, tmp_path / "cut.opus", 0.6))
    assert err.kind == "truncated"


@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="libsndfile without MP3")
def test_mp3(tmp_path):
    whole = _write(tmp_path / "whole.mp3", frames=2 * SR)
    info = probe(whole)
    assert (info.format, info.frames) == ("MP3", 2 * SR)
    err = _reason(_cut(whole, tmp_path / "cut.mp3", 0.5))
    assert err.kind == "truncated"


def test_damaged_header(tmp_path):
    data = bytearray(_write(tmp_path / "a.wav", subtype="PCM_16").read_bytes())
    data[24:28] = struct.pack("<I", 0)  # sample rate
    path = tmp_path / "rate0.wav"
    path.write_bytes(bytes(data))
    err = _reason(path)
    assert err.kind == "malformed"
    assert "sample rate" in err.reason


def test_non_positive_sample_rate(tmp_path, monkeypatch):
    # libsndfile refuses such headers itself; this guards against a reader that does not.
    path = _write(tmp_path / "a.wav")
    real = sf.info(path)

    class Zero:
        samplerate, channels, frames = 0, real.channels, real.frames
        format, subtype, duration = real.format, real.subtype, 0.0

    monkeypatch.setattr(probe_module.sf, "info", lambda _path: Zero())
    err = _reason(path)
    assert err.kind == "bad_sample_rate"
    assert "0 Hz" in err.reason


def test_unreadable_file(tmp_path):
    path = _write(tmp_path / "locked.wav")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("this user can read a file with mode 000 (root)")
        err = _reason(path)
        assert err.kind == "unreadable"
        assert "permission denied" in err.reason
    finally:
        path.chmod(0o644)


def test_permission_error_is_reported(tmp_path, monkeypatch):
    path = _write(tmp_path / "locked.wav")

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(probe_module, "open", refuse, raising=False)
    err = _reason(path)
    assert err.kind == "unreadable"
    assert "permission denied" in err.reason


def test_audio_error_pickles(tmp_path):
    err = AudioError(tmp_path / "x.wav", "no such file", "missing")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.path, copy.reason, copy.kind, str(copy)) == (
        err.path,
        err.reason,
        err.kind,
        str(err),
    )


ODD_NAMES = ["with space.wav", "ünïcødé – 声音.wav", "-leading-dash.wav", "new\nline.wav"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names(tmp_path, name):
    path = _write(tmp_path / name)
    assert probe(path).frames == SR
    assert probe(str(path)).frames == SR


@pytest.mark.skipif(sys.platform != "linux", reason="undecodable file names are a Linux thing")
def test_undecodable_name(tmp_path):
    path = tmp_path / os.fsdecode(b"latin1-\xe9t\xe9.wav")
    sf.write(os.fsencode(path), _signal(), SR)
    assert probe(path).frames == SR
    err = _reason(tmp_path / os.fsdecode(b"missing-\xff.wav"))
    assert err.kind == "missing"


@pytest.mark.parametrize("riff_size", [36, 0, 0xFFFFFFFF])
def test_wav_whose_writer_never_completed_the_header_says_so(tmp_path, riff_size):
    # A recorder that lost power: sizes left as written at the start, the audio after them.
    # libsndfile reports 0 frames, which the probe called "contains no audio".
    data = bytearray(_write(tmp_path / "a.wav", channels=1, subtype="PCM_16").read_bytes())
    assert data[36:40] == b"data"
    data[4:8] = struct.pack("<I", riff_size)
    data[40:44] = struct.pack("<I", 0)
    path = tmp_path / "unfinished.wav"
    path.write_bytes(bytes(data))
    err = _reason(path)
    assert err.kind == "malformed"
    assert "unfinished file: its header says it holds no audio" in err.reason
    assert f"{2 * SR} bytes (about 1.00 s) follow it" in err.reason
    # A file that really holds nothing is still said as such.
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1), np.float32), SR)
    assert _reason(tmp_path / "zero.wav").kind == "no_frames"
