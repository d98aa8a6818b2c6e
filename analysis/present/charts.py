"""Chart helpers in the house style: axes, ticks, labels and marks, one way for every chart.

Every chart is built the same way::

    from analysis.present import charts

    @charts.styled
    def plot_victims(table, title):
        fig, ax = charts.figure(
            title,                                                           # the finding
            "Victims of homicide per year, London, 2003 to 2024",            # what is plotted
            charts.source_note("Metropolitan Police Service, homicide victims open data"),
        )
        ax.plot(table["year"], table["victims"], color=charts.PALETTE["primary"])
        charts.label_axes(ax, None, "Victims per year")
        charts.integer_years(ax)
        charts.start_at_zero(ax)
        return fig

and saved and shown with ``analysis.present.figures``. This module gathers the helpers; the
style (``style``), the figure frame and its layout (``layout``) live beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import patheffects, ticker
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.text import Text

from analysis.present.layout import figure, note, source_note
from analysis.present.style import (
    DPI,
    FOOTER_SIZE,
    INK_SOFT,
    LABEL_SIZE,
    OKABE_ITO,
    PALETTE,
    house_style,
    styled,
)

__all__ = [
    "DPI", "OKABE_ITO", "PALETTE", "comma_ticks", "count_ticks", "figure", "highlight_point", "house_style",
    "integer_years", "interval_band", "label_axes", "label_bars", "label_line_end", "label_lines", "mark_published",
    "mark_published_bars", "note",
    "source_note", "start_at_zero", "styled", "vline_break",
]

_VAGUE_LABELS = {"", "count", "counts", "value", "values", "number", "n", "total", "rate", "y"}


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
    texts = ax.bar_label(bars, labels=labels, padding=3, fontsize=LABEL_SIZE, color=INK_SOFT)
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


#: Share of the x-axis at either end within which a point's label is aligned to stay inside the axes.
EDGE_SHARE = 0.06


def highlight_point(
    ax: Axes,
    x: float,
    y: float,
    label: str,
    *,
    color: str | None = None,
    offset: tuple[float, float] | None = None,
) -> Text:
    """Mark the point the title talks about with a larger dot and a short label beside it.

    The label is centred on the point (right- or left-aligned to it at either end of the axis, so
    it stays inside), above it, unless a line's point within two x-units is higher (then below,
    where the curve leaves room), so it never sits on a neighbouring point; ``offset`` (points)
    overrides that. A white halo keeps it readable where it crosses a bar or a line.
    """
    color = color or PALETTE["highlight"]
    ax.plot(
        [x], [y], linestyle="none", marker="o", markersize=9, color=color,
        markeredgecolor="white", markeredgewidth=1.5, zorder=6, label="_nolegend_",
    )
    if offset is None:
        near: list[float] = []
        for line in ax.get_lines():
            xs, ys = (np.asarray(v, dtype=float) for v in line.get_data())
            if xs.shape != ys.shape or not np.issubdtype(xs.dtype, np.number):
                continue
            mask = (np.abs(xs - x) <= 2) & (xs != x) & np.isfinite(ys)
            near.extend(ys[mask].tolist())
        below = bool(near) and max(near) > y and y > ax.get_ylim()[0] + 0.15 * (ax.get_ylim()[1] - ax.get_ylim()[0])
        offset = (0.0, -12.0) if below else (0.0, 10.0)
    lo, hi = ax.get_xlim()
    span = abs(hi - lo) or 1.0
    ha = "center"  # at either end of the axis, the label is kept inside it instead of centred
    if abs(hi - x) < EDGE_SHARE * span:
        ha = "right"
    elif abs(x - lo) < EDGE_SHARE * span:
        ha = "left"
    return ax.annotate(
        label, xy=(x, y), xytext=offset, textcoords="offset points",
        ha=ha, va="top" if offset[1] < 0 else "bottom",
        fontsize=10, fontweight="bold", color=color, zorder=7, annotation_clip=False,
        path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],  # readable over bars and lines
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
    """Plot values known only from published statements as hollow points on a line chart.

    The house marker language for "published, not in an open data file" (with
    :func:`mark_published_bars` for bars): hollow, black-edged, never hatched.
    """
    x_arr = np.atleast_1d(np.asarray(x, dtype=float))
    y_arr = np.atleast_1d(np.asarray(y, dtype=float))
    (line,) = ax.plot(
        x_arr, y_arr, linestyle="none", marker="o", markersize=7,
        markerfacecolor="white", markeredgecolor=PALETTE["published"], markeredgewidth=1.6,
        color=PALETTE["published"], label=label, zorder=6,
    )
    return line


def mark_published_bars(ax: Axes, x: Any, height: Any, label: str = "published figure only", *, width: float = 0.75) -> Any:
    """Bars for values known only from published statements: hollow, black-edged (no hatching)."""
    return ax.bar(x, height, width=width, facecolor="white", edgecolor=PALETTE["published"], linewidth=1.6,
                  label=label, zorder=3)


def vline_break(ax: Axes, x: float, label: str) -> Text:
    """Draw a dashed vertical line at a series break, labelled at the top of the axes."""
    ax.axvline(x, color=PALETTE["muted"], linestyle=(0, (4, 3)), linewidth=1.1, zorder=2)
    return ax.text(
        x, 0.98, f" {label}", transform=ax.get_xaxis_transform(), ha="left", va="top",
        fontsize=FOOTER_SIZE, color=INK_SOFT, parse_math=False, zorder=7,
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none",
              "alpha": 0.85},
    )


def count_ticks(ax: Axes, *, axis: str = "y") -> None:
    """Whole-number ticks for an axis of counts (no 0.5 or 2.5 victims), with thousands separators."""
    if axis not in ("x", "y"):
        raise ValueError("axis must be 'x' or 'y'")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(ticker.MaxNLocator(integer=True, min_n_ticks=2))
    target.set_major_formatter(ticker.StrMethodFormatter("{x:,.0f}"))


def label_lines(ax: Axes, labels: Sequence[tuple[float, float, str, str]], *, min_gap_pt: float = 12.0) -> list[Text]:
    """Label lines directly at their last points instead of with a legend (FT / Economist style).

    ``labels``: ``(x, y, text, colour)`` for each line's end. Labels sit just right of the
    points, in the line's colour, nudged apart vertically so that none overlaps another (at
    least ``min_gap_pt`` points between baselines); the axes keep room on the right for them.
    """
    if not labels:
        return []
    fig = ax.figure
    height_pt = ax.get_position().height * fig.get_size_inches()[1] * 72
    low, high = ax.get_ylim()
    per_pt = (high - low) / max(height_pt, 1.0)
    order = sorted(range(len(labels)), key=lambda i: labels[i][1])
    placed: dict[int, float] = {}
    floor = -math.inf
    for i in order:
        y = max(labels[i][1], floor + min_gap_pt * per_pt) if floor > -math.inf else labels[i][1]
        placed[i] = y
        floor = y
    texts = []
    for i, (x, y, text, colour) in enumerate(labels):
        texts.append(ax.annotate(
            text, xy=(x, y), xytext=(6, (placed[i] - y) / per_pt if per_pt else 0), textcoords="offset points",
            ha="left", va="center", fontsize=LABEL_SIZE, fontweight="bold", color=colour, annotation_clip=False,
        ))
    return texts
