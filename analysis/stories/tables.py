"""Annual and monthly tables shared by every topic, for each measure of homicide.

Two measures count homicide, and every table says which it holds:

* **victims**: the Met's victim records (one row per victim, open data January 2003 to March
  2024), and the Met's published totals for whole years without open records (London only);
* **offences**: homicide offences recorded per month (open data April 2010 to June 2026), for
  London and every borough. One offence can have several victims, so the two differ by a few a year.

Counts are events per year (or month); rates are per 100,000 residents of the matching population
(ONS mid-year estimates, the latest carried forward where a year has none). A partial year has no
annual rate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data import series
from analysis.stories import stats
from analysis.stories.numbers import HOMICIDE_VICTIMS, OFFENCES, TEENAGERS, UNDER_25, Noun

#: First year of the Census 2021-based population series (a break in the denominator).
CENSUS_BREAK = 2021


@dataclass(frozen=True)
class Measure:
    """One way of counting homicide: its column in the annual table, its noun, where its months
    covered and its source are recorded, and its basis in the shared vocabulary of the data log."""

    key: str
    noun: Noun
    months: str
    source: str
    basis: str
    population: str = "population"

    @property
    def is_offences(self) -> bool:
        return self.key == "offences"


VICTIMS = Measure("victims", HOMICIDE_VICTIMS, "victims_months", "victims_source", "open victim records")
VICTIMS_UNDER_25 = Measure("victims_under_25", UNDER_25, "victims_months", "victims_source", "open victim records",
                           "population_under_25")
VICTIMS_13_19 = Measure("victims_13_19", TEENAGERS, "victims_months", "victims_source", "open victim records",
                        "population_13_19")
RECORDED_OFFENCES = Measure("offences", OFFENCES, "offences_months", "offences_release", "open offence records")
MEASURES = {m.key: m for m in (VICTIMS, VICTIMS_UNDER_25, VICTIMS_13_19, RECORDED_OFFENCES)}


def annual_table(area: str = "London", measure: Measure | str = VICTIMS) -> pd.DataFrame:
    """One row per year the measure covers: count, exact 95% interval, months covered, source,
    denominator and rate.

    Columns: ``year, <measure>, lower, upper, months_covered, source, population,
    population_year, carried_forward, rate, rate_lower, rate_upper`` (counts are events; rates
    per 100,000 residents of the measure's population; no rate for a partial year). ``source``
    is ``open data`` or ``published`` (a total known only from a Met statement).
    """
    m = MEASURES[measure] if isinstance(measure, str) else measure
    stamps = (series.file_stamp("homicide_annual.csv"), series.file_stamp("population.csv"))
    return _annual_table(area, m, stamps).copy()


@functools.lru_cache(maxsize=256)
def _annual_table(area: str, m: Measure, stamps: tuple) -> pd.DataFrame:
    annual = series.homicide_annual(area)
    counts = pd.to_numeric(annual[m.key], errors="coerce").astype(float)
    months = pd.to_numeric(annual[m.months], errors="coerce")
    keep = counts.notna() & months.notna()
    annual, counts, months = annual[keep], counts[keep], months[keep]
    table = pd.DataFrame({"year": annual.index.astype(int), m.key: counts.to_numpy()})
    ci = stats.poisson_ci_frame(counts.reset_index(drop=True))
    table["lower"], table["upper"] = ci["lower"].to_numpy(), ci["upper"].to_numpy()
    table["months_covered"] = months.astype(int).to_numpy()
    table["source"] = annual[m.source].to_numpy() if not m.is_offences else "open data"
    pop = series.population_for(list(annual.index), area, column=m.population)
    table["population"] = pop["population"].to_numpy()
    table["population_year"] = pop["population_year"].to_numpy()
    table["carried_forward"] = pop["carried_forward"].to_numpy()
    scale = stats.PER / table["population"]
    table["rate"] = table[m.key] * scale
    table["rate_lower"] = table["lower"] * scale
    table["rate_upper"] = table["upper"] * scale
    table.loc[table["months_covered"] < 12, ["rate", "rate_lower", "rate_upper"]] = np.nan
    return table.reset_index(drop=True)


def whole_years(table: pd.DataFrame, up_to: int | None = None) -> pd.DataFrame:
    """Rows of complete years only (optionally up to and including ``up_to``)."""
    rows = table[table["months_covered"] == 12]
    if up_to is not None:
        rows = rows[rows["year"] <= up_to]
    return rows


def rounded(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The table with floats rounded for display and CSV (counts stay whole)."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            whole = out[column].dropna()
            if len(whole) and (whole % 1 == 0).all():
                out[column] = out[column].astype("Int64")
            else:
                out[column] = out[column].round(digits)
    return out


def series_by_year(table: pd.DataFrame, column: str) -> pd.Series:
    """One column of an annual table as a float series indexed by year."""
    return table.set_index("year")[column].astype(float)


def monthly_counts(area: str, measure: Measure | str = VICTIMS) -> pd.DataFrame:
    """Monthly counts of a measure: ``year, month, count`` for every month it covers, zeros included.

    Victims (and victims under 25) come from the victim records; offences from the monthly
    recorded-crime series (homicide subgroup).
    """
    m = MEASURES[measure] if isinstance(measure, str) else measure
    stamps = (series.file_stamp("recorded_crime_monthly.csv"), series.file_stamp("homicide_monthly.csv"))
    return _monthly_counts(area, m, stamps).copy()


@functools.lru_cache(maxsize=128)
def _monthly_counts(area: str, m: Measure, stamps: tuple) -> pd.DataFrame:
    if m.is_offences:
        table = series.recorded_crime(area, group="VIOLENCE AGAINST THE PERSON", subgroup="HOMICIDE")
        return table[["year", "month", "offences"]].rename(columns={"offences": "count"}).reset_index(drop=True)
    if m.key == "victims_13_19":
        raise ValueError("monthly counts of victims aged 13 to 19 are not published")
    table = series.monthly(area)
    return table[["year", "month", m.key]].rename(columns={m.key: "count"}).reset_index(drop=True)


def ytd_counts(area: str, months: int, measure: Measure | str = VICTIMS) -> pd.Series:
    """Counts in January to month ``months`` of every year that the measure covers for all those
    months, by year (events)."""
    monthly = monthly_counts(area, measure)
    covered = monthly.groupby("year")["month"].agg(lambda m: set(m))
    years = [y for y, have in covered.items() if set(range(1, months + 1)) <= have]
    subset = monthly[(monthly["month"] <= months) & monthly["year"].isin(years)]
    return subset.groupby("year")["count"].sum().astype(int)


def measure_for(area: str, year: int) -> Measure:
    """The measure that leads for a year: victims when their records (or a published total) cover
    the whole year, else recorded offences when they cover it (whole or in part), else victims."""
    annual = series.homicide_annual(area)
    if year in annual.index:
        row = annual.loc[year]
        if pd.notna(row["victims"]) and row["victims_months"] == 12:
            return VICTIMS
        if pd.notna(row["offences"]):
            return RECORDED_OFFENCES
    return VICTIMS


@dataclass(frozen=True)
class Agreement:
    """How closely recorded offences track victims in the whole years both open datasets cover.

    ``max_gap``: the largest difference between the two yearly counts (events);
    ``max_gap_pct``: the same in percent of victims; ``max_change_gap``: the largest difference
    between their year-on-year changes (percentage points). These are the tolerances within which
    an offence count can stand in for a victim count.
    """

    area: str
    first_year: int
    last_year: int
    years: int
    max_gap: float
    max_gap_pct: float
    max_change_gap: float

    def count_agrees(self, victims: float, offences: float) -> bool:
        """True when ``offences`` is within the largest gap seen (in events or in percent) of ``victims``."""
        gap = abs(offences - victims)
        return gap <= self.max_gap or (victims > 0 and 100 * gap / victims <= self.max_gap_pct)

    def change_agrees(self, victims_pct: float, offences_pct: float) -> bool:
        """True when two year-on-year changes (percent) differ by no more than the largest gap seen."""
        return abs(victims_pct - offences_pct) <= self.max_change_gap


def measure_agreement(area: str = "London") -> Agreement | None:
    """How closely offences track victims in ``area`` (see :class:`Agreement`); None without two
    overlapping whole years of open data for both."""
    annual = series.homicide_annual(area)
    both = annual[
        (annual["victims_source"] == "open data") & (annual["victims_months"] == 12) & (annual["offences_months"] == 12)
    ].dropna(subset=["victims", "offences"])
    if len(both) < 2:
        return None
    victims, offences = both["victims"].astype(float), both["offences"].astype(float)
    gap = (offences - victims).abs()
    pct = (100 * gap / victims.where(victims > 0)).dropna()
    consecutive = both.index.to_series().diff().eq(1)
    change_gap = (100 * offences.pct_change() - 100 * victims.pct_change()).abs()[consecutive].replace([np.inf], np.nan).dropna()
    return Agreement(
        area=area, first_year=int(both.index.min()), last_year=int(both.index.max()), years=len(both),
        max_gap=float(gap.max()), max_gap_pct=float(pct.max()) if len(pct) else 0.0,
        max_change_gap=float(change_gap.max()) if len(change_gap) else 0.0,
    )


def counts_side_by_side(victims: pd.DataFrame, offences: pd.DataFrame) -> pd.DataFrame:
    """Victims (with interval and source) and recorded offences per year, one row per year either
    covers: ``year, victims, lower, upper, victims_months, source, offences, offences_months``."""
    v = victims[["year", "victims", "lower", "upper", "months_covered", "source"]].rename(columns={"months_covered": "victims_months"})
    o = offences[["year", "offences", "months_covered"]].rename(columns={"months_covered": "offences_months"})
    return v.merge(o, on="year", how="outer").sort_values("year").reset_index(drop=True)


def rates_side_by_side(victims: pd.DataFrame, offences: pd.DataFrame) -> pd.DataFrame:
    """Rates per 100,000 residents for whole years, both measures: ``year, population,
    population_year, rate, rate_lower, rate_upper`` (victims) and ``offence_rate``."""
    v = whole_years(victims)[["year", "victims", "population", "population_year", "rate", "rate_lower", "rate_upper", "source"]]
    o = whole_years(offences)[["year", "offences", "population", "population_year", "rate"]].rename(columns={"rate": "offence_rate"})
    merged = v.merge(o, on="year", how="outer", suffixes=("", "_o"))
    merged["population"] = merged["population"].fillna(merged.pop("population_o"))
    merged["population_year"] = merged["population_year"].fillna(merged.pop("population_year_o"))
    merged = merged.dropna(subset=["population"])
    return merged.sort_values("year").reset_index(drop=True)


@dataclass(frozen=True)
class Coverage:
    """First and last month (year, month) each open dataset covers."""

    victims: tuple[tuple[int, int], tuple[int, int]]
    offences: tuple[tuple[int, int], tuple[int, int]]


def data_coverage(area: str = "London") -> Coverage:
    """The months the victim records and the offence records cover for ``area``."""
    v = monthly_counts(area, VICTIMS)
    o = monthly_counts(area, RECORDED_OFFENCES)

    def span(t: pd.DataFrame) -> tuple[tuple[int, int], tuple[int, int]]:
        first, last = t.iloc[0], t.iloc[-1]
        return (int(first["year"]), int(first["month"])), (int(last["year"]), int(last["month"]))

    return Coverage(span(v), span(o))
