"""The waveform strip (View ▸ Show waveform) and the brightness/contrast sliders in the real
window: shown and hidden from the menu's shortcut and remembered, on exactly the
spectrogram's time axis at every zoom, drawing the true min/max of the samples; the sliders
change the colour levels without recomputing a tile."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence, QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import open_window
from tfstudio.qt import settings as qs

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot, small_project):
    win = open_window(qtbot, small_project)
    qtbot.waitUntil(win.view.has_image, timeout=5000)
    yield win
    win.close()


def wheel(
    view, plot: str, t: float, y: float, notches: int, modifiers=Qt.KeyboardModifier.NoModifier
):
    """Real wheel events on the graphics viewport over (t, y) of ``plot``."""
    viewport = view.graphics.viewport()
    pos = view.viewport_pos(plot, t, y)
    for _ in range(abs(notches)):
        event = QWheelEvent(
            QPointF(pos),
            QPointF(viewport.mapToGlobal(pos)),
            QPoint(0, 0),
            QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton,
            modifiers,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)


def toggle_waveform(qtbot, window) -> None:
    qtbot.keyClick(window.view.graphics, Qt.Key.Key_W, CTRL_SHIFT)


def drawn_for_view(view) -> bool:
    """The strip shows a complete envelope of (at least) the visible window."""
    strip = view.waveform
    request = strip.shown_request
    if request is None or strip.envelope is None or not strip.envelope.complete:
        return False
    t0, t1 = view.view_range()
    rate = view.audio.sample_rate
    return (
        request.start <= max(0.0, t0) * rate + 1
        and min(t1, view.audio.duration) * rate - 1 <= request.stop
    )


def test_the_view_menu_shortcut_shows_and_hides_the_strip_and_it_is_remembered(
    qtbot, window, small_project
):
    view = window.view
    assert not view.waveform_visible() and not window.waveform_action.isChecked()
    spec_height = view.spec_vb.height()
    toggle_waveform(qtbot, window)
    assert view.waveform_visible() and window.waveform_action.isChecked()
    qtbot.waitUntil(lambda: drawn_for_view(view), timeout=5000)
    # It sits above the spectrogram, as wide, and takes its height from the spectrogram.
    wave, spec = view.wave_vb.sceneBoundingRect(), view.spec_vb.sceneBoundingRect()
    assert wave.bottom() <= spec.top() + 1
    assert (wave.left(), wave.width()) == pytest.approx((spec.left(), spec.width()))
    qtbot.waitUntil(lambda: view.spec_vb.height() < spec_height - 40, timeout=2000)
    assert qs.load_view_settings().waveform is True
    window.close()

    again = open_window(qtbot, small_project)
    again.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is again, timeout=2000)
    assert again.view.waveform_visible() and again.waveform_action.isChecked()
    toggle_waveform(qtbot, again)
    assert not again.view.waveform_visible() and not again.waveform_action.isChecked()
    assert qs.load_view_settings().waveform is False
    again.close()


def test_no_two_actions_share_a_shortcut(window):
    seen: dict[str, str] = {}
    for action in window.actions():
        for sequence in action.shortcuts():
            key = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            assert key not in seen, f"{key}: {seen.get(key)} and {action.text()}"
            seen[key] = action.text()
    assert seen["Ctrl+Shift+W"] == "Show &waveform"


def test_the_strip_shares_the_time_axis_at_every_zoom(qtbot, window):
    view = window.view
    window.waveform_action.trigger()
    qtbot.waitUntil(lambda: drawn_for_view(view), timeout=5000)
    mid = (view.spec_vb.viewRange()[1][0] + view.spec_vb.viewRange()[1][1]) / 2
    ranges = []
    # Wheel over the spectrogram, then over the strip itself, in and out.
    for plot, where, notches in (
        ("spec", 0.3, 3),
        ("wave", 0.6, 4),
        ("spec", 0.5, -2),
        ("wave", 0.2, -1),
    ):
        y = view.scale.to_hz(mid) if plot == "spec" else 0.0
        before = view.view_range()
        wheel(view, plot, before[0] + where * (before[1] - before[0]), y, notches)
        assert view.view_range() != before
        ranges.append(view.view_range())
        assert view.wave_vb.viewRange()[0] == pytest.approx(view.spec_vb.viewRange()[0], abs=1e-9)
        assert view.lane_vb.viewRange()[0] == pytest.approx(view.spec_vb.viewRange()[0], abs=1e-9)
        # The same seconds at the same pixels.
        for s in view.view_range():
            wave_x = view.wave_vb.mapViewToScene(QPointF(s, 0)).x()
            spec_x = view.spec_vb.mapViewToScene(QPointF(s, 0)).x()
            assert wave_x == pytest.approx(spec_x, abs=0.5)
        qtbot.waitUntil(lambda: drawn_for_view(view), timeout=5000)
    assert len(set(ranges)) == len(ranges)


def test_the_strip_draws_the_samples_min_and_max(qtbot, window, small_project):
    view = window.view
    window.waveform_action.trigger()
    view.show_range(2.0, 6.0)
    qtbot.waitUntil(lambda: drawn_for_view(view), timeout=5000)
    envelope = view.waveform.envelope
    samples, rate = sf.read(str(view.workspace.recording_path()), dtype="float32")
    assert rate == view.audio.sample_rate
    for i in range(len(envelope)):
        column = samples[envelope.edges[i] : envelope.edges[i + 1]]
        assert envelope.mins[i] == column.min() and envelope.maxs[i] == column.max()
    # About one column per pixel of the strip (and its margin either side).
    per_px = (envelope.edges[-1] - envelope.edges[0]) / len(envelope)
    visible = 4.0 * rate / view.wave_vb.width()
    assert per_px == pytest.approx(visible, rel=0.05)
    # The curve is that envelope: its points are every column's min and max.
    x, y = view.waveform.outline
    assert len(x) == 2 * len(envelope)
    assert view.waveform.curve.path().elementCount() == len(x)
    assert np.nanmin(y) == pytest.approx(float(envelope.mins.min()))
    assert np.nanmax(y) == pytest.approx(float(envelope.maxs.max()))
    # Ctrl+wheel over the strip zooms the amplitude around zero, time stays put.
    t_range = view.view_range()
    wheel(view, "wave", 4.0, 0.0, 3, Qt.KeyboardModifier.ControlModifier)
    y0, y1 = view.wave_vb.viewRange()[1]
    assert y1 < 0.6 and y0 == pytest.approx(-y1) and view.view_range() == t_range


def test_brightness_and_contrast_sliders_change_levels_without_recomputing(qtbot, window):
    view = window.view
    qtbot.waitUntil(lambda: view.tiles.wait(0.01) and view.image.overview_final, timeout=10000)
    low, high = view.levels_db()
    items = dict(view.image._tile_items)
    images = {key: item.image for key, item in items.items()}
    cached = len(view.tiles.cache)
    controls = window.display_controls

    def click_right_end(slider, times: int) -> None:
        for _ in range(times):
            qtbot.mouseClick(
                slider,
                Qt.MouseButton.LeftButton,
                pos=QPoint(slider.width() - 3, slider.height() // 2),
            )

    click_right_end(controls.contrast, 3)
    assert controls.contrast.value() > 0
    c_low, c_high = view.levels_db()
    assert c_high - c_low < high - low  # narrower range: more contrast
    assert (c_low + c_high) / 2 == pytest.approx((low + high) / 2)
    click_right_end(controls.brightness, 2)
    assert controls.brightness.value() > 0
    b_low, b_high = view.levels_db()
    assert b_high < c_high and b_high - b_low == pytest.approx(c_high - c_low)  # brighter
    # The items show their new levels; no tile was computed again or replaced.
    for item in view.image._tile_items.values():
        code_low, code_high = item.getLevels()
        assert code_high > code_low
    assert view.image._tile_items == items
    assert all(view.image._tile_items[k].image is images[k] for k in images)
    assert len(view.tiles.cache) == cached
    # Remembered once the slider settles; the settings dialog shows the same values.
    qtbot.waitUntil(
        lambda: qs.load_view_settings().brightness == controls.brightness.value(), timeout=3000
    )
    assert qs.load_view_settings().contrast == controls.contrast.value()
    # A double-click puts a slider back to the middle.
    qtbot.mouseDClick(controls.brightness, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert controls.brightness.value() == 0 and window.view_settings.brightness == 0


def test_a_click_on_the_strip_moves_the_playback_cursor_and_settings_keep_it_shown(qtbot, window):
    from tfstudio.qt.dialogs import SettingsDialog

    view = window.view
    window.waveform_action.trigger()
    qtbot.waitUntil(lambda: drawn_for_view(view), timeout=5000)
    with qtbot.waitSignal(view.seekRequested) as seek:
        qtbot.mouseClick(
            view.graphics.viewport(),
            Qt.MouseButton.LeftButton,
            pos=view.viewport_pos("wave", 4.0, 0.5),
        )
    assert seek.args[0] == pytest.approx(4.0, abs=0.05)
    assert not window.workspace.labels.order  # a click there never makes an event
    # The settings dialog has no waveform box: OK leaves the strip as the View menu set it.
    dialog = SettingsDialog(window.view_settings, window)
    dialog.contrast.setValue(30)
    window.apply_settings(dialog.values())
    assert view.waveform_visible() and window.waveform_action.isChecked()
    assert window.display_controls.contrast.value() == 30
