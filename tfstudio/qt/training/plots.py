"""Plot widgets shared by the training panel, the run history and the dialog's preview.

Colours are the Okabe-Ito set (distinguishable with the common colour-vision deficiencies);
the plot background and axes follow the application palette, so a dark theme stays dark.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette, QTextDocument, QTextOption
from PySide6.QtWidgets import QApplication

# Okabe-Ito, in the order runs get them when overlaid.
RUN_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

TF_COLOR = "#CC79A7"
LOSS_RAW_COLOR = "#56B4E9"
LOSS_EMA_COLOR = "#0072B2"
TRAIN_LOSS_COLOR = "#0072B2"
VAL_LOSS_COLOR = "#D55E00"
F1_COLOR = "#009E73"
ER_COLOR = "#E69F00"
# A plot's least height: title, axis titles and some 40 px of curve. The Training dock under
# the spectrogram on a laptop gives its curves 134 px, and a one-line message over them
# (how the run ended) 22 px of that.
MIN_HEIGHT_PX = 110
TITLE_SIZE = "10pt"
# The legend's entries apart and their marks: as wide as there is room for, most first.
KEY_GAPS = ("&nbsp;&nbsp;&nbsp;", "&nbsp;&nbsp;", "&nbsp;")
KEY_STYLES = ((KEY_GAPS[0], 2), (KEY_GAPS[1], 2), (KEY_GAPS[2], 2), (KEY_GAPS[2], 1))
MARKS = {"solid": "━", "dashed": "╍", "dot": "●"}


def _palette() -> QPalette:
    app = QApplication.instance()
    return app.palette() if isinstance(app, QApplication) else QPalette()


def is_dark() -> bool:
    return _palette().color(QPalette.ColorRole.Base).lightness() < 128


def run_color(index: int) -> str:
    color = RUN_COLORS[index % len(RUN_COLORS)]
    # Black on a dark background would vanish.
    return "#F0E442" if color == "#000000" and is_dark() else color


def pen(color: str, width: float = 2.0, alpha: int = 255, style: Qt.PenStyle | None = None):
    c = QColor(color)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    if style is not None:
        p.setStyle(style)
    return p


class IntegerAxis(pg.AxisItem):
    """An axis of counts (epochs, iterations) from ``first`` on: no tick at 2.5 epochs, nor
    at epoch 0 or -1 (the padding around the first epoch)."""

    def __init__(self, orientation: str, first: float = 0.0, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.first = first

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing >= 1:
                kept = [v for v in values if float(v).is_integer() and v >= self.first]
                levels.append((spacing, kept))
        if not levels and math.isfinite(minVal) and math.isfinite(maxVal):
            low = max(math.ceil(minVal), math.ceil(self.first))
            levels = [(1.0, [float(v) for v in range(low, math.floor(maxVal) + 1)])]
        return levels


class CountView(pg.ViewBox):
    """A view along counts (epochs, iterations): a single point is shown in a span of one
    count around it. pyqtgraph widens a single point's zero-width range by the view's
    previous width, which put one epoch between "epoch -1" and 3."""

    def childrenBounds(self, *args: Any, **kwargs: Any) -> list:
        bounds = super().childrenBounds(*args, **kwargs)
        x = bounds[0]
        if x is not None and x[0] is not None and x[1] is not None and x[1] - x[0] < 1:
            middle = 0.5 * (x[0] + x[1])
            bounds[0] = [middle - 0.5, middle + 0.5]
        return bounds


class TrainingPlot(pg.PlotWidget):
    """A plot with titled, unit-labelled axes, a legend, and an empty-state message.

    Curves are created once (:meth:`curve`) and fed with ``setData``; long curves are
    clipped to the view and downsampled by pyqtgraph, so a 100 000-point loss curve redraws
    as fast as a short one.
    """

    def __init__(
        self,
        title: str,
        *,
        x_label: str,
        y_label: str,
        x_units: str | None = None,
        y_units: str | None = None,
        empty_text: str = "No data yet",
        key: list[tuple[str, str, str]] | None = None,
        integer_x: bool = True,
        x_from: float = 0.0,
        parent=None,
    ) -> None:
        palette = _palette()
        # Counts from x_from (epoch 1, iteration 0) on an integer axis.
        axes = {"bottom": IntegerAxis("bottom", x_from)} if integer_x else None
        view = CountView() if integer_x else None
        super().__init__(
            parent=parent,
            background=palette.color(QPalette.ColorRole.Base),
            axisItems=axes,
            viewBox=view,
        )
        text_color = palette.color(QPalette.ColorRole.Text)
        self._text_color = text_color.name()
        self._title = title
        self._key: list[tuple[str, str, str]] = []
        self._key_below = False  # asked for (a row of narrow plots)
        self._key_wraps = False  # the key does not fit beside the title in the plot's width
        self._key_width = 0.0  # the width of the title and key on one line
        self._key_texts: list[str] = []  # the key's html in each of KEY_STYLES
        self._key_line_widths: list[float] = []  # and its width on a line of its own
        self._key_style = 0  # the one shown
        grid_alpha = 0.25
        item = self.getPlotItem()
        self.set_key(key or [])
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.9))
        for name, label, units in (("bottom", x_label, x_units), ("left", y_label, y_units)):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(text_color))
            axis.setTextPen(pg.mkPen(text_color))
            axis.setTickFont(font)
            axis.setLabel(label, units=units, color=text_color.name())
            # Seconds, percents and probabilities must not turn into "ms" or "k" prefixes.
            axis.enableAutoSIPrefix(False)
            # Major and minor grid lines only: the finest level doubled the cost of a redraw
            # (measured with tfstudio.qt.training.bench) for lines nobody reads.
            axis.setStyle(maxTickLevel=1)
        self._y_label, self._y_units = y_label, y_units
        self._y_label_short = False
        item.showGrid(x=True, y=True, alpha=grid_alpha)
        item.setMenuEnabled(True)
        item.getViewBox().setMouseEnabled(x=True, y=False)
        self.setMinimumSize(160, MIN_HEIGHT_PX)
        self._empty = pg.TextItem(
            empty_text, color=palette.color(QPalette.ColorRole.PlaceholderText), anchor=(0.5, 0.5)
        )
        centred = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        centred.setWrapMode(QTextOption.WrapMode.WordWrap)
        self._empty.textItem.document().setDefaultTextOption(centred)
        self._empty.setParentItem(item.getViewBox())
        self._empty.setVisible(False)
        item.getViewBox().sigResized.connect(self._on_view_resize)
        self._on_view_resize()
        self.set_empty(True)

    def curve(
        self,
        name: str | None,
        color: str,
        *,
        width: float = 2.0,
        alpha: int = 255,
        symbol: str | None = None,
        style: Qt.PenStyle | None = None,
    ) -> pg.PlotDataItem:
        """A new (empty) curve, fed later with ``setData``."""
        kwargs = {}
        if symbol:
            kwargs = dict(symbol=symbol, symbolSize=6, symbolBrush=color, symbolPen=None)
        item = _Curve([], [], pen=pen(color, width, alpha, style), name=name, **kwargs)
        self.getPlotItem().addItem(item)
        if symbol is None:
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            # One min/max pair per pixel column (pyqtgraph's default is five): looks the same,
            # and a thick line of a few thousand points halves its paint time.
            item.opts["autoDownsampleFactor"] = 1.0
        return item

    def set_key(self, entries: list[tuple[str, str, str]]) -> None:
        """Show a legend in the title line: ``(text, colour, "solid"|"dashed"|"dot")`` each.

        In the title it can never hide a curve, which a legend box inside the plot does as
        soon as the data reach its corner.
        """
        self._key = list(entries)
        self._key_texts = [_key_text(entries, *style) for style in KEY_STYLES]
        title = html.escape(self._title)
        one_line = title + KEY_GAPS[0] + self._key_texts[0]
        self._key_width = self._title_width(one_line) if entries else 0.0
        self._key_line_widths = [self._title_width(text) for text in self._key_texts]
        self._show_key()

    def set_title(self, title: str) -> None:
        """Another title (a shorter one where the plot is narrow), with the same key."""
        if title != self._title:
            self._title = title
            self.set_key(self._key)

    def _key_fit(self) -> tuple[bool, int]:
        """Whether the key wraps under the title (it does not fit beside it), and which of
        KEY_STYLES it takes: on a line of its own in a plot of four in a row (212 px) the
        key ran 3 px past the plot's right edge; closer together it fits."""
        room = self._title_room()
        wraps = self._key_width > room
        style = 0
        if self._key_below or wraps:
            fitting = [i for i, w in enumerate(self._key_line_widths) if w <= room]
            style = fitting[0] if fitting else len(KEY_STYLES) - 1
        return wraps, style

    def _show_key(self) -> None:
        self._key_wraps, self._key_style = self._key_fit()
        title = html.escape(self._title)
        if self._key:
            below = self._key_below or self._key_wraps
            title += ("<br>" if below else KEY_GAPS[0]) + self._key_texts[self._key_style]
        item = self.getPlotItem()
        item.setTitle(title, color=self._text_color, size=TITLE_SIZE)
        # A wider title had widened the plot past the widget, and a graphics widget does not
        # shrink back by itself: back to the widget's width, as a resize would.
        if self.centralWidget is not None and item.geometry().width() > self.range.width():
            self.centralWidget.setGeometry(self.range)

    def set_key_below(self, below: bool) -> None:
        """The legend on a line of its own under the title, whether or not it fits beside it
        (a row of plots keeps their titles alike); it goes there anyway where it does not
        fit: in the title's line it made the plot wider than its widget, and the right of it
        ("━━ smoothe") was cut off."""
        if below != self._key_below:
            self._key_below = below
            self._show_key()

    def key_below(self) -> bool:
        """Whether the legend is on a line of its own under the title."""
        return bool(self._key) and (self._key_below or self._key_wraps)

    def key_width(self) -> float:
        """The width of the legend as shown (on its line, or with the title beside it)."""
        if not self._key:
            return 0.0
        if self.key_below():
            return self._key_line_widths[self._key_style]
        return self._key_width

    def title_room(self) -> float:
        """The width the title and legend may take: that of the curves' view."""
        return self._title_room()

    def _title_width(self, text: str) -> float:
        document = QTextDocument()
        document.setDocumentMargin(0)
        font = QFont(self.font())
        font.setPointSizeF(float(TITLE_SIZE.removesuffix("pt")))
        document.setDefaultFont(font)
        document.setHtml(text)
        return document.idealWidth()

    def _title_room(self) -> float:
        # The title is centred over the curves' view, right of the left axis, and a plot's
        # right margin is narrow: wider than the view, its right end was cut. The widget's
        # width counts, not the view's, which a title too wide had widened.
        axis = self.getPlotItem().getAxis("left")
        return self.width() - axis.width() - 12.0

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        # Resized first while pyqtgraph builds the widget, before the key is set, and last
        # while it closes, its plot item gone.
        if getattr(self, "_key", None) and self.getPlotItem() is not None:
            self._fit_key()

    def _fit_key(self) -> None:
        # Also when the left axis widens (longer tick values) in a plot of the same width.
        if self._key and self._key_fit() != (self._key_wraps, self._key_style):
            self._show_key()

    def set_y_label(self, label: str) -> None:
        """Another name for the left axis (a loss that is BCE for one run, CE for another)."""
        self._y_label, self._y_units = label, None
        self._y_label_short = False
        self.getPlotItem().getAxis("left").setLabel(label, color=self._text_color)
        self._fit_y_label()

    def _fit_y_label(self) -> None:
        """The left axis's title without its parenthesis ("F1, ER" for "F1, ER (1 s
        segments)") when the whole is taller than the axis (a plot in the dock under the
        spectrogram on a laptop cut it at both ends); the whole in the axis's tooltip."""
        axis = self.getPlotItem().getAxis("left")
        full = self._y_label
        short = full.split(" (", 1)[0]
        if short == full:
            return
        text = full if self._y_units is None else f"{full} ({self._y_units})"
        needed = QFontMetricsF(axis.label.font()).horizontalAdvance(text) + 4
        cut = needed > axis.boundingRect().height()
        if cut != self._y_label_short:
            self._y_label_short = cut
            axis.setLabel(short if cut else full, units=self._y_units, color=self._text_color)
            axis.setToolTip(full if cut else "")
            axis.resizeEvent()  # the title is placed from its length only on a resize

    def set_empty_text(self, text: str) -> None:
        self._empty.setText(text)

    def set_empty(self, empty: bool) -> None:
        """Show the empty-state message; an empty plot shows no (meaningless) tick values."""
        if empty == self._empty.isVisible():
            return
        self._empty.setVisible(empty)
        for name in ("bottom", "left"):
            self.getPlotItem().getAxis(name).setStyle(showValues=not empty)

    def fix_probability_axis(self) -> None:
        """y from 0 to 1 whatever the data, with both ends labelled."""
        item = self.getPlotItem()
        item.getViewBox().enableAutoRange(y=False)
        # Room for the half-height of the 0 and 1 labels, which are dropped if they overhang.
        item.setYRange(-0.08, 1.08, padding=0)
        # Fixed ticks: on a short plot pyqtgraph's own choice can leave out 0 and 1.
        major = [(v / 5, f"{v / 5:g}") for v in range(6)]
        minor = [(v / 10, "") for v in range(1, 10, 2)]
        item.getAxis("left").setTicks([major, minor])

    def _on_view_resize(self) -> None:
        self._fit_y_label()
        self._fit_key()
        rect = self.getPlotItem().getViewBox().boundingRect()
        # Wrapped to the plot's width, each line centred: in a narrow plot (the dock below
        # the spectrogram on a laptop) "Run 12 stored no data for this plot" ran past both
        # edges.
        self._empty.setTextWidth(max(60.0, rect.width() - 12.0))
        self._empty.setPos(rect.center())


def _key_text(entries: list[tuple[str, str, str]], gap: str, marks: int) -> str:
    """The legend's html: each entry's mark (``marks`` of its dashes) and text."""
    return gap.join(
        f"<span style='color:{color}; font-weight:bold'>"
        f"{MARKS.get(style, MARKS['solid']) * (1 if style == 'dot' else marks)}</span>"
        f"&nbsp;{html.escape(text)}"
        for text, color, style in entries
    )


def as_arrays(xs: list[float], ys: list[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """x and y as float arrays with missing values as NaN (a gap in the curve)."""
    x = np.asarray(xs, dtype=float)
    y = np.array([np.nan if v is None else v for v in ys], dtype=float)
    return x, y


class _Curve(pg.PlotDataItem):
    """A curve that takes values of which none is a number as no points: pyqtgraph's symbols
    take the bounds of what they draw with numpy's nanmin, which warns ("All-NaN slice
    encountered", on stderr) for a run whose epochs have no score (a val split without labels,
    a run from before the scores were kept)."""

    def setData(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 2:
            y = np.asarray(args[1], dtype=np.float64)
            if y.size and not np.isfinite(y).any():
                args = ([], [])
        super().setData(*args, **kwargs)
