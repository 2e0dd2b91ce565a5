"""The spectrogram workspace: waveform, spectrogram, posteriorgram, class lanes and overview.

- :mod:`.view` — :class:`SpectrogramView`: the plots' layout, navigation, opening recordings.
- :mod:`.image` — tiles, the overview image, colour levels and map (:class:`FastImageItem`).
- :mod:`.events` — labels drawn in bulk, the class lanes (:class:`LaneMap`).
- :mod:`.overlay` — the active run's detections and posteriorgram.
- :mod:`.editing` — the selected event's live items, new events, picking under the pointer.
- :mod:`.waveform` — the waveform strip: min/max envelopes from a worker thread.
- :mod:`.viewbox` — the mouse and wheel gestures of every plot (:class:`EditViewBox`).
"""

from tfstudio.qt.spectrogram.image import FastImageItem
from tfstudio.qt.spectrogram.view import SpectrogramView
from tfstudio.qt.spectrogram.viewbox import EditViewBox

__all__ = ["EditViewBox", "FastImageItem", "SpectrogramView"]
