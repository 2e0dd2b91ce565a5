"""The spectrogram workspace: spectrogram, posteriorgram, class lanes and overview strip."""

from tfstudio.qt.spectrogram.view import EditViewBox, FastImageItem, SpectrogramView

__all__ = ["EditViewBox", "FastImageItem", "SpectrogramView"]
