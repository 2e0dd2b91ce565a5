"""View settings: what a remembered value reads as, and the clamps an old file needs."""

from __future__ import annotations

from dataclasses import asdict

from tfstudio.session.view_settings import FFT_SIZES, ViewSettings


def test_stored_text_reads_as_each_fields_kind():
    """An INI file gives text back: numbers and booleans are read as their field's kind."""
    stored = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in asdict(
            ViewSettings(colormap="Viridis", n_fft=512, hop=128, auto_top=False, range_db=70.0)
        ).items()
    }
    settings = ViewSettings.from_stored(stored)
    assert (settings.colormap, settings.n_fft, settings.hop) == ("Viridis", 512, 128)
    assert settings.auto_top is False and settings.range_db == 70.0
    assert ViewSettings.from_stored(asdict(settings)) == settings  # typed values too


def test_missing_or_unreadable_values_keep_the_default():
    settings = ViewSettings.from_stored({"n_fft": "many", "hop": None, "unknown": 3})
    assert settings == ViewSettings()


def test_values_an_old_or_hand_edited_file_holds_are_clamped():
    odd = ViewSettings.from_stored(
        {"colormap": "Jet", "n_fft": 1000, "hop": 99999, "range_db": 1, "max_hz": -5, "cache_mb": 1}
    )
    assert odd.colormap == "Magma" and odd.n_fft == 1024 and odd.n_fft in FFT_SIZES
    assert odd.hop == 1024 and odd.range_db == 10.0 and odd.max_hz == 0.0 and odd.cache_mb == 16


def test_brightness_and_contrast_move_and_scale_the_colour_levels():
    plain = ViewSettings(range_db=60.0)
    assert plain.colour_levels(-20.0) == (-80.0, -20.0)  # at 0: top and range as they are
    sharper = plain.with_changes(contrast=100.0)
    assert sharper.colour_levels(-20.0) == (-57.5, -42.5)  # a quarter of the range, same middle
    assert plain.with_changes(contrast=-100.0).colour_levels(-20.0) == (-170.0, 70.0)
    brighter = plain.with_changes(brightness=100.0)
    assert brighter.colour_levels(-20.0) == (-110.0, -50.0)  # down by half the range
    darker = plain.with_changes(brightness=-50.0)
    assert darker.colour_levels(-20.0) == (-65.0, -5.0)


def test_brightness_contrast_and_the_waveform_are_remembered_and_clamped():
    stored = {"brightness": "40", "contrast": "-250", "waveform": "true"}
    settings = ViewSettings.from_stored(stored)
    assert settings.brightness == 40.0 and settings.contrast == -100.0 and settings.waveform
    assert ViewSettings.from_stored(asdict(settings)) == settings
