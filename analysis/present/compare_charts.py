"""The Met beside England and Wales and other forces (notebook 01), in the house style."""

from __future__ import annotations

import pandas as pd

from analysis.present import charts, sources
from analysis.stories import compare


@charts.styled
def plot_comparison(table: pd.DataFrame, period: compare.Period, title: str):
    """Horizontal bars of homicide offences per million a year: the Met highlighted, England and
    Wales as the reference line, every bar labelled with its value."""
    ordered = table.sort_values("rate_per_million").reset_index(drop=True)
    fig, ax = charts.figure(
        title,
        f"Homicide offences per million residents a year, {period.label} (3 financial years), the Met beside "
        "England and Wales, the London region and the large metropolitan forces",
        charts.source_note(sources.SOURCE_ONS_RATES),
        figsize=(10, 5.2),
    )
    colours = [charts.PALETTE["highlight"] if a == compare.MET else
               (charts.PALETTE["muted"] if a in (compare.ENGLAND_AND_WALES, compare.LONDON_REGION) else charts.PALETTE["primary"])
               for a in ordered["area"]]
    labels = [f"{a} (region)" if g == "Region" else a for a, g in zip(ordered["area"], ordered["geography"])]
    bars = ax.barh(labels, ordered["rate_per_million"], color=colours, height=0.65)
    charts.label_bars(ax, bars, fmt="{:.1f}")
    ax.set_xlabel("Homicide offences per million residents a year")
    ax.grid(axis="y", visible=False)
    ax.set_xlim(left=0)
    charts.note(fig, f"ONS file of {period.vintage}; rates are revised in each release as cases are heard.")
    return fig
