"""Charts of notebook 01 (homicide), in the house style; each returns an unsaved figure.

One marker language on every chart: values from open records are filled; a whole-year total known
only from a published statement is hollow (white, black edge); the focus year is vermillion.
Counts have whole-number ticks; the source line names the publisher and the dataset.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.dates import partial_year_label
from analysis.present import charts, sources
from analysis.stories import narrative, tables
from analysis.stories.params import ResolvedParameters
from analysis.stories.tables import RECORDED_OFFENCES, VICTIMS, Measure

METHOD_STYLE = {
    "Knife or sharp implement": ("knife", "-"),
    "Shooting": ("shooting", "--"),
    "Other methods": ("other", "-."),
    "Not known": ("muted", ":"),
}


def _sources(*, victims: bool = True, offences: bool = False, published: bool = False, population: bool = False) -> str:
    names = [sources.SOURCE_VICTIMS] if victims else []
    if offences:
        names.append(sources.SOURCE_OFFENCES)
    if published:
        names.append(sources.SOURCE_PUBLISHED)
    if population:
        names.append(sources.SOURCE_POPULATION)
    return charts.source_note(*names)


def _published(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["source"] == "published"]


@charts.styled
def plot_counts(victims: pd.DataFrame, offences: pd.DataFrame, p: ResolvedParameters, title: str, lead: Measure):
    """Victims per whole year as bars with exact intervals, recorded offences beside them as a line."""
    v = tables.whole_years(victims)
    o = tables.whole_years(offences)
    first = int(min(v["year"].min() if len(v) else 9999, o["year"].min() if len(o) else 9999))
    last = int(max(v["year"].max() if len(v) else 0, o["year"].max() if len(o) else 0))
    fig, ax = charts.figure(
        title,
        f"{p.area}, homicide victims (bars, with {sources.CI_LABEL}s) and recorded homicide offences "
        f"(line) per whole year, {first}–{last}",
        _sources(offences=len(o) > 0, published=len(_published(v)) > 0),
    )
    if len(v):
        opened = v[v["source"] != "published"]
        ax.bar(opened["year"], opened["victims"], width=0.75, color=charts.PALETTE["primary"], label="victims (open records)")
        pub = _published(v)
        if len(pub):
            charts.mark_published_bars(ax, pub["year"], pub["victims"], label="victims (published total only)")
        ax.errorbar(v["year"], v["victims"], yerr=[v["victims"] - v["lower"], v["upper"] - v["victims"]],
                    fmt="none", ecolor=charts.PALETTE["muted"], elinewidth=1, capsize=2, label="_nolegend_")
    if len(o):
        ax.plot(o["year"], o["offences"], color=charts.PALETTE["secondary"], marker="o", markersize=3.5,
                linewidth=1.6, label="recorded offences")
    focus = (v if lead is VICTIMS else o)
    row = focus[focus["year"] == p.year]
    charts.label_axes(ax, None, "Homicides per year")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.count_ticks(ax)
    if len(row):
        value = float(row[lead.key].iloc[0])
        charts.highlight_point(ax, p.year, value, f"{p.year}: {narrative.fmt_int(value)}")
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    partial = [partial_year_label(int(r.year), int(r.months_covered), at_start=int(r.year) == int(t["year"].min()) and len(t) > 1)
               for t in (victims, offences) for r in t[t["months_covered"] < 12].itertuples()]
    if partial:
        charts.note(fig, f"Partial years are left out: {', '.join(dict.fromkeys(partial))}.")
    return fig


@charts.styled
def plot_rates(victims: pd.DataFrame, offences: pd.DataFrame, p: ResolvedParameters, title: str, lead: Measure):
    """Rates per 100,000 residents, whole years: victims with a shaded exact interval, offences as a line."""
    v = tables.whole_years(victims).dropna(subset=["rate"])
    o = tables.whole_years(offences).dropna(subset=["rate"])
    fig, ax = charts.figure(
        title,
        f"{p.area}, homicide victims and recorded homicide offences per 100,000 residents (ONS mid-year "
        f"population), with the {sources.CI_LABEL} of the victims' rate",
        _sources(offences=len(o) > 0, published=len(_published(v)) > 0, population=True),
    )
    if len(v):
        charts.interval_band(ax, v["year"], v["rate_lower"], v["rate_upper"], charts.PALETTE["primary"], "_nolegend_")
        ax.plot(v["year"], v["rate"], color=charts.PALETTE["primary"], marker="o", markersize=4, label="victims")
        pub = _published(v)
        if len(pub):
            charts.mark_published(ax, pub["year"], pub["rate"], label="from a published total")
    if len(o):
        ax.plot(o["year"], o["rate"], color=charts.PALETTE["secondary"], linestyle="--", marker="o", markersize=3,
                label="recorded offences")
    focus = v if lead is VICTIMS else o
    row = focus[focus["year"] == p.year]
    if len(v) and v["year"].min() < tables.CENSUS_BREAK <= v["year"].max():
        charts.vline_break(ax, tables.CENSUS_BREAK - 0.5, "population re-based on Census 2021")
    charts.label_axes(ax, None, "Homicides per 100,000 residents")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    if len(row):
        charts.highlight_point(ax, p.year, float(row["rate"].iloc[0]), f"{p.year}: {narrative.fmt_rate(row['rate'].iloc[0])}")
    ax.legend(loc="lower left", frameon=False, fontsize=9)
    notes = [f"{int(r.year)} uses the mid-{int(r.population_year)} population (the latest estimate)"
             for r in pd.concat([v, o]).drop_duplicates("year").itertuples() if bool(r.carried_forward)]
    notes.append("Rates to 2020 use the pre-2021 population series, which the Census 2021 re-basing lowered, "
                 "so they are slightly lower than on the new basis.")
    charts.note(fig, "; ".join(notes[:-1]) + (". " if len(notes) > 1 else "") + notes[-1])
    return fig


@charts.styled
def plot_methods(methods: pd.DataFrame, p: ResolvedParameters, title: str, year: int, *, what: str = "victims"):
    """Victims per year by method of killing, each line labelled at its end; the year shown marked."""
    fig, ax = charts.figure(
        title,
        f"{p.area}, homicide {what} per year by method of killing, whole years of victim records to {year}",
        _sources(),
    )
    ends = []
    for column, (colour_key, style) in METHOD_STYLE.items():
        colour = charts.PALETTE[colour_key]
        ax.plot(methods["year"], methods[column], color=colour, linestyle=style, marker="o", markersize=3)
        last = methods.iloc[-1]
        ends.append((float(last["year"]), float(last[column]), column, colour))
    ax.axvline(year, color=charts.PALETTE["muted"], linewidth=0.8, linestyle=":", zorder=1)
    charts.label_axes(ax, None, f"{what.capitalize()} per year")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.count_ticks(ax)
    charts.label_lines(ax, ends)
    return fig


@charts.styled
def plot_monthly(table: pd.DataFrame, p: ResolvedParameters, title: str, m: Measure):
    """The rolling 12-month total through the series to the focus period's last month (one axis)."""
    rows = table.dropna(subset=["rolling_12_months"])
    x = rows["year"] + (rows["month"] - 0.5) / 12
    what = "recorded homicide offences" if m is RECORDED_OFFENCES else "homicide victims"
    fig, ax = charts.figure(
        title,
        f"{p.area}, {what} in the 12 months to each month",
        _sources(victims=m is not RECORDED_OFFENCES, offences=m is RECORDED_OFFENCES),
    )
    ax.plot(x, rows["rolling_12_months"], color=charts.PALETTE["primary"], linewidth=2)
    last = rows.iloc[-1]
    charts.label_axes(ax, None, f"{what.capitalize()} in 12 months")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.count_ticks(ax)
    charts.highlight_point(ax, float(x.iloc[-1]), float(last["rolling_12_months"]), narrative.fmt_int(last["rolling_12_months"]))
    return fig


@charts.styled
def plot_ytd(table: pd.DataFrame, p: ResolvedParameters, title: str, m: Measure, months: int):
    """Counts in the same months of every year, the focus year highlighted and each bar labelled."""
    label = narrative.month_range_label(p.year, months).removesuffix(f" {p.year}")
    what = "recorded homicide offences" if m is RECORDED_OFFENCES else "homicide victims"
    fig, ax = charts.figure(title, f"{p.area}, {what} in {label} of each year",
                            _sources(victims=m is not RECORDED_OFFENCES, offences=m is RECORDED_OFFENCES))
    colours = [charts.PALETTE["highlight"] if y == p.year else charts.PALETTE["primary"] for y in table["year"]]
    bars = ax.bar(table["year"], table[m.key], color=colours, width=0.75)
    charts.label_bars(ax, bars)
    charts.label_axes(ax, None, f"{what.capitalize()}, {label}")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.count_ticks(ax)
    return fig


@charts.styled
def plot_borough_rates(rates: pd.DataFrame, p: ResolvedParameters, title: str, m: Measure, *, london_rate: float | None = None,
                       unit: str = "homicides per 100,000 residents a year"):
    """Horizontal bars of borough rates over the pooled window with exact intervals; the focus borough highlighted."""
    ordered = rates.iloc[::-1]
    what = "recorded homicide offences" if m is RECORDED_OFFENCES else f"homicide {m.noun.plural.removeprefix('homicide ')}"
    fig, ax = charts.figure(
        title,
        f"{what.capitalize()} per 100,000 residents a year, {rates['window'].iloc[0]} pooled, by borough, with {sources.CI_LABEL}s",
        _sources(victims=m is not RECORDED_OFFENCES, offences=m is RECORDED_OFFENCES, population=True),
        figsize=(10, 9.5),
    )
    colours = [charts.PALETTE["highlight"] if a == p.area else charts.PALETTE["primary"] for a in ordered["area"]]
    ax.barh(ordered["area"], ordered["rate"], color=colours, height=0.7)
    ax.errorbar(ordered["rate"], ordered["area"], xerr=[ordered["rate"] - ordered["rate_lower"], ordered["rate_upper"] - ordered["rate"]],
                fmt="none", ecolor=charts.PALETTE["muted"], elinewidth=1, capsize=2)
    if london_rate is not None:
        ax.axvline(london_rate, color=charts.PALETTE["published"], linestyle="--", linewidth=1)
        ax.text(london_rate, 1.0, f" London {narrative.fmt_rate(london_rate)}", transform=ax.get_xaxis_transform(),
                va="bottom", fontsize=9, parse_math=False)
    ax.set_xlabel(unit.capitalize())
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.set_xlim(left=0)
    ax.tick_params(axis="y", labelsize=8.5)
    charts.note(fig, "Counts per borough are small, so most intervals overlap: neighbouring ranks are not reliably different.")
    return fig
