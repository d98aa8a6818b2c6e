"""Homicide decline (notebook 01): the headline for the focus year, records, methods, the monthly
trend, year-to-date comparisons and borough rates, as tables and sentences.

Counts are victims; rates are victims per 100,000 residents. The charts are in
``analysis.present.homicide_charts``.
"""

from __future__ import annotations

import pandas as pd

from analysis.data import series
from analysis.stories import headlines, narrative, stats, tables
from analysis.stories.params import ResolvedParameters


def headline(p: ResolvedParameters, table: pd.DataFrame, noun: str = "homicides") -> headlines.Headline:
    """Sentences for the focus year: change on the base year with the exact test, records, peak.

    For a partial focus year, the comparison is like for like (the same months of the base year)
    and nothing is ranked against whole years.
    """
    out = headlines.Headline()
    place = p.area
    by_year = table.set_index("year")
    focus = by_year.loc[p.year]
    count = int(focus["victims"])

    if p.is_partial:
        ytd = tables.ytd_counts(p.area, p.months_covered)
        label = narrative.month_range_label(p.year, p.months_covered)
        base_label = narrative.month_range_label(p.base_year, p.months_covered)
        sentence = f"{place}: {narrative.fmt_int(count)} {noun} recorded in {label}; the data stop there, so {p.year} is a partial year and is not ranked against whole years."
        out.sentences["partial"] = sentence
        if p.base_year in ytd.index:
            cmp = stats.compare_counts(int(ytd.loc[p.base_year]), int(ytd.loc[p.year]))
            out.sentences["change"] = (
                "Like for like: " + narrative.change_phrase(cmp, base_label, label, noun=noun) + "; " + narrative.chance_phrase(cmp) + "."
            )
        out.headline = sentence
        out.count_title = f"{place}: {narrative.fmt_int(count)} {noun} in {label} (partial year)"
        out.rate_title = f"{place}: rates are shown for whole years only, up to {p.latest_complete}"
        return out

    whole = tables.whole_years(table, up_to=p.year)
    counts = tables.series_by_year(whole, "victims")
    record, rank_phrase = headlines.notable_record(counts, p.year, noun=noun)
    base = by_year.loc[p.base_year]
    if int(base["months_covered"]) == 12:
        cmp = stats.compare_counts(int(base["victims"]), count)
        out.sentences["change"] = narrative.sentence(narrative.change_phrase(cmp, str(p.base_year), str(p.year), noun=noun))
        out.sentences["chance"] = narrative.sentence(narrative.chance_phrase(cmp))
    else:
        out.sentences["change"] = (
            f"{p.base_year} has only {narrative.month_range_label(p.base_year, int(base['months_covered']))} in the data, so it is not compared with a whole year."
        )
    out.sentences["record"] = f"{place} had {narrative.fmt_int(count)} {noun} in {p.year}: {rank_phrase}."

    peak_year, peak_value = stats.peak(counts)
    if peak_year != p.year and peak_value == count:
        out.sentences["peak"] = f"{p.year} equals the highest count in the series ({narrative.fmt_int(peak_value)}, first reached in {peak_year})."
    elif peak_year != p.year:
        since_peak = stats.compare_counts(int(peak_value), count)
        out.sentences["peak"] = (
            f"The highest count in the series was {narrative.fmt_int(peak_value)} in {peak_year}; {p.year} is "
            f"{narrative.relative_phrase(since_peak.pct_change)} that peak; "
            + narrative.chance_phrase(since_peak).replace("a change of this size", "a difference of this size")
            + "."
        )
    else:
        out.sentences["peak"] = f"{p.year} is the highest count in the series, which starts in {int(counts.index.min())}."

    rates = tables.series_by_year(whole.dropna(subset=["rate"]), "rate")
    if p.year in rates.index:
        rate = rates.loc[p.year]
        _, rate_phrase = headlines.notable_record(rates, p.year, noun=noun, measure="rate")
        denominator = ""
        if bool(focus["carried_forward"]):
            denominator = (
                f" There is no mid-{p.year} population estimate yet, so the mid-{int(focus['population_year'])} "
                f"estimate ({narrative.fmt_int(focus['population'])}) is carried forward as the denominator."
            )
        out.sentences["rate"] = (
            f"That is {narrative.fmt_rate(rate)} per 100,000 residents "
            f"(95% interval {narrative.fmt_rate(focus['rate_lower'])} to {narrative.fmt_rate(focus['rate_upper'])}), "
            f"{rate_phrase}.{denominator}"
        )
        out.rate_title = f"{place}'s homicide rate in {p.year}, {narrative.fmt_rate(rate)} per 100,000, is {rate_phrase}"
    else:
        out.rate_title = f"{place}: no population estimate for a rate in {p.year}"

    out.sentences["population"] = population_sentence(p.area, [p.base_year] + ([record.since_year] if record.since_year else []), p.year)
    out.count_title = f"{place} had {narrative.fmt_int(count)} {noun} in {p.year}, {rank_phrase.replace(f' {noun} since', ' since').replace(f' {noun} in the series', ' in the series')}"
    out.headline = out.sentences["record"] + " " + out.sentences.get("chance", "")
    return out


def population_sentence(area: str, base_years: list[int], year: int) -> str:
    """Population growth from each base year to the focus year's denominator (mid-year estimates).

    When the focus year has no estimate yet, the latest one is used and the sentence says so.
    """
    pop = series.population_for(sorted(set(base_years)) + [year], area)
    latest = int(pop.loc[year, "population_year"])
    parts = []
    for base in sorted(set(base_years)):
        if base >= latest or pd.isna(pop.loc[base, "population"]):
            continue
        grow = stats.change_since(pop["population"], base, year)
        rebased = " (this spans the 2021 census re-basing, so part of it is a change of method, not of people)" if base < tables.CENSUS_BREAK <= latest else ""
        parts.append(f"{narrative.fmt_signed(grow.change)} ({narrative.fmt_signed_pct(grow.pct_change, 1)}) since mid-{base}{rebased}")
    head = f"{area}'s population was {narrative.fmt_int(pop.loc[year, 'population'])} at mid-{latest}"
    if bool(pop.loc[year, "carried_forward"]):
        head += f", the latest estimate (there is none for mid-{year} yet)"
    if not parts:
        return head + "."
    return head + ": " + "; ".join(parts) + "."


def method_table(area: str, ages: str = "all") -> pd.DataFrame:
    """Victims by method group per whole year of open data, with the knife share (percent)."""
    wide = series.breakdown(area, "method", ages)
    grouped = wide.T.groupby(series.METHOD_GROUPS).sum().T
    grouped = grouped.reindex(columns=["Knife or sharp implement", "Shooting", "Other methods", "Not known"], fill_value=0)
    months = series.monthly(area).groupby("year")["month"].nunique()
    grouped = grouped[grouped.index.isin(months[months == 12].index)]
    out = grouped.reset_index()
    out["total"] = grouped.sum(axis=1).to_numpy()
    out["knife_share_pct"] = (100 * out["Knife or sharp implement"] / out["total"].where(out["total"] > 0)).round(1)
    return out


def method_title(methods: pd.DataFrame, area: str, noun: str = "homicides") -> str:
    """Finding-title for the method chart: the knife share in the latest whole year and its range."""
    last = methods.iloc[-1]
    year = int(last["year"])
    if last["total"] == 0:
        return f"{area}: no {noun} in {year}, the latest whole year of open data"
    share = last["knife_share_pct"]
    return (
        f"Knives or sharp implements were used in {narrative.fmt_pct(share)} of {area}'s {noun} in {year}, "
        f"the latest whole year with victim-level data"
    )


def monthly_table(area: str) -> pd.DataFrame:
    """Monthly victims with the rolling 12-month total (complete windows only)."""
    table = series.monthly(area)
    table["rolling_12_months"] = stats.rolling_sum(table.set_index("period")["victims"], 12).to_numpy()
    return table[["year", "month", "victims", "rolling_12_months"]]


def monthly_title(table: pd.DataFrame, area: str) -> str:
    """Finding-title for the monthly chart: the latest rolling-12-month total against its peak."""
    rolling = table.dropna(subset=["rolling_12_months"])
    last = rolling.iloc[-1]
    peak = rolling.loc[rolling["rolling_12_months"].idxmax()]
    end = f"{narrative.month_range_label(int(last['year']), int(last['month'])).split(' ')[0].split('–')[-1]} {int(last['year'])}"
    peak_end = f"{narrative.month_range_label(int(peak['year']), int(peak['month'])).split(' ')[0].split('–')[-1]} {int(peak['year'])}"
    return (
        f"{area}: {narrative.fmt_int(last['rolling_12_months'])} homicides in the 12 months to {end}, "
        f"against a high of {narrative.fmt_int(peak['rolling_12_months'])} in the 12 months to {peak_end}"
    )


def domestic_table(area: str) -> pd.DataFrame:
    """Domestic-abuse-related victims per whole year of open data and their share (percent)."""
    wide = series.breakdown(area, "domestic_abuse")
    months = series.monthly(area).groupby("year")["month"].nunique()
    wide = wide[wide.index.isin(months[months == 12].index)]
    out = pd.DataFrame({"year": wide.index, "domestic_abuse": wide["Domestic abuse"].to_numpy(), "total": wide.sum(axis=1).to_numpy()})
    out["share_pct"] = (100 * out["domestic_abuse"] / out["total"].where(out["total"] > 0)).round(1)
    return out


def domestic_sentence(table: pd.DataFrame, area: str) -> str:
    """The domestic abuse share in the latest whole year and over the whole series."""
    last = table.iloc[-1]
    overall = 100 * table["domestic_abuse"].sum() / max(table["total"].sum(), 1)
    return (
        f"In {int(last['year'])}, {narrative.fmt_int(last['domestic_abuse'])} of {narrative.fmt_int(last['total'])} victims in {area} "
        f"({narrative.fmt_pct(last['share_pct'])}) were killed in domestic-abuse-related homicides, against "
        f"{narrative.fmt_pct(overall)} over {int(table['year'].min())}–{int(last['year'])}."
    )


def ytd_table(area: str, months: int, focus: int) -> pd.DataFrame:
    """Victims in the same months (January to ``months``) of every year, with exact intervals."""
    counts = tables.ytd_counts(area, months)
    out = pd.DataFrame({"year": counts.index, "victims": counts.to_numpy()})
    ci = stats.poisson_ci_frame(out["victims"])
    out["lower"], out["upper"] = ci["lower"].round(2), ci["upper"].round(2)
    out["focus"] = out["year"] == focus
    return out


def borough_rates(end_year: int, years: int = 3, column: str = "victims", population_column: str = "population") -> pd.DataFrame:
    """Each borough's rate per 100,000 over the ``years`` whole years ending ``end_year``, with exact intervals.

    Counts are summed over the window and divided by the summed mid-year populations
    (person-years), so small counts are pooled. Sorted from highest rate.
    """
    annual = series.all_annual()
    pop = series.all_population()
    window = list(range(end_year - years + 1, end_year + 1))
    rows = annual[(annual["area_code"] != series.LONDON_CODE) & annual["year"].isin(window) & (annual["months_covered"] == 12)]
    counts = rows.groupby(["area_code", "area"])[column].agg(["sum", "count"]).reset_index()
    counts = counts[counts["count"] == years]
    person_years = pop[pop["year"].isin(window)].groupby("area_code")[population_column].sum()
    counts["population_years"] = counts["area_code"].map(person_years)
    counts = counts.rename(columns={"sum": "victims"}).drop(columns=["count"])
    ci = stats.poisson_ci_frame(counts["victims"])
    counts["rate"] = (stats.PER * counts["victims"] / counts["population_years"]).round(2)
    counts["rate_lower"] = (stats.PER * ci["lower"] / counts["population_years"]).round(2)
    counts["rate_upper"] = (stats.PER * ci["upper"] / counts["population_years"]).round(2)
    counts["victims"] = counts["victims"].astype(int)
    counts["population_years"] = counts["population_years"].astype(int)
    counts["window"] = f"{window[0]}–{window[-1]}"
    return counts.sort_values(["rate", "area"], ascending=[False, True]).reset_index(drop=True)


def borough_title(rates: pd.DataFrame, focus_area: str, noun: str = "homicide") -> str:
    """Finding-title for the borough chart: the highest rate, and where the focus borough stands."""
    top = rates.iloc[0]
    window = top["window"]
    title = f"{top['area']} had the highest {noun} rate of London's boroughs in {window}, {narrative.fmt_rate(top['rate'])} per 100,000 a year"
    if focus_area in set(rates["area"]) and focus_area != top["area"]:
        rank = int(rates.index[rates["area"] == focus_area][0]) + 1
        row = rates[rates["area"] == focus_area].iloc[0]
        title += f"; {focus_area} ranked {rank} of {len(rates)} ({narrative.fmt_rate(row['rate'])})"
    return title


def london_window_rate(end_year: int, years: int = 3, column: str = "victims", population_column: str = "population") -> float:
    """London's rate per 100,000 a year over the same pooled window as ``borough_rates``."""
    table = tables.annual_table("London", column=column, population_column=population_column)
    rows = table[table["year"].between(end_year - years + 1, end_year)]
    return float(stats.PER * rows["victims"].sum() / rows["population"].sum())


def latest_partial(p: ResolvedParameters) -> tuple[int, int]:
    """The (year, months) to compare like for like: the focus year if partial, else the latest partial year of open data.

    When the open data end with a whole year, that year is compared in full.
    """
    if p.is_partial:
        return p.year, p.months_covered
    months = series.monthly(p.area).groupby("year")["month"].max()
    return int(months.index[-1]), int(months.iloc[-1])


def ytd_title(table: pd.DataFrame, area: str, months: int, year: int) -> str:
    """Finding-title for the year-to-date chart: the focus period against the same months of the year before."""
    label = narrative.month_range_label(year, months)
    by_year = table.set_index("year")["victims"]
    text = f"{area}: {narrative.fmt_int(by_year.loc[year])} homicides in {label}"
    if year - 1 in by_year.index:
        cmp = stats.compare_counts(int(by_year.loc[year - 1]), int(by_year.loc[year]))
        text += f", against {narrative.fmt_int(by_year.loc[year - 1])} in the same months of {year - 1} ({narrative.fmt_p(cmp.p_value)})"
    return text


def borough_window_end(p: ResolvedParameters, years: int = 3) -> int:
    """Last year of the pooled borough window: the focus year, or the latest whole year of borough data if earlier.

    Never so early that the window would start before the series.
    """
    annual = series.all_annual()
    boroughs = annual[annual["area_code"] != series.LONDON_CODE]
    whole = boroughs.groupby("year")["months_covered"].min()
    complete = whole[whole == 12].index
    return int(max(min(p.year, int(complete.max())), int(complete.min()) + years - 1))
