"""Charts of notebook 01 (homicide decline), in the house style; each returns an unsaved figure."""

from __future__ import annotations

import pandas as pd

from analysis.present import charts, sources
from analysis.stories import narrative, tables
from analysis.stories.params import ResolvedParameters


def _source_line(table: pd.DataFrame, population: bool = False) -> str:
    names = [sources.SOURCE_VICTIMS]
    if (table["source"] == "published").any():
        names.append(sources.SOURCE_PUBLISHED)
    if population:
        names.append(sources.SOURCE_POPULATION)
    return charts.source_note(*names)


@charts.styled
def plot_counts(table: pd.DataFrame, p: ResolvedParameters, title: str, *, noun: str = "homicides", ylabel: str = "Victims per year"):
    """Bar chart of whole-year counts with exact 95% intervals; published-only years hollow; focus year highlighted."""
    whole = tables.whole_years(table)
    fig, ax = charts.figure(
        title,
        f"{p.area}, homicide victims by year recorded, {int(whole['year'].min())}–{int(whole['year'].max())}, with {sources.CI_LABEL}s",
        _source_line(whole),
    )
    open_rows = whole[whole["source"] == "open data"]
    pub_rows = whole[whole["source"] == "published"]
    colours = [charts.PALETTE["highlight"] if y == p.year else charts.PALETTE["primary"] for y in open_rows["year"]]
    ax.bar(open_rows["year"], open_rows["victims"], color=colours, width=0.75, label="open data (victim records)")
    if len(pub_rows):
        edge = [charts.PALETTE["highlight"] if y == p.year else charts.PALETTE["published"] for y in pub_rows["year"]]
        ax.bar(pub_rows["year"], pub_rows["victims"], width=0.75, facecolor="white", edgecolor=edge, linewidth=1.6, hatch="//", label="published total only")
    ax.errorbar(whole["year"], whole["victims"], yerr=[whole["victims"] - whole["lower"], whole["upper"] - whole["victims"]],
                fmt="none", ecolor=charts.PALETTE["muted"], elinewidth=1, capsize=2, label=sources.CI_LABEL)
    charts.label_axes(ax, None, ylabel)
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    ax.legend(loc="upper right", frameon=False)
    partial = table[table["months_covered"] < 12]
    if len(partial):
        labels = ", ".join(narrative.month_range_label(int(r.year), int(r.months_covered)) for r in partial.itertuples())
        charts.note(fig, f"Partial years are left out: {labels}.")
    return fig


@charts.styled
def plot_rates(table: pd.DataFrame, p: ResolvedParameters, title: str, *, ylabel: str = "Victims per 100,000 residents"):
    """Line of whole-year rates with a shaded exact interval; carried-forward denominators and the 2021 census re-basing noted."""
    whole = tables.whole_years(table).dropna(subset=["rate"])
    fig, ax = charts.figure(
        title,
        f"{p.area}, homicide victims per 100,000 residents (ONS mid-year population), with {sources.CI_LABEL}",
        _source_line(whole, population=True),
    )
    charts.interval_band(ax, whole["year"], whole["rate_lower"], whole["rate_upper"], charts.PALETTE["primary"], sources.CI_LABEL)
    ax.plot(whole["year"], whole["rate"], color=charts.PALETTE["primary"], marker="o", markersize=4, label="rate")
    pub = whole[whole["source"] == "published"]
    if len(pub):
        charts.mark_published(ax, pub["year"], pub["rate"], label="from a published total")
    if p.year in set(whole["year"]):
        row = whole[whole["year"] == p.year].iloc[0]
        charts.highlight_point(ax, p.year, row["rate"], f"{p.year}: {narrative.fmt_rate(row['rate'])}")
    if whole["year"].min() < tables.CENSUS_BREAK <= whole["year"].max():
        charts.vline_break(ax, tables.CENSUS_BREAK - 0.5, "population re-based on Census 2021")
    charts.label_axes(ax, None, ylabel)
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    ax.legend(loc="best", frameon=False)
    carried = whole[whole["carried_forward"].astype(bool)]
    notes = []
    if len(carried):
        notes.append(
            "; ".join(f"{int(r.year)} uses the mid-{int(r.population_year)} population (no later estimate yet)" for r in carried.itertuples())
        )
    notes.append("Rates for 2012–2020 use the pre-2021 population series, which overstated the population, so they are slightly low.")
    charts.note(fig, " ".join(n if n.endswith(".") else n + "." for n in notes))
    return fig


@charts.styled
def plot_methods(methods: pd.DataFrame, area: str, title: str, *, ylabel: str = "Victims per year"):
    """Lines of victims per year by method group (knife, shooting, other, not known)."""
    fig, ax = charts.figure(
        title,
        f"{area}, homicide victims by method of killing, whole years of victim-level open data",
        charts.source_note(sources.SOURCE_VICTIMS),
    )
    colours = {
        "Knife or sharp implement": charts.PALETTE["knife"],
        "Shooting": charts.PALETTE["shooting"],
        "Other methods": charts.PALETTE["other"],
        "Not known": charts.PALETTE["muted"],
    }
    styles = {"Knife or sharp implement": "-", "Shooting": "--", "Other methods": "-.", "Not known": ":"}
    for column, colour in colours.items():
        ax.plot(methods["year"], methods[column], color=colour, linestyle=styles[column], marker="o", markersize=3, label=column)
    charts.label_axes(ax, None, ylabel)
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    ax.legend(loc="upper right", frameon=False)
    return fig


@charts.styled
def plot_monthly(table: pd.DataFrame, area: str, title: str):
    """Monthly counts (thin bars) and the rolling 12-month total (line, right axis)."""
    period = pd.to_datetime({"year": table["year"], "month": table["month"], "day": 1})
    fig, ax = charts.figure(
        title,
        f"{area}, homicide victims per month (bars, left axis) and in the preceding 12 months (line, right axis)",
        charts.source_note(sources.SOURCE_VICTIMS),
    )
    ax.bar(period, table["victims"], width=25, color=charts.PALETTE["muted"], label="victims in the month")
    charts.label_axes(ax, None, "Victims per month")
    charts.start_at_zero(ax)
    right = ax.twinx()
    right.plot(period, table["rolling_12_months"], color=charts.PALETTE["primary"], linewidth=2, label="rolling 12-month total")
    right.set_ylabel("Victims in the last 12 months")
    right.set_ylim(bottom=0)
    right.grid(False)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper right", frameon=False)
    return fig


@charts.styled
def plot_ytd(table: pd.DataFrame, area: str, months: int, focus: int, title: str):
    """Bars of January-to-month counts by year, the focus year highlighted and labelled."""
    label = narrative.month_range_label(focus, months).removesuffix(f" {focus}")
    fig, ax = charts.figure(title, f"{area}, homicide victims recorded in {label} of each year", charts.source_note(sources.SOURCE_VICTIMS))
    colours = [charts.PALETTE["highlight"] if f else charts.PALETTE["primary"] for f in table["focus"]]
    bars = ax.bar(table["year"], table["victims"], color=colours, width=0.75)
    charts.label_bars(ax, bars)
    charts.label_axes(ax, None, f"Victims, {label}")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    return fig


@charts.styled
def plot_borough_rates(rates: pd.DataFrame, focus_area: str, title: str, *, what: str = "homicide victims", london_rate: float | None = None):
    """Horizontal bars of borough rates over the window with exact intervals; the focus borough highlighted."""
    ordered = rates.iloc[::-1]
    fig, ax = charts.figure(
        title,
        f"{what.capitalize()} per 100,000 residents a year, {rates['window'].iloc[0]} pooled, by borough, with {sources.CI_LABEL}s",
        charts.source_note(sources.SOURCE_VICTIMS, sources.SOURCE_POPULATION),
        figsize=(10, 9.5),
    )
    colours = [charts.PALETTE["highlight"] if a == focus_area else charts.PALETTE["primary"] for a in ordered["area"]]
    ax.barh(ordered["area"], ordered["rate"], color=colours, height=0.7)
    ax.errorbar(ordered["rate"], ordered["area"], xerr=[ordered["rate"] - ordered["rate_lower"], ordered["rate_upper"] - ordered["rate"]],
                fmt="none", ecolor=charts.PALETTE["muted"], elinewidth=1, capsize=2)
    if london_rate is not None:
        ax.axvline(london_rate, color=charts.PALETTE["published"], linestyle="--", linewidth=1)
        ax.text(london_rate, 1.0, f" London {narrative.fmt_rate(london_rate)}", transform=ax.get_xaxis_transform(), va="bottom", fontsize=9)
    ax.set_xlabel("Victims per 100,000 residents a year")
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlim(left=0)
    ax.tick_params(axis="y", labelsize=8.5)
    charts.note(fig, "Counts per borough are small, so most intervals overlap: neighbouring ranks are not reliably different.")
    return fig
