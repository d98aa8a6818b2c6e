"""Wider violence (notebook 05): is the fall in homicide part of a wider change? Recorded violence
with injury, robbery and possession of weapons beside homicide, for London and the focus borough,
per 1,000 residents, by whole year and month by month, to the focus period.

Counts are offences recorded per year (or month) in the MPS recorded-crime series; rates are
offences per 1,000 residents a year (ONS mid-year population, the latest carried forward). Recorded
crime also measures police activity and recording practice, not only crime: possession of weapons
is mostly found by stop and search. A partial focus year is compared like for like with the same
months of earlier years and never ranked against whole years.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from analysis.core.dates import EN_DASH, month_range_label, month_year
from analysis.data import series
from analysis.stories import narrative, stats, trend
from analysis.stories.numbers import Noun, count_phrase, fmt_int, fmt_rate, there_were
from analysis.stories.params import ResolvedParameters

#: Offences per this many residents (homicide, far rarer, per 100,000 as elsewhere).
PER = 1_000
HOMICIDE_PER = 100_000
#: Below this many homicide offences in the first year, the change to the focus year is told in counts.
HOMICIDE_COUNTS_AS_COUNTS = 50


@dataclass(frozen=True)
class OffenceType:
    """One offence type: its key, its noun, and the recorded-crime group (and subgroup) that count it."""

    key: str
    noun: Noun
    group: str
    subgroup: str | None = None


VIOLENCE_WITH_INJURY = OffenceType("violence_with_injury", Noun("offence of violence with injury", "offences of violence with injury"),
                                   "VIOLENCE AGAINST THE PERSON", "VIOLENCE WITH INJURY")
ROBBERY = OffenceType("robbery", Noun("robbery", "robberies"), "ROBBERY")
WEAPONS = OffenceType("possession_of_weapons", Noun("offence of possession of weapons", "offences of possession of weapons"),
                      "POSSESSION OF WEAPONS")
HOMICIDE = OffenceType("homicide", Noun("homicide offence", "homicide offences"), "VIOLENCE AGAINST THE PERSON", "HOMICIDE")
TYPES: tuple[OffenceType, ...] = (HOMICIDE, VIOLENCE_WITH_INJURY, ROBBERY, WEAPONS)
LABELS = {HOMICIDE.key: "Homicide", VIOLENCE_WITH_INJURY.key: "Violence with injury", ROBBERY.key: "Robbery",
          WEAPONS.key: "Possession of weapons"}
CAVEAT = ("Recorded crime counts what the police record, so it moves with reporting, recording practice and police "
          "activity as well as with crime: possession of weapons is mostly found by stop and search, and rises and falls with it.")


def monthly(area: str) -> pd.DataFrame:
    """Offences per month of each type: ``year, month, <type key>…`` for every month the series covers."""
    return _monthly(area, series.file_stamp("recorded_crime_monthly.csv")).copy()


@functools.lru_cache(maxsize=8)
def _monthly(area: str, stamp: tuple[int, int]) -> pd.DataFrame:
    out = None
    for t in TYPES:
        part = series.recorded_crime(area, group=t.group, subgroup=t.subgroup)[["year", "month", "offences"]]
        part = part.rename(columns={"offences": t.key})
        out = part if out is None else out.merge(part, on=["year", "month"])
    assert out is not None
    return out.reset_index(drop=True)


def annual(area: str) -> pd.DataFrame:
    """Offences per year of each type with the months covered and rates per 1,000 residents a year
    (whole years only): ``year, months_covered, population, population_year, <key>, <key>_rate…``."""
    stamps = (series.file_stamp("recorded_crime_monthly.csv"), series.file_stamp("population.csv"))
    return _annual(area, stamps).copy()


@functools.lru_cache(maxsize=64)
def _annual(area: str, stamps: tuple) -> pd.DataFrame:
    months = monthly(area)
    table = months.groupby("year").agg(months_covered=("month", "count"), **{t.key: (t.key, "sum") for t in TYPES}).reset_index()
    pop = series.population_for(list(table["year"]), area)
    table["population"] = pop["population"].to_numpy()
    table["population_year"] = pop["population_year"].to_numpy()
    for t in TYPES:
        rate = per(t) * table[t.key] / table["population"]
        table[f"{t.key}_rate"] = rate.where(table["months_covered"] == 12).round(3)
    return table


def per(t: OffenceType) -> int:
    """The number of residents a rate of ``t`` is given per (100,000 for homicide, else 1,000)."""
    return HOMICIDE_PER if t is HOMICIDE else PER


def per_label(t: OffenceType) -> str:
    """``"per 1,000 residents"`` or ``"per 100,000 residents"``."""
    return f"per {per(t):,} residents"


def rolling(area: str, end: tuple[int, int]) -> pd.DataFrame:
    """Rolling 12-month offences per 1,000 residents, month by month to ``end`` (year, month):
    ``year, month, <key>…`` (population of the year the window ends in)."""
    stamps = (series.file_stamp("recorded_crime_monthly.csv"), series.file_stamp("population.csv"))
    table = _rolling(area, stamps)
    upto = table["year"] * 12 + table["month"] <= int(end[0]) * 12 + int(end[1])
    return table[upto].reset_index(drop=True)


@functools.lru_cache(maxsize=64)
def _rolling(area: str, stamps: tuple) -> pd.DataFrame:
    # Every month's window (and the population of the year it ends in) depends only on the months
    # before it, so the whole series is computed once per area and cut at each end month.
    months = monthly(area)
    pop = series.population_for(sorted(months["year"].unique()), area)["population"]
    out = months[["year", "month"]].copy()
    for t in TYPES:
        total = stats.rolling_sum(months[t.key], 12)
        out[t.key] = (per(t) * total / months["year"].map(pop)).round(4)
    return out.dropna().reset_index(drop=True)


def index_table(area: str, year: int) -> pd.DataFrame:
    """Each type's whole-year count as a percentage of its first whole year, to ``year`` (first year = 100)."""
    table = annual(area)
    whole = table[(table["months_covered"] == 12) & (table["year"] <= year)]
    out = whole[["year"]].copy()
    for t in TYPES:
        out[t.key] = (100 * whole[t.key] / whole[t.key].iloc[0]).round(1)
    return out.reset_index(drop=True)


def _change_words(pct: float) -> str:
    if round(pct) == 0:
        return "about the same"
    return f"{'down' if pct < 0 else 'up'} {narrative.fmt_pct(abs(pct))}"


def _against_average(pct: float) -> str:
    """``"12% below that average"``, ``"7% above that average"`` or ``"about the same as that average"``."""
    if round(pct) == 0:
        return "about the same as that average"
    return f"{narrative.fmt_pct(abs(pct))} {'below' if pct < 0 else 'above'} that average"


def _moved(label: str, base: float, now: float, small: int = narrative.SMALL_BASE) -> str:
    """``"robbery down 7%"``, or ``"homicide from 3 to 7"`` on a base under the small-base limit."""
    def n(x: float) -> str:
        return "none" if x == 0 else fmt_int(x)

    if base < small:
        if base == now:
            return f"{label} unchanged at {n(now)}"
        return f"{label} from {n(base)} to {n(now)}"
    return f"{label} {_change_words(100 * (now - base) / base)}"


def first_whole_year(area: str) -> int:
    """The first whole year of the recorded-crime series."""
    table = annual(area)
    return int(table.loc[table["months_covered"] == 12, "year"].min())


def shown_year(p: ResolvedParameters) -> tuple[int, str]:
    """The year the yearly sections show: the focus year when it is whole, else the latest whole
    year before it (or the first, for a year before the series), with a note saying why."""
    table = annual(p.area)
    whole = [int(y) for y in table.loc[table["months_covered"] == 12, "year"]]
    if p.year in whole:
        return p.year, ""
    earlier = [y for y in whole if y < p.year]
    if earlier:
        return earlier[-1], f"{p.year} is a partial year, so the yearly figures end in {earlier[-1]}, the latest whole year."
    start = month_year(int(table["year"].min()), 13 - int(table["months_covered"].iloc[0]))
    if p.year >= int(table["year"].min()):
        return whole[0], (f"The recorded-crime series starts in {start}, so {p.year} is not a whole year in it; "
                          f"these sections show {whole[0]}, its first whole year.")
    return whole[0], f"The recorded-crime series starts in {start}, after {p.year}, so these sections show {whole[0]}, its first whole year."


def rolling_end(p: ResolvedParameters) -> tuple[int, int]:
    """The last month of the focus period when the series covers it, else the end of the year shown."""
    table = annual(p.area).set_index("year")
    if p.year in table.index:
        months = int(table.at[p.year, "months_covered"])
        if months == 12:
            return p.year, 12
        if p.year == int(table.index.max()):
            return p.year, months  # the data stop part-way through the focus year
    return shown_year(p)[0], 12  # before the series, or its partial first year


def homicide_first_count(area: str) -> int:
    """Homicide offences in the first whole year of the series (the base of the index chart)."""
    table = annual(area)
    return int(table.loc[table["months_covered"] == 12, HOMICIDE.key].iloc[0])


def index_title(area: str, year: int) -> str:
    """Finding-title for the index chart: how each type changed from the first whole year to the focus year (or the latest whole year)."""
    table = annual(area)
    whole = table[(table["months_covered"] == 12) & (table["year"] <= year)]
    first, last = whole.iloc[0], whole.iloc[-1]
    if int(first["year"]) == int(last["year"]):
        return f"{area}: {int(last['year'])} is the first whole year of the recorded-crime series"
    # homicide counts in the tens move far by chance between two single years: counts, not a percentage
    parts = [_moved(LABELS[t.key].lower(), first[t.key], last[t.key], small=HOMICIDE_COUNTS_AS_COUNTS if t is HOMICIDE else narrative.SMALL_BASE)
             for t in TYPES]
    return f"{area}, {int(first['year'])} to {int(last['year'])}: " + ", ".join(parts)


@dataclass(frozen=True)
class Change:
    """One type's focus period against the base period (same months) and the five years before."""

    type: OffenceType
    label: str
    base_label: str
    count: int
    base: int
    rate: float | None
    comparison: stats.CountComparison
    baseline: trend.Baseline | None


def _like_for_like(area: str, months: int) -> pd.DataFrame:
    return _like_for_like_cached(area, months, series.file_stamp("recorded_crime_monthly.csv")).copy()


@functools.lru_cache(maxsize=128)
def _like_for_like_cached(area: str, months: int, stamp: tuple[int, int]) -> pd.DataFrame:
    table = monthly(area)
    covered = table.groupby("year")["month"].apply(set)
    years = [y for y, have in covered.items() if set(range(1, months + 1)) <= have]
    part = table[table["year"].isin(years) & (table["month"] <= months)]
    return part.groupby("year")[[t.key for t in TYPES]].sum()


def changes(p: ResolvedParameters) -> list[Change]:
    """Each type's focus period (the year, or its covered months) against the base year's same months."""
    stamps = (series.file_stamp("recorded_crime_monthly.csv"), series.file_stamp("population.csv"))
    return list(_changes(p.area, p.year, p.base_year, stamps))


@functools.lru_cache(maxsize=256)
def _changes(area: str, year: int, base_year: int, stamps: tuple) -> tuple[Change, ...]:
    table = annual(area).set_index("year")
    if year not in table.index:
        return ()
    months = int(table.at[year, "months_covered"])
    counts = _like_for_like(area, months)
    out = []
    for t in TYPES:
        if year not in counts.index or base_year not in counts.index:
            continue
        count, base = int(counts.at[year, t.key]), int(counts.at[base_year, t.key])
        rate = float(table.at[year, f"{t.key}_rate"]) if months == 12 else None
        out.append(Change(t, month_range_label(year, months), month_range_label(base_year, months), count, base, rate,
                          stats.compare_counts(base, count), trend.against_previous_years(counts[t.key].astype(float), year)))
    return tuple(out)


def change_sentence(c: Change, area: str) -> str:
    """``"London: 64,058 offences of violence with injury in 2025, 3,034 fewer than the 67,092 in 2024 (−5%), 7.0 per 1,000 residents; …"``."""
    text = f"{area}: {narrative.change_phrase(c.comparison, c.base_label, c.label, c.type.noun)}"
    if c.rate is not None:
        text += f". That is {fmt_rate(c.rate, 2 if c.type is HOMICIDE else 1)} {per_label(c.type)}"
    if c.baseline is not None and c.baseline.mean >= narrative.SMALL_BASE:
        pct = 100 * (c.count - c.baseline.mean) / c.baseline.mean
        text += (f"; the average of the same months in {c.baseline.first_year}{EN_DASH}{c.baseline.last_year} was "
                 f"{fmt_int(c.baseline.mean)}, and {c.label} was {_against_average(pct)}")
    return narrative.sentence(text)


def headline(p: ResolvedParameters) -> str:
    """One sentence: did homicide move with the wider violence measures from the base year to the focus period?"""
    found = {c.type.key: c for c in changes(p)}
    if HOMICIDE.key not in found:
        table = annual(p.area)
        start = month_year(int(table["year"].min()), 13 - int(table["months_covered"].iloc[0]))
        if p.year >= int(table["year"].min()) and p.base_year >= int(table["year"].min()):
            partial = p.base_year if int(table["months_covered"].iloc[0]) < 12 and p.base_year == int(table["year"].min()) else p.year
            return (f"The recorded-crime series for {p.area} starts in {start}, so {partial} is not a whole year in it and "
                    f"{p.year} cannot be set against {p.base_year} like for like.")
        return (f"The recorded-crime series for {p.area} starts in {start}, after {p.base_year}, so {p.year} cannot be "
                f"set against {p.base_year} in it.")
    h = found[HOMICIDE.key]
    others = [c for c in found.values() if c.type is not HOMICIDE]
    if h.base < narrative.SMALL_BASE:
        lead = f"In {p.area}, homicide offences went from {fmt_int(h.base)} in {h.base_label} to {fmt_int(h.count)} in {h.label}"
        if h.base == h.count:
            lead = (f"In {p.area}, there were no homicide offences in either {h.base_label} or {h.label}" if h.count == 0 else
                    f"In {p.area}, {there_were(h.count, h.type.noun)} in both {h.base_label} and {h.label}")
        elif h.base == 0:
            lead = f"In {p.area}, {there_were(h.count, h.type.noun)} in {h.label}, against none in {h.base_label}"
        elif h.count == 0:
            lead = f"In {p.area}, there were no homicide offences in {h.label}, against {fmt_int(h.base)} in {h.base_label}"
    else:
        lead = f"In {p.area}, homicide offences were {_change_words(h.comparison.pct_change)} in {h.label} on {h.base_label}"
    parts = [_moved(LABELS[c.type.key].lower(), c.base, c.count) for c in others]
    return f"{lead}; over the same months, {', '.join(parts)}."


def rates_title(area: str, year: int) -> str:
    """Finding-title for the yearly rates: each type per 1,000 residents in the focus year, or the latest whole year."""
    table = annual(area)
    whole = table[(table["months_covered"] == 12) & (table["year"] <= year)]
    row = whole.iloc[-1]
    shown = int(row["year"])
    parts = [f"{LABELS[t.key].lower()} {fmt_rate(row[f'{t.key}_rate'], 1)}" for t in TYPES if t is not HOMICIDE]
    suffix = "" if shown == year else f" ({shown} is the latest whole year shown for {year})"
    return f"{area}, offences per 1,000 residents in {shown}: " + ", ".join(parts) + suffix


def rolling_title(area: str, end: tuple[int, int]) -> str:
    """Finding-title for the month-by-month chart: each type in the 12 months to the end month against a year earlier."""
    table = rolling(area, end).set_index(["year", "month"])
    now = table.iloc[-1]
    before_key = (end[0] - 1, end[1])
    if before_key not in table.index:
        return f"{area}: offences in the 12 months to {month_year(*end)}"
    before = table.loc[before_key]
    pop = series.population_for([end[0], end[0] - 1], area)["population"]
    parts = [_moved(LABELS[t.key].lower(), round(before[t.key] * pop.iloc[1] / per(t)), round(now[t.key] * pop.iloc[0] / per(t)))
             for t in TYPES]
    return f"{area}, 12 months to {month_year(*end)} against a year earlier: " + ", ".join(parts)


def count_sentence(c: Change, area: str) -> str:
    """The focus count alone, grammatical for any count."""
    return f"{area} recorded {count_phrase(c.count, c.type.noun)} in {c.label}."


__all__ = ["CAVEAT", "LABELS", "PER", "TYPES", "annual", "change_sentence", "changes", "count_sentence", "headline",
           "index_table", "index_title", "monthly", "rates_title", "rolling", "rolling_title"]
