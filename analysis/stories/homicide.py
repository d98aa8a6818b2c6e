"""Homicide decline (notebook 01): the headline for the focus year and area, in sentences.

For a whole focus year the headline counts homicide on the measure that covers it (victims where
the Met's records or published total cover the whole year, otherwise recorded offences), sets
the other measure beside it, ranks the year ("the fewest since 2014") and says whether the change
behind that ranking is larger than chance alone would produce; compares it with two baselines
stated in advance (the year before, and the average of the five years before); judges the trend
over the whole series with a model that allows for incidents with several victims; and gives the
rate per 100,000. A partial focus year is compared like for like with the same months of earlier
years and never ranked. Counts are events; rates are per 100,000 residents.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.core.dates import month_range_label
from analysis.data import incidents, series
from analysis.stories import narrative, stats, tables, trend
from analysis.stories.narrative import count_phrase, fmt_int, fmt_rate, sentence
from analysis.stories.params import ResolvedParameters
from analysis.stories.tables import RECORDED_OFFENCES, VICTIMS, Measure


@dataclass
class Headline:
    """Computed sentences about the focus year, and the finding-titles of the main charts."""

    sentences: dict[str, str] = field(default_factory=dict)
    count_title: str = ""
    rate_title: str = ""
    headline: str = ""
    measure: Measure = VICTIMS


def notable_record(values: pd.Series, year: int, *, noun: object = "homicides", measure: str = "count") -> tuple[stats.Record, str]:
    """The more remarkable of "fewest since" and "most since" for ``year``, with its phrase.

    The record that reaches further back wins (a series record beats any "since"); a year
    that is neither is described against the previous year.
    """
    low = stats.record_since(values, year, kind="low")
    high = stats.record_since(values, year, kind="high")

    def reach(r: stats.Record) -> float:
        if r.years_compared == 0:
            return float("inf")
        return -np.inf if r.is_record else float(r.since_year)

    chosen = high if reach(high) < reach(low) else low
    return chosen, narrative.record_phrase(chosen, noun=noun, measure=measure)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Ranking:
    """How the focus year ranks (``phrase``, and ``short`` for titles), and the ``caveat`` a reader
    needs when the change behind the ranking is small ("" when none is needed)."""

    phrase: str
    short: str
    caveat: str = ""
    ranked: bool = True  # False when the counts are too few for a ranking

    @property
    def full(self) -> str:
        return f"{self.phrase}{self.caveat}"


def _n(count: int) -> str:
    """A count in prose: ``"none"`` for 0."""
    return "none" if count == 0 else fmt_int(count)


def ranking(values: pd.Series, year: int, noun: object, *, counts: pd.Series | None = None, measure: str = "count") -> Ranking:
    """Rank the focus year, with the caveat a reader needs when the change behind it is small.

    A record set by a change from the year before that chance alone could produce says so, and a
    rate record whose count did not fall (or rise) with it says that too. ``counts`` are the
    counts behind ``values`` when ``values`` are rates.
    """
    record, phrase = notable_record(values, year, noun=noun, measure=measure)
    short = narrative.record_phrase(record, noun=noun, measure=measure, short=True)  # type: ignore[arg-type]
    claims_record = record.is_record or (record.since_year is not None and record.since_year != record.previous_year)
    base = counts if counts is not None else values
    if record.years_compared == 0 or not claims_record or record.previous_year not in base.index:
        return Ranking(phrase, short)
    before, now = int(base.loc[record.previous_year]), int(base.loc[year])
    if measure == "rate" and ((record.kind == "low" and now >= before) or (record.kind == "high" and now <= before)):
        verb = "fall" if record.kind == "low" else "rise"
        return Ranking(phrase, short, f", although the number itself did not {verb} from {record.previous_year} "
                                      f"({_n(before)} to {_n(now)}): the population changed")
    cmp = stats.compare_counts(before, now)
    if not cmp.significant:
        return Ranking(phrase, short, f", though the change from {record.previous_year} ({_n(before)}) is within what "
                                      f"chance alone would produce ({narrative.fmt_p(cmp.p_value)})")
    return Ranking(phrase, short, f"; the change from {record.previous_year} ({_n(before)}) is larger than chance "
                                  f"alone would readily produce ({narrative.fmt_p(cmp.p_value)})")


def _other_measure_sentence(area: str, year: int, led_by: Measure) -> str | None:
    """The measure not leading, set beside the one that leads, when it covers the same whole year."""
    other = RECORDED_OFFENCES if led_by is VICTIMS else VICTIMS
    table = tables.annual_table(area, other).set_index("year")
    if year not in table.index or int(table.at[year, "months_covered"]) != 12:
        return None
    value = table.at[year, other.key]
    if other is RECORDED_OFFENCES:
        return (f"The Met's open offence records hold {count_phrase(value, other.noun)} for {area} in {year}; "
                "offences and victims differ by a few a year, because one offence can have several victims.")
    source = "the Met's published total" if table.at[year, "source"] == "published" else "the Met's victim records"
    return f"{source[0].upper() + source[1:]} give {count_phrase(value, other.noun)} for {area} in {year}."


def headline(p: ResolvedParameters) -> Headline:
    """Sentences for the focus year and the titles of the count and rate charts."""
    m = tables.measure_for(p.area, p.year)
    table = tables.annual_table(p.area, m)
    if p.is_partial or int(table.set_index("year").at[p.year, "months_covered"]) < 12:
        return _partial_headline(p, m, table)
    out = Headline(measure=m)
    place, year = p.area, p.year
    by_year = table.set_index("year")
    count = int(by_year.at[year, m.key])
    whole = tables.whole_years(table, up_to=year)
    counts = whole.set_index("year")[m.key].astype(float)
    verb = "recorded" if m.is_offences else "had"
    source = " (the Met's published total: no victim-level open data cover that year)" if by_year.at[year, "source"] == "published" else ""
    out.sentences["count"] = f"{place} {verb} {count_phrase(count, m.noun)} in {year}{source}."
    other = _other_measure_sentence(place, year, m)
    if other:
        out.sentences["other_measure"] = other
    ranked = ranking(counts, year, m.noun)
    out.sentences["record"] = sentence(f"{'That' if count == 0 else fmt_int(count)} is {ranked.full}")
    base = int(by_year.at[p.base_year, "months_covered"]) if p.base_year in by_year.index else 0
    if base == 12:
        cmp = stats.compare_counts(int(by_year.at[p.base_year, m.key]), count)
        out.sentences["change"] = sentence(narrative.change_phrase(cmp, str(p.base_year), str(year), m.noun) + "; " + narrative.chance_phrase(cmp))
    else:
        out.sentences["change"] = f"{p.base_year} is not a whole year on this measure, so it is not compared with {year}."
    out.sentences["baseline"] = narrative.baseline_phrase(trend.against_previous_years(counts, year), m.noun, year, count)
    out.sentences["trend"] = narrative.trend_phrase(trend.fit_trend(counts), m.noun, area=place)
    clusters = incident_sentence(place, m, counts)
    if clusters:
        out.sentences["incidents"] = clusters
    out.sentences["peak"] = narrative.peak_phrase(counts.to_dict(), year, m.noun)
    _rate_sentences(out, p, m, whole, by_year)
    out.sentences["population"] = population_sentence(place, [p.base_year, int(counts.index.min())], year)
    out.count_title = f"{place} {verb} {count_phrase(count, m.noun)} in {year}, {ranked.short}"
    out.headline = " ".join(s for s in (out.sentences["count"], out.sentences["record"]) if s)
    return out


def rate_ranking(rates: pd.Series, counts: pd.Series, year: int, noun: object) -> Ranking:
    """How the focus year's rate ranks; with fewer than :data:`narrative.SMALL_BASE` events the rate
    swings too widely from year to year to rank, and the phrase says so instead."""
    if int(counts.loc[year]) < narrative.SMALL_BASE:
        few = f"with {count_phrase(int(counts.loc[year]), noun)}, too few for the rate to be ranked against other years"
        return Ranking(few, f"from {count_phrase(int(counts.loc[year]), noun)}, too few to rank against other years", ranked=False)
    return ranking(rates.round(2), year, noun, counts=counts, measure="rate")


def _rate_sentences(out: Headline, p: ResolvedParameters, m: Measure, whole: pd.DataFrame, by_year: pd.DataFrame) -> None:
    rates = whole.dropna(subset=["rate"]).set_index("year")["rate"]
    if p.year not in rates.index:
        out.rate_title = f"{p.area}: no population estimate for a rate in {p.year}"
        return
    row = by_year.loc[p.year]
    counts = whole.set_index("year")[m.key]
    ranked = rate_ranking(rates, counts, p.year, m.noun)
    carried = ""
    if bool(row["carried_forward"]):
        carried = (f" There is no mid-{p.year} population estimate yet, so the mid-{int(row['population_year'])} "
                   f"estimate ({fmt_int(row['population'])}) is the denominator.")
    out.sentences["rate"] = (
        f"That is {fmt_rate(row['rate'])} {m.noun.plural} per 100,000 residents "
        f"(95% interval {fmt_rate(row['rate_lower'])} to {fmt_rate(row['rate_upper'])}), {ranked.full}.{carried}"
    )
    if not ranked.ranked:
        out.rate_title = f"{p.area}'s homicide rate in {p.year}: {fmt_rate(row['rate'])} per 100,000 residents, {ranked.short}"
    else:
        out.rate_title = f"{p.area}'s homicide rate in {p.year}, {fmt_rate(row['rate'])} per 100,000 residents, is {ranked.short}"


def _partial_headline(p: ResolvedParameters, m: Measure, table: pd.DataFrame) -> Headline:
    """A partial focus year: like for like with the same months of earlier years, never ranked."""
    out = Headline(measure=m)
    by_year = table.set_index("year")
    months = int(by_year.at[p.year, "months_covered"])
    label = month_range_label(p.year, months)
    ytd = tables.ytd_counts(p.area, months, m)
    count = int(ytd.get(p.year, by_year.at[p.year, m.key]))
    what = "recorded offences" if m.is_offences else "victim records"
    out.sentences["partial"] = (
        f"{p.area}: {count_phrase(count, m.noun)} in {label}. The {what} stop there, so {p.year} is a partial year: "
        "it is compared with the same months of earlier years and not ranked against whole years."
    )
    base_label = month_range_label(p.base_year, months)
    if p.base_year in ytd.index:
        cmp = stats.compare_counts(int(ytd.loc[p.base_year]), count)
        out.sentences["change"] = sentence("Like for like: " + narrative.change_phrase(cmp, base_label, label, m.noun) + "; " + narrative.chance_phrase(cmp))
    baseline = trend.against_previous_years(ytd.astype(float), p.year)
    if baseline is not None:
        span_label = f"the same months of {baseline.first_year}{narrative.EN_DASH}{baseline.last_year}"
        text = narrative.baseline_phrase(baseline, m.noun, p.year, count)
        out.sentences["baseline"] = text.replace(f"in {p.year}, against an average", f"in {label}, against an average").replace(
            f"a year in {baseline.first_year}{narrative.EN_DASH}{baseline.last_year}", f"in {span_label}")
    out.headline = out.sentences["partial"].split(". ")[0] + f", a partial year ({p.year} is compared like for like, not ranked)."
    out.count_title = f"{p.area}: {count_phrase(count, m.noun)} in {label} (a partial year)"
    out.rate_title = _latest_whole_rate_title(p)
    return out


def _latest_whole_rate_title(p: ResolvedParameters) -> str:
    """Rate-chart title for a partial focus year: the rate of the latest whole year before it."""
    earlier = [y for y in range(p.year - 1, p.first_year - 1, -1)]
    for year in earlier:
        m = tables.measure_for(p.area, year)
        table = tables.annual_table(p.area, m).set_index("year")
        if year in table.index and int(table.at[year, "months_covered"]) == 12 and pd.notna(table.at[year, "rate"]):
            return (f"{p.area}'s homicide rate in {year}, the latest whole year, was {fmt_rate(table.at[year, 'rate'])} "
                    f"{m.noun.plural} per 100,000 residents ({p.year} is partial)")
    return f"{p.area}: rates are for whole years only, and no whole year comes before {p.year}"


def _place(name: str) -> str:
    """``"No. 30 bus, Tavistock Square (7 July 2005 bombings)"`` -> ``"7 July 2005 bombings: No. 30 bus, Tavistock Square"``."""
    found = re.match(r"^(.*) \((.*)\)$", name)
    return f"{found.group(2)}: {found.group(1)}" if found else name


def incident_sentence(area: str, m: Measure, counts: pd.Series) -> str | None:
    """Victims cluster in incidents: the series with and without the ones found in the records.

    Only for victims (offences count an incident once), and only when a year shown holds one.
    """
    if m.is_offences:
        return None
    found = incidents.victims_in_incidents(area)
    found = found[found.index.isin(counts.index)]
    if found.empty:
        return ("Victims cluster in incidents (some kill several people), so years vary more than they would "
                "if every death were independent; no incident with several victims stands out in these records.")
    parts = []
    places = incidents.incident_places(area)
    for year, victims in found.items():
        where = " and ".join(_place(name) for name in places.get(int(year), []))
        parts.append(f"{year} includes {count_phrase(victims, m.noun)} of one incident"
                     + (f" ({where})" if where else "")
                     + f"; without it {year} had {fmt_int(counts.loc[year] - victims)}")
    adjusted = counts.copy()
    adjusted.loc[found.index] = adjusted.loc[found.index] - found
    fitted = trend.fit_trend(adjusted)
    change = f" Leaving those victims out, the trend is {narrative.fmt_signed_pct(fitted.pct_per_year, 1)} a year." if fitted else ""
    return ("Victims cluster in incidents, so years vary more than they would if every death were independent: "
            + "; ".join(parts) + "." + change)


def population_sentence(area: str, base_years: list[int], year: int) -> str:
    """Population growth from each base year to the focus year's denominator (mid-year estimates).

    When the focus year has no estimate yet, the latest one is used and the sentence says so. A
    span that crosses the Census 2021 re-basing says that the re-basing lowered the estimates, so
    the growth on one consistent basis would be larger than the difference shown.
    """
    pop = series.population_for(sorted(set(base_years)) + [year], area)
    latest = int(pop.loc[year, "population_year"])
    parts = []
    for base in sorted(set(base_years)):
        if base >= latest or pd.isna(pop.loc[base, "population"]):
            continue
        grow = stats.change_since(pop["population"], base, year)
        rebased = (" (this spans the Census 2021 re-basing, which lowered the estimates, so the growth on one "
                   "basis would be larger)") if base < tables.CENSUS_BREAK <= latest else ""
        parts.append(f"{narrative.fmt_signed(grow.change)} ({narrative.fmt_signed_pct(grow.pct_change, 1)}) since mid-{base}{rebased}")
    head = f"{area}'s population was {fmt_int(pop.loc[year, 'population'])} at mid-{latest}"
    if bool(pop.loc[year, "carried_forward"]):
        head += f", the latest estimate (there is none for mid-{year} yet)"
    if not parts:
        return head + "."
    return head + ": " + "; ".join(parts) + "."
