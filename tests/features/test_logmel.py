"""Log-mel features: blockwise computation equals one computation over the whole signal."""

from __future__ import annotations

import numpy as np
import pytest

from tfstudio.audio import resample
from tfstudio.features import (
    FEATURE_PRESETS,
    FeatureConfig,
    LogMel,
    feature_preset,
    logmel,
    n_frames,
    stream_logmel,
)

# Blocks are transformed separately, so float rounding may differ in the last bits (dB values).
ATOL = 1e-4


def _signal(seconds: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t) * (t > seconds / 3)
    return (0.05 * rng.standard_normal(len(t)) + tone).astype(np.float32)


def _blocks(x: np.ndarray, size: int) -> list[np.ndarray]:
    return [x[i : i + size] for i in range(0, len(x), size)]


def test_frame_count_and_shape():
    cfg = FeatureConfig()
    x = _signal(3.0)
    out = logmel(x, cfg)
    assert out.shape == (1 + len(x) // cfg.hop_length, cfg.n_mels) == (n_frames(len(x), 441), 40)
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("block", "frames_per_block"), [(300, 37), (1000, 1), (4410, 150), (22050 * 3 + 17, 60)]
)
def test_stream_equals_full(block, frames_per_block):
    cfg = FeatureConfig()
    x = _signal(8.0)
    full = logmel(x, cfg)
    pieces = list(stream_logmel(_blocks(x, block), len(x), cfg, frames_per_block=frames_per_block))
    got = np.concatenate(pieces)
    assert got.shape == full.shape
    np.testing.assert_allclose(got, full, atol=ATOL, rtol=0)
    assert len(pieces) > 1


def test_stream_pads_and_trims_to_the_stated_length():
    cfg = FeatureConfig()
    x = _signal(8.0)
    short = np.concatenate(
        list(stream_logmel(_blocks(x[:-1000], 4000), len(x), cfg, frames_per_block=50))
    )
    padded = np.concatenate([x[:-1000], np.zeros(1000, np.float32)])
    np.testing.assert_allclose(short, logmel(padded, cfg), atol=ATOL, rtol=0)
    longer = np.concatenate(
        list(stream_logmel(_blocks(np.concatenate([x, x]), 4000), len(x), cfg, frames_per_block=50))
    )
    np.testing.assert_allclose(longer, logmel(x, cfg), atol=ATOL, rtol=0)


def test_frames_are_centred_on_hop_multiples():
    cfg = FeatureConfig()
    x = np.zeros(22050 * 3, dtype=np.float32)
    x[100 * cfg.hop_length] = 1.0  # a click at frame 100's centre
    energy = logmel(x, cfg).mean(axis=1)
    assert int(np.argmax(energy)) == 100


def test_tiny_signals():
    cfg = FeatureConfig()
    for n in (0, 1, 2, 100, 600):
        out = logmel(np.zeros(n, np.float32) + 0.1, cfg)
        assert out.shape == (1 + n // cfg.hop_length, cfg.n_mels)
        assert np.isfinite(out).all()


def test_silence_is_floored_not_minus_infinity():
    out = logmel(np.zeros(22050, np.float32), FeatureConfig())
    assert np.isfinite(out).all() and out.min() >= -100.0 - 1e-3


def test_config_key_is_stable_and_parameter_sensitive():
    a, b = FeatureConfig(), FeatureConfig()
    assert a.key() == b.key()
    assert FeatureConfig(n_mels=64).key() != a.key()
    assert FeatureConfig(hop_length=440).key() != a.key()
    assert FeatureConfig.from_dict(a.to_dict()) == a


def test_a_config_stored_before_mel_scale_existed_reads_as_slaney_with_its_key():
    old = {k: v for k, v in FeatureConfig(n_mels=64).to_dict().items() if k != "mel_scale"}
    config = FeatureConfig.from_dict(old)
    assert config.mel_scale == "slaney"
    assert config.key() == FeatureConfig(n_mels=64).key()
    assert FeatureConfig(n_mels=64, mel_scale="htk").key() != config.key()


def _band_of(frequency: float, config: FeatureConfig) -> int:
    t = np.arange(config.sample_rate) / config.sample_rate
    tone = (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return int(np.argmax(logmel(tone, config).mean(axis=0)))


def test_htk_bands_are_narrower_at_low_and_wider_at_middle_frequencies():
    slaney, htk = FeatureConfig(n_mels=64), FeatureConfig(n_mels=64, mel_scale="htk")
    # The slaney scale is linear below 1 kHz (~67 Hz a band at 64 bands up to 11 kHz); the
    # HTK scale is logarithmic throughout: more of its bands lie below 500 Hz, fewer above.
    assert _band_of(300.0, htk) >= _band_of(300.0, slaney) + 2
    assert _band_of(500.0, htk) >= _band_of(500.0, slaney) + 2
    assert _band_of(3000.0, htk) <= _band_of(3000.0, slaney) - 2
    # Both cover the same range: the top tone lands in (one of) the top bands of each.
    assert _band_of(10_000.0, slaney) >= 60 and _band_of(10_000.0, htk) >= 60


def test_presets():
    paper = FEATURE_PRESETS["paper"]
    # DCASE 2017 recipe: 44.1 kHz, 40 ms window, 20 ms hop, n_fft 2048, 40 bands.
    assert (paper.sample_rate, paper.n_fft, paper.n_mels) == (44100, 2048, 40)
    assert paper.win_length / paper.sample_rate == pytest.approx(0.040)
    assert paper.hop_s == pytest.approx(0.020)
    assert FEATURE_PRESETS["fast"].hop_s == pytest.approx(0.020)
    assert FEATURE_PRESETS["fast"].n_mels == 64
    assert feature_preset("fast", n_mels=40).n_mels == 40
    with pytest.raises(ValueError):
        feature_preset("nope")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_fft=1023),
        dict(win_length=2048),
        dict(fmax=20000.0),
        dict(fmin=-1.0),
        dict(hop_length=0),
        dict(mel_scale="bark"),
    ],
)
def test_bad_configs(kwargs):
    with pytest.raises(ValueError):
        FeatureConfig(**kwargs)


def test_resampled_input_gives_the_configured_frame_rate():
    cfg = FeatureConfig()
    x48 = _signal(2.0, sr=48000)
    out = logmel(resample(x48, 48000, cfg.sample_rate), cfg)
    assert abs(len(out) - 2.0 / cfg.hop_s) <= 1


@pytest.mark.parametrize("preset", ["paper", "fast"])
def test_fft_spectrogram_equals_torchlibrosas_dft_convolution(preset):
    # The log-mel used to come from torchlibrosa's Spectrogram (a convolution with the DFT
    # matrix); the FFT must give the same values, so features cached before stay valid.
    import torch
    from torchlibrosa.stft import Spectrogram

    config = feature_preset(preset)
    rng = np.random.default_rng(0)
    signal = (0.1 * rng.standard_normal(3 * config.sample_rate)).astype(np.float32)
    signal[: config.sample_rate] *= 1e-4  # a quiet second too
    mine = logmel(signal, config)
    dft = Spectrogram(
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window="hann",
        center=False,
        power=2.0,
    )
    padded = torch.from_numpy(np.pad(signal, config.n_fft // 2, mode="reflect"))[None]
    module = LogMel(config)
    with torch.inference_mode():
        theirs = module.mel(dft(padded)).squeeze(1)[0].numpy()
    assert mine.shape == theirs.shape
    np.testing.assert_allclose(mine, theirs, atol=1e-4, rtol=0)
