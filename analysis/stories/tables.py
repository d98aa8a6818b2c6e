"""Annual tables shared by every topic: counts with exact intervals, rates per 100,000, whole years.

Counts are victims (or offences where a table says so); rates are per 100,000 residents of the
matching population (ONS mid-year estimates, the latest carried forward where a year has none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import series
from analysis.stories import stats

#: First year of the Census 2021-based population series (a break in the denominator).
CENSUS_BREAK = 2021


def annual_table(area: str = "London", column: str = "victims", population_column: str = "population") -> pd.DataFrame:
    """One row per year: count, exact 95% interval, months covered, source, denominator and rate.

    Columns: ``year, victims, lower, upper, months_covered, source, population,
    population_year, carried_forward, rate, rate_lower, rate_upper`` (rates per 100,000;
    empty where the count or population is missing). ``column`` picks the count
    (``victims``, ``victims_under_25``, ``victims_13_19``) and ``population_column`` its denominator.
    """
    annual = series.homicide_annual(area)
    counts = annual[column].astype("Float64").astype(float)
    table = pd.DataFrame({"year": annual.index, "victims": counts.to_numpy()})
    ci = stats.poisson_ci_frame(counts.reset_index(drop=True))
    table["lower"], table["upper"] = ci["lower"].to_numpy(), ci["upper"].to_numpy()
    table["months_covered"] = annual["months_covered"].to_numpy()
    table["source"] = annual["source"].to_numpy()
    pop = series.population_for(list(annual.index), area, column=population_column)
    table["population"] = pop["population"].to_numpy()
    table["population_year"] = pop["population_year"].to_numpy()
    table["carried_forward"] = pop["carried_forward"].to_numpy()
    scale = stats.PER / table["population"]
    table["rate"] = table["victims"] * scale
    table["rate_lower"] = table["lower"] * scale
    table["rate_upper"] = table["upper"] * scale
    # A partial year's count is not an annual rate.
    partial = table["months_covered"] < 12
    table.loc[partial, ["rate", "rate_lower", "rate_upper"]] = np.nan
    table = table.dropna(subset=["victims"]).reset_index(drop=True)
    table["year"] = table["year"].astype(int)
    return table


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
    return table.set_index("year")[column].astype(float)


def ytd_counts(area: str, months: int, column: str = "victims") -> pd.Series:
    """Victims in January to month ``months`` of every year with open data for those months, by year."""
    monthly = series.monthly(area)
    covered = monthly.groupby("year")["month"].max()
    years = covered[covered >= months].index
    subset = monthly[(monthly["month"] <= months) & monthly["year"].isin(years)]
    return subset.groupby("year")[column].sum().astype(int)
