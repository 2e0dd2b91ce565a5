"""Label import/export: one module per format, each with NAME, PER_RECORDING, SUFFIX, read, write.

``read(path, **options) -> ParseResult`` keeps every good line and reports the others as
ParseIssues (and what it leaves out on purpose as warnings); it raises FormatError only for a
file that cannot be read at all. The options a reader takes are its ``READ_OPTIONS`` (e.g.
``label_column``). ``write(events, path, **options)`` raises ValueError, before touching the
file, for an event the format cannot carry. A one-file format that can be written as the
events come also has ``lines(events, **options)``: the same file's lines, made lazily from any
iterable of events (an export streams a million from the store), raising the same ValueError
at the first event it cannot carry.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from tfstudio.formats import (
    audacity,
    audition,
    birdnet,
    dcase,
    jsonfmt,
    kaleidoscope,
    labelstudio,
    raven,
    reaper,
    sonicvisualiser,
    soundevent,
    textgrid,
)
from tfstudio.formats.base import (
    MAX_CLASS_NAME,
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_class_name,
    format_time,
    is_number,
    parse_time,
    read_text,
    sniff,
)

FORMATS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        dcase,
        audacity,
        raven,
        textgrid,
        jsonfmt,
        soundevent,
        sonicvisualiser,
        labelstudio,
        audition,
        reaper,
        birdnet,
        kaleidoscope,
    )
}

__all__ = [
    "FORMATS",
    "MAX_CLASS_NAME",
    "FormatError",
    "LabelEvent",
    "ParseIssue",
    "ParseResult",
    "check_class_name",
    "format_time",
    "get_format",
    "guess_format",
    "parse_time",
    "read_options",
]


def get_format(name: str) -> ModuleType:
    """The format module called ``name``; ValueError listing the valid names otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown label format {name!r}; choose one of: {', '.join(FORMATS)}"
        ) from None


def read_options(name: str) -> frozenset[str]:
    """The keyword options the reader of format ``name`` takes (e.g. ``label_column``)."""
    return frozenset(getattr(get_format(name), "READ_OPTIONS", ()))


def guess_format(path: Path | str) -> str | None:
    """The likely format of a label file from its suffix and first lines, or None."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".textgrid":
        return textgrid.NAME
    if suffix in (".svl", ".sv"):
        return sonicvisualiser.NAME
    try:
        text = read_text(path, bad_lines={})
    except FormatError:
        return jsonfmt.NAME if suffix == ".json" else None
    if suffix == ".json" or text.lstrip().startswith(("{", "[")):
        if soundevent.looks_like(text):
            return soundevent.NAME
        if labelstudio.looks_like(text):
            return labelstudio.NAME
        if suffix == ".json" or text.lstrip().startswith("{"):
            return jsonfmt.NAME
    found = sniff(text)
    if found is not None:
        return found
    for module in (labelstudio, audition, reaper, birdnet, kaleidoscope):  # their CSV headers
        if module.looks_like(text):
            return module.NAME
    lines = [line for line in text.split("\n") if line.strip()][:20]
    if suffix == ".tsv":
        return dcase.NAME
    if suffix != ".txt":
        return None
    if not lines:
        return audacity.NAME  # Audacity exports an empty label track as an empty file
    first = lines[0].split("\t") if "\t" in lines[0] else lines[0].split()
    if any(line.lstrip().startswith("\\") for line in lines):
        return audacity.NAME
    if len(first) >= 4 and is_number(first[1]) and is_number(first[2]) and not is_number(first[0]):
        return dcase.NAME
    # Audacity reads times with a decimal comma too (as locales with one write them).
    if len(first) >= 2 and all(is_number(text.replace(",", ".", 1)) for text in first[:2]):
        return audacity.NAME
    return None
