"""One house style for every chart, and deterministic ways to save and show figures.

Every chart in the analysis is built the same way::

    from analysis import charts

    with charts.house_style():
        fig, ax = charts.figure(
            "Homicides in London fell by a third between 2019 and 2024",   # the finding
            "Victims of homicide per year, London, 2003 to 2024",            # what is plotted
            charts.source_note("Metropolitan Police Service homicide dashboard"),
        )
        ax.plot(table["year"], table["victims"], color=charts.PALETTE["primary"])
        charts.label_axes(ax, "Year", "Victims per year")
        charts.integer_years(ax)
        charts.start_at_zero(ax)
        record = charts.save_figure(fig, table, "victims_per_year", output_dir,
                                    title=..., alt=...)
        charts.show(fig, table, title=...)

Design notes
------------
* Nothing here touches the global ``matplotlib.rcParams`` at import time: the style lives in
  ``house.mplstyle`` next to this module and is applied by ``house_style()``.
* Figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas. They are never
  registered with pyplot, so Jupyter's inline backend never auto-displays them (no
  ``<Figure size ...>`` reprs, no duplicate images). ``show()`` displays one PNG explicitly.
* The title block (finding title, subtitle) and the footer (notes, "Source: ...") are laid out by
  a layout engine that measures them at every draw and reserves exactly that space for the axes,
  so the text never overlaps the axes or each other, whatever is added later.
* Saving is byte-for-byte reproducible: no timestamps or version strings in PNG/SVG metadata, a
  fixed ``svg.hashsalt`` for SVG element ids, text drawn as paths, ``\\n`` line endings in CSV.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "STYLE_PATH",
    "DPI",
    "Findings",
    "figure",
    "highlight_point",
    "house_style",
    "integer_years",
    "interval_band",
    "label_axes",
    "label_bars",
    "label_line_end",
    "comma_ticks",
    "mark_published",
    "note",
    "save_figure",
    "show",
    "source_note",
    "start_at_zero",
    "styled",
    "vline_break",
]

#: The packaged style sheet (shipped via ``[tool.setuptools.package-data]``).
STYLE_PATH: Path = Path(__file__).resolve().with_name("house.mplstyle")

#: Resolution of every saved and shown PNG.
DPI: int = 120

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008), by colour name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Semantic colours: use these names in notebooks, never raw hex codes. Every role has its own
#: colour, so any two roles can share a chart. (Okabe-Ito yellow is left out: too pale on white.)
PALETTE: dict[str, str] = {
    "primary": OKABE_ITO["blue"],  # the main series
    "secondary": OKABE_ITO["orange"],  # a comparison series
    "highlight": OKABE_ITO["vermillion"],  # the point or bar the title talks about
    "published": OKABE_ITO["black"],  # values known only from published statements (hollow)
    "muted": "#8C8C8C",  # context: other areas, earlier years, reference lines
    "knife": OKABE_ITO["reddish_purple"],  # method of killing: knife or sharp instrument
    "shooting": OKABE_ITO["bluish_green"],  # method of killing: shooting
    "other": OKABE_ITO["sky_blue"],  # method of killing: everything else
}

# Text colours and sizes for the chart furniture (independent of rcParams on purpose, so the
# helpers look the same whether or not they are called inside ``house_style()``).
_INK = "#1A1A1A"
_INK_SOFT = "#404040"
_INK_NOTE = "#666666"
_TITLE_SIZE = 16.0
_SUBTITLE_SIZE = 12.0
_FOOTER_SIZE = 9.0
_LABEL_SIZE = 9.5
_MARGIN_IN = 0.12  # outer margin of the figure, inches (matches constrained_layout.w_pad)
_LINE_SPACING = 1.25
_LAYOUT_PASSES = 2

_P = ParamSpec("_P")
_R = TypeVar("_R")

_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_VAGUE_LABELS = {"", "count", "counts", "value", "values", "number", "n", "total", "rate", "y"}


# --------------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Apply the house style sheet for the duration of a ``with`` block.

    Create, draw on, save and show figures inside the block; rcParams are restored on exit.
    """
    with matplotlib.style.context(str(STYLE_PATH)):
        yield


def styled(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator for chart-building functions: run the whole body inside ``house_style()``.

    Artists take most of their look (line widths, legend frame, panel-title style, twin-axis
    spines) from rcParams *when they are created*, so everything drawn on a house figure should
    be drawn inside the style, not only ``figure()``. ``save_figure`` and ``show`` apply it too.
    """

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with house_style():
            return function(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------
# Figure with a finding-title, subtitle and source note
# --------------------------------------------------------------------------------------------


def _word_widths(text: str, artist: Text, renderer: Any) -> tuple[dict[str, float], float]:
    """Width in pixels of every distinct word of ``text`` as ``artist`` draws it, and of a space.

    Measured once per wrap, so finding line breaks is arithmetic instead of a text layout per
    candidate line (the sum of word widths and spaces matches the drawn line to within kerning).
    """
    original = artist.get_text()
    widths: dict[str, float] = {}
    for word in set(text.split()):
        artist.set_text(word)
        widths[word] = artist.get_window_extent(renderer).width
    artist.set_text("x x")
    two = artist.get_window_extent(renderer).width
    artist.set_text("xx")
    space = two - artist.get_window_extent(renderer).width
    artist.set_text(original)
    return widths, space


def _greedy_wrap(text: str, widths: dict[str, float], space: float, max_px: float) -> list[str]:
    """Greedy word wrap of ``text`` so that each line's width (words plus spaces) fits in ``max_px``."""
    lines_out: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if not words:
            lines_out.append("")
            continue
        line, width = words[0], widths[words[0]]
        for word in words[1:]:
            candidate = width + space + widths[word]
            if candidate <= max_px:
                line, width = f"{line} {word}", candidate
            else:
                lines_out.append(line)
                line, width = word, widths[word]
        lines_out.append(line)
    return lines_out


def _wrap_to_width(text: str, artist: Text, renderer: Any, max_px: float) -> str:
    """Wrap to ``max_px`` with balanced lines: as few lines as greedy wrapping needs, but as
    narrow as possible, so a long title does not end in a one-word orphan line."""
    widths, space = _word_widths(text, artist, renderer)
    lines = _greedy_wrap(text, widths, space, max_px)
    if len(lines) > 1:
        low, high = 0.5 * max_px, max_px
        for _ in range(10):  # bisect on the width; the result is deterministic
            mid = (low + high) / 2
            if len(_greedy_wrap(text, widths, space, mid)) <= len(lines):
                high = mid
            else:
                low = mid
        lines = _greedy_wrap(text, widths, space, high)
    return "\n".join(lines)


class _HouseLayout(ConstrainedLayoutEngine):
    """Constrained layout inside the band left free by the title block and the footer.

    At every draw it wraps the header and footer texts to the figure width, stacks them from the
    top and bottom edges, and then runs constrained layout in the remaining rectangle.
    """

    def __init__(self, title: Text, subtitle: Text | None, source: Text, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.subtitle = subtitle
        self.source = source
        self.notes: list[Text] = []
        self._raw: dict[int, str] = {}
        for artist in (title, subtitle, source):
            if artist is not None:
                self._raw[id(artist)] = artist.get_text()

    def add_note(self, artist: Text) -> None:
        self.notes.append(artist)
        self._raw[id(artist)] = artist.get_text()

    def _place(self, fig: Figure, renderer: Any) -> tuple[float, float]:
        fig_w_px, fig_h_px = fig.bbox.width, fig.bbox.height
        width_in, height_in = fig.get_size_inches()
        margin_x = _MARGIN_IN / width_in
        margin_y = _MARGIN_IN / height_in
        max_px = fig_w_px * (1 - 2 * margin_x)

        def frac(px: float) -> float:
            return px / fig_h_px

        def pts(points: float) -> float:
            return points / 72.0 / height_in

        def fit(artist: Text) -> float:
            wrapped = _wrap_to_width(self._raw[id(artist)], artist, renderer, max_px)
            artist.set_text(wrapped)
            return frac(artist.get_window_extent(renderer).height)

        # Header, from the top edge down.
        y = 1 - margin_y
        self.title.set_position((margin_x, y))
        y -= fit(self.title)
        if self.subtitle is not None:
            y -= pts(4)
            self.subtitle.set_position((margin_x, y))
            y -= fit(self.subtitle)
        header_bottom = y - pts(10)

        # Footer, from the bottom edge up: source note last, caveat notes above it.
        y = margin_y
        for artist in [self.source, *reversed(self.notes)]:
            artist.set_position((margin_x, y))
            y += fit(artist) + pts(2)
        footer_top = y + pts(6)

        return footer_top, header_bottom

    def _state(self, fig: Figure) -> tuple[Any, ...]:
        """What the layout depends on: figure size and what is drawn (not the output format's dpi)."""
        return (
            tuple(round(v, 6) for v in fig.get_size_inches()),
            tuple(self._raw.values()),
            tuple((len(ax.get_children()), ax.get_xlim(), ax.get_ylim()) for ax in fig.axes),
        )

    def execute(self, fig: Figure) -> Any:
        # The layout is computed once per figure state and replayed for later draws (the PNG,
        # the SVG, the PNG shown inline), so a figure is laid out once, not once per format.
        state = self._state(fig)
        cached = getattr(self, "_cache", None)
        if cached is not None and cached[0] == state:
            for artist, (text, position) in zip(self._texts(), cached[1]):
                artist.set_text(text)
                artist.set_position(position)
            for ax, position in zip(fig.axes, cached[2]):
                ax._set_position(position)
            return None
        result = self._layout(fig)
        self._cache = (
            state,
            [(a.get_text(), a.get_position()) for a in self._texts()],
            [ax.get_position(original=False).frozen() for ax in fig.axes],
        )
        return result

    def _texts(self) -> list[Text]:
        return [a for a in (self.title, self.subtitle, self.source, *self.notes) if a is not None]

    def _layout(self, fig: Figure) -> Any:
        renderer = fig._get_renderer()
        bottom, top = self._place(fig, renderer)
        if top - bottom < 0.2:
            raise ValueError(
                "chart title, subtitle and notes leave less than a fifth of the figure for the "
                "axes; shorten them or pass a taller figsize"
            )
        self.set(rect=(0.0, bottom, 1.0, top - bottom))
        # Constrained layout starts from the axes' current positions, and tick labels (hence
        # the space they need) depend on axes size, so one pass from wherever the last draw left
        # things is history-dependent. Start every draw from the gridspec positions and make a
        # fixed number of passes: the result depends only on what is in the figure, which makes
        # a figure saved twice, or re-created in a new run, come out byte-identical.
        for ax in fig.axes:
            spec = ax.get_subplotspec()
            if spec is not None:
                ax._set_position(spec.get_position(fig))
        result = None
        for _ in range(_LAYOUT_PASSES):
            result = super().execute(fig)
        return result


def _figure_text(fig: Figure, text: str, **kwargs: Any) -> Text:
    return fig.text(
        0.0, 0.0, text, ha="left", parse_math=False, transform=fig.transFigure, **kwargs
    )


def source_note(*names: str) -> str:
    """Build the source line from source labels: ``"Source: A"`` or ``"Sources: A; B"``.

    Duplicates are dropped (first occurrence kept), blanks are ignored.
    """
    seen: list[str] = []
    for name in names:
        label = str(name).strip()
        if label and label not in seen:
            seen.append(label)
    if not seen:
        raise ValueError("source_note() needs at least one non-empty source label")
    prefix = "Source" if len(seen) == 1 else "Sources"
    return f"{prefix}: {'; '.join(seen)}"


def figure(
    title: str,
    subtitle: str | None,
    source: str,
    *,
    nrows: int = 1,
    ncols: int = 1,
    figsize: tuple[float, float] | None = None,
    sharey: bool = False,
) -> tuple[Figure, Axes | np.ndarray]:
    """Create a figure in the house style with a finding-title, subtitle and source note.

    ``title`` states the finding as a sentence (e.g. "Knife homicides rose while shootings fell");
    it is bold, left-aligned and wrapped to the figure width. ``subtitle`` says what is plotted,
    with units and period. ``source`` is a source label or a ready ``source_note(...)`` line.

    Returns ``(fig, ax)`` for one panel, or ``(fig, axes)`` with a NumPy array of Axes otherwise
    (squeezed like ``plt.subplots``). The figure is not registered with pyplot.
    """
    if not isinstance(title, str) or not title.strip():
        raise ValueError("figure() needs a title that states the finding")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("figure() needs a source, e.g. charts.source_note('ONS')")
    source = source.strip()
    if not re.match(r"^Sources?:", source):
        source = f"Source: {source}"

    with house_style():
        fig = Figure(figsize=figsize, dpi=DPI)
        FigureCanvasAgg(fig)
        title_artist = _figure_text(
            fig, title.strip(), va="top", fontsize=_TITLE_SIZE, fontweight="bold", color=_INK,
            linespacing=_LINE_SPACING,
        )
        subtitle_artist = None
        if subtitle is not None and subtitle.strip():
            subtitle_artist = _figure_text(
                fig, subtitle.strip(), va="top", fontsize=_SUBTITLE_SIZE, color=_INK_SOFT,
                linespacing=_LINE_SPACING,
            )
        source_artist = _figure_text(
            fig, source, va="bottom", fontsize=_FOOTER_SIZE, color=_INK_NOTE,
            linespacing=_LINE_SPACING,
        )
        fig.set_layout_engine(
            _HouseLayout(title_artist, subtitle_artist, source_artist,
                         w_pad=_MARGIN_IN, h_pad=0.06, wspace=0.04, hspace=0.06)
        )
        axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=True)
    return fig, axes


# --------------------------------------------------------------------------------------------
# Axis helpers
# --------------------------------------------------------------------------------------------


def label_axes(ax: Axes, xlabel: str | None, ylabel: str) -> None:
    """Label both axes. The y label must name the unit, e.g. "Victims per year", "Rate per 100,000".

    Pass ``xlabel=None`` (or "") to leave the x axis unlabelled when the ticks speak for
    themselves (calendar years).
    """
    if not isinstance(ylabel, str) or ylabel.strip().lower() in _VAGUE_LABELS:
        raise ValueError(
            f"y axis label {ylabel!r} does not say what is counted and in what unit; "
            "write e.g. 'Victims per year' or 'Homicides per 100,000 residents'"
        )
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel)


class _YearLocator(ticker.MaxNLocator):
    """Whole-year ticks at steps of 1, 2, 5 or 10 years, no denser than the axis can read."""

    def __init__(self, max_ticks: int) -> None:
        super().__init__(nbins=max_ticks, integer=True, steps=[1, 2, 5, 10], min_n_ticks=2)
        self._max_ticks = max_ticks

    def __call__(self) -> Sequence[float]:
        if self.axis is not None:
            # get_tick_space() allows one label per ~3 font sizes; a year label needs ~2.5,
            # so halve it to leave clear air between labels.
            space = max(2, self.axis.get_tick_space() // 2)
            self.set_params(nbins=int(min(self._max_ticks, space)))
        return super().__call__()


def integer_years(ax: Axes, *, axis: str = "x", max_ticks: int = 12) -> None:
    """Show calendar years as plain integers (2003, not 2,003 or +2e3), at readable spacing.

    Plot years as numbers (ints), not datetimes. ``axis="y"`` for horizontal bar charts.
    """
    if axis not in ("x", "y"):
        raise ValueError("axis must be 'x' or 'y'")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(_YearLocator(max_ticks))
    target.set_major_formatter(ticker.FuncFormatter(lambda value, _pos: f"{value:.0f}"))
    target.set_minor_locator(ticker.NullLocator())


def start_at_zero(ax: Axes, *, axis: str = "y") -> None:
    """Make a count or rate axis start exactly at zero, with a zero baseline.

    Autoscaling stays on, so data plotted afterwards (or on shared axes) still fit: a baseline
    at zero joins the data limits and is "sticky", so the margin never pushes the axis below 0.
    """
    if axis == "y":
        line = ax.axhline(0, color="#595959", linewidth=0.9, zorder=1.5, label="_nolegend_")
        line.sticky_edges.y.append(0)
    elif axis == "x":
        line = ax.axvline(0, color="#595959", linewidth=0.9, zorder=1.5, label="_nolegend_")
        line.sticky_edges.x.append(0)
    else:
        raise ValueError("axis must be 'x' or 'y'")
    ax.autoscale_view()


def comma_ticks(ax: Axes, *, axis: str = "y", decimals: int = 0) -> None:
    """Format a value axis with thousands separators (1,200 not 1200), matching bar labels."""
    if axis not in ("x", "y"):
        raise ValueError("axis must be 'x' or 'y'")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(ticker.StrMethodFormatter(f"{{x:,.{decimals}f}}"))


# --------------------------------------------------------------------------------------------
# Annotation helpers
# --------------------------------------------------------------------------------------------


def label_bars(ax: Axes, bars: BarContainer, fmt: str = "{:,.0f}") -> list[Text]:
    """Write each bar's value just beyond its end (LA Times style) and make room for the labels.

    Missing values (NaN) get no label. Works for ``ax.bar`` and ``ax.barh`` containers.
    """
    values = np.asarray(bars.datavalues, dtype=float)
    labels = ["" if not math.isfinite(v) else fmt.format(v) for v in values]
    texts = ax.bar_label(bars, labels=labels, padding=3, fontsize=_LABEL_SIZE, color=_INK_SOFT)
    for text in texts:
        text.set_parse_math(False)
    finite = values[np.isfinite(values)]
    if finite.size:
        horizontal = getattr(bars, "orientation", "vertical") == "horizontal"
        # Room beyond the longest bar for its label, as a fraction of the data range.
        headroom = 0.16 if horizontal else 0.10
        if horizontal and ax.get_autoscalex_on():
            ax.set_xmargin(max(ax.margins()[0], headroom))
        elif not horizontal and ax.get_autoscaley_on():
            ax.set_ymargin(max(ax.margins()[1], headroom))
        else:  # limits were fixed by hand: widen them just enough
            if horizontal:
                get_lim, set_lim = ax.get_xlim, ax.set_xlim
            else:
                get_lim, set_lim = ax.get_ylim, ax.set_ylim
            low, high = get_lim()
            span = (max(finite.max(), 0) - min(finite.min(), 0)) or 1.0
            if finite.max() > 0:
                high = max(high, finite.max() + headroom * span)
            if finite.min() < 0:
                low = min(low, finite.min() - headroom * span)
            set_lim(low, high)
    return list(texts)


def label_line_end(ax: Axes, x: float, y: float, text: str, color: str) -> Text:
    """Label a line directly at its last point, in the line's colour (instead of a legend)."""
    return ax.annotate(
        text, xy=(x, y), xytext=(6, 0), textcoords="offset points", ha="left", va="center",
        fontsize=10, fontweight="bold", color=color, annotation_clip=False,
    )


def highlight_point(
    ax: Axes,
    x: float,
    y: float,
    label: str,
    *,
    color: str | None = None,
    offset: tuple[float, float] | None = None,
) -> Text:
    """Mark the point the title talks about with a larger dot and a short label.

    The label goes above and to the left of points in the right quarter of the x range, above
    and to the right otherwise; ``offset`` (points) overrides that.
    """
    color = color or PALETTE["highlight"]
    ax.plot(
        [x], [y], linestyle="none", marker="o", markersize=9, color=color,
        markeredgecolor="white", markeredgewidth=1.5, zorder=6, label="_nolegend_",
    )
    if offset is None:
        left, right = ax.get_xlim()
        near_right = (x - left) > 0.75 * (right - left)
        offset = (-8.0, 10.0) if near_right else (8.0, 10.0)
    return ax.annotate(
        label, xy=(x, y), xytext=offset, textcoords="offset points",
        ha="right" if offset[0] < 0 else "left", va="bottom",
        fontsize=10, fontweight="bold", color=color, zorder=7, annotation_clip=False,
    )


def interval_band(
    ax: Axes,
    x: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    color: str,
    label: str,
) -> Any:
    """Shade a confidence interval between ``lower`` and ``upper`` (label names the level)."""
    x_arr, lo, hi = (np.asarray(v, dtype=float) for v in (x, lower, upper))
    if not (x_arr.shape == lo.shape == hi.shape):
        raise ValueError("interval_band(): x, lower and upper must have the same length")
    both = np.isfinite(lo) & np.isfinite(hi)
    if np.any(lo[both] > hi[both]):
        raise ValueError("interval_band(): lower bound above upper bound")
    return ax.fill_between(x_arr, lo, hi, color=color, alpha=0.18, linewidth=0, label=label,
                           zorder=1)


def mark_published(
    ax: Axes, x: Any, y: Any, label: str = "published figure only"
) -> Any:
    """Plot values known only from published statements as hollow black diamonds.

    Shape (diamond, not dot) and fill (hollow) set them apart without relying on colour.
    """
    x_arr = np.atleast_1d(np.asarray(x, dtype=float))
    y_arr = np.atleast_1d(np.asarray(y, dtype=float))
    (line,) = ax.plot(
        x_arr, y_arr, linestyle="none", marker="D", markersize=7,
        markerfacecolor="white", markeredgecolor=PALETTE["published"], markeredgewidth=1.6,
        color=PALETTE["published"], label=label, zorder=6,
    )
    return line


_NOTE_CORNERS = {
    "upper left": (0.01, 0.98, "left", "top"),
    "upper right": (0.99, 0.98, "right", "top"),
    "lower left": (0.01, 0.02, "left", "bottom"),
    "lower right": (0.99, 0.02, "right", "bottom"),
}


def note(ax_or_fig: Axes | Figure, text: str, *, loc: str = "upper left") -> Text:
    """Write a caveat beside the chart (e.g. "Recording changed in 2014: see vertical line").

    On a figure from ``figure()`` the note goes in the footer, above the source line, and the
    axes shrink to make room. On an Axes it goes in a corner (``loc``) in small grey type.
    """
    if not text or not text.strip():
        raise ValueError("note() needs text")
    text = text.strip()
    if isinstance(ax_or_fig, Figure):
        engine = ax_or_fig.get_layout_engine()
        if not isinstance(engine, _HouseLayout):
            raise TypeError("note(fig, ...) needs a figure made by charts.figure()")
        if not re.match(r"^Notes?:", text):
            text = f"Note: {text}"
        artist = _figure_text(
            ax_or_fig, text, va="bottom", fontsize=_FOOTER_SIZE, color=_INK_SOFT,
            linespacing=_LINE_SPACING,
        )
        engine.add_note(artist)
        return artist
    if loc not in _NOTE_CORNERS:
        raise ValueError(f"loc must be one of {sorted(_NOTE_CORNERS)}")
    x, y, ha, va = _NOTE_CORNERS[loc]
    return ax_or_fig.text(
        x, y, text, transform=ax_or_fig.transAxes, ha=ha, va=va, fontsize=_FOOTER_SIZE,
        color=_INK_SOFT, parse_math=False, zorder=7,
        bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none",
              "alpha": 0.85},
    )


def vline_break(ax: Axes, x: float, label: str) -> Text:
    """Draw a dashed vertical line at a series break, labelled at the top of the axes."""
    ax.axvline(x, color=PALETTE["muted"], linestyle=(0, (4, 3)), linewidth=1.1, zorder=2)
    return ax.text(
        x, 0.98, f" {label}", transform=ax.get_xaxis_transform(), ha="left", va="top",
        fontsize=_FOOTER_SIZE, color=_INK_SOFT, parse_math=False, zorder=7,
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none",
              "alpha": 0.85},
    )


# --------------------------------------------------------------------------------------------
# Saving and showing
# --------------------------------------------------------------------------------------------

_PNG_METADATA_BASE: dict[str, Any] = {"Software": None}
_SVG_METADATA_BASE: dict[str, Any] = {"Date": None, "Creator": None}


def _png_bytes(fig: Figure, *, title: str | None = None, alt: str | None = None) -> bytes:
    """The figure as PNG bytes (120 dpi, no software or date metadata), rendered once per
    figure and metadata: ``save_figure`` and ``show`` share the same rendering."""
    cached = getattr(fig, "_house_png", None)
    if cached is not None and cached[0] == (title, alt):
        return cached[1]
    data = _render_png(fig, title=title, alt=alt)
    fig._house_png = ((title, alt), data)  # type: ignore[attr-defined]
    return data


def _render_png(fig: Figure, *, title: str | None = None, alt: str | None = None) -> bytes:
    metadata = dict(_PNG_METADATA_BASE)
    if title:
        metadata["Title"] = title
    if alt:
        metadata["Description"] = alt
    buffer = io.BytesIO()
    with house_style():
        fig.savefig(buffer, format="png", dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def _svg_bytes(fig: Figure, *, title: str, alt: str) -> bytes:
    metadata = dict(_SVG_METADATA_BASE, Title=title, Description=alt)
    buffer = io.BytesIO()
    with house_style():
        fig.savefig(buffer, format="svg", dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def save_figure(
    fig: Figure,
    table: pd.DataFrame,
    stem: str,
    output_dir: str | Path | None,
    *,
    title: str,
    alt: str,
) -> dict[str, str | None]:
    """Save the chart as PNG and SVG and the table behind it as CSV; return a record of it.

    Writes ``figures/<stem>.png`` (120 dpi), ``figures/<stem>.svg`` and ``tables/<stem>.csv``
    under ``output_dir``, byte-identical from run to run. With ``output_dir=None`` nothing is
    written and the paths in the record are None. Paths in the record are relative to
    ``output_dir``, as POSIX strings.
    """
    if not isinstance(stem, str) or not _STEM_RE.match(stem):
        raise ValueError(f"stem {stem!r} must be letters, digits, '_' or '-' (no path parts)")
    if not isinstance(table, pd.DataFrame):
        raise TypeError("save_figure() needs the table behind the chart as a pandas DataFrame")
    if not title or not title.strip():
        raise ValueError("save_figure() needs the finding-title")
    if not alt or not alt.strip():
        raise ValueError("save_figure() needs alt text describing the chart")

    record: dict[str, str | None] = {
        "stem": stem, "title": title, "alt": alt, "png": None, "svg": None, "table": None,
    }
    if output_dir is None:
        return record

    root = Path(output_dir)
    png_rel = f"figures/{stem}.png"
    svg_rel = f"figures/{stem}.svg"
    csv_rel = f"tables/{stem}.csv"
    _write_bytes(root / png_rel, _png_bytes(fig, title=title, alt=alt))
    _write_bytes(root / svg_rel, _svg_bytes(fig, title=title, alt=alt))
    csv_text = table.to_csv(index=False, lineterminator="\n")
    _write_bytes(root / csv_rel, csv_text.encode("utf-8"))
    record.update(png=png_rel, svg=svg_rel, table=csv_rel)
    return record


def _table_text(table: pd.DataFrame, max_rows: int) -> str:
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    shown = table if len(table) <= max_rows else table.head(max_rows)
    text = shown.to_string(index=False)
    hidden = len(table) - len(shown)
    if hidden:
        text += f"\n… {hidden:,} more row{'s' if hidden != 1 else ''}"
    return text


def show(
    fig: Figure, table: pd.DataFrame | None = None, *, title: str, max_rows: int = 40
) -> None:
    """Show a chart in a notebook: the finding-title and table as plain text, then one PNG.

    The PNG is rendered exactly as ``save_figure`` renders it and displayed with
    ``IPython.display``; the figure is then closed. Nothing goes to stderr, and no
    ``<Figure ...>`` repr or SVG appears in the cell output, so nbval sees stable text.
    """
    import IPython.display as ipd
    import matplotlib.pyplot as plt

    parts = [title.strip()]
    if table is not None:
        parts.append("")
        parts.append(_table_text(table, max_rows))
    print("\n".join(parts))
    cached = getattr(fig, "_house_png", None)
    png = cached[1] if cached is not None else _png_bytes(fig)
    ipd.display(ipd.Image(data=png, format="png"))
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Findings: what a notebook found, for the report
# --------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} to findings JSON")


_RECORD_KEYS = ("stem", "title", "alt", "png", "svg", "table")


@dataclass
class Findings:
    """Collects a notebook's headline, key sentences and figure records, and writes them as JSON.

    ``findings = Findings("01_trends", parameters)``; ``findings.headline = "..."``;
    ``findings.add(save_figure(...))``; ``findings.add_sentence("peak", "...")``;
    ``findings.write(output_dir)``. Re-running a cell replaces, never duplicates, its entries.
    """

    notebook: str
    parameters: dict[str, Any]
    headline: str = ""
    sentences: dict[str, str] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        name = str(self.notebook)
        if name.endswith(".ipynb"):
            name = name[: -len(".ipynb")]
        if not _STEM_RE.match(name):
            raise ValueError(f"notebook name {self.notebook!r} must be a plain file stem")
        self.notebook = name
        self.parameters = dict(self.parameters or {})

    def add(self, record: Mapping[str, Any]) -> None:
        """Add a figure record from ``save_figure`` (a record with the same stem is replaced)."""
        missing = [key for key in _RECORD_KEYS if key not in record]
        if missing:
            raise ValueError(f"figure record lacks {missing}; pass what save_figure() returned")
        entry = {key: record[key] for key in _RECORD_KEYS}
        for index, existing in enumerate(self.figures):
            if existing["stem"] == entry["stem"]:
                self.figures[index] = entry
                return
        self.figures.append(entry)

    def add_sentence(self, key: str, text: str) -> None:
        """Record a key sentence of the narrative under ``key`` (re-adding a key replaces it)."""
        if not key or not isinstance(key, str):
            raise ValueError("sentence key must be a non-empty string")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"sentence {key!r} is empty")
        self.sentences[key] = text.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "parameters": self.parameters,
            "headline": self.headline,
            "sentences": dict(self.sentences),
            "figures": [dict(entry) for entry in self.figures],
        }

    def to_json(self) -> str:
        if not isinstance(self.headline, str) or not self.headline.strip():
            raise ValueError(f"findings for {self.notebook!r} have no headline")
        return json.dumps(
            self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False, default=_json_default
        ) + "\n"

    def write(self, output_dir: str | Path | None) -> Path | None:
        """Write ``output_dir/findings/<notebook>.json``; with ``output_dir=None`` write nothing.

        The headline is required either way, so a missing one fails under nbval too.
        """
        text = self.to_json()
        if output_dir is None:
            return None
        path = Path(output_dir) / "findings" / f"{self.notebook}.json"
        _write_bytes(path, text.encode("utf-8"))
        return path
