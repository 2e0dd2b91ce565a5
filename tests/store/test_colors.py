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
