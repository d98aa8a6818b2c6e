"""Youth violence (notebook 02): victims under 25 and aged 13–19, their share, rates per young
resident, peak and standing of the focus year, and the sex of young victims, as tables and sentences.

Counts are victims; rates are victims per 100,000 residents of the same ages (ONS mid-year).
The charts are in ``analysis.present.youth_charts``.
"""

from __future__ import annotations

import pandas as pd

from analysis.data import series
from analysis.stories import headlines, narrative, stats, tables
from analysis.stories.params import ResolvedParameters

GROUPS: dict[str, dict[str, str]] = {
    "under_25": {"count": "victims_under_25", "population": "population_under_25", "label": "under 25", "noun": "victims under 25"},
    "13_19": {"count": "victims_13_19", "population": "population_13_19", "label": "aged 13 to 19", "noun": "teenage victims"},
}


def youth_table(area: str) -> pd.DataFrame:
    """One row per year: under-25 and 13–19 victims with exact intervals, share of all victims, and rates.

    Columns: ``year, months_covered, source, victims, victims_under_25, under_25_lower,
    under_25_upper, share_under_25_pct, rate_under_25, rate_under_25_lower, rate_under_25_upper,
    victims_13_19, …_13_19`` (shares in percent; rates per 100,000 residents of the same ages;
    empty where no source gives the count).
    """
    total = tables.annual_table(area)
    out = total[["year", "months_covered", "source", "victims", "population_year", "carried_forward"]].copy()
    for key, group in GROUPS.items():
        part = tables.annual_table(area, column=group["count"], population_column=group["population"]).set_index("year")
        part = part.reindex(out["year"])
        out[group["count"]] = part["victims"].to_numpy()
        out[f"{key}_lower"] = part["lower"].to_numpy()
        out[f"{key}_upper"] = part["upper"].to_numpy()
        out[f"share_{key}_pct"] = (100 * out[group["count"]] / out["victims"]).round(1)
        out[f"rate_{key}"] = part["rate"].to_numpy()
        out[f"rate_{key}_lower"] = part["rate_lower"].to_numpy()
        out[f"rate_{key}_upper"] = part["rate_upper"].to_numpy()
    return out


def headline(p: ResolvedParameters, table: pd.DataFrame) -> headlines.Headline:
    """Sentences on under-25 and teenage victims in the focus year: level, change, standing, peak, share, rate."""
    out = headlines.Headline()
    by_year = table.set_index("year")
    row = by_year.loc[p.year]
    place = p.area
    if p.is_partial:
        label = narrative.month_range_label(p.year, p.months_covered)
        ytd = tables.ytd_counts(p.area, p.months_covered, column="victims_under_25")
        text = f"{place}: {narrative.fmt_int(row['victims_under_25'])} victims under 25 in {label}, a partial year, not ranked against whole years."
        out.sentences["partial"] = text
        if p.base_year in ytd.index:
            cmp = stats.compare_counts(int(ytd.loc[p.base_year]), int(ytd.loc[p.year]))
            out.sentences["change"] = "Like for like: " + narrative.change_phrase(
                cmp, narrative.month_range_label(p.base_year, p.months_covered), label, noun="victims under 25"
            ) + "; " + narrative.chance_phrase(cmp) + "."
        out.headline = text
        out.count_title = f"{place}: {narrative.fmt_int(row['victims_under_25'])} victims under 25 in {label} (partial year)"
        out.rate_title = f"{place}: youth rates are shown for whole years only, up to {p.latest_complete}"
        return out
    whole = tables.whole_years(table, up_to=p.year)
    for key, group in GROUPS.items():
        values = whole.set_index("year")[group["count"]].astype(float).dropna()
        if p.year not in values.index:
            out.sentences[f"record_{key}"] = f"No source gives the number of victims {group['label']} in {place} in {p.year}."
            continue
        count = int(values.loc[p.year])
        _, phrase = headlines.notable_record(values, p.year, noun=group["noun"])
        peak_year, peak_value = stats.peak(values)
        peak = (
            f"the peak was {narrative.fmt_int(peak_value)} in {peak_year}"
            if peak_year != p.year
            else f"{p.year} is the peak of the series"
        )
        out.sentences[f"record_{key}"] = (
            f"{narrative.fmt_int(count)} {'victim' if count == 1 else 'victims'} {group['label']} in {p.year}: {phrase}; {peak} "
            f"(series from {int(values.index.min())})."
        )
        if key == "under_25":
            short = phrase.replace(" victims under 25 since", " since").replace(" victims under 25 in the series", " in the series")
            out.count_title = f"{place}: {narrative.fmt_int(count)} homicide {'victim' if count == 1 else 'victims'} under 25 in {p.year}, {short}"
            if p.base_year in values.index:
                cmp = stats.compare_counts(int(values.loc[p.base_year]), count)
                out.sentences["change"] = narrative.sentence(
                    narrative.change_phrase(cmp, str(p.base_year), str(p.year), noun="victims under 25") + "; " + narrative.chance_phrase(cmp)
                )
    if pd.notna(row["share_under_25_pct"]):
        out.sentences["share"] = (
            f"Victims under 25 were {narrative.fmt_pct(row['share_under_25_pct'])} of all homicide victims in {place} in {p.year}."
        )
    rates = whole.set_index("year")["rate_under_25"].dropna()
    if p.year in rates.index:
        _, phrase = headlines.notable_record(rates, p.year, noun="victims under 25", measure="rate")
        out.sentences["rate"] = (
            f"That is {narrative.fmt_rate(rates.loc[p.year])} per 100,000 residents aged 0–24 "
            f"(95% interval {narrative.fmt_rate(row['rate_under_25_lower'])} to {narrative.fmt_rate(row['rate_under_25_upper'])}), {phrase}."
        )
        out.rate_title = f"{place}: {narrative.fmt_rate(rates.loc[p.year])} victims under 25 per 100,000 young residents in {p.year}, {phrase}"
    else:
        out.rate_title = f"{place}: no under-25 rate for {p.year}"
    out.headline = " ".join(out.sentences.get(k, "") for k in ("record_under_25",)).strip()
    if not out.count_title:
        out.count_title = f"{place}: no under-25 count for {p.year}"
    return out


def share_title(table: pd.DataFrame, p: ResolvedParameters) -> str:
    """Finding-title for the share chart: the focus year's under-25 share against the series range."""
    whole = tables.whole_years(table).dropna(subset=["share_under_25_pct"])
    if p.year not in set(whole["year"]):
        last = whole.iloc[-1]
        return f"In {int(last['year'])}, {narrative.fmt_pct(last['share_under_25_pct'])} of {p.area}'s homicide victims were under 25"
    row = whole[whole["year"] == p.year].iloc[0]
    low, high = whole["share_under_25_pct"].min(), whole["share_under_25_pct"].max()
    return (
        f"{narrative.fmt_pct(row['share_under_25_pct'])} of {p.area}'s homicide victims in {p.year} were under 25; "
        f"the share has ranged from {narrative.fmt_pct(low)} to {narrative.fmt_pct(high)} since {int(whole['year'].min())}"
    )


def sex_table(area: str) -> pd.DataFrame:
    """Victims under 25 by sex per whole year of open data, with the male share (percent)."""
    wide = series.breakdown(area, "sex", "under_25")
    months = series.monthly(area).groupby("year")["month"].nunique()
    wide = wide[wide.index.isin(months[months == 12].index)]
    out = wide.reset_index()
    total = wide.sum(axis=1).to_numpy()
    out["male_share_pct"] = (100 * out["Male"] / pd.Series(total).where(pd.Series(total) > 0)).round(1)
    return out


def sex_sentence(table: pd.DataFrame, area: str) -> str:
    """Share of under-25 victims who were male over the whole open-data series, and in its last year."""
    male, total = table["Male"].sum(), table[["Male", "Female", "Unknown"]].to_numpy().sum()
    last = table.iloc[-1]
    return (
        f"Over {int(table['year'].min())}–{int(last['year'])}, {narrative.fmt_pct(100 * male / max(total, 1))} of {area}'s homicide victims under 25 were male "
        f"({narrative.fmt_int(last['Male'])} of {narrative.fmt_int(last[['Male', 'Female', 'Unknown']].sum())} in {int(last['year'])})."
    )
