"""Charts of notebook 05 (wider violence), in the house style; each returns an unsaved figure.

One panel per offence type where their scales differ by orders of magnitude (no twin axes); the
focus area's line is blue, London's (beside a borough) grey; the focus year is vermillion.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.dates import month_year
from analysis.present import charts, sources
from analysis.stories import violence
from analysis.stories.params import ResolvedParameters

STYLE = {
    violence.HOMICIDE.key: ("highlight", "-"),
    violence.VIOLENCE_WITH_INJURY.key: ("primary", "-"),
    violence.ROBBERY.key: ("secondary", "--"),
    violence.WEAPONS.key: ("shooting", "-."),
}


def _source() -> str:
    return charts.source_note(sources.SOURCE_OFFENCES, sources.SOURCE_POPULATION)


@charts.styled
def plot_index(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Each type's whole-year count as a percentage of its first whole year, lines labelled at their ends."""
    first, last = int(table["year"].iloc[0]), int(table["year"].iloc[-1])
    fig, ax = charts.figure(title, f"{p.area}, recorded offences per whole year, {first} = 100", _source())
    ends = []
    base = violence.homicide_first_count(p.area)
    # an index on a base of a few homicides swings by hundreds of percent on one death: left out
    shown = [t for t in violence.TYPES if t is not violence.HOMICIDE or base >= violence.HOMICIDE_COUNTS_AS_COUNTS]
    if len(shown) < len(violence.TYPES):
        charts.note(fig, f"Homicide is left out: {base} offences in {first} are too few a base for an index "
                         "(its counts and rates are in the charts below).")
    for t in shown:
        colour_key, style = STYLE[t.key]
        colour = charts.PALETTE[colour_key]
        ax.plot(table["year"], table[t.key], color=colour, linestyle=style, marker="o", markersize=3)
        ends.append((float(last), float(table[t.key].iloc[-1]), violence.LABELS[t.key], colour))
    ax.axhline(100, color=charts.PALETTE["muted"], linewidth=0.8)
    charts.label_axes(ax, None, f"Offences per year ({first} = 100)")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.label_lines(ax, ends)
    return fig


def _panel(ax, x, values, london, colour: str, area: str) -> None:
    ax.plot(x, values, color=colour, linewidth=1.8, marker="o" if len(x) < 40 else None, markersize=3, label=area)
    if london is not None:
        ax.plot(x, london, color=charts.PALETTE["muted"], linewidth=1.2, linestyle="--", label="London")


@charts.styled
def plot_rates(table: pd.DataFrame, london: pd.DataFrame | None, p: ResolvedParameters, year: int, title: str):
    """Four panels, one per type: offences per 1,000 residents (homicide per 100,000) per whole
    year, the focus area and, for a borough, London beside it."""
    fig, axes = charts.figure(title, f"{p.area}, recorded offences per whole year per resident population"
                              + (" (London dashed)" if london is not None else ""), _source(), nrows=2, ncols=2, figsize=(10, 7.2))
    whole = table[table["months_covered"] == 12]
    lw = london[london["months_covered"] == 12] if london is not None else None
    for ax, t in zip(axes.flat, violence.TYPES):
        colour = charts.PALETTE[STYLE[t.key][0]]
        _panel(ax, whole["year"], whole[f"{t.key}_rate"], lw[f"{t.key}_rate"] if lw is not None else None, colour, p.area)
        ax.set_title(f"{violence.LABELS[t.key]}, {violence.per_label(t)}", fontsize=10, loc="left")
        row = whole[whole["year"] == year]
        if len(row):
            value = float(row[f"{t.key}_rate"].iloc[0])
            ax.plot([year], [value], "o", color=charts.PALETTE["highlight"], markersize=7, zorder=5)
        charts.integer_years(ax, max_ticks=6)
        charts.start_at_zero(ax)
    if london is not None:
        axes.flat[0].legend(loc="lower left", frameon=False, fontsize=8.5)
    return fig


@charts.styled
def plot_rolling(table: pd.DataFrame, london: pd.DataFrame | None, p: ResolvedParameters, end: tuple[int, int], title: str):
    """Four panels: offences in the 12 months to each month, per resident population, to the end month."""
    fig, axes = charts.figure(title, f"{p.area}, recorded offences in the 12 months to each month, to "
                              f"{month_year(*end)}"
                              + (" (London dashed)" if london is not None else ""), _source(), nrows=2, ncols=2, figsize=(10, 7.2))
    x = table["year"] + (table["month"] - 0.5) / 12
    lx = None
    if london is not None:
        london = london.set_index(["year", "month"]).reindex(pd.MultiIndex.from_frame(table[["year", "month"]])).reset_index()
        lx = london
    for ax, t in zip(axes.flat, violence.TYPES):
        colour = charts.PALETTE[STYLE[t.key][0]]
        _panel(ax, x, table[t.key], lx[t.key] if lx is not None else None, colour, p.area)
        ax.set_title(f"{violence.LABELS[t.key]}, {violence.per_label(t)}", fontsize=10, loc="left")
        charts.integer_years(ax, max_ticks=6)
        charts.start_at_zero(ax)
    if london is not None:
        axes.flat[0].legend(loc="lower left", frameon=False, fontsize=8.5)
    charts.note(fig, violence.CAVEAT)
    return fig
