"""tfstudio bench spectrogram at tiny sizes (a few seconds of audio): every figure is there and
the figures agree with each other and with the recording (timings themselves are not asserted);
it runs without Qt; its readable table; its errors as one line; and the peak-memory helper."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tests.store.helpers import ENV, tfstudio

RUN_WITHOUT_QT = (
    "import sys\n"
    "from tfstudio.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules\n"
    "sys.exit(code)\n"
)


def test_bench_spectrogram_times_the_first_picture_without_qt(tmp_path):
    # 0.002 h = 7.2 s at 8 kHz: longer than the overview's columns, so a draft comes first.
    done = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT_QT, "bench", "spectrogram", "--hours", "0.002",
         "--rate", "8000", "--width", "400", "--json"],
        capture_output=True, text=True, timeout=120, env={**ENV, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout is the one JSON object; progress went to stderr
    assert "writing 0.002 h of generated audio at 8000 Hz" in done.stderr
    assert data["seconds"] == pytest.approx(7.2) and data["sample_rate"] == 8000
    assert data["decoded_mb"] == pytest.approx(7.2 * 8000 * 4 / 2**20, abs=0.1)
    assert data["width_px"] == 400 and data["view_s"] == pytest.approx(7.2)
    # 7.2 s across 400 px is 144 samples a pixel, finer than the hop (256): level 0, whose
    # 256-column tiles hold 8.192 s each, so one tile covers the view.
    assert (data["level"], data["tiles_in_view"]) == (0, 1)
    # The first picture is whichever came first, and the view is ready after everything.
    assert data["first_image"] in ("overview", "tile")
    first = min(data["draft_overview_s"], data["first_tile_s"])
    assert 0 < data["first_image_s"] == first
    assert data["draft_overview_s"] <= data["overview_s"] <= data["view_ready_s"]
    assert data["first_tile_s"] <= data["view_ready_s"]
    assert [z["view"] for z in data["zooms"]] == ["whole"]
    assert data["zooms"][0]["level"] == 0 and data["zooms"][0]["tile_ms"] > 0
    assert data["zooms"][0]["tile_s"] == pytest.approx(256 * 256 / 8000, abs=1e-3)
    assert data["write_s"] >= 0 and data["tile_cache_mb"] > 0
    assert data["rss_before_mb"] > 0 and data["peak_rss_mb"] > 0
    assert data["peak_scoped"] is True  # Linux: the peak is the measurement's own
    assert list(tmp_path.iterdir()) == []  # the generated recording is gone


def test_bench_spectrogram_measures_a_given_file_as_a_table(tmp_path, capsys):
    from tfstudio.bench.common import write_long_wav
    from tfstudio.cli import main

    wav = tmp_path / "long.wav"
    assert write_long_wav(wav, 70.0, 4000, block_s=30.0) == 280_000
    assert sf.info(str(wav)).frames == 280_000
    assert main(["bench", "spectrogram", "--audio", str(wav)]) == 0
    out = capsys.readouterr().out
    assert "0.02 h at 4000 Hz" in out and "opening view 60 s across 1600 px" in out
    for line in ("first picture (", "finished overview", "whole opening view", "memory:"):
        assert line in out
    # 70 s is longer than 10 s and 60 s views, shorter than 10 min.
    assert "10s: level" in out and "60s: level" in out and "10min" not in out
    assert wav.exists()  # a given file is kept


def test_bench_spectrogram_bad_values_are_one_line_errors(tmp_path):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("not audio")
    for args, message in (
        (("--hours", "0"), "not a number of hours"),
        (("--hours", "two"), "not a number of hours"),
        (("--width", "0"), "--width must be at least 1"),
        (("--audio", tmp_path / "gone.wav"), "no such audio file"),
        (("--audio", not_audio, "--hours", "1"), "not both"),
        (("--audio", not_audio), "notes.wav"),
    ):
        result = tfstudio("bench", "spectrogram", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "error" in last and message in last, result.stderr


def test_peak_rss_is_the_peak_since_it_was_reset():
    from tfstudio.bench.common import PeakRss, rss_mb

    peak = PeakRss()
    if not peak.scoped:
        pytest.skip("no /proc/self/clear_refs: the peak is the process's")
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    held = peak.mb()
    assert held >= rss_mb() - 1 and held > 60
    del block
    peak.reset()
    assert peak.mb() < held - 50  # the freed block no longer counts
