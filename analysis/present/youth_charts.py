"""Charts of notebook 02 (youth violence), in the house style; each returns an unsaved figure."""

from __future__ import annotations

import pandas as pd

from analysis.present import charts, sources
from analysis.stories import narrative, tables
from analysis.stories.params import ResolvedParameters
from analysis.stories.youth import GROUPS


def _source(table: pd.DataFrame, population: bool = False) -> str:
    names = [sources.SOURCE_VICTIMS]
    if (table["source"] == "published").any():
        names.append(sources.SOURCE_PUBLISHED)
    if population:
        names.append(sources.SOURCE_POPULATION)
    return charts.source_note(*names)


@charts.styled
def plot_counts(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Lines of victims under 25 and aged 13–19 per whole year with exact intervals; published-only years hollow."""
    whole = tables.whole_years(table)
    fig, ax = charts.figure(title, f"{p.area}, homicide victims under 25 and aged 13–19 by year recorded, with 95% exact Poisson intervals", _source(whole))
    for key, colour, style in (("under_25", charts.PALETTE["primary"], "-"), ("13_19", charts.PALETTE["secondary"], "--")):
        group = GROUPS[key]
        rows = whole.dropna(subset=[group["count"]])
        charts.interval_band(ax, rows["year"], rows[f"{key}_lower"], rows[f"{key}_upper"], colour, f"95% interval ({group['label']})")
        opendata = rows[rows["source"] == "open data"]
        ax.plot(opendata["year"], opendata[group["count"]], color=colour, linestyle=style, marker="o", markersize=4, label=f"victims {group['label']}")
        pub = rows[rows["source"] == "published"]
        if len(pub):
            charts.mark_published(ax, pub["year"], pub[group["count"]], label=f"{group['label']}: published figure only")
    focus = whole[whole["year"] == p.year].dropna(subset=["victims_under_25"])
    if len(focus):
        charts.highlight_point(ax, p.year, float(focus["victims_under_25"].iloc[0]), f"{p.year}: {narrative.fmt_int(focus['victims_under_25'].iloc[0])}")
    charts.label_axes(ax, None, "Victims per year")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    _legend_above_data(ax)
    return fig


@charts.styled
def plot_rates(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Rates per 100,000 residents aged 0–24 (and 13–19), whole years, with exact intervals."""
    whole = tables.whole_years(table)
    fig, ax = charts.figure(
        title,
        f"{p.area}, victims per 100,000 residents of the same ages (ONS mid-year population), with 95% exact Poisson intervals",
        _source(whole, population=True),
    )
    for key, colour, style in (("under_25", charts.PALETTE["primary"], "-"), ("13_19", charts.PALETTE["secondary"], "--")):
        group = GROUPS[key]
        rows = whole.dropna(subset=[f"rate_{key}"])
        charts.interval_band(ax, rows["year"], rows[f"rate_{key}_lower"], rows[f"rate_{key}_upper"], colour, f"95% interval ({group['label']})")
        ax.plot(rows["year"], rows[f"rate_{key}"], color=colour, linestyle=style, marker="o", markersize=4, label=f"rate {group['label']}")
        pub = rows[rows["source"] == "published"]
        if len(pub):
            charts.mark_published(ax, pub["year"], pub[f"rate_{key}"], label=f"{group['label']}: from a published count")
    if whole["year"].min() < tables.CENSUS_BREAK <= whole["year"].max():
        charts.vline_break(ax, tables.CENSUS_BREAK - 0.5, "population re-based on Census 2021")
    charts.label_axes(ax, None, "Victims per 100,000 residents of those ages")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    _legend_above_data(ax)
    carried = whole[whole["carried_forward"].astype(bool)] if "carried_forward" in whole else whole.iloc[0:0]
    if len(carried):
        charts.note(fig, "Years after the latest population estimate use that estimate carried forward.")
    return fig


def _legend_above_data(ax) -> None:
    """Leave headroom above the data and put the legend there, so lines and labels never collide."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * 1.55)
    ax.legend(loc="upper left", frameon=False, fontsize=8.5, ncols=2)


@charts.styled
def plot_share(table: pd.DataFrame, p: ResolvedParameters, title: str):
    """Bars of the share of all victims who were under 25 (percent), whole years."""
    whole = tables.whole_years(table).dropna(subset=["share_under_25_pct"])
    fig, ax = charts.figure(title, f"{p.area}, victims under 25 as a share of all homicide victims, by year", _source(whole))
    colours = [charts.PALETTE["highlight"] if y == p.year else charts.PALETTE["primary"] for y in whole["year"]]
    bars = ax.bar(whole["year"], whole["share_under_25_pct"], color=colours, width=0.75)
    charts.label_bars(ax, bars, fmt="{:.0f}")
    charts.label_axes(ax, None, "Share of all victims (%)")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    return fig
