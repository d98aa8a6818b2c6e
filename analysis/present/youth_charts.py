"""Charts of notebook 02 (youth violence), in the house style; each returns an unsaved figure.

The same marker language as notebook 01: open records filled, published-only values hollow, the
focus year vermillion; lines labelled at their ends instead of a legend over the data.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.dates import EN_DASH
from analysis.present import charts, sources
from analysis.stories import narrative, tables
from analysis.stories.params import ResolvedParameters

LINES = (("under_25", "victims_under_25", "under 25", "primary", "-"), ("13_19", "victims_13_19", f"aged 13{EN_DASH}19", "secondary", "--"))


def _source(table: pd.DataFrame, population: bool = False) -> str:
    names = [sources.SOURCE_VICTIMS]
    if any(table[f"source_{key}"].isin(["", "victim records"]).eq(False).any() for key, *_ in LINES):
        names.append(sources.SOURCE_PUBLISHED)
    if population:
        names.append(sources.SOURCE_POPULATION)
    return charts.source_note(*names)


def _published(rows: pd.DataFrame, key: str) -> pd.Series:
    return ~rows[f"source_{key}"].isin(["victim records", ""])


@charts.styled
def plot_counts(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Victims under 25 and aged 13–19 per whole year with exact intervals; published values hollow."""
    whole = tables.whole_years(table)
    fig, ax = charts.figure(title, f"{p.area}, homicide victims under 25 and aged 13{EN_DASH}19 per year, with 95% exact Poisson intervals",
                            _source(whole))
    ends = []
    for key, column, label, colour_key, style in LINES:
        colour = charts.PALETTE[colour_key]
        rows = whole.dropna(subset=[column])
        if rows.empty:
            continue
        charts.interval_band(ax, rows["year"], rows[f"{key}_lower"], rows[f"{key}_upper"], colour, "_nolegend_")
        ax.plot(rows["year"], rows[column], color=colour, linestyle=style, marker="o", markersize=4)
        pub = rows[_published(rows, key)]
        if len(pub):
            charts.mark_published(ax, pub["year"], pub[column], label="_nolegend_")
        ends.append((float(rows["year"].iloc[-1]), float(rows[column].iloc[-1]), label, colour))
    focus = whole[whole["year"] == p.year].dropna(subset=["victims_under_25"])
    charts.label_axes(ax, None, "Victims per year")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.count_ticks(ax)
    if len(focus):
        charts.highlight_point(ax, p.year, float(focus["victims_under_25"].iloc[0]), f"{p.year}: {narrative.fmt_int(focus['victims_under_25'].iloc[0])}")
    charts.label_lines(ax, ends)
    if whole.apply(lambda r: any(_published(pd.DataFrame([r]), k).iloc[0] for k, *_ in LINES), axis=1).any():
        charts.note(fig, "Hollow points are published figures (no victim records cover those years).")
    return fig


@charts.styled
def plot_rates(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Rates per 100,000 residents of the same ages, whole years, with exact intervals."""
    whole = tables.whole_years(table)
    fig, ax = charts.figure(
        title,
        f"{p.area}, homicide victims per 100,000 residents of the same ages (ONS mid-year population), with 95% exact Poisson intervals",
        _source(whole, population=True),
    )
    ends = []
    for key, _column, label, colour_key, style in LINES:
        colour = charts.PALETTE[colour_key]
        rows = whole.dropna(subset=[f"rate_{key}"])
        if rows.empty:
            continue
        charts.interval_band(ax, rows["year"], rows[f"rate_{key}_lower"], rows[f"rate_{key}_upper"], colour, "_nolegend_")
        ax.plot(rows["year"], rows[f"rate_{key}"], color=colour, linestyle=style, marker="o", markersize=4)
        pub = rows[_published(rows, key)]
        if len(pub):
            charts.mark_published(ax, pub["year"], pub[f"rate_{key}"], label="_nolegend_")
        ends.append((float(rows["year"].iloc[-1]), float(rows[f"rate_{key}"].iloc[-1]), label, colour))
    if len(whole) and whole["year"].min() < tables.CENSUS_BREAK <= whole["year"].max():
        charts.vline_break(ax, tables.CENSUS_BREAK - 0.5, "population re-based on Census 2021")
    charts.label_axes(ax, None, "Victims per 100,000 residents of those ages")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.label_lines(ax, ends)
    if whole["carried_forward"].astype(bool).any():
        charts.note(fig, "Years after the latest population estimate use that estimate carried forward.")
    return fig


@charts.styled
def plot_share(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Bars of the share of all victims who were under 25 (percent), whole years, to the focus year."""
    whole = tables.whole_years(table).dropna(subset=["share_under_25_pct"])
    whole = whole[whole["year"] <= p.year] if (whole["year"] <= p.year).any() else whole
    fig, ax = charts.figure(title, f"{p.area}, victims under 25 as a percentage of all homicide victims, by year", _source(whole))
    colours = [charts.PALETTE["highlight"] if y == p.year else charts.PALETTE["primary"] for y in whole["year"]]
    bars = ax.bar(whole["year"], whole["share_under_25_pct"], color=colours, width=0.75)
    charts.label_bars(ax, bars, fmt="{:.0f}")
    charts.label_axes(ax, None, "Share of all victims (%)")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    return fig
