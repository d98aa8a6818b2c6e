"""Youth violence (notebook 02): victims under 25 and aged 13–19, their share, rates per young
resident, the standing of the focus year, and the sex of young victims, as tables and sentences.

Only the victim records carry ages (offences do not), so after March 2024 the counts are the Met's
published figures where there are any (London only) and the text says which publication gave
each. Counts are victims; rates are victims per 100,000 residents of the same ages (ONS mid-year).
The charts are in ``analysis.present.youth_charts``.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.dates import EN_DASH, month_range_label
from analysis.data import series
from analysis.stories import narrative, sections, stats, tables, trend
from analysis.stories.homicide import Headline, ranking, rate_ranking
from analysis.stories.narrative import count_phrase, fmt_int, fmt_pct, fmt_rate, sentence
from analysis.stories.numbers import part_of
from analysis.stories.params import ResolvedParameters
from analysis.stories.tables import VICTIMS, VICTIMS_13_19, VICTIMS_UNDER_25

GROUPS = {"under_25": VICTIMS_UNDER_25, "13_19": VICTIMS_13_19}
PUBLISHED_SERIES = {"victims_under_25": "homicide_victims_under_25", "victims_13_19": "homicide_victims_13_19"}


def published_sources(area: str) -> dict[tuple[int, str], str]:
    """``{(year, column): "publisher (date)"}`` for every age-group count the series takes from a publication."""
    if area != "London":
        return {}
    figures = series.published()
    used = figures[(figures["used_in_series"] == "yes") & figures["series"].isin(PUBLISHED_SERIES.values())]
    names = {v: k for k, v in PUBLISHED_SERIES.items()}
    return {(int(r.period), names[r.series]): f"{r.basis} ({r.source_title}, {r.published})" for r in used.itertuples()}


def youth_table(area: str) -> pd.DataFrame:
    """One row per year: under-25 and 13–19 victims with exact intervals, share of all victims,
    rates, and where each count comes from.

    Columns: ``year, months_covered, source, victims, victims_under_25, under_25_lower,
    under_25_upper, share_under_25_pct, rate_under_25, rate_under_25_lower, rate_under_25_upper``,
    the same for ``13_19``, and ``source_under_25``, ``source_13_19`` (shares in percent; rates per
    100,000 residents of the same ages; empty where no source gives the count).
    """
    total = tables.annual_table(area, VICTIMS)
    out = total[["year", "months_covered", "source", "victims", "population_year", "carried_forward"]].copy()
    published = published_sources(area)
    for key, measure in GROUPS.items():
        part = tables.annual_table(area, measure).set_index("year").reindex(out["year"])
        out[measure.key] = part[measure.key].to_numpy()
        out[f"{key}_lower"] = part["lower"].to_numpy()
        out[f"{key}_upper"] = part["upper"].to_numpy()
        out[f"share_{key}_pct"] = (100 * out[measure.key] / out["victims"]).round(1)
        out[f"rate_{key}"] = part["rate"].to_numpy()
        out[f"rate_{key}_lower"] = part["rate_lower"].to_numpy()
        out[f"rate_{key}_upper"] = part["rate_upper"].to_numpy()
        out[f"source_{key}"] = [
            published.get((int(y), measure.key), "victim records") if pd.notna(v) else ""
            for y, v in zip(out["year"], out[measure.key])
        ]
    return out


def headline(p: ResolvedParameters, table: pd.DataFrame) -> Headline:
    """Sentences on victims under 25 and aged 13–19 in the focus year: level, standing, baselines,
    trend, share and rate, each saying when a count is a publication's rather than the records'."""
    out = Headline(measure=VICTIMS_UNDER_25)
    by_year = table.set_index("year")
    if p.year not in by_year.index or pd.isna(by_year.at[p.year, "victims_under_25"]):
        known = table.dropna(subset=["victims_under_25"])
        whole = known[known["months_covered"] == 12]
        latest = (whole if len(whole) else known)["year"].max()
        why = ("no published figure covers it yet" if p.area == "London"
               else "the Met publishes age groups for London only")
        text = f"No source gives the number of victims under 25 in {p.area} in {p.year}: {sections.VICTIM_RECORDS_END}, and {why}."
        out.sentences["missing"] = text
        out.headline = text
        out.count_title = f"{p.area}: victims under 25 per year, to {int(latest)}, the latest whole year any source gives"
        out.rate_title = f"{p.area}: rates per young resident, to {int(latest)}, the latest whole year any source gives"
        return out
    if int(by_year.at[p.year, "months_covered"]) < 12:
        return _partial(p, by_year)
    whole = tables.whole_years(table, up_to=p.year)
    for key, measure in GROUPS.items():
        values = whole.set_index("year")[measure.key].astype(float).dropna()
        if p.year not in values.index:
            out.sentences[f"record_{key}"] = f"No source gives the number of {measure.noun.plural} in {p.area} in {p.year}."
            continue
        count = int(values.loc[p.year])
        ranked = ranking(values, p.year, measure.noun)
        source = by_year.at[p.year, f"source_{key}"]
        given = "" if source == "victim records" else " (a published figure)"
        out.sentences[f"record_{key}"] = sentence(f"{p.area} had {count_phrase(count, measure.noun)} in {p.year}{given}: {ranked.full}")
        out.sentences[f"peak_{key}"] = narrative.peak_phrase(values.to_dict(), p.year, measure.noun)
        if key == "under_25":
            out.count_title = f"{p.area}: {count_phrase(count, measure.noun)} in {p.year}, {ranked.short}"
            if p.base_year in values.index:
                cmp = stats.compare_counts(int(values.loc[p.base_year]), count)
                out.sentences["change"] = sentence(narrative.change_phrase(cmp, str(p.base_year), str(p.year), measure.noun)
                                                   + "; " + narrative.chance_phrase(cmp))
            out.sentences["baseline"] = narrative.baseline_phrase(trend.against_previous_years(values, p.year), measure.noun, p.year, count)
            out.sentences["trend"] = narrative.trend_phrase(trend.fit_trend(values), measure.noun, area=p.area)
    given = {GROUPS[k].noun.plural: by_year.at[p.year, f"source_{k}"] for k in GROUPS}
    published = {k: v for k, v in given.items() if v not in ("victim records", "")}
    if published:
        text = f"The {p.year} counts are published figures, not open records: " + "; ".join(f"{k} from {v}" for k, v in published.items())
        bases = {v.split(" (")[0] for v in published.values()}
        if len(bases) > 1:
            text += "; the two rest on different counts at different dates, so they are not strictly comparable with each other"
        out.sentences["sources"] = sentence(text)
    share = by_year.at[p.year, "share_under_25_pct"]
    total = by_year.at[p.year, "victims"]
    if pd.notna(share) and pd.notna(total):
        if int(total) == 0:
            pass  # no victims at all: the count sentences say so
        elif int(total) < narrative.SMALL_BASE:
            young = int(by_year.at[p.year, "victims_under_25"])
            if int(total) == 1:
                text = f"{p.area}'s 1 homicide victim in {p.year} was {'' if young else 'not '}under 25."
            else:
                text = (f"{p.area}'s {count_phrase(int(total), VICTIMS.noun)} in {p.year} included "
                        f"{'none' if young == 0 else fmt_int(young)} under 25.")
            out.sentences["share"] = text
        else:
            out.sentences["share"] = f"Victims under 25 were {fmt_pct(share)} of all homicide victims in {p.area} in {p.year}."
    _rate(out, p, whole, by_year)
    out.headline = out.sentences.get("record_under_25", "")
    return out


def _rate(out: Headline, p: ResolvedParameters, whole: pd.DataFrame, by_year: pd.DataFrame) -> None:
    rates = whole.set_index("year")["rate_under_25"].dropna()
    if p.year not in rates.index:
        out.rate_title = f"{p.area}: no under-25 rate for {p.year} (no population of those ages for it)"
        return
    counts = whole.set_index("year")["victims_under_25"]
    ranked = rate_ranking(rates, counts, p.year, VICTIMS_UNDER_25.noun)
    out.sentences["rate"] = (
        f"That is {fmt_rate(rates.loc[p.year])} per 100,000 residents aged 0{EN_DASH}24 (95% interval "
        f"{fmt_rate(by_year.at[p.year, 'rate_under_25_lower'])} to {fmt_rate(by_year.at[p.year, 'rate_under_25_upper'])}), {ranked.full}."
    )
    out.rate_title = (f"{p.area}: {fmt_rate(rates.loc[p.year])} victims under 25 per 100,000 residents aged "
                      f"0{EN_DASH}24 in {p.year}, {ranked.short}")


def _partial(p: ResolvedParameters, by_year: pd.DataFrame) -> Headline:
    out = Headline(measure=VICTIMS_UNDER_25)
    months = int(by_year.at[p.year, "months_covered"])
    label = month_range_label(p.year, months)
    ytd = tables.ytd_counts(p.area, months, VICTIMS_UNDER_25)
    count = int(ytd.loc[p.year])
    text = (f"{p.area}: {count_phrase(count, VICTIMS_UNDER_25.noun)} in {label}. The victim records cover only those "
            f"months of {p.year}, so the count is compared like for like with the same months of earlier years and not "
            "ranked against whole years.")
    out.sentences["partial"] = text
    if p.base_year in ytd.index:
        cmp = stats.compare_counts(int(ytd.loc[p.base_year]), count)
        out.sentences["change"] = sentence("Like for like: " + narrative.change_phrase(
            cmp, month_range_label(p.base_year, months), label, VICTIMS_UNDER_25.noun) + "; " + narrative.chance_phrase(cmp))
    out.headline = text
    out.count_title = f"{p.area}: {count_phrase(count, VICTIMS_UNDER_25.noun)} in {label} (a partial year)"
    rates = by_year.loc[(by_year["months_covered"] == 12) & (by_year.index < p.year), "rate_under_25"].dropna()
    if rates.empty:
        out.rate_title = f"{p.area}: youth rates are for whole years only, and no earlier whole year has one"
    else:
        last = int(rates.index.max())
        out.rate_title = (f"{p.area}: {fmt_rate(rates.loc[last])} victims under 25 per 100,000 residents aged 0{EN_DASH}24 "
                          f"in {last}, the latest whole year ({p.year} is partial)")
    return out


def share_title(table: pd.DataFrame, p: ResolvedParameters) -> str:
    """Finding-title for the share chart: the focus year's under-25 share against the series' range."""
    whole = tables.whole_years(table).dropna(subset=["share_under_25_pct"])
    rows = whole[whole["year"] <= p.year]
    row = rows.iloc[-1] if len(rows) else whole.iloc[0]
    year = int(row["year"])
    low, high = rows["share_under_25_pct"].min(), rows["share_under_25_pct"].max()
    if int(row["victims"]) == 0:
        head = f"{p.area} had no homicide victims in {year}"
    else:
        share = f" ({fmt_pct(row['share_under_25_pct'])})" if int(row["victims"]) >= narrative.SMALL_BASE else ""
        head = f"In {year}, {part_of(row['victims_under_25'], row['victims'], VICTIMS.noun, p.area)} under 25{share}"
    # the range only over years with enough victims for a share to mean something
    steady = rows[rows["victims"] >= narrative.SMALL_BASE]
    if len(steady) > 1:
        low, high = steady["share_under_25_pct"].min(), steady["share_under_25_pct"].max()
        head += f"; the share has ranged from {fmt_pct(low)} to {fmt_pct(high)} since {int(steady['year'].min())}"
        if len(steady) < len(rows):
            head += f" in years with at least {narrative.SMALL_BASE} victims"
    return head


def sex_section(p: ResolvedParameters) -> tuple[pd.DataFrame, str]:
    """Victims under 25 by sex per whole year of victim records, to the year shown, and its sentence."""
    years = sections.victim_record_years(p.area)
    year, note = sections.year_covered(p, years, sections.VICTIM_RECORDS_END)
    wide = series.breakdown(p.area, "sex", "under_25")
    wide = wide[wide.index.isin(years) & (wide.index <= year)]
    table = wide.reset_index()
    total_all = int(wide.to_numpy().sum())
    male_all = int(wide["Male"].sum())
    last_total, last_male = int(wide.loc[year].sum()), int(wide.at[year, "Male"])
    span = f"{int(wide.index.min())}{EN_DASH}{year}"
    if total_all == 0:
        text = f"{p.area} had {count_phrase(0, VICTIMS_UNDER_25.noun)} over {span}."
    else:
        if last_total == 0:
            last = f"none in {year}"
        elif last_total == 1:
            last = f"the one in {year} was {'male' if last_male else 'not male'}"
        elif last_male == last_total:
            last = f"all {fmt_int(last_total)} in {year}"
        else:
            last = f"{'none' if last_male == 0 else fmt_int(last_male)} of {fmt_int(last_total)} in {year}"
        text = (f"Over {span}, {fmt_pct(100 * male_all / total_all)} of {p.area}'s {count_phrase(total_all, VICTIMS_UNDER_25.noun)} "
                f"were male ({last}).")
    return table, text + (f" {note}" if note else "")
