"""The operations of the claims check: each takes a claim (with its ``check`` block from
``seeds/claims.yml``) and returns every line of evidence that can test it (``claims.Evidence``).

Lines on the Met's victim records count victims; lines on recorded offences count offences, a
related measure that stands in for victims only within the largest gap seen between the two in
the years both are open (``tables.measure_agreement``).
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from analysis.core.dates import EN_DASH, day_month_year, end_of_month, month_range_label
from analysis.data import bases, series
from analysis.stories import narrative, stats, tables, trend, workforce
from analysis.stories.claims import (
    APPROXIMATELY,
    CANNOT_CHECK,
    NOT_SUPPORTED,
    PUBLISHED_ONLY,
    SUPPORTED,
    WHERE_DATA_EXIST,
    Evidence,
    cap_for,
    capped,
    graded,
    matches,
    near,
)
from analysis.stories.numbers import and_list, count_phrase, fmt_int, fmt_pct, fmt_rate, fmt_signed, fmt_signed_pct

Lines = list[Evidence]
PUBLISHED_SERIES = {"victims": "homicide_victims", "victims_under_25": "homicide_victims_under_25", "victims_13_19": "homicide_victims_13_19"}


def _area(check: dict[str, Any]) -> str:
    return str(check.get("area", "London"))


def _published_title(column: str, year: int) -> str:
    """The publication the series takes ``column``'s count for ``year`` from."""
    rows = series.published()
    row = rows[(rows["series"] == PUBLISHED_SERIES[column]) & (rows["period"] == str(year)) & (rows["used_in_series"] == "yes")]
    if row.empty:
        return "a published statement"
    return f"{row['source_title'].iloc[0]} ({row['published'].iloc[0]})"


def _other_published(column: str, year: int, value: float) -> str:
    rows = series.published()
    rows = rows[(rows["series"] == PUBLISHED_SERIES[column]) & (rows["period"] == str(year)) & (rows["value"] != value)]
    return "".join(f" {r.source_title} ({r.published}) gave {fmt_int(r.value)}." for r in rows.itertuples())


def _victim_basis(annual: pd.DataFrame, years: list[int]) -> str:
    published = any(annual.at[y, "victims_source"] == "published" for y in years if y in annual.index)
    return bases.PUBLISHED_STATEMENT if published else bases.OPEN_VICTIM_RECORDS


def _whole(area: str, measure: tables.Measure, up_to: int) -> pd.Series:
    table = tables.whole_years(tables.annual_table(area, measure), up_to=up_to)
    return table.set_index("year")[measure.key].astype(float)


def _agreement_text(agreement: tables.Agreement | None) -> str:
    if agreement is None:
        return ""
    return (
        f" In {agreement.first_year}{EN_DASH}{agreement.last_year}, when both are open, the yearly counts of offences and "
        f"victims differed by at most {fmt_int(agreement.max_gap)} a year, and by at most {fmt_pct(agreement.max_gap_pct, 1)} of the victims."
    )


# ---------------------------------------------------------------------------
# counts
# ---------------------------------------------------------------------------


def _victims_value(claim: dict[str, Any]) -> Evidence:
    check = claim["check"]
    area, year, column = _area(check), int(check["year"]), check["series"]
    measure = tables.MEASURES[column]
    annual = series.homicide_annual(area)
    have = year in annual.index and pd.notna(annual.at[year, column]) and annual.at[year, "victims_months"] == 12
    if not have:
        text = f"No source held here gives a whole-year count of {measure.noun.plural} in {area} for {year}."
        return Evidence(bases.OPEN_VICTIM_RECORDS, None, CANNOT_CHECK, text, str(year))
    value = float(annual.at[year, column])
    basis = _victim_basis(annual, [year])
    if basis == bases.PUBLISHED_STATEMENT:
        text = f"Victims: {count_phrase(value, measure.noun)} in {year}, from {_published_title(column, year)}."
        text += _other_published(column, year, value)
        monthly = series.monthly(area)
        months = monthly[monthly["year"] == year]
        if len(months):
            text += (f" The open victim records cover only {month_range_label(year, int(months['month'].max()))} "
                     f"({count_phrase(months[column].sum() if column in months else months['victims'].sum(), measure.noun)}).")
        else:
            text += " No open victim records cover this year."
    else:
        text = f"Victims: {count_phrase(value, measure.noun)} in {year} in the Met's open victim records ({annual.at[year, 'victims_release']})."
    return Evidence(basis, value, graded(claim, value, cap_for(basis)), text, str(year))


def _offences_value(claim: dict[str, Any]) -> Evidence | None:
    check = claim["check"]
    if check["series"] != "victims":
        return None  # offences carry no ages
    area, year = _area(check), int(check["year"])
    annual = series.homicide_annual(area)
    if year not in annual.index or pd.isna(annual.at[year, "offences"]):
        return Evidence(bases.OPEN_OFFENCE_RECORDS, None, CANNOT_CHECK, f"Recorded offences: the open offence records do not cover {year}.", str(year), False)
    months = int(annual.at[year, "offences_months"])
    offences = float(annual.at[year, "offences"])
    if months < 12:
        text = f"Recorded offences: the open offence records cover only part of {year} ({fmt_int(months)} months), so they cannot test a whole-year total."
        return Evidence(bases.OPEN_OFFENCE_RECORDS, None, CANNOT_CHECK, text, str(year), False)
    agreement = tables.measure_agreement(area)
    claimed = float(claim["figure"])
    agrees = agreement is not None and agreement.count_agrees(claimed, offences)
    verdict = capped(SUPPORTED, APPROXIMATELY) if agrees else NOT_SUPPORTED
    text = (f"Recorded offences: {count_phrase(offences, tables.RECORDED_OFFENCES.noun)} in {year} against the "
            f"{fmt_int(claimed)} victims claimed.") + _agreement_text(agreement)
    return Evidence(bases.OPEN_OFFENCE_RECORDS, offences, verdict, text, str(year), False)


def check_value(claim: dict[str, Any]) -> Lines:
    """A count for one year: on the victim records (or the published total) and on recorded offences."""
    lines = [_victims_value(claim), _offences_value(claim)]
    return [line for line in lines if line is not None]


def check_pct_change(claim: dict[str, Any]) -> Lines:
    """A percentage change between two years, on each measure, with the pre-stated baselines beside it."""
    check = claim["check"]
    area, base, year = _area(check), int(check["base_year"]), int(check["year"])
    lines: Lines = []
    annual = series.homicide_annual(area)
    victims = _whole(area, tables.VICTIMS, year)
    if base in victims.index and year in victims.index:
        cmp = stats.compare_counts(int(victims[base]), int(victims[year]))
        basis = _victim_basis(annual, [base, year])
        text = "Victims: " + narrative.sentence(narrative.change_phrase(cmp, str(base), str(year), tables.VICTIMS.noun) + "; " + narrative.chance_phrase(cmp))
        text += " " + narrative.baseline_phrase(trend.against_previous_years(victims, year), tables.VICTIMS.noun, year, victims[year])
        text += " " + narrative.trend_phrase(trend.fit_trend(victims), tables.VICTIMS.noun, area=area)
        lines.append(Evidence(basis, round(cmp.pct_change, 1), graded(claim, cmp.pct_change, cap_for(basis)), text, f"{base} to {year}"))
    offences = _whole(area, tables.RECORDED_OFFENCES, year)
    if base in offences.index and year in offences.index:
        cmp = stats.compare_counts(int(offences[base]), int(offences[year]))
        agreement = tables.measure_agreement(area)
        agrees = matches(claim, cmp.pct_change) or near(claim, cmp.pct_change) or (
            agreement is not None and agreement.change_agrees(float(claim["figure"]), cmp.pct_change))
        text = "Recorded offences: " + narrative.sentence(
            narrative.change_phrase(cmp, str(base), str(year), tables.RECORDED_OFFENCES.noun) + "; " + narrative.chance_phrase(cmp))
        if agreement is not None:
            text += (f" In {agreement.first_year}{EN_DASH}{agreement.last_year} the yearly changes of the two measures differed by "
                     f"at most {agreement.max_change_gap:.1f} percentage points.")
        lines.append(Evidence(bases.OPEN_OFFENCE_RECORDS, round(cmp.pct_change, 1), APPROXIMATELY if agrees else NOT_SUPPORTED, text, f"{base} to {year}", False))
    return lines or [Evidence(bases.NO_DATA, None, CANNOT_CHECK, f"No measure covers both {base} and {year} in whole.", f"{base} to {year}")]


# ---------------------------------------------------------------------------
# rankings
# ---------------------------------------------------------------------------


def _low_line(claim: dict[str, Any], measure: tables.Measure) -> Evidence | None:
    check = claim["check"]
    area, year = _area(check), int(check["year"])
    values = _whole(area, measure, year)
    if year not in values.index:
        return None
    record = stats.record_since(values, year, kind="low")
    same = not measure.is_offences
    label = "Victims" if same else "Recorded offences"
    span = f"whole years {int(values.index.min())}{EN_DASH}{year}"
    text = f"{label}: {count_phrase(values[year], measure.noun)} in {year}, {narrative.record_phrase(record, measure.noun)} ({span})."
    if same:
        basis = _victim_basis(series.homicide_annual(area), [y for y in values.index if y >= (record.since_year or values.index.min())])
    else:
        basis = bases.OPEN_OFFENCE_RECORDS
    if record.is_record:
        text += f" No earlier year in these data is as low, so the claim that {claim['figure']} was is not borne out here."
        return Evidence(basis, None, NOT_SUPPORTED, text, span, same)
    return Evidence(basis, float(record.since_year), graded(claim, float(record.since_year), cap_for(basis, same)), text, span, same)


def check_fewest_since(claim: dict[str, Any]) -> Lines:
    """"The fewest since YEAR", on each measure over its whole years."""
    measures = [tables.VICTIMS] + ([tables.RECORDED_OFFENCES] if claim["check"]["series"] == "victims" else [])
    return [line for m in measures if (line := _low_line(claim, m)) is not None]


def _rates(area: str, measure: tables.Measure, year: int) -> pd.DataFrame:
    return tables.whole_years(tables.annual_table(area, measure), up_to=year).dropna(subset=["rate"])


def _rate_line(claim: dict[str, Any], measure: tables.Measure) -> Evidence | None:
    check = claim["check"]
    area, year = _area(check), int(check["year"])
    rates = _rates(area, measure, year)
    rows = rates[rates["year"] == year]
    if rows.empty:
        return None
    row = rows.iloc[0]
    same = not measure.is_offences
    rate = float(row["rate"])
    text = (f"{'Victims' if same else 'Recorded offences'}: {fmt_int(row[measure.key])} / {fmt_int(row['population'])} residents "
            f"(mid-{int(row['population_year'])}) × 100,000 = {rate:.3f} (95% interval {row['rate_lower']:.2f} to {row['rate_upper']:.2f}).")
    if bool(row["carried_forward"]):
        text += f" There is no mid-{year} estimate yet; the latest (mid-{int(row['population_year'])}) is the denominator."
        pop = series.population(area)["population"].dropna()
        earlier = [y for y in pop.index if y < int(row["population_year"])]
        if earlier:
            text += f" With mid-{earlier[-1]} it would be {fmt_rate(stats.rate_per_100k(row[measure.key], pop.loc[earlier[-1]]))}."
    if same:
        basis = _victim_basis(series.homicide_annual(area), [year])
        return Evidence(basis, round(rate, 3), graded(claim, rate, cap_for(basis)), text, str(year), True)
    agreement = tables.measure_agreement(area)
    implied = float(claim["figure"]) * float(row["population"]) / stats.PER
    agrees = agreement is not None and agreement.count_agrees(implied, float(row[measure.key]))
    verdict = capped(SUPPORTED, APPROXIMATELY) if (agrees or near(claim, rate)) else NOT_SUPPORTED
    text += f" The claimed rate implies about {fmt_int(implied)} victims with this denominator."
    return Evidence(bases.OPEN_OFFENCE_RECORDS, round(rate, 3), verdict, text, str(year), False)


def check_rate(claim: dict[str, Any]) -> Lines:
    """A rate per 100,000 residents for one year, on each measure (ONS mid-year population)."""
    check = claim["check"]
    area, year = _area(check), int(check["year"])
    measures = [tables.VICTIMS] + ([tables.RECORDED_OFFENCES] if check["series"] == "victims" else [])
    lines = [line for m in measures if (line := _rate_line(claim, m)) is not None]
    if lines:
        return lines
    text = f"No homicide count for {area} in {year} is held (the victim records start in {int(series.homicide_annual(area).index.min())})."
    pop = series.population(area)
    if year in pop.index and pd.notna(pop.at[year, "population"]):
        implied = float(claim["figure"]) * pop.at[year, "population"] / stats.PER
        text += f" With the mid-{year} population ({fmt_int(pop.at[year, 'population'])}) the claimed rate implies about {fmt_int(implied)} homicides."
    published = series.published()
    for row in published[published["series"] == "homicide_rate_per_100k_financial_year"].itertuples():
        text += f" The nearest published rate is {row.value:g} for {str(row.note).split(',')[0].lower().rstrip('.')} ({row.source_title})."
    return [Evidence(bases.NO_DATA, None, CANNOT_CHECK, text, str(year))]


def _lowest_rate_line(claim: dict[str, Any], measure: tables.Measure) -> Evidence | None:
    check = claim["check"]
    area, year = _area(check), int(check["year"])
    rates = _rates(area, measure, year).set_index("year")["rate"].round(2)  # ties judged at the shown precision
    if year not in rates.index:
        return None
    record = stats.record_since(rates, year, kind="low")
    same = not measure.is_offences
    claimed_start = int(check.get("claimed_start", claim["figure"]))
    span = f"{record.series_start}{EN_DASH}{year}"
    text = (f"{'Victims' if same else 'Recorded offences'}: {fmt_rate(rates[year])} per 100,000 in {year}, "
            f"{narrative.record_phrase(record, measure.noun, measure='rate')}.")
    basis = _victim_basis(series.homicide_annual(area), list(rates.index)) if same else bases.OPEN_OFFENCE_RECORDS
    cap = cap_for(basis, same)
    if record.is_record and record.series_start > claimed_start:
        text += " " + narrative.sentence(narrative.caveat_series_start(claimed_start, record.series_start, "rate series"))
        return Evidence(basis, float(record.series_start), capped(WHERE_DATA_EXIST, cap), text, span, same)
    computed = float(claimed_start) if record.is_record else float(record.since_year)
    return Evidence(basis, computed, graded(claim, computed, cap), text, span, same)


def check_lowest_rate_since(claim: dict[str, Any]) -> Lines:
    """"The lowest rate since records began", on each measure as far back as it goes."""
    measures = [tables.VICTIMS] + ([tables.RECORDED_OFFENCES] if claim["check"]["series"] == "victims" else [])
    return [line for m in measures if (line := _lowest_rate_line(claim, m)) is not None]


def check_peak(claim: dict[str, Any]) -> Lines:
    """The highest year of a series: over the open victim records, with later published years beside it."""
    check = claim["check"]
    area, column = _area(check), check["series"]
    measure = tables.MEASURES[column]
    annual = series.homicide_annual(area)
    values = _whole(area, measure, int(annual.index.max()))
    open_years = [y for y in values.index if annual.at[y, "victims_source"] == "open data"]
    if not open_years:
        return [Evidence(bases.OPEN_VICTIM_RECORDS, None, CANNOT_CHECK, "No open victim records cover this series.")]
    opened = values[open_years]
    peak_year, peak_value = stats.peak(opened)
    span = f"{int(opened.index.min())}{EN_DASH}{int(opened.index.max())}"
    text = f"Victims: the most {measure.noun.plural} in a whole year of the open victim records ({span}) were {fmt_int(peak_value)}, in {peak_year}."
    later = values[[y for y in values.index if y not in open_years]]
    if len(later):
        text += " Published totals for " + and_list([f"{y} ({fmt_int(v)})" for y, v in later.items()]) + (
            " are lower." if (later < peak_value).all() else " include a year as high or higher.")
    claimed_year = int(check.get("claimed_year", 0))
    if claimed_year and claimed_year != peak_year:
        text += f" The claimed peak year was {claimed_year}."
        return [Evidence(bases.OPEN_VICTIM_RECORDS, peak_value, NOT_SUPPORTED, text, str(peak_year))]
    if not matches(claim, peak_value):
        text += f" The claimed {fmt_int(claim['figure'])} is not in the open data (release {annual.at[peak_year, 'victims_release']}); the difference may be a later revision."
    return [Evidence(bases.OPEN_VICTIM_RECORDS, peak_value, graded(claim, peak_value), text, str(peak_year))]


def check_lowest_before(claim: dict[str, Any]) -> Lines:
    """Is the year the lowest of all earlier years?"""
    check = claim["check"]
    area, year, column = _area(check), int(check["year"]), check["series"]
    measure = tables.MEASURES[column]
    values = _whole(area, measure, year)
    if year not in values.index:
        return [Evidence(bases.OPEN_VICTIM_RECORDS, None, CANNOT_CHECK, f"No whole-year count of {measure.noun.plural} for {year}.", str(year))]
    record = stats.record_since(values, year, kind="low")
    basis = _victim_basis(series.homicide_annual(area), [year])
    text = f"Victims: {count_phrase(values[year], measure.noun)} in {year}, {narrative.record_phrase(record, measure.noun)}."
    if basis == bases.PUBLISHED_STATEMENT:
        text += f" The {year} figure is a published statement; earlier years are open victim records."
    span = f"{int(values.index.min())}{EN_DASH}{year}"
    if not record.is_record:
        return [Evidence(basis, None, NOT_SUPPORTED, text, span)]
    return [Evidence(basis, float(year), capped(SUPPORTED, cap_for(basis)), text, span)]


# ---------------------------------------------------------------------------
# population and workforce
# ---------------------------------------------------------------------------


def check_population_change(claim: dict[str, Any]) -> Lines:
    """Change in the ONS mid-year population between two years (the latest estimate for a year without one)."""
    check = claim["check"]
    area, base, year = _area(check), int(check["base_year"]), int(check["year"])
    pop = series.population_for([base, year], area)
    change = stats.change_since(pop["population"], base, year)
    used = int(pop.loc[year, "population_year"])
    text = (f"ONS population: mid-{base} {fmt_int(change.base_value)} to mid-{used} {fmt_int(change.focus_value)}, "
            f"{fmt_signed(change.change)} ({fmt_signed_pct(change.pct_change, 1)})")
    if used != year:
        text += f"; mid-{used} is the latest estimate"
    if base < tables.CENSUS_BREAK <= used:
        text += "; the span crosses the 2021 census re-basing, which lowered London's estimates, so the growth on a consistent basis would be larger"
    return [Evidence(bases.ONS_POPULATION_ESTIMATES, float(change.change), graded(claim, change.change), text + ".", f"mid-{base} to mid-{used}")]


def _officer_basis(rows: pd.DataFrame) -> str:
    return bases.HOME_OFFICE_WORKFORCE if (rows["source_type"] == "official data").all() else bases.PUBLISHED_STATEMENT


def check_officer_change(claim: dict[str, Any]) -> Lines:
    """Change in Met officers over the claim's window, each counting basis compared only with itself.

    The line whose dates span the claim's window decides; lines over shorter windows are shown
    beside it, and so is why figures on different bases cannot be paired.
    """
    check = claim["check"]
    start, end = pd.Timestamp(check["from"]), pd.Timestamp(check["to"])
    rows = workforce.officers()
    rows = rows[(rows["date"] >= start) & (rows["date"] <= end)]
    lines: Lines = []
    pairs = [g.sort_values("date") for _, g in rows.groupby("basis", sort=True) if len(g) >= 2]
    latest = max((g["date"].iloc[-1] for g in pairs), default=None)
    for group in pairs:
        first, last = group.iloc[0], group.iloc[-1]
        basis_name = str(first["basis"])
        change = float(last["value"] - first["value"])
        window = f"{first['date']:%b %Y} to {last['date']:%b %Y}"
        when = (lambda d: day_month_year(d.year, d.month, d.day)) if first["date"].month == 3 else (lambda d: end_of_month(d.year, d.month))
        text = (f"{narrative.sentence(workforce.BASIS_LABELS.get(basis_name, basis_name))[:-1]}: {fmt_int(first['value'])} at {when(first['date'])} to "
                f"{fmt_int(last['value'])} at {when(last['date'])}, {fmt_signed(change)} ({fmt_signed_pct(100 * change / first['value'], 1)}).")
        basis = _officer_basis(group)
        if last["date"] == latest:  # the pair reaching furthest into the claim's window decides
            verdict = graded(claim, -change, cap_for(basis)) if change < 0 else NOT_SUPPORTED
        else:
            verdict = CANNOT_CHECK
            text += " This pair ends earlier in the claim's window, so it is shown beside the claim, not used to judge it."
        lines.append(Evidence(basis, -change, verdict, text, window))
    september = series.published()
    september = september[(september["series"] == "met_officers_change") & (september["period"].str.startswith(str(end.year)))]
    for row in september.itertuples():
        lines.append(Evidence(
            bases.PUBLISHED_STATEMENT, None, CANNOT_CHECK,
            f"The Home Office's September {end.year} release is reported only as a change ({fmt_signed(row.value)} officers, FTE, on a year "
            f"earlier); the September {end.year - 1} figure held is a headcount, so the two cannot be paired.",
            str(row.period)))
    if not lines:
        lines.append(Evidence(bases.NO_DATA, None, CANNOT_CHECK, "No two officer figures on one basis fall in the period."))
    return lines


def check_no_data(claim: dict[str, Any]) -> Lines:
    """A claim nothing held here can test, with why."""
    check = claim["check"]
    text = narrative.sentence(f"Cannot be checked: {check['why']}")
    if check.get("series") == "arrests":
        arrests = series.met_arrests()
        text += f" Met arrests data here run from {arrests['financial_year'].iloc[0]} to {arrests['financial_year'].iloc[-1]}."
    return [Evidence(bases.NO_DATA, None, CANNOT_CHECK, text, str(claim.get("period", "")))]


OPERATIONS: dict[str, Callable[[dict[str, Any]], Lines]] = {
    "value": check_value,
    "pct_change": check_pct_change,
    "fewest_since": check_fewest_since,
    "rate": check_rate,
    "lowest_rate_since": check_lowest_rate_since,
    "population_change": check_population_change,
    "peak": check_peak,
    "lowest_before": check_lowest_before,
    "officer_change": check_officer_change,
    "no_data": check_no_data,
}
__all__ = ["OPERATIONS", "PUBLISHED_ONLY"]
