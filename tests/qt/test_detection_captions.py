"""The "class 0.87" captions of detections over the spectrogram: whole where there is room, on
a dark tab that keeps them readable on a bright spectrogram, within the view even when their box
starts before it, shortened where a box is narrow with the whole text as a tooltip, and never
over each other. The run is synthetic (tests/session/fake_run.py): bird 1–2 s (0.90),
3–4 s (0.70), 5–6 s (0.55), frog 2.5–3.5 s (0.80)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor

from tests.qt.conftest import settle_layout


def captions(qtbot, window):
    texts = window.view.spec_detections.texts
    texts.update()
    qtbot.waitUntil(lambda: bool(texts.captions), timeout=3000)
    qtbot.wait(50)  # the last paint of a settled view
    return texts.captions


def on_screen(window, caption) -> QRectF:
    """A caption's rectangle in the spectrogram's viewport pixels."""
    texts = window.view.spec_detections.texts
    return window.view.graphics.mapFromScene(texts.mapRectToScene(caption.rect)).boundingRect()


def spec_on_screen(window) -> QRectF:
    vb = window.view.spec_vb
    return window.view.graphics.mapFromScene(vb.sceneBoundingRect()).boundingRect()


def test_captions_are_whole_within_the_view_and_never_overlap(review_window, qtbot):
    win = review_window
    win.view.show_range(0.5, 6.5)
    settle_layout(qtbot, win.view)
    shown = captions(qtbot, win)
    assert sorted(c.text for c in shown) == ["bird 0.55", "bird 0.70", "bird 0.90", "frog 0.80"]
    view_rect = QRectF(spec_on_screen(win)).adjusted(-1, -1, 1, 1)
    rects = [QRectF(on_screen(win, c)) for c in shown]
    for rect in rects:
        assert view_rect.contains(rect)
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b.adjusted(1, 1, -1, -1))  # to whole pixels
    # frog 2.5–3.5 s starts inside bird 1–2 s's caption? No; bird 3–4 s starts inside frog's
    # box: its caption goes on the row below, not over frog's.
    by_text = {c.text: QRectF(on_screen(win, c)) for c in shown}
    assert by_text["bird 0.70"].top() > by_text["frog 0.80"].top()


def test_a_caption_is_light_text_on_a_dark_tab(review_window, qtbot):
    """Readable on any spectrogram: the tab under the text is dark, the text is light."""
    win = review_window
    win.view.show_range(0.0, 10.0)
    settle_layout(qtbot, win.view)
    caption = next(c for c in captions(qtbot, win) if c.text == "bird 0.90")
    image = win.view.graphics.grab().toImage()
    ratio = image.devicePixelRatio()
    rect = on_screen(win, caption)
    lightness = []
    for x in range(int(rect.left()) + 6, int(rect.right()) - 1):
        for y in range(int(rect.top()) + 1, int(rect.bottom())):
            color = QColor(image.pixel(int(x * ratio), int(y * ratio)))
            lightness.append(color.lightness())
    lightness.sort()
    assert lightness[len(lightness) // 2] < 70  # mostly the dark tab
    assert lightness[-1] > 200  # the text on it is light


def test_a_box_that_starts_before_the_view_keeps_its_caption_in_view(review_window, qtbot):
    win = review_window
    win.view.show_range(1.6, 6.0)  # bird 1–2 s: only its end is in view
    settle_layout(qtbot, win.view)
    shown = captions(qtbot, win)
    bird = next(c for c in shown if c.full == "bird 0.90")
    rect, view_rect = on_screen(win, bird), spec_on_screen(win)
    assert rect.left() >= view_rect.left() - 1
    assert rect.left() <= view_rect.left() + 3  # at the view's edge, not lost off-screen


def test_a_narrow_box_shortens_its_caption_and_the_tooltip_has_it_whole(review_window, qtbot):
    win = review_window
    ws = win.workspace
    bird = next(c for c in ws.classes() if c.name == "bird")
    ws.project.update_class(bird.id, name="Eurasian blackbird (Turdus merula)")
    ws.refresh()
    win.view.show_range(0.0, 10.0)
    settle_layout(qtbot, win.view)
    full = "Eurasian blackbird (Turdus merula) 0.70"
    qtbot.waitUntil(lambda: any(c.full == full for c in captions(qtbot, win)), timeout=3000)
    caption = next(c for c in captions(qtbot, win) if c.full == full)
    assert caption.text != full and "…" in caption.text and caption.text.endswith(" 0.70")
    assert caption.text.startswith("Eur")
    # The pointer on the caption: its tooltip says it all.
    pos = on_screen(win, caption).center()
    viewport = win.view.graphics.viewport()
    # QTest keeps the buttons of earlier tests' clicks held; a move is then a drag, not a hover.
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(1, 1))
    qtbot.mouseMove(viewport, pos - QPoint(0, 60))
    qtbot.mouseMove(viewport, pos)
    texts = win.view.spec_detections.texts
    qtbot.waitUntil(lambda: texts.toolTip() == full, timeout=2000)
