"""What may name a class: one rule for the store, every label reader and the GUI."""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_CLASS_NAME", "check_class_name"]

MAX_CLASS_NAME = 200
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def check_class_name(name: str) -> str:
    """``name`` without surrounding whitespace, or ValueError saying why it cannot name a
    class: empty, longer than ``MAX_CLASS_NAME`` characters, or holding a tab, a line break
    or another control character (which no label format can carry on one line)."""
    stripped = name.strip()
    if stripped and stripped.isprintable() and len(stripped) <= MAX_CLASS_NAME:
        return stripped  # the common case, at C speed: no control character of any kind
    if not stripped:
        raise ValueError("empty class name")
    shown = repr(stripped) if len(stripped) <= 60 else repr(stripped[:60]) + "…"
    if len(stripped) > MAX_CLASS_NAME:
        raise ValueError(
            f"class name {shown} is {len(stripped)} characters long (at most {MAX_CLASS_NAME})"
        )
    for char in stripped:
        if char == "\t":
            raise ValueError(f"class name {shown} contains a tab")
        if char in _LINE_BREAKS:
            raise ValueError(f"class name {shown} contains a line break")
        if unicodedata.category(char) == "Cc":
            raise ValueError(f"class name {shown} contains the control character U+{ord(char):04X}")
    return stripped
