"""Class colours: a colour-blind-friendly palette first, then generated hues, never a repeat."""

from __future__ import annotations

import colorsys
from collections.abc import Iterable

# Okabe-Ito, then Tableau: distinguishable by most people, on dark and light spectrograms.
PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#8C564B",
    "#17BECF",
    "#BCBD22",
    "#7F7F7F",
    "#9467BD",
)

GOLDEN_ANGLE = 137.50776405003785  # degrees: successive hues never bunch up
MAX_GENERATED = 10_000


def next_class_color(used: Iterable[str]) -> str:
    """The colour for a new class: the first palette colour no class uses, else a new hue.

    Colours compare case-insensitively (``#e69f00`` is ``#E69F00``). Past the palette, hues
    step by the golden angle from a hue no palette colour has, alternating two lightnesses,
    so each new colour lands far from the previous ones and is never one already in use.
    """
    taken = {c.strip().upper() for c in used if c}
    for color in PALETTE:
        if color not in taken:
            return color
    for k in range(MAX_GENERATED):
        hue = (15.0 + k * GOLDEN_ANGLE) % 360.0 / 360.0
        value = 0.92 if k % 2 == 0 else 0.72
        r, g, b = colorsys.hsv_to_rgb(hue, 0.7, value)
        color = f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
        if color not in taken:
            return color
    raise RuntimeError("no unused class colour left")  # 10 000 classes: not a real project
