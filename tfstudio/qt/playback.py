"""Playback with QtMultimedia, and a cursor that moves smoothly with the audio.

QMediaPlayer plays the file itself (any format FFmpeg reads, at any speed) and reports its
position only every ~50-100 ms; between reports the cursor is extrapolated from a monotonic
clock so it glides at the display rate. Without QtMultimedia (libpulse missing) or without an
output device (CI, a headless server) the player is "off": every call still works, nothing
sounds, and ``reason`` says why, so the window can show it instead of failing.

QtMultimedia is loaded when the player is started: by ``start`` (the window calls it after its
first paint), or by the first call that needs it (``available``, ``reason``, ``play``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

TICK_MS = 16
SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def _turned_off() -> str:
    """Why playback is off before QtMultimedia is even looked at ("" when it is not)."""
    return "turned off by TFSTUDIO_NO_AUDIO" if os.environ.get("TFSTUDIO_NO_AUDIO") else ""


def _multimedia():
    """(QMediaPlayer, QAudioOutput, QMediaDevices) or the reason they cannot be used."""
    if off := _turned_off():
        return None, off
    try:
        from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
    except ImportError as exc:  # e.g. libpulse.so.0 missing on a bare Linux
        return None, f"QtMultimedia unavailable ({exc})"
    if not QMediaDevices.audioOutputs():
        return None, "no audio output device"
    return (QMediaPlayer, QAudioOutput, QMediaDevices), ""


class Player(QObject):
    """Play/pause, play a range (optionally looping), speed; emits the cursor position."""

    positionChanged = Signal(float)  # seconds
    playingChanged = Signal(bool)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._started = False
        self._available = False
        self._reason = ""
        self.position = 0.0
        self.rate = 1.0
        self.loop = False
        self._range: tuple[float, float] | None = None
        self._anchor = (0.0, 0.0)  # (position in s, monotonic time) of the last report
        self._pending_seek: float | None = None
        self._playing = False
        self._path: Path | None = None
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._player: QMediaPlayer | None = None
        self._output: QAudioOutput | None = None
        if _turned_off():
            self.start()  # nothing to load: known at once

    def start(self) -> None:
        """Load QtMultimedia and make the media player (once): ~0.1 s, so the window does it
        after its first paint; the file loaded so far, the cursor and the speed carry over."""
        if self._started:
            return
        self._started = True
        classes, self._reason = _multimedia()
        self._available = classes is not None
        if classes is None:
            return
        player_cls, output_cls, _devices = classes
        self._player = player_cls(self)
        self._output = output_cls(self)
        self._player.setAudioOutput(self._output)
        self._player.positionChanged.connect(self._on_position_change)
        self._player.playbackStateChanged.connect(self._on_state_change)
        self._player.mediaStatusChanged.connect(self._on_media_status_change)
        self._player.errorOccurred.connect(self._on_error)
        self._player.setPlaybackRate(self.rate)
        if self._path is not None:
            # The cursor's position is applied once the file has loaded (LoadedMedia).
            self._player.setSource(QUrl.fromLocalFile(str(self._path)))

    @property
    def started(self) -> bool:
        """Whether QtMultimedia has been looked at (``available`` and ``reason`` are known)."""
        return self._started

    @property
    def available(self) -> bool:
        """Whether sound can be played (starts the player)."""
        self.start()
        return self._available

    @property
    def reason(self) -> str:
        """Why playback is off ("" when it is on; starts the player)."""
        self.start()
        return self._reason

    @property
    def playing(self) -> bool:
        return self._playing

    def load(self, path: Path | str | None) -> None:
        """Use this file (None: nothing); the cursor goes back to the start."""
        self.stop()
        self._path = Path(path) if path is not None else None
        self.position = 0.0
        if self._player is not None:
            self._player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())
        self.positionChanged.emit(0.0)

    def seek(self, seconds: float) -> None:
        self.position = max(0.0, seconds)
        self._anchor = (self.position, time.monotonic())
        if self._player is not None:
            self._player.setPosition(int(self.position * 1000))
        self.positionChanged.emit(self.position)

    def play(self, start: float | None = None, end: float | None = None) -> bool:
        """Play from ``start`` (default: the cursor) to ``end`` (default: the end)."""
        if start is not None:
            self.seek(start)
        self._range = (self.position if start is None else start, end) if end else None
        self.start()
        if self._player is None:
            return False
        self._pending_seek = self.position
        self._player.setPlaybackRate(self.rate)
        self._player.setPosition(int(self.position * 1000))
        self._player.play()
        return True

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def stop(self) -> None:
        self._range = None
        if self._player is not None:
            self._player.pause()

    def toggle(self) -> bool:
        if self._playing:
            self.pause()
            return False
        return self.play()

    def set_rate(self, rate: float) -> None:
        self.rate = float(rate)
        if self._player is not None:
            self._player.setPlaybackRate(self.rate)

    def set_loop(self, loop: bool) -> None:
        self.loop = loop

    # --------------------------------------------------------------- internals
    def _on_position_change(self, ms: int) -> None:
        if self._pending_seek is not None:
            if abs(ms / 1000 - self._pending_seek) > 0.25:
                return  # a stale report from before the seek
            self._pending_seek = None
        self._anchor = (ms / 1000.0, time.monotonic())

    def _on_state_change(self, state) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        if playing == self._playing:
            return
        self._playing = playing
        if playing:
            self._anchor = (self.position, time.monotonic())
            self._timer.start()
        else:
            self._timer.stop()
        self.playingChanged.emit(playing)

    def _on_media_status_change(self, status) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            if self.loop and self._range is None:
                self.play(0.0)
            else:
                self.position = 0.0 if self.loop else self.position
        elif status == QMediaPlayer.MediaStatus.LoadedMedia and self.position:
            self._player.setPosition(int(self.position * 1000))  # type: ignore[union-attr]

    def _on_error(self, _error, text: str) -> None:
        self.error.emit(text or "playback error")

    def _on_tick(self) -> None:
        anchor_pos, anchor_time = self._anchor
        self.position = anchor_pos + (time.monotonic() - anchor_time) * self.rate
        if (
            self._range is not None
            and self._range[1] is not None
            and self.position >= self._range[1]
        ):
            start, end = self._range
            if self.loop:
                self.play(start, end)
            else:
                self.pause()
                self.position = end
        self.positionChanged.emit(self.position)
