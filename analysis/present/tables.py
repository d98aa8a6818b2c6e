"""Tables as a reader sees them on a page, and as the regression checks read them.

Each chart's table is shown twice in one output: as HTML for the pages (human column names,
thousands separators, counts as whole numbers, rates to two decimals, an interval as one column,
no more rows than a reader needs, the full table one click away in a collapsed section) and as
plain text (every row, for nbval: a changed number fails the check). The HTML is pandas' Styler
with ``escape="html"`` on cells and headers, so nothing from a data file becomes markup.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd

#: Rows shown before the rest is folded away.
MAX_ROWS = 12


@dataclass(frozen=True)
class Column:
    """How a column is shown: its label and its kind (``count``, ``rate``, ``pct``, ``year``,
    ``population``, ``fte``, ``ratio``, ``flag`` or ``text``)."""

    label: str
    kind: str = "text"


#: Every column name the analysis writes, with its label and kind. Names not listed are shown
#: with their own name, title-cased, as text or numbers by their type.
COLUMNS: dict[str, Column] = {
    "year": Column("Year", "year"),
    "month": Column("Month", "year"),
    "area": Column("Area"),
    "victims": Column("Victims", "count"),
    "offences": Column("Offences", "count"),
    "victims_under_25": Column("Victims under 25", "count"),
    "victims_13_19": Column("Victims aged 13–19", "count"),
    "months_covered": Column("Months covered", "count"),
    "victims_months": Column("Months of victim records", "count"),
    "offences_months": Column("Months of offence records", "count"),
    "source": Column("Source"),
    "measure": Column("Measure"),
    "population": Column("Population (mid-year)", "population"),
    "population_year": Column("Population of mid-", "year"),
    "population_years": Column("Person-years", "population"),
    "carried_forward": Column("Estimate carried forward", "flag"),
    "rate": Column("Rate per 100,000", "rate"),
    "rate_under_25": Column("Rate per 100,000 aged 0–24", "rate"),
    "rate_13_19": Column("Rate per 100,000 aged 13–19", "rate"),
    "share_under_25_pct": Column("Share under 25", "pct"),
    "share_pct": Column("Share", "pct"),
    "knife_share_pct": Column("Knife share", "pct"),
    "male_share_pct": Column("Male share", "pct"),
    "total": Column("Total", "count"),
    "rolling_12_months": Column("In the 12 months to this month", "count"),
    "officers": Column("Officers (FTE)", "fte"),
    "officers_per_100k": Column("Officers per 100,000", "rate1"),
    "homicide_rate": Column("Homicide rate per 100,000", "rate"),
    "basis": Column("Counting basis"),
    "source_type": Column("Kind of source"),
    "arrests": Column("Arrests", "count"),
    "change": Column("Change on the year before", "count"),
    "financial_year": Column("Financial year"),
    "year_ending": Column("Year ending"),
    "window": Column("Years pooled"),
    "rate_per_million": Column("Rate per million", "rate"),
    "rate_per_100k": Column("Rate per 100,000", "rate"),
    "offence_rate": Column("Offence rate per 100,000", "rate"),
    "claimed": Column("Claimed", "text"),
    "computed": Column("Computed", "text"),
    "verdict": Column("Verdict"),
    "claims": Column("Claims", "count"),
    "id": Column("Claim"),
}

#: Interval bounds shown as one column with their estimate's name: (lower, upper) -> label.
INTERVALS: dict[tuple[str, str], tuple[str, str]] = {
    ("lower", "upper"): ("95% interval", "count"),
    ("rate_lower", "rate_upper"): ("Rate, 95% interval", "rate"),
    ("under_25_lower", "under_25_upper"): ("Under 25, 95% interval", "count"),
    ("13_19_lower", "13_19_upper"): ("Aged 13–19, 95% interval", "count"),
    ("rate_under_25_lower", "rate_under_25_upper"): ("Rate aged 0–24, 95% interval", "rate"),
    ("rate_13_19_lower", "rate_13_19_upper"): ("Rate aged 13–19, 95% interval", "rate"),
}


def _fmt(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if kind == "flag":
        return "yes" if bool(value) else ""
    if kind == "text" or isinstance(value, str):
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if kind == "year":
        return f"{number:.0f}"
    if kind in ("count", "population"):
        return f"{number:,.0f}"
    if kind == "fte":
        return f"{number:,.0f}"
    if kind == "rate1":
        return f"{number:,.1f}"
    if kind == "rate":
        return f"{number:,.2f}"
    if kind == "pct":
        return f"{number:,.0f}%"
    return f"{number:,.2f}" if number % 1 else f"{number:,.0f}"


def _kind(name: str, series: pd.Series) -> Column:
    if name in COLUMNS:
        return COLUMNS[name]
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if not numeric:
        return Column(name.replace("_", " ").capitalize(), "text")
    values = pd.to_numeric(series, errors="coerce").dropna()
    whole = bool(((values % 1) == 0).all())
    # a column of fractions is never shown as whole numbers (a rate of 1.265 is not "1")
    return Column(name.replace("_", " ").capitalize(), "count" if whole else "rate")


def readable(table: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The table as text cells under human column names: intervals merged, numbers formatted."""
    out: dict[str, list[str]] = {}
    used: set[str] = set()
    for name in table.columns:
        if name in used:
            continue
        pair = next(((lo, hi) for (lo, hi) in INTERVALS if lo == name and hi in table.columns), None)
        if pair is not None:
            label, kind = INTERVALS[pair]
            out[label] = [f"{_fmt(a, kind)} to {_fmt(b, kind)}" if not (pd.isna(a) or pd.isna(b)) else "–"
                          for a, b in zip(table[pair[0]], table[pair[1]])]
            used.update(pair)
            continue
        column = _kind(name, table[name])
        label = (labels or {}).get(name, column.label)
        out[label] = [_fmt(v, column.kind) for v in table[name]]
        used.add(name)
    return pd.DataFrame(out, index=range(len(table)))


def _shown_rows(table: pd.DataFrame, focus: dict[str, object], max_rows: int) -> list[int]:
    """Positions of the rows a reader needs: all of a short table; else the rows up to the focus
    year (the latest ``max_rows``), or the first rows plus the focus area's."""
    n = len(table)
    if n <= max_rows:
        return list(range(n))
    if "year" in table.columns and focus.get("year") is not None:
        upto = [i for i, y in enumerate(table["year"]) if not pd.isna(y) and int(y) <= int(focus["year"])]
        if upto:
            return upto[-max_rows:]
    if "area" in table.columns and focus.get("area") is not None:
        rows = list(range(max_rows - 1))
        at = [i for i, a in enumerate(table["area"]) if a == focus["area"]]
        return sorted(set(rows) | set(at[:1]))
    return list(range(n - max_rows, n)) if "year" in table.columns else list(range(max_rows))


def table_html(table: pd.DataFrame, *, uid: str, focus: dict[str, object] | None = None,
               csv: str | None = None, labels: dict[str, str] | None = None, max_rows: int = MAX_ROWS) -> str:
    """The table for a page: the rows a reader needs, the focus row marked, the rest folded away.

    ``uid`` makes the element ids deterministic; ``csv`` (a path relative to the page) adds a link
    to the table as CSV.
    """
    focus = focus or {}
    shown = readable(table, labels)
    rows = _shown_rows(table, focus, max_rows)
    marked = {i for i in rows if _is_focus(table.iloc[i], focus)}
    part = _styled(shown.iloc[rows], uid, marked={rows.index(i) for i in marked})
    extra = ""
    if len(rows) < len(table):
        full = _styled(shown, f"{uid}-all", marked=set())
        extra = (f'<details class="full-table"><summary>All {len(table):,} rows</summary>{full}</details>')
    link = f'<p class="table-csv"><a href="{html.escape(csv, quote=True)}">The table as CSV</a></p>' if csv else ""
    return f'<div class="figure-table">{part}{extra}{link}</div>'


def _is_focus(row: pd.Series, focus: dict[str, object]) -> bool:
    if "year" in row.index and focus.get("year") is not None and not pd.isna(row["year"]):
        return int(row["year"]) == int(focus["year"])
    if "area" in row.index and focus.get("area") is not None:
        return row["area"] == focus["area"]
    return False


def _styled(frame: pd.DataFrame, uid: str, *, marked: set[int]) -> str:
    styler = frame.reset_index(drop=True).style.format(escape="html").format_index(escape="html", axis=1)
    styler = styler.hide(axis="index").set_uuid(uid.replace("_", "-"))
    if marked:
        styler = styler.apply(lambda r: ["font-weight: 600" if r.name in marked else "" for _ in r], axis=1)
    return styler.to_html(table_attributes='class="data-table"', cell_ids=False)


def table_text(table: pd.DataFrame) -> str:
    """Every row of the table as plain text (what the regression checks compare)."""
    return readable(table).to_string(index=False)
