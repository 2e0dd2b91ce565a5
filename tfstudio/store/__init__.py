"""The project store: one SQLite file per project folder (no Qt, no torch)."""

from tfstudio.store.colors import PALETTE, next_class_color
from tfstudio.store.errors import AmbiguousRecording, DatabaseProblem, ProjectError
from tfstudio.store.events import EventImport, seconds_text
from tfstudio.store.project import (
    DB_NAME,
    AddResult,
    Change,
    NewEvents,
    Project,
)
from tfstudio.store.records import (
    Event,
    EventClass,
    LabelTotals,
    OtherAudio,
    Recording,
    Run,
    recording_names,
    shown_names,
)
from tfstudio.store.review import Acceptance, accept_detections, set_review
from tfstudio.store.schema import REVIEW_STATES, RUN_STATUSES, SOURCES, SPLITS

__all__ = [
    "DB_NAME",
    "PALETTE",
    "REVIEW_STATES",
    "RUN_STATUSES",
    "SOURCES",
    "SPLITS",
    "Acceptance",
    "AddResult",
    "AmbiguousRecording",
    "Change",
    "DatabaseProblem",
    "Event",
    "EventClass",
    "EventImport",
    "LabelTotals",
    "NewEvents",
    "OtherAudio",
    "Project",
    "ProjectError",
    "Recording",
    "Run",
    "accept_detections",
    "next_class_color",
    "recording_names",
    "seconds_text",
    "set_review",
    "shown_names",
]
