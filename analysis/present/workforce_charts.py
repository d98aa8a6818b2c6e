"""Charts of notebook 03 (the Met's workforce), in the house style; each returns an unsaved figure."""

from __future__ import annotations

import pandas as pd

from analysis.present import charts, sources
from analysis.stories import narrative
from analysis.stories.workforce import BASIS_LABELS, march_fte


@charts.styled
def plot_officers(year: int, title: str):
    """Officers over time, one line per counting basis (never joined across bases); published figures hollow."""
    rows = march_fte()
    fig, ax = charts.figure(
        title,
        "Metropolitan Police officers, full-time equivalent at 31 March, by counting basis",
        charts.source_note(sources.SOURCE_WORKFORCE, sources.SOURCE_PUBLISHED_WORKFORCE),
    )
    styles = {
        "home_office_fte": (charts.PALETTE["primary"], "-", "o"),
        "home_office_fte_pre2003": (charts.PALETTE["secondary"], "--", "s"),
        "mps_strength": (charts.PALETTE["muted"], ":", "^"),
    }
    for basis, (colour, line, marker) in styles.items():
        part = rows[rows["basis"] == basis].sort_values("year")
        if part.empty:
            continue
        # Break the line where years are missing, so no gap is bridged.
        years = part.set_index("year")["officers"].reindex(range(int(part["year"].min()), int(part["year"].max()) + 1))
        ax.plot(years.index, years.to_numpy(), color=colour, linestyle=line, marker=marker, markersize=4, label=BASIS_LABELS[basis])
        pub = part[part["source_type"] == "published figure"]
        if len(pub) and basis == "home_office_fte":
            charts.mark_published(ax, pub["year"], pub["officers"], label="published figure (not in a data file)")
    focus = rows[(rows["basis"] == "home_office_fte") & (rows["year"] == year)]
    if len(focus):
        charts.highlight_point(ax, year, float(focus["officers"].iloc[0]), f"{year}: {narrative.fmt_int(focus['officers'].iloc[0])}")
    charts.label_axes(ax, None, "Officers (FTE)")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.comma_ticks(ax)
    ax.legend(loc="lower right", frameon=False, fontsize=8.5)
    charts.note(fig, "Up to 2002 the Home Office count excluded officers on career breaks and maternity leave; 31 March 2004 is missing. Lines are not joined across bases.")
    return fig


@charts.styled
def plot_worker_types(table: pd.DataFrame, title: str):
    """Lines of FTE by worker type, official data only."""
    fig, ax = charts.figure(title, "Metropolitan Police workforce, full-time equivalent at 31 March, by worker type", charts.source_note(sources.SOURCE_WORKFORCE))
    colours = {
        "Police officer": charts.PALETTE["primary"],
        "Police staff": charts.PALETTE["secondary"],
        "Police community support officer": charts.PALETTE["shooting"],
        "Designated officer": charts.PALETTE["muted"],
    }
    for column, colour in colours.items():
        if column in table:
            ax.plot(table["year"], table[column], color=colour, marker="o", markersize=3, label=column)
    charts.label_axes(ax, None, "Full-time equivalent staff")
    charts.integer_years(ax)
    charts.start_at_zero(ax)
    charts.comma_ticks(ax)
    ax.legend(loc="center right", frameon=False, fontsize=8.5)
    return fig


@charts.styled
def plot_per_100k(table: pd.DataFrame, year: int, title: str):
    """Twin panels: officers per 100,000 residents (top) and the homicide rate (bottom), same years."""
    fig, axes = charts.figure(
        title,
        "Met officers (FTE, 31 March) per 100,000 residents, and homicide victims per 100,000 residents, London",
        charts.source_note(sources.SOURCE_WORKFORCE, sources.SOURCE_PUBLISHED_WORKFORCE, sources.SOURCE_VICTIMS, sources.SOURCE_POPULATION),
        nrows=2,
        figsize=(10, 7.5),
    )
    top, bottom = axes
    top.plot(table["year"], table["officers_per_100k"], color=charts.PALETTE["primary"], marker="o", markersize=4)
    charts.label_axes(top, None, "Officers per 100,000 residents")
    charts.start_at_zero(top)
    bottom.plot(table["year"], table["homicide_rate"], color=charts.PALETTE["highlight"], marker="o", markersize=4)
    charts.label_axes(bottom, None, "Homicide victims per 100,000")
    charts.start_at_zero(bottom)
    for ax in axes:
        ax.set_xlim(table["year"].min() - 0.5, table["year"].max() + 0.5)
        charts.integer_years(ax)
        ax.axvline(year, color=charts.PALETTE["muted"], linewidth=0.8, linestyle=":")
    charts.note(fig, "Two series moving together, or apart, is not evidence that one causes the other: demography, policing practice and recording all change at once.")
    return fig


@charts.styled
def plot_arrests(table: pd.DataFrame, year: int, title: str):
    """Bars of arrests per financial year with values on the bars; the financial year ending in
    March of the focus year highlighted when the data hold it."""
    fig, ax = charts.figure(
        title,
        f"Metropolitan Police arrests for notifiable offences, financial years {table['financial_year'].iloc[0]} to {table['financial_year'].iloc[-1]}",
        charts.source_note(sources.SOURCE_ARRESTS),
    )
    colours = [charts.PALETTE["highlight"] if end == year else charts.PALETTE["primary"] for end in table["year_end"]]
    bars = ax.bar(table["financial_year"], table["arrests"], color=colours, width=0.7)
    charts.label_bars(ax, bars)
    charts.label_axes(ax, "Financial year (April to March)", "Arrests per year")
    charts.start_at_zero(ax)
    charts.comma_ticks(ax)
    ax.tick_params(axis="x", labelsize=8.5)
    charts.note(fig, f"No arrests data file after {table['financial_year'].iloc[-1]} is available here; later claims about arrests cannot be checked against it.")
    return fig
