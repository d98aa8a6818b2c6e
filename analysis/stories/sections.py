"""The sections of notebook 01 after the headline, each about the focus year and area.

Every section uses the focus year wherever its data cover it; where they stop earlier, the
section's title and note name the latest year they cover and why (the victim records, the only
source of methods, sexes and ages, stop in March 2024). Counts are events; rates per 100,000.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd

from analysis.core.dates import EN_DASH, month_range_label, month_year, year_span
from analysis.data import series
from analysis.stories import narrative, stats, tables
from analysis.stories.narrative import count_phrase, fmt_int, fmt_pct, fmt_rate
from analysis.stories.numbers import ordinal, part_of
from analysis.stories.params import ResolvedParameters
from analysis.stories.tables import RECORDED_OFFENCES, VICTIMS, VICTIMS_UNDER_25, Measure

METHOD_COLUMNS = ["Knife or sharp implement", "Shooting", "Other methods", "Not known"]
VICTIM_RECORDS_END = "the victim records stop in March 2024"


@dataclass
class Section:
    """One section's computed parts: a finding-title, sentences, the table behind its chart, the
    year its data describe, and a note when that is not the focus year."""

    title: str
    table: pd.DataFrame
    year: int
    sentences: list[str] = field(default_factory=list)
    note: str = ""
    measure: Measure = VICTIMS


def victim_record_years(area: str) -> list[int]:
    """Whole years covered by the open victim records (not published totals), ascending."""
    return list(_victim_record_years(area, series.file_stamp("homicide_annual.csv")))


@functools.lru_cache(maxsize=64)
def _victim_record_years(area: str, stamp: tuple[int, int]) -> tuple[int, ...]:
    annual = series.homicide_annual(area)
    whole = annual[(annual["victims_months"] == 12) & (annual["victims_source"] == "open data")]
    return tuple(int(y) for y in whole.index)


def year_covered(p: ResolvedParameters, years: list[int], why: str) -> tuple[int, str]:
    """The focus year if ``years`` hold it, else the latest earlier one, with a note saying so."""
    if p.year in years:
        return p.year, ""
    earlier = [y for y in years if y < p.year]
    year = earlier[-1] if earlier else years[0]
    return year, f"This section shows {year}, the latest whole year its data cover for {p.area}: {why}."


# --------------------------------------------------------------------------------------------
# How people were killed, and domestic abuse
# --------------------------------------------------------------------------------------------


def method_section(p: ResolvedParameters, ages: str = "all") -> Section:
    """Victims by method of killing per whole year of victim records, to the year shown."""
    measure = VICTIMS if ages == "all" else VICTIMS_UNDER_25
    year, note = year_covered(p, victim_record_years(p.area), VICTIM_RECORDS_END)
    wide = series.breakdown(p.area, "method", ages)
    grouped = wide.T.groupby(series.METHOD_GROUPS).sum().T.reindex(columns=METHOD_COLUMNS, fill_value=0)
    grouped = grouped[grouped.index.isin(victim_record_years(p.area)) & (grouped.index <= year)]
    table = grouped.reset_index()
    table["total"] = grouped.sum(axis=1).to_numpy()
    row = table.set_index("year").loc[year]
    total, knife = int(row["total"]), int(row["Knife or sharp implement"])
    noun = measure.noun
    if total == 0:
        title = f"{p.area} had {count_phrase(0, noun)} in {year}"
    else:
        title = f"In {year}, {part_of(knife, total, noun, p.area)} killed with a knife or sharp implement"
    return Section(title, table, year, note=note, measure=measure)


def domestic_sentence(p: ResolvedParameters) -> str:
    """Domestic-abuse-related victims in the year shown, and over the victim records to that year."""
    years = victim_record_years(p.area)
    year, note = year_covered(p, years, VICTIM_RECORDS_END)
    wide = series.breakdown(p.area, "domestic_abuse")
    wide = wide[wide.index.isin(years) & (wide.index <= year)]
    domestic, total = int(wide.at[year, "Domestic abuse"]), int(wide.loc[year].sum())
    span = f"{int(wide.index.min())}{EN_DASH}{year}"
    overall_total = int(wide.to_numpy().sum())
    overall_domestic = int(wide["Domestic abuse"].sum())
    if total == 0:
        head = f"{p.area} had no homicide victims in {year}"
    else:
        share = f" ({fmt_pct(100 * domestic / total)})" if total >= narrative.SMALL_BASE and domestic else ""
        one = domestic <= 1 or total == 1
        head = (f"In {year}, {part_of(domestic, total, VICTIMS.noun, p.area)} killed in "
                f"{'a domestic-abuse-related homicide' if one else 'domestic-abuse-related homicides'}{share}")
    if span.split(EN_DASH)[0] == str(year) or overall_total == 0:
        tail = "."
    elif overall_total >= narrative.SMALL_BASE:
        tail = f"; over {span} the domestic-abuse-related share was {fmt_pct(100 * overall_domestic / overall_total)}."
    else:
        tail = (f"; over {span}, {'none' if overall_domestic == 0 else fmt_int(overall_domestic)} of "
                f"{count_phrase(overall_total, VICTIMS.noun)} {'was' if overall_domestic == 1 else 'were'} domestic-abuse-related.")
    return head + tail + (f" {note}" if note else "")


# --------------------------------------------------------------------------------------------
# Month by month, and year to date
# --------------------------------------------------------------------------------------------


def _end_month(p: ResolvedParameters) -> tuple[int, int]:
    return p.year, (p.months_covered if p.is_partial else 12)


def monthly_measure(p: ResolvedParameters) -> Measure:
    """Victims while their records cover the 12 months to the focus period's end, else offences."""
    year, month = _end_month(p)
    victims = tables.monthly_counts(p.area, VICTIMS)
    last = victims.iloc[-1]
    if (int(last["year"]), int(last["month"])) >= (year, month):
        return VICTIMS
    return RECORDED_OFFENCES


def monthly_section(p: ResolvedParameters) -> Section:
    """The rolling 12-month total through the series, to the last month of the focus period."""
    m = monthly_measure(p)
    year, month = _end_month(p)
    monthly = tables.monthly_counts(p.area, m)
    monthly = monthly[(monthly["year"] * 12 + monthly["month"]) <= year * 12 + month].copy()
    monthly["rolling_12_months"] = stats.rolling_sum(monthly["count"], 12).to_numpy()
    table = monthly.rename(columns={"count": m.key})
    rolling = table.dropna(subset=["rolling_12_months"])
    last = rolling.iloc[-1]
    total = int(last["rolling_12_months"])
    end = month_year(int(last["year"]), int(last["month"]))
    earlier = rolling.iloc[:-1]
    title = f"{p.area}: {count_phrase(total, m.noun)} in the 12 months to {end}"
    if len(earlier):
        high = earlier["rolling_12_months"].max()
        at = earlier[earlier["rolling_12_months"] == high].iloc[0]
        when = month_year(int(at["year"]), int(at["month"]))
        first = month_year(int(rolling.iloc[0]["year"]), int(rolling.iloc[0]["month"]))
        if total >= high:
            title += f", the most of any 12 months since the series' first full window (to {first})"
        else:
            title += f", against a high of {fmt_int(high)} in the 12 months to {when}"
    note = ""
    if m.is_offences:
        note = ("This section counts recorded homicide offences: " + VICTIM_RECORDS_END
                + ", and the offence records run to June 2026.")
    return Section(title, table, year, note=note, measure=m)


def ytd_section(p: ResolvedParameters) -> Section | None:
    """For a partial focus year only: the same months of every year the measure covers."""
    if not p.is_partial:
        return None
    m = tables.measure_for(p.area, p.year)
    months = p.months_covered
    counts = tables.ytd_counts(p.area, months, m)
    table = pd.DataFrame({"year": counts.index, m.key: counts.to_numpy()})
    ci = stats.poisson_ci_frame(table[m.key])
    table["lower"], table["upper"] = ci["lower"].to_numpy(), ci["upper"].to_numpy()
    label = month_range_label(p.year, months)
    count = int(counts.loc[p.year])
    title = f"{p.area}: {count_phrase(count, m.noun)} in {label}"
    sentences = []
    if p.year - 1 in counts.index:
        before = int(counts.loc[p.year - 1])
        title += f", against {fmt_int(before)} in the same months of {p.year - 1}"
        cmp = stats.compare_counts(before, count)
        sentences.append(narrative.sentence(narrative.change_phrase(cmp, month_range_label(p.year - 1, months), label, m.noun)
                                            + "; " + narrative.chance_phrase(cmp)))
    return Section(title, table, p.year, sentences=sentences, measure=m)


# --------------------------------------------------------------------------------------------
# Boroughs
# --------------------------------------------------------------------------------------------


def borough_measure(end_year: int, years: int, ages: str) -> Measure | None:
    """Victims when their records cover every borough for the whole window, else offences (all
    ages only); None when neither does."""
    return _borough_measure(end_year, years, ages, series.file_stamp("homicide_annual.csv"))


@functools.lru_cache(maxsize=1024)
def _borough_measure(end_year: int, years: int, ages: str, stamp: tuple[int, int]) -> Measure | None:
    window = set(range(end_year - years + 1, end_year + 1))
    annual = series.all_annual()
    boroughs = annual[annual["area_code"] != series.LONDON_CODE]
    victims = boroughs[(boroughs["victims_months"] == 12) & (boroughs["victims_source"] == "open data")]
    if window <= set(victims.groupby("year")["area_code"].nunique().index):
        return VICTIMS if ages == "all" else VICTIMS_UNDER_25
    if ages != "all":
        return None
    offences = boroughs[boroughs["offences_months"] == 12]
    if window <= set(offences["year"].unique()):
        return RECORDED_OFFENCES
    return None


def borough_window(p: ResolvedParameters, years: int, ages: str = "all") -> tuple[int, Measure, str]:
    """The last year of the pooled window and the measure: the focus year when a measure covers
    the whole window, else the latest year that works, with a note."""
    years_held = series.all_annual()["year"]
    first, last = int(years_held.min()), int(years_held.max())
    for end in range(p.year, first + years - 2, -1):
        m = borough_measure(end, years, ages)
        if m is not None:
            note = "" if end == p.year else (
                f"The pooled window ends in {end}: it is the latest run of {years} whole years that the "
                f"{'victim records' if not m.is_offences else 'offence records'} cover for every borough.")
            return end, m, note
    # a focus year too early for a window ending in it: the first window the data hold
    for end in range(p.year + 1, last + 1):
        m = borough_measure(end, years, ages)
        if m is not None:
            return end, m, (f"{p.year} is too early in the records for {years} whole years ending in it, so the "
                            f"pooled window is the first the records hold, ending in {end}.")
    raise ValueError(f"no window of {years} whole years covers every borough")


def borough_rates(end_year: int, years: int, m: Measure) -> pd.DataFrame:
    """Each borough's rate per 100,000 a year over the window ending ``end_year`` (events pooled
    over the window over summed mid-year populations), with exact intervals; highest first."""
    stamps = (series.file_stamp("homicide_annual.csv"), series.file_stamp("population.csv"))
    return _borough_rates(end_year, years, m, stamps).copy()


@functools.lru_cache(maxsize=128)
def _borough_rates(end_year: int, years: int, m: Measure, stamps: tuple) -> pd.DataFrame:
    annual = series.all_annual()
    pop = series.all_population()
    window = list(range(end_year - years + 1, end_year + 1))
    rows = annual[(annual["area_code"] != series.LONDON_CODE) & annual["year"].isin(window) & (annual[m.months] == 12)]
    counts = rows.groupby(["area_code", "area"])[m.key].agg(["sum", "count"]).reset_index()
    counts = counts[counts["count"] == years]
    # each window year's mid-year estimate, the latest carried forward where a year has none yet
    latest = int(pop.dropna(subset=[m.population])["year"].max())
    used = [min(year, latest) for year in window]
    by_year = pop.dropna(subset=[m.population]).set_index(["area_code", "year"])[m.population]
    person_years = sum(by_year.xs(year, level="year") for year in used)
    counts["population_years"] = counts["area_code"].map(person_years)
    counts = counts.rename(columns={"sum": m.key}).drop(columns=["count"])
    ci = stats.poisson_ci_frame(counts[m.key].astype(float))
    counts["rate"] = (stats.PER * counts[m.key] / counts["population_years"]).round(2)
    counts["rate_lower"] = (stats.PER * ci["lower"] / counts["population_years"]).round(2)
    counts["rate_upper"] = (stats.PER * ci["upper"] / counts["population_years"]).round(2)
    counts[m.key] = counts[m.key].astype(int)
    counts["population_years"] = counts["population_years"].astype(int)
    counts["window"] = f"{window[0]}{EN_DASH}{window[-1]}"
    return counts.sort_values(["rate", "area"], ascending=[False, True]).drop(columns=["area_code"]).reset_index(drop=True)


def london_window_rate(end_year: int, years: int, m: Measure) -> float:
    """London's rate per 100,000 a year over the same pooled window."""
    table = tables.annual_table("London", m)
    rows = table[table["year"].between(end_year - years + 1, end_year)]
    return float(stats.PER * rows[m.key].sum() / rows["population"].sum())


def borough_section(p: ResolvedParameters, years: int = 3, ages: str = "all") -> Section:
    """Pooled borough rates, the highest named and the focus borough's rank."""
    end, m, note = borough_window(p, years, ages)
    rates = borough_rates(end, years, m)
    top = rates.iloc[0]
    what = "youth homicide" if ages != "all" else "homicide"
    unit = "victims under 25 per 100,000 residents aged 0" + EN_DASH + "24" if ages != "all" else f"{m.noun.plural} per 100,000 residents"
    title = (f"{top['area']} had the highest {what} rate of London's boroughs in {top['window']}: "
             f"{fmt_rate(top['rate'])} {unit} a year")
    if p.area in set(rates["area"]) and p.area != top["area"]:
        rank = int(rates.index[rates["area"] == p.area][0]) + 1
        title += f"; {p.area} was {ordinal(rank)} highest of {len(rates)} ({fmt_rate(rates.loc[rank - 1, 'rate'])} per 100,000)"
    latest = int(series.all_population().dropna(subset=[m.population])["year"].max())
    if latest < end:
        carried = (f"There is no mid-year population estimate after mid-{latest} yet, so mid-{latest} stands in for "
                   f"{year_span(list(range(latest + 1, end + 1)))}.")
        note = f"{note} {carried}".strip()
    return Section(title, rates, end, note=note, measure=m)


def data_note(area: str) -> str:
    """What the open data cover, for the top of every page: the months of the victim records and
    of the offence records, and the published totals where there are any."""
    cov = tables.data_coverage(area)
    (v0, v1), (o0, o1) = cov.victims, cov.offences
    last = max(v1, o1)
    text = (f"to {month_year(*last)}: victim records {month_year(*v0)}{EN_DASH}{month_year(*v1)}; recorded offences "
            f"{month_year(*o0)}{EN_DASH}{month_year(*o1)}")
    annual = series.homicide_annual(area)
    published = [int(y) for y in annual.index[annual["victims_source"] == "published"]]
    if published:
        text += f"; whole-year victim totals for {year_span(published)} from the Met's published statements"
    return text + "."
