"""A new class's colour is one no class uses: the palette first, then generated hues."""

from __future__ import annotations

from tfstudio.store import PALETTE, next_class_color


def test_first_unused_palette_colour_ignoring_case():
    assert next_class_color([]) == PALETTE[0]
    assert next_class_color([PALETTE[0].lower(), PALETTE[2]]) == PALETTE[1]


def test_past_the_palette_colours_are_generated_and_never_repeat():
    used = list(PALETTE)
    for _ in range(60):
        color = next_class_color(used)
        assert color not in used and len(color) == 7 and color.startswith("#")
        used.append(color)
    assert len({c.upper() for c in used}) == len(used)


def test_a_class_added_after_a_delete_does_not_repeat_a_colour(project):
    """Bug: the colour was palette[number of classes], so after deleting the first class the
    next new class got the colour of the last one."""
    a, b, c = (project.add_class(n) for n in ("a", "b", "c"))
    project.delete_class(a.id)
    d = project.add_class("d")
    assert d.color not in {b.color, c.color}
    assert d.color == a.color  # the freed palette colour comes back first


def test_a_recoloured_class_keeps_its_colour_to_itself(project):
    a = project.add_class("a")
    project.update_class(a.id, color=PALETTE[1].lower())  # as a colour dialog writes it
    b = project.add_class("b")
    assert b.color.upper() != PALETTE[1]
    assert b.color == PALETTE[0]


def test_forty_classes_have_forty_colours(project):
    classes = [project.add_class(f"c{i}") for i in range(40)]
    for victim in classes[3:30:4]:
        project.delete_class(victim.id)
        project.add_class(f"new {victim.name}")
    colors = [c.color.upper() for c in project.classes()]
    assert len(set(colors)) == len(colors) == 40


def _min_distance(colors: list[str]) -> float:
    """The smallest CIELAB distance between two of ``colors``."""
    import numpy as np

    from tfstudio.store.colors import _lab

    rgb = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in colors])
    lab = _lab(rgb)
    d = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    d[np.arange(len(colors)), np.arange(len(colors))] = np.inf
    return float(d.min())


def test_many_classes_stay_distinguishable():
    """Bug: past the palette, hues stepped by the golden angle at one saturation, so 30 classes
    had two colours 4.5 apart (CIELAB) and 300 classes two 0.5 apart (the same to the eye)."""
    used: list[str] = []
    for _ in range(300):
        used.append(next_class_color(used))
    assert used[: len(PALETTE)] == list(PALETTE)
    assert _min_distance(used[:100]) >= 15  # as far apart as the palette's closest pair
    assert _min_distance(used) >= 8


def test_generated_colours_are_neither_dark_nor_grey():
    import numpy as np

    from tfstudio.store.colors import _lab, class_colors

    generated = class_colors()[len(PALETTE) :]
    rgb = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in generated])
    lab = _lab(rgb)
    assert lab[:, 0].min() >= 50 and np.hypot(lab[:, 1], lab[:, 2]).min() >= 28
