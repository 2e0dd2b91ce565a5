"""Class colours: a colour-blind-friendly palette first, then generated ones far from all
before them, never a repeat."""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Iterator
from functools import lru_cache

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
EXTENDED = 1024  # colours of the palette's maximally distinct extension
LIGHTNESS = (50.0, 85.0)  # CIELAB L*: readable as lane fills on dark and light backgrounds
CHROMA = (28.0, 90.0)  # no near-greys (alike, and like the background), no neon


def _candidate_colors() -> Iterator[str]:
    yield from class_colors()
    for k in range(MAX_GENERATED):
        hue = (15.0 + k * GOLDEN_ANGLE) % 360.0 / 360.0
        value = 0.92 if k % 2 == 0 else 0.72
        r, g, b = colorsys.hsv_to_rgb(hue, 0.7, value)
        yield f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def fresh_class_colors(used: Iterable[str], n: int) -> list[str]:
    """``n`` colours for new classes, in :func:`next_class_color`'s order, none in ``used``
    while unused ones last; past some 11 000 classes they repeat (nobody tells them apart by
    colour any more, and the lanes' names carry them)."""
    taken = {c.strip().upper() for c in used if c}
    fresh = [c for c in _candidate_colors() if c not in taken]
    if not fresh:
        fresh = list(class_colors())
    return [fresh[k % len(fresh)] for k in range(n)]


def next_class_color(used: Iterable[str]) -> str:
    """The colour for a new class: the first colour of :func:`class_colors` no class uses.

    Colours compare case-insensitively (``#e69f00`` is ``#E69F00``). Past those, hues step
    by the golden angle, alternating two lightnesses, never one already in use.
    """
    taken = {c.strip().upper() for c in used if c}
    for color in class_colors():
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


@lru_cache(maxsize=1)
def class_colors() -> tuple[str, ...]:
    """:data:`PALETTE`, then :data:`EXTENDED` colours chosen one by one as far as possible
    (CIELAB distance) from every colour before them, among the 16-level sRGB colours of
    moderate lightness and chroma: the sequential method of Glasbey et al. (2007),
    "Colour displays for categorical images", as the glasbey packages extend palettes.
    Deterministic, about 0.1 s once."""
    import numpy as np

    levels = np.linspace(0.0, 1.0, 16)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    lab = _lab(grid)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    keep = (
        (lab[:, 0] >= LIGHTNESS[0])
        & (lab[:, 0] <= LIGHTNESS[1])
        & (chroma >= CHROMA[0])
        & (chroma <= CHROMA[1])
    )
    grid, lab = grid[keep], lab[keep]
    base = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in PALETTE])
    nearest = np.full(len(lab), np.inf)
    for point in _lab(base):
        nearest = np.minimum(nearest, np.linalg.norm(lab - point, axis=1))
    colors = list(PALETTE)
    for _ in range(EXTENDED):
        k = int(np.argmax(nearest))
        r, g, b = (round(v * 255) for v in grid[k])
        colors.append(f"#{r:02X}{g:02X}{b:02X}")
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[k], axis=1))
    return tuple(colors)


def _lab(rgb):
    """sRGB in [0, 1], shape (n, 3), to CIELAB (D65)."""
    import numpy as np

    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = (
        linear
        @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    )
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1
    )
