"""Plausibility checks run by the data build: implausible input is refused, never silently built.

Schemas (``analysis.data.schemas``) check each value on its own; these check what only makes sense
across rows: a victims release with a month in its span where London recorded nobody (a gap, or a
stray row stretching the span), a date after the build, a population part larger than its total,
a year missing for an area, an implausible jump in a population, a recorded-crime month column
after the build or with no offence at all, an ONS rate period ending after the build. Each failure is one DataError
line naming the file and, where the file has one, the row.
"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import pandas as pd

from analysis.core.errors import DataError

#: Largest plausible change in an area's mid-year population from one year to the next (percent).
MAX_POPULATION_CHANGE_PCT = 5.0
#: Year-on-year changes that are not compared: the first Census 2021-based estimate (a change of
#: method, not of people) and the City of London (under 11,000 residents, so a few hundred
#: people are several percent).
POPULATION_CHANGE_EXEMPT_YEARS = (2021,)
POPULATION_CHANGE_EXEMPT_AREAS = ("E09000001",)


def month_name(year: int, month: int) -> str:
    """``"April 2024"``."""
    return f"{calendar.month_name[month]} {year}"


def check_release_months(path: Path, frame: pd.DataFrame, today: dt.date) -> None:
    """A victims release (canonical frame indexed by source line) must be plausible as a whole.

    * No row is dated after ``today`` (the month the build runs in is allowed).
    * Every month from the first to the last recorded month has at least one London victim:
      London records several homicides every month, so an empty month inside the span is a gap
      in the file, or a stray row that makes the span reach beyond what the file covers.
    """
    period = frame["year"] * 12 + frame["month"] - 1
    now = today.year * 12 + today.month - 1
    future = period > now
    if future.any():
        row = int(period[future].index[0])
        raise DataError(
            path,
            f"recorded in {month_name(int(frame.at[row, 'year']), int(frame.at[row, 'month']))}, "
            f"after the build date ({today.isoformat()})",
            row=row,
            column="Recorded Date",
        )
    present = set(int(p) for p in period.unique())
    first, last = int(period.min()), int(period.max())
    for month in range(first, last + 1):
        if month in present:
            continue
        later = period[period > month]
        after = int(later.sort_values(kind="stable").index[0])
        raise DataError(
            path,
            f"no London victim recorded in {month_name(month // 12, month % 12 + 1)}, inside the release's "
            f"span {month_name(first // 12, first % 12 + 1)} to {month_name(last // 12, last % 12 + 1)}: "
            f"a gap in the file or a stray row (the next recorded month is "
            f"{month_name(int(frame.at[after, 'year']), int(frame.at[after, 'month']))})",
            row=after,
        )


def check_population_parts(path: Path, frame: pd.DataFrame) -> None:
    """Ages 0–24 never exceed all ages, and ages 13–19 never exceed ages 0–24 (rows of one file)."""
    for part, whole, what in (
        ("population_under_25", "population", "ages 0-24 exceed all ages"),
        ("population_13_19", "population_under_25", "ages 13-19 exceed ages 0-24"),
    ):
        bad = frame[part] > frame[whole]  # NaN totals (ages 85+ not published) compare False
        if bad.any():
            label = bad.idxmax()
            row = frame.loc[label]
            where = int(row["source_row"]) if "source_row" in frame and pd.notna(row["source_row"]) else None
            raise DataError(
                path,
                f"{row['area']} mid-{int(row['year'])}: {what} ({int(row[part]):,} against {int(row[whole]):,}); "
                "columns swapped or mislabelled?",
                row=where,
                column=str(row["source_column"]) if "source_column" in frame and row["source_column"] else None,
            )


def check_population_years(population: pd.DataFrame) -> None:
    """Every area has an estimate for every year from its first to the last year of the series,
    and no change from one year to the next beyond MAX_POPULATION_CHANGE_PCT (exemptions above).

    ``population`` carries ``source_file`` (and ``source_row`` where known) for each row.
    """
    last_year = int(population["year"].max())
    for code, rows in population.sort_values("year").groupby("area_code", sort=True):
        years = rows["year"].astype(int).tolist()
        expected = range(years[0], last_year + 1)
        missing = [y for y in expected if y not in set(years)]
        if missing:
            before = rows[rows["year"] < missing[0]]
            blame = before.iloc[-1] if len(before) else rows.iloc[0]
            covered = before["year"]
            span = f"{int(covered.min())}-{int(covered.max())}" if len(covered) else "no earlier year"
            raise DataError(
                blame["source_file"],
                f"no mid-{missing[0]} population estimate for {rows['area'].iloc[0]} in any source "
                f"(this file gives {span} for it): truncated or missing rows?",
            )
        if code in POPULATION_CHANGE_EXEMPT_AREAS:
            continue
        values = rows.set_index("year")["population"].astype(float)
        change = 100 * values.pct_change()
        for year, pct in change.items():
            if pd.isna(pct) or int(year) in POPULATION_CHANGE_EXEMPT_YEARS or abs(pct) <= MAX_POPULATION_CHANGE_PCT:
                continue
            row = rows[rows["year"] == year].iloc[0]
            raise DataError(
                row["source_file"],
                f"{row['area']}'s population changes by {pct:+.1f}% from mid-{int(year) - 1} to mid-{int(year)} "
                f"({int(values.loc[year - 1]):,} to {int(values.loc[year]):,}), more than the "
                f"{MAX_POPULATION_CHANGE_PCT:g}% a year that is plausible",
                row=int(row["source_row"]) if pd.notna(row.get("source_row")) else None,
            )


def check_crime_release(path: Path, frame: pd.DataFrame, first: int, last: int, today: dt.date) -> None:
    """A recorded-crime release (canonical non-zero cells; months as ``year * 12 + month - 1``) must be plausible.

    * No month column is after ``today`` (the month the build runs in is allowed).
    * Every month column has at least one offence somewhere in London: the Met records tens of
      thousands a month, so an all-zero column is a damaged or mislabelled file.
    """
    now = today.year * 12 + today.month - 1
    if last > now:
        month = max(first, now + 1)
        raise DataError(
            path,
            f"has a column for {month_name(month // 12, month % 12 + 1)}, after the build date ({today.isoformat()})",
            row=1,
            column=f"{month // 12}{month % 12 + 1:02d}",
        )
    present = set((frame["year"] * 12 + frame["month"] - 1).unique().tolist())
    for month in range(first, last + 1):
        if month not in present:
            raise DataError(
                path,
                f"records no offence at all in London in {month_name(month // 12, month % 12 + 1)}: an empty month column",
                row=1,
                column=f"{month // 12}{month % 12 + 1:02d}",
            )


def check_rate_periods(path: Path, frame: pd.DataFrame, today: dt.date) -> None:
    """No ONS rate period (canonical frame indexed by source line) ends after ``today``."""
    late = frame["period_end"] > today.isoformat()
    if late.any():
        row = late.idxmax()
        raise DataError(
            path,
            f"has a period ending {frame.at[row, 'period_end']}, after the build date ({today.isoformat()})",
            row=int(row),
        )
