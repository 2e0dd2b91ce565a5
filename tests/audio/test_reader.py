import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import AudioError, AudioReader, probe, read_mono, resample

SR = 8000
FRAMES = 3 * SR + 37  # not a whole number of blocks


@pytest.fixture
def stereo(tmp_path):
    """A float WAV whose two channels differ, so that exact comparisons are possible."""
    rng = np.random.default_rng(0)
    data = rng.uniform(-0.5, 0.5, (FRAMES, 2)).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, data, SR, subtype="FLOAT")
    return path, data


def test_attributes(stereo):
    path, _data = stereo
    with AudioReader(path) as reader:
        assert (reader.sample_rate, reader.channels, reader.frames) == (SR, 2, FRAMES)
        assert reader.duration == pytest.approx(FRAMES / SR)
        assert not reader.closed
    assert reader.closed


def test_read_is_the_slice_of_the_whole(stereo):
    path, data = stereo
    with AudioReader(path) as reader:
        for start_s, end_s in [(0.0, 0.5), (0.25, 1.3), (1.0001, 2.9999), (2.5, 3.0)]:
            a, b = round(start_s * SR), round(end_s * SR)
            np.testing.assert_array_equal(reader.read(start_s, end_s, mono=False), data[a:b])
            mono = reader.read(start_s, end_s)
            assert mono.shape == (b - a,) and mono.dtype == np.float32
            np.testing.assert_allclose(mono, data[a:b].mean(axis=1), atol=1e-7)
        np.testing.assert_array_equal(reader.read_frames(100, 200, mono=False), data[100:200])


def test_mono_file_reads_one_dimensional(tmp_path):
    path = tmp_path / "mono.flac"
    sf.write(path, np.linspace(-0.5, 0.5, SR), SR)
    with AudioReader(path) as reader:
        assert reader.read(0, 0.5).shape == (SR // 2,)
        assert reader.read(0, 0.5, mono=False).shape == (SR // 2, 1)


def test_reads_are_clamped_to_the_file(stereo):
    path, data = stereo
    with AudioReader(path) as reader:
        end = reader.duration
        tail = reader.read(end - 0.1, end + 1.0, mono=False)
        np.testing.assert_array_equal(tail, data[-round(0.1 * SR) :])
        assert reader.read(end + 1, end + 2).shape == (0,)
        np.testing.assert_array_equal(reader.read(-1.0, 0.1, mono=False), data[: round(0.1 * SR)])
        assert reader.read(1.0, 0.5).shape == (0,)
        assert reader.read_frames(-5, FRAMES + 5, mono=False).shape == (FRAMES, 2)


def test_pad_gives_exactly_the_requested_length(stereo):
    path, data = stereo
    with AudioReader(path) as reader:
        end = reader.duration
        tail = reader.read(end - 0.1, end + 0.4, mono=False, pad=True)
        assert tail.shape == (round(0.5 * SR), 2)
        np.testing.assert_array_equal(tail[: round(0.1 * SR)], data[-round(0.1 * SR) :])
        assert not tail[round(0.1 * SR) :].any()
        head = reader.read(-0.25, 0.25, pad=True)
        assert head.shape == (round(0.5 * SR),)
        assert not head[: round(0.25 * SR)].any()
        np.testing.assert_allclose(head[round(0.25 * SR) :], data[: round(0.25 * SR)].mean(1))
        assert reader.read(end + 1, end + 2, pad=True).shape == (SR,)


def _concatenate(blocks):
    return np.concatenate([block for _t, block in blocks])


def test_blocks_cover_the_file(stereo):
    path, data = stereo
    with AudioReader(path) as reader:
        blocks = list(reader.blocks(0.5, mono=False))
        assert [t for t, _ in blocks] == [i * 0.5 for i in range(len(blocks))]
        np.testing.assert_array_equal(_concatenate(blocks), data)
        assert len(blocks[-1][1]) == FRAMES % (SR // 2)


def test_overlapping_blocks_are_slices(stereo):
    path, data = stereo
    block, hop = round(0.4 * SR), round(0.15 * SR)
    with AudioReader(path) as reader:
        blocks = list(reader.blocks(0.4, 0.15, mono=False, pad=True))
    assert len(blocks) == -(-FRAMES // hop)
    padded = np.concatenate([data, np.zeros((block, 2), np.float32)])
    for k, (t, x) in enumerate(blocks):
        assert t == pytest.approx(k * hop / SR)
        np.testing.assert_array_equal(x, padded[k * hop : k * hop + block])


def test_blocks_with_gaps_and_a_range(stereo):
    path, data = stereo
    with AudioReader(path) as reader:
        blocks = list(reader.blocks(0.1, 0.5, start_s=1.0, end_s=2.3, mono=False))
    starts = [round(t * SR) for t, _ in blocks]
    assert starts == [SR + k * SR // 2 for k in range(3)]
    for start, (_t, x) in zip(starts, blocks):
        np.testing.assert_array_equal(x, data[start : start + SR // 10])


def test_blocks_reject_empty_steps(stereo):
    with AudioReader(stereo[0]) as reader, pytest.raises(ValueError):
        next(reader.blocks(0.0))


def test_read_mono(stereo):
    path, data = stereo
    x, sr = read_mono(path, 1.0, 1.5)
    assert sr == SR
    np.testing.assert_allclose(x, data[SR : SR + SR // 2].mean(axis=1), atol=1e-7)
    assert read_mono(path)[0].shape == (FRAMES,)


def test_bad_file_raises_audio_error(tmp_path):
    path = tmp_path / "text.wav"
    path.write_text("no audio here")
    with pytest.raises(AudioError) as caught:
        AudioReader(path)
    assert caught.value.kind == "not_audio"
    with pytest.raises(AudioError) as caught:
        AudioReader(tmp_path / "missing.wav")
    assert caught.value.kind == "missing"


def test_odd_names(tmp_path):
    path = tmp_path / "-odd ünï\nname.wav"
    sf.write(path, np.zeros(SR, np.float32), SR)
    assert read_mono(path)[0].shape == (SR,)


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """Ten minutes at 8 kHz: 19 MB once decoded to float32."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    chunk = (np.sin(np.arange(60 * SR) * 0.05) * 8000).astype(np.int16)
    with sf.SoundFile(path, "w", SR, 1, "PCM_16") as f:
        for _ in range(10):
            f.write(chunk)
    return path


def test_memory_stays_bounded(long_file):
    decoded_bytes = 600 * SR * 4
    with AudioReader(long_file) as reader:
        assert reader.duration == 600
        tracemalloc.start()
        try:
            x = reader.read(300.0, 301.0)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _t, _block in reader.blocks(10.0):
                pass
            _current, blocks_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            probe(long_file)
            _current, probe_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert x.shape == (SR,)
    assert peak < 4 * SR * 4 < decoded_bytes / 100
    assert blocks_peak < 4 * 10 * SR * 4
    assert probe_peak < 2_000_000


def test_resample():
    assert resample(x := np.zeros(10, np.float32), SR, SR) is x
    t = np.arange(SR) / (2 * SR)
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)  # 0.5 s at 16 kHz
    down = resample(tone, 2 * SR, SR)
    assert down.shape == (SR // 2,) and down.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(down))
    assert np.fft.rfftfreq(len(down), 1 / SR)[np.argmax(spectrum)] == pytest.approx(1000, abs=4)
    stereo = np.stack([tone, -tone], axis=1)
    both = resample(stereo, 2 * SR, SR)
    assert both.shape == (SR // 2, 2)
    np.testing.assert_allclose(both[:, 0], down, atol=1e-6)
    np.testing.assert_allclose(both[:, 1], -down, atol=1e-6)
    with pytest.raises(ValueError):
        resample(tone, 0, SR)


def test_package_import_stays_light():
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    code = (
        "import sys, tfstudio.audio; "
        "heavy = {'torch', 'torchaudio', 'PySide6', 'pyqtgraph'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)


def _damaged(tmp_path: Path, suffix: str) -> tuple[Path, int]:
    """Four seconds of noise with 2000 random bytes written over its middle third (frames)."""
    frames = 4 * 44100
    noise = (np.random.default_rng(1).standard_normal((frames, 1)) * 0.3).astype(np.float32)
    path = tmp_path / f"damaged{suffix}"
    sf.write(path, noise, 44100)
    data = bytearray(path.read_bytes())
    at = len(data) // 3
    data[at : at + 2000] = np.random.default_rng(1).integers(0, 256, 2000, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path, frames


def test_undecodable_audio_is_an_audio_error_naming_the_file(tmp_path):
    # The header and the tail are sound, so the probe accepts it; the damage is found on reading.
    path, frames = _damaged(tmp_path, ".flac")
    assert probe(path).frames == frames
    with AudioReader(path) as reader, pytest.raises(AudioError) as caught:
        for _start, _block in reader.blocks(1.0):
            pass
    assert caught.value.path == path
    assert caught.value.kind == "malformed"
    assert "damaged audio: it cannot be decoded between" in caught.value.reason
    with AudioReader(path) as reader, pytest.raises(AudioError):
        reader.read_frames(0, frames)


def test_a_stream_that_decodes_short_is_refused_when_strict(tmp_path):
    # libvorbis skips the damaged pages: the frames after them would come early in a read.
    path, frames = _damaged(tmp_path, ".ogg")
    assert probe(path).frames == frames
    with AudioReader(path, strict=True) as reader, pytest.raises(AudioError) as caught:
        for _start, _block in reader.blocks(1.0):
            pass
    assert caught.value.kind == "malformed"
    assert "damaged audio: part of it between" in caught.value.reason
    with AudioReader(path, strict=True) as reader, pytest.raises(AudioError):
        reader.read_frames(0, frames)


def _mp3_with_silences(path, sr):
    # A tone in 0.5 s bursts between stretches of digital silence, then speech-like noise
    # after 2 s of silence: the quiet MP3 frames are small, so the bit reservoir reaches back
    # over many of them.
    t = np.arange(sr * 8)
    x = np.where((t // (sr // 2)) % 2 == 0, 0.3 * np.sin(t * 0.05), 0.0)
    noise = np.random.default_rng(0).standard_normal(sr * 3) * np.hanning(sr * 3) * 0.2
    x = np.concatenate([x, np.zeros(2 * sr), noise]).astype(np.float32)
    sf.write(path, x, sr, format="MP3")


@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="libsndfile without MP3")
@pytest.mark.parametrize("sr", [22050, 44100])
def test_an_mp3_read_in_pieces_is_the_mp3_read_at_once(tmp_path, sr):
    """soundfile's seek after each read made libsndfile's mpg123 decode the next frames
    without their bit reservoir: 4096-frame reads were wrong by up to 0.36."""
    path = tmp_path / "gaps.mp3"
    _mp3_with_silences(path, sr)
    whole, _ = sf.read(path, dtype="float32", always_2d=True)
    with AudioReader(path) as reader:
        blocks = [b for _, b in reader.blocks(4096 / sr, mono=False)]
        np.testing.assert_allclose(np.concatenate(blocks), whole, atol=1e-6)
        # Reads anywhere, in any order (a seek, then the preroll decoded first).
        rng = np.random.default_rng(1)
        for start in rng.integers(0, len(whole) - 3000, 25):
            piece = reader.read_frames(int(start), int(start) + 3000, mono=False)
            np.testing.assert_allclose(piece, whole[start : start + 3000], atol=1e-6)
        assert reader.read_frames(0, 10, mono=False).shape == (10, 1)
        tail = reader.read_frames(len(whole) - 5, len(whole) + 5, mono=False)
        np.testing.assert_allclose(tail, whole[-5:], atol=1e-6)
