"""Audio files: find and probe them, read them block by block, resample, and make demo data.

No Qt here, and torch only inside `resample` (imported when first called).
"""

from tfstudio.audio.demo import CLASSES, DemoClass, DemoEvent, DemoRecording, generate_demo
from tfstudio.audio.probe import (
    AUDIO_SUFFIXES,
    AudioError,
    AudioInfo,
    content_hash,
    probe,
    scan,
)
from tfstudio.audio.reader import AudioReader, read_mono, resample

__all__ = [
    "AUDIO_SUFFIXES",
    "CLASSES",
    "AudioError",
    "AudioInfo",
    "AudioReader",
    "DemoClass",
    "DemoEvent",
    "DemoRecording",
    "content_hash",
    "generate_demo",
    "probe",
    "read_mono",
    "resample",
    "scan",
]
