"""What the runner's kernel zygote draws once, before it forks a kernel per notebook.

A process's first chart costs far more than its next ones: matplotlib loads the fonts, builds its
text-measuring and tick machinery and fills its caches, and pandas imports its table styler and
compiles the styler's templates. Measured on this project's notebooks (a process that had only
imported the modules and read the data): a notebook's first run makes ~180,000 more Python calls
in its charts and tables than its next run for another year (~0.15 s a kernel). :func:`warm` pays
that once, in the zygote, by drawing one chart in the house frame (bars, a line, labels with a
halo, a note, a source) to PNG bytes and writing one table as HTML, then throwing both away.

Nothing it makes is kept or shown; what stays are matplotlib's and pandas' own caches (fonts,
glyph and text metrics, compiled templates), which do not change what a later chart or table
looks like: ``tests/test_report.py`` runs a notebook with and without the warm-ups and compares
every file it writes, byte for byte.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from analysis.present import charts, figures, tables


def warm() -> None:
    """Draw one house-style chart to PNG bytes and one table to HTML, and discard both. Returns nothing."""
    years = list(range(2003, 2026))
    counts = [100 + (7 * i) % 40 for i in range(len(years))]
    table = pd.DataFrame({"year": years, "victims": counts, "rate": [c / 90 for c in counts]})
    fig = _chart(table)
    figures.png_bytes(fig, title="Warm-up chart", alt="A chart drawn to warm the caches; never shown.")
    tables.table_html(table, uid="warm-up", focus={"year": years[-1]}, csv="tables/warm-up.csv")


@charts.styled
def _chart(table: pd.DataFrame) -> Figure:
    fig, ax = charts.figure(
        "Warm-up: 123 victims in 2025, the fewest since 2014",
        "Homicide victims per year, London, 2003 to 2025",
        charts.source_note("Metropolitan Police Service", "Office for National Statistics"),
    )
    bars = ax.bar(table["year"], table["victims"], color=charts.PALETTE["primary"])
    ax.plot(table["year"], table["rate"] * 10, color=charts.PALETTE["secondary"])
    charts.label_bars(ax, bars)
    charts.highlight_point(ax, table["year"].iloc[-1], table["victims"].iloc[-1], f"{table['year'].iloc[-1]}: 1,234")
    charts.label_axes(ax, None, "Victims per year")
    charts.integer_years(ax)
    charts.comma_ticks(ax)
    charts.start_at_zero(ax)
    charts.note(fig, "Counts by year of death; 2025 is provisional.")
    return fig
