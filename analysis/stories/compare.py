"""The Met beside England and Wales and other forces on one basis: ONS homicide offences per
million population a year, over 3-year financial-year periods (Home Office Homicide Index).

The period for a focus year is the latest one ending by March of the year after it (so 2025 is
read through April 2022 to March 2025, 2019 through April 2017 to March 2020). Rates are per
million a year as ONS publishes them; ``rate_per_100k`` divides by ten for the pages, which use
per 100,000 elsewhere. Two vintages are held: a period in both shows how the figures were revised.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from analysis.core.dates import EN_DASH, day_month_year, month_year
from analysis.data import series
from analysis.stories.numbers import Noun, and_list, count_phrase, fmt_int, fmt_rate, fmt_signed_pct, ordinal

MET = "Metropolitan Police"
ENGLAND_AND_WALES = "England and Wales"
LONDON_REGION = "London"
#: The comparators shown beside the Met, in order: the country, the region, the large metropolitan forces.
COMPARATORS: tuple[str, ...] = (ENGLAND_AND_WALES, LONDON_REGION, "West Midlands", "Greater Manchester", "West Yorkshire", "Merseyside")
FORCE = "Police Force Area"
FORCES = Noun("force", "forces")
#: A revision between vintages larger than this share (percent) marks a one-off reclassification.
REVISION_FLAG_PCT = 30.0


def period_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """``"April 2022–March 2025"``."""
    return f"{month_year(start.year, start.month)}{EN_DASH}{month_year(end.year, end.month)}"


@dataclass(frozen=True)
class Period:
    """The ONS 3-year period read for a focus year: its bounds, the vintage used, and whether it
    ends in the focus year's own window (``covered``) or is the nearest one held."""

    focus: int
    start: pd.Timestamp
    end: pd.Timestamp
    vintage: str
    covered: bool

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)


def _rates() -> pd.DataFrame:
    return series.homicide_rates_ons()


def period_for(year: int) -> Period:
    """The latest period ending by 31 March of ``year + 1``, from the newest vintage that has it;
    before the first period, the first one (``covered`` False)."""
    rates = _rates()
    limit = pd.Timestamp(year + 1, 3, 31)
    ends = rates.loc[rates["period_end"] <= limit, "period_end"]
    covered = not ends.empty
    end = ends.max() if covered else rates["period_end"].min()
    rows = rates[rates["period_end"] == end]
    vintage = str(rows["vintage"].max())
    start = rows.loc[rows["vintage"] == vintage, "period_start"].iloc[0]
    return Period(year, start, end, vintage, covered and end.year >= year)


def comparison_table(period: Period) -> pd.DataFrame:
    """The Met and its comparators in the period (vintage of ``period``): ``area, geography,
    rate_per_million, rate_per_100k`` (offences a year), the Met first."""
    rates = _rates()
    rows = rates[(rates["period_end"] == period.end) & (rates["vintage"] == period.vintage)]
    rows = rows[rows["area"].isin((MET, *COMPARATORS))]
    # The country and the London region as such; every other comparator is a force (West Midlands is also a region).
    wanted = {ENGLAND_AND_WALES: "Country", LONDON_REGION: "Region"}
    rows = rows[rows["geography"] == rows["area"].map(wanted).fillna(FORCE)]
    order = {name: i for i, name in enumerate((MET, *COMPARATORS))}
    out = rows.assign(order=rows["area"].map(order)).sort_values("order")
    out = out[["area", "geography", "rate_per_million"]].reset_index(drop=True)
    out["rate_per_100k"] = (out["rate_per_million"] / 10).round(3)
    return out


@dataclass(frozen=True)
class Rank:
    """Where the Met stands among the forces with a published rate (1 = highest)."""

    position: int
    forces: int
    higher: tuple[str, ...]


def met_rank(period: Period, leave_out: tuple[str, ...] = ()) -> Rank:
    """The Met's rank by rate among every police force area with a value (highest first; ties
    share a rank), optionally leaving some forces out."""
    rates = _rates()
    forces = rates[(rates["period_end"] == period.end) & (rates["vintage"] == period.vintage) & (rates["geography"] == FORCE)]
    forces = forces.dropna(subset=["rate_per_million"])
    forces = forces[~forces["area"].isin(leave_out)]
    met = float(forces.loc[forces["area"] == MET, "rate_per_million"].iloc[0])
    higher = forces[forces["rate_per_million"] > met].sort_values("rate_per_million", ascending=False)
    return Rank(len(higher) + 1, len(forces), tuple(higher["area"]))


@dataclass(frozen=True)
class Revision:
    """One area's rate for one period in two vintages (per million a year)."""

    area: str
    start: pd.Timestamp
    end: pd.Timestamp
    old_vintage: str
    new_vintage: str
    old: float
    new: float

    @property
    def pct(self) -> float:
        return 100 * (self.new - self.old) / self.old


def revisions(area: str | None = None) -> list[Revision]:
    """Every area-period held in two vintages whose value changed (optionally one area), latest period first."""
    return list(_revisions(area, series.file_stamp("homicide_rates_ons.csv")))


@functools.lru_cache(maxsize=16)
def _revisions(area: str | None, stamp: tuple[int, int]) -> tuple[Revision, ...]:
    rates = _rates().dropna(subset=["rate_per_million"])
    if area is not None:
        rates = rates[rates["area"] == area]
    # One row per area-period: its oldest and newest vintage and their rates (one groupby, not a
    # Python loop over ~560 groups: 0.4 s of every notebook 01 run in a fresh kernel).
    keys = ["area", "geography", "period_start", "period_end"]
    held = (rates.sort_values([*keys, "vintage"], kind="stable")
            .groupby(keys)
            .agg(vintages=("vintage", "nunique"), old_vintage=("vintage", "first"), new_vintage=("vintage", "last"),
                 old=("rate_per_million", "first"), new=("rate_per_million", "last"))
            .reset_index())
    changed = held[(held["vintages"] >= 2) & (held["old"] != held["new"])]
    out = [Revision(str(r.area), r.period_start, r.period_end, str(r.old_vintage), str(r.new_vintage), float(r.old), float(r.new))
           for r in changed.itertuples(index=False)]
    return tuple(sorted(out, key=lambda r: (r.end, r.area), reverse=True))


def revision_sentence(period: Period) -> str:
    """How the Met's rate for the latest period held in both vintages was revised (ONS releases each December)."""
    met = revisions(MET)
    if not met:
        return "The Met's rates are the same in both ONS releases held."
    r = next((r for r in met if r.end == period.end), met[0])
    return (f"Rates are revised as cases are heard: the Met's rate for {period_label(r.start, r.end)} was "
            f"{fmt_rate(r.old)} per million in the ONS file of {_vintage(r.old_vintage)} and {fmt_rate(r.new)} in that of {_vintage(r.new_vintage)}.")


def reclassified(period: Period) -> list[Revision]:
    """Revisions between vintages larger than :data:`REVISION_FLAG_PCT` percent (a one-off
    reclassification), those overlapping the period first."""
    flagged = [r for r in revisions() if abs(r.pct) > REVISION_FLAG_PCT]
    return sorted(flagged, key=lambda r: (not (r.start <= period.end and r.end >= period.start), -abs(r.pct)))


def comparison_sentences(period: Period) -> list[str]:
    """The Met against England and Wales and its rank among forces, in the period read for the focus year."""
    table = comparison_table(period).set_index("area")
    met = float(table.at[MET, "rate_per_million"])
    out = []
    if period.covered:
        lead = f"Over {period.label}"
    elif period.end.year < period.focus:
        lead = f"Over {period.label}, the latest period the ONS files cover"
    else:
        lead = f"Over {period.label}, the first period ONS rates cover (it ends after {period.focus})"
    if ENGLAND_AND_WALES in table.index:
        ew = float(table.at[ENGLAND_AND_WALES, "rate_per_million"])
        ratio = met / ew
        out.append(
            f"{lead}, the Met recorded {fmt_rate(met)} homicide offences a year per million residents, against "
            f"{fmt_rate(ew)} in England and Wales ({fmt_signed_pct(100 * (ratio - 1))}), on the Home Office Homicide Index as ONS publishes it."
        )
    rank = met_rank(period)
    text = f"The Met had {_position(rank.position)} of {count_phrase(rank.forces, FORCES)} with a published rate"
    text += f" ({and_list(rank.higher)} had higher)" if rank.higher else ""
    flagged = sorted({r.area for r in reclassified(period)} & set(rank.higher))
    if flagged:
        without = met_rank(period, leave_out=tuple(flagged))
        text += (f"; leaving out {and_list(flagged)}, whose rates were revised by more than "
                 f"{fmt_int(REVISION_FLAG_PCT)}% between releases, it had {_position(without.position)}")
    out.append(text + ".")
    return out


def _position(n: int) -> str:
    return "the highest rate" if n == 1 else f"the {ordinal(n)} highest rate"


def _vintage(vintage: str) -> str:
    """``"11 February 2026"`` for the vintage ``2026-02-11``."""
    stamp = pd.Timestamp(vintage)
    return day_month_year(stamp.year, stamp.month, stamp.day)


def comparison_title(period: Period) -> str:
    """Finding-title: the Met's rate against England and Wales in the period."""
    table = comparison_table(period).set_index("area")
    met = float(table.at[MET, "rate_per_million"])
    ew = float(table.at[ENGLAND_AND_WALES, "rate_per_million"])
    word = "higher than" if met > ew else ("lower than" if met < ew else "the same as")
    return (f"The Met's homicide rate, {fmt_rate(met, 1)} per million a year in {period.label}, was {word} "
            f"England and Wales's {fmt_rate(ew, 1)}")


def caveat_sentence(period: Period) -> str | None:
    """The caveat for a force whose rates carry a one-off reclassification (e.g. South Yorkshire):
    the largest revision between releases touching the period, and the cited reason where
    ``data/caveats.csv`` has one for those years."""
    flagged = reclassified(period)
    if not flagged:
        return None
    r = flagged[0]
    text = (f"A force's rate can carry a one-off reclassification or correction: {r.area}'s rate for "
            f"{period_label(r.start, r.end)} was revised from {fmt_rate(r.old)} to {fmt_rate(r.new)} per million "
            "between the two releases held; the files do not say why.")
    # a cited reason for a force's high rates in some years, said apart from the revision (which
    # reaches periods without those years, so the reason does not explain it)
    notes = series.caveats()
    notes = notes[(notes["subject"] == r.area) & (notes["period_start"] <= period.end) & (notes["period_end"] >= period.start)]
    if len(notes):
        text += (f" Separately, {r.area}'s rates for periods including {period_label(notes['period_start'].iloc[0], notes['period_end'].iloc[0])} "
                 f"are high for a known reason: {notes['caveat'].iloc[0]} ({notes['source_title'].iloc[0]}).")
    return text


__all__ = ["COMPARATORS", "MET", "Period", "comparison_sentences", "comparison_table", "comparison_title",
           "caveat_sentence", "fmt_int", "met_rank", "period_for", "revision_sentence", "revisions"]
