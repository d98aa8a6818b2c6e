"""Met workforce (notebook 03): officers at 31 March of the focus year on each counting basis,
change since a base year (same basis only), police staff and PCSOs, officers per 100,000
residents, and arrests where data exist, as tables and sentences.

The workforce is force-wide: every title here speaks of "the Met", whatever area a report is
for. Officer numbers are people (FTE unless the basis says otherwise) at the date given; figures
on different bases are never subtracted from each other. Where a dataset stops before the focus
year, the sentence names the latest date it covers. The charts are in
``analysis.present.workforce_charts``.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass

import pandas as pd

from analysis.core.dates import day_month_year, end_of_month, financial_year
from analysis.data import series
from analysis.stories import numbers, stats, tables
from analysis.stories.numbers import OFFICERS, count_phrase, fmt_int, fmt_signed, fmt_signed_pct

FORCE = "the Met"

BASIS_LABELS: dict[str, str] = {
    "home_office_fte": "Home Office FTE, 31 March",
    "home_office_fte_pre2003": "Home Office FTE, 31 March, on the pre-2003 basis that left out career breaks",
    "mps_strength": "the MPS's own strength figure at the end of the financial year",
    "mps_monthly": "MPS monthly figure",
    "mps_foi_monthly": "the Met's own monthly count, released under FOI",
    "home_office_headcount": "Home Office headcount, 31 March",
    "home_office_headcount_september": "Home Office headcount, 30 September",
}
#: Bases counted at 31 March, in order of preference for a given year.
MARCH_BASES = ("home_office_fte", "home_office_fte_pre2003", "mps_strength")


def officers(basis: str | None = None) -> pd.DataFrame:
    """Met police officer figures, one row per date and basis: ``date, year, value, basis, source_type, source``.

    ``value`` is officers (FTE or headcount, as the basis says); ``year`` is the calendar year of
    the date. With ``basis`` given, only that basis.
    """
    return _officers(basis, series.file_stamp("met_workforce.csv")).copy()


@functools.lru_cache(maxsize=16)
def _officers(basis: str | None, stamp: tuple[int, int]) -> pd.DataFrame:
    table = series.met_workforce()
    rows = table[table["worker_type"] == "Police officer"].copy()
    if basis is not None:
        rows = rows[rows["basis"] == basis]
    rows["year"] = rows["date"].dt.year
    return rows[["date", "year", "value", "basis", "source_type", "source"]].sort_values(["basis", "date"]).reset_index(drop=True)


def march_fte() -> pd.DataFrame:
    """Officers (FTE) at 31 March by year, on every 31 March basis: ``year, officers, basis, source_type``."""
    return _march_fte(series.file_stamp("met_workforce.csv")).copy()


@functools.lru_cache(maxsize=4)
def _march_fte(stamp: tuple[int, int]) -> pd.DataFrame:
    rows = officers()
    rows = rows[(rows["date"].dt.month == 3) & rows["basis"].isin(MARCH_BASES)]
    return rows.rename(columns={"value": "officers"})[["year", "officers", "basis", "source_type"]].reset_index(drop=True)


@dataclass(frozen=True)
class OfficerFigure:
    """Officers at 31 March of ``year`` (FTE) on ``basis``; ``asked`` is the year a caller wanted."""

    asked: int
    year: int
    officers: float
    basis: str
    source_type: str

    @property
    def covered(self) -> bool:
        """True when the figure is for the year asked for."""
        return self.year == self.asked

    @property
    def date(self) -> str:
        """``"31 March 2025"``."""
        return day_month_year(self.year, 3, 31)

    @property
    def level(self) -> str:
        """``"33,293 officers (FTE)"``, naming the basis when it is not the Home Office's FTE."""
        what = "(FTE)" if self.basis == "home_office_fte" else f"({BASIS_LABELS[self.basis]})"
        return f"{count_phrase(self.officers, OFFICERS)} {what}"


def officers_at(year: int) -> OfficerFigure | None:
    """The officer figure at 31 March of ``year``, or the latest earlier one (``covered`` False); None before the series."""
    rows = march_fte()
    rows = rows[rows["year"] <= year].copy()
    if rows.empty:
        return None
    rows["rank"] = rows["basis"].map({b: i for i, b in enumerate(MARCH_BASES)})
    row = rows.sort_values(["year", "rank"], ascending=[False, True]).iloc[0]
    return OfficerFigure(int(year), int(row["year"]), float(row["officers"]), str(row["basis"]), str(row["source_type"]))


def _coverage_note(figure: OfficerFigure) -> str:
    """`` (the latest figure held; there is none for 31 March 2026)`` or ""."""
    if figure.covered:
        return ""
    return f" (the latest figure held; there is none for {day_month_year(figure.asked, 3, 31)})"


def officer_change(base_year: int, year: int, basis: str = "home_office_fte") -> stats.Change | None:
    """Change in officers between 31 March of two years on one basis, or None when either is missing."""
    values = march_fte()
    values = values[values["basis"] == basis].set_index("year")["officers"]
    if base_year not in values.index or year not in values.index:
        return None
    return stats.change_since(values, base_year, year)


def change_sentence(base_year: int, year: int) -> str:
    """The change in the Met's officers from 31 March of ``base_year`` to 31 March of ``year``
    (or the latest year held), on one basis; otherwise why it cannot be given."""
    focus = officers_at(year)
    if focus is None:
        return f"The officer figures held start after 31 March {year}."
    base = officers_at(base_year)
    level = f"The Met had {focus.level} at {focus.date}{_coverage_note(focus)}"
    if base is None or base.year != base_year:
        return f"{level}; there is no figure for 31 March {base_year} to compare with."
    if base.year >= focus.year:
        return f"{level}."
    if base.basis != focus.basis:
        return (
            f"{level}. 31 March {base.year} is known only on another counting basis "
            f"({BASIS_LABELS[base.basis]}), so the two are not subtracted."
        )
    change = stats.change_since(pd.Series({base.year: base.officers, focus.year: focus.officers}), base.year, focus.year)
    if change.change == 0:
        return f"{level}, the same as at {base.date} ({BASIS_LABELS[focus.basis]})."
    direction = "fewer" if change.change < 0 else "more"
    return (
        f"{level}, {fmt_int(abs(change.change))} {direction} than the {fmt_int(base.officers)} at {base.date} "
        f"({fmt_signed_pct(change.pct_change, 1)}; {BASIS_LABELS[focus.basis]})."
    )


def other_count_sentences(year: int) -> list[str]:
    """Each other officer count (not at 31 March) with a pair of dates touching ``year``, compared only with itself."""
    out = []
    rows = officers()
    rows = rows[~rows["basis"].isin(MARCH_BASES) & (rows["date"].dt.month != 3)]
    for basis, group in rows.groupby("basis", sort=True):
        group = group.sort_values("date")
        if len(group) < 2 or year not in set(group["year"]):
            continue
        first, last = group.iloc[0], group.iloc[-1]
        after = last["date"].year > year
        change = stats.change_since(pd.Series({0: first["value"], 1: last["value"]}), 0, 1)
        out.append(
            f"On {BASIS_LABELS.get(basis, basis)}, officers went from {fmt_int(first['value'])} at "
            f"{end_of_month(first['date'].year, first['date'].month)} to {fmt_int(last['value'])} at "
            f"{end_of_month(last['date'].year, last['date'].month)}, a change of {fmt_signed(change.change)} "
            f"({fmt_signed_pct(change.pct_change, 1)}); this count is compared only with itself"
            + (f", and its second date falls after {year}." if after else ".")
        )
    return out


def officers_title(year: int, base_year: int) -> str:
    """Finding-title for the officer chart: the level at 31 March of the focus year, the change on the
    base year (same basis) and how it ranks against earlier years on that basis."""
    focus = officers_at(year)
    if focus is None:
        first = march_fte()["year"].min()
        return f"The Met's officer figures start in {int(first)}, after {year}"
    text = f"The Met had {focus.level} at {focus.date}"
    if not focus.covered:
        text += f" (there is none yet for {day_month_year(year, 3, 31)})"
    change = officer_change(base_year, focus.year, focus.basis) if base_year < focus.year else None
    if change is not None and change.change:
        text += f", {fmt_int(abs(change.change))} {'fewer' if change.change < 0 else 'more'} than in {base_year}"
    values = march_fte()
    values = values[(values["basis"] == focus.basis) & (values["year"] <= focus.year)].set_index("year")["officers"]
    record = stats.record_since(values, focus.year, kind="high")
    if record.years_compared and record.is_record:
        text += f"; the most on this basis since it began in {record.series_start}"
    elif record.years_compared and not record.tie:
        high_year, high = stats.peak(values)
        if high_year != focus.year:
            text += f"; the highest on this basis up to then was {fmt_int(high)} in {high_year}"
    return text


def worker_types(year: int | None = None) -> pd.DataFrame:
    """Official FTE at 31 March by worker type (officers, police staff, PCSOs, designated officers),
    wide by year, up to ``year`` when given (every year when fewer than two are that early)."""
    table = series.met_workforce()
    rows = table[(table["source_type"] == "official data") & (table["measure"] == "FTE")].copy()
    rows["year"] = rows["date"].dt.year
    if year is not None and (rows["year"] <= year).sum() and rows.loc[rows["year"] <= year, "year"].nunique() >= 2:
        rows = rows[rows["year"] <= year]
    wide = rows.pivot_table(index="year", columns="worker_type", values="value", aggfunc="sum").round(2)
    wide.columns.name = None
    return wide.reset_index()


def worker_types_title(table: pd.DataFrame, year: int) -> str:
    """Finding-title: change in police staff and PCSOs over the official series up to the focus year."""
    first, last = int(table["year"].iloc[0]), int(table["year"].iloc[-1])
    if first > year:
        return f"The Met's workforce by type is held in a data file only from {first}, after {year}"
    by_year = table.set_index("year")
    pcso = stats.change_since(by_year["Police community support officer"], first, last)
    staff = stats.change_since(by_year["Police staff"], first, last)
    officers_change = stats.change_since(by_year["Police officer"], first, last)
    text = (
        f"From {first} to {last} the Met's PCSOs changed by {fmt_signed_pct(pcso.pct_change)}, its police staff by "
        f"{fmt_signed_pct(staff.pct_change)} and its officers by {fmt_signed_pct(officers_change.pct_change)} (FTE)"
    )
    if last < year:
        text += f"; the data file ends at 31 March {last}"
    return text


def per_100k(year: int | None = None) -> pd.DataFrame:
    """Officers (FTE, Home Office basis) per 100,000 residents of London, beside London's homicide
    rate of the same calendar year, up to ``year`` when given.

    Officers at 31 March of year Y are divided by the ONS mid-Y population (the latest estimate
    carried forward where mid-Y is not out yet). Columns: ``year, officers, population,
    population_year, officers_per_100k, homicide_rate`` (homicide victims per 100,000, whole years).
    """
    rows = march_fte()
    fte = rows[rows["basis"] == "home_office_fte"].set_index("year")["officers"]
    last = int(fte.index.max()) if year is None else max(min(int(fte.index.max()), int(year)), int(fte.index.min()))
    years = list(range(int(fte.index.min()), last + 1))
    pop = series.population_for(years, "London")
    out = pd.DataFrame({"year": years, "officers": fte.reindex(years).to_numpy()})
    out["population"] = pop["population"].to_numpy()
    out["population_year"] = pop["population_year"].to_numpy()
    out["officers_per_100k"] = (stats.PER * out["officers"] / out["population"]).round(1)
    rates = tables.whole_years(tables.annual_table("London")).set_index("year")["rate"]
    out["homicide_rate"] = out["year"].map(rates).round(2)  # as the homicide notebook shows it (never rounded twice)
    return out


def per_100k_title(table: pd.DataFrame, year: int) -> str:
    """Finding-title for the officers-per-head chart, descriptive only: the focus year (or the latest
    held) against the highest year up to then."""
    known = table.dropna(subset=["officers_per_100k"])
    row = known.iloc[-1]
    text = f"The Met had {numbers.fmt_rate(row['officers_per_100k'], 0)} officers per 100,000 Londoners at 31 March {int(row['year'])}"
    if int(row["year"]) < year:
        text += f" (there is none yet for {day_month_year(year, 3, 31)})"
    elif int(row["year"]) > year:
        text += f", the first figure on this basis (after {year})"
    high = known.loc[known["officers_per_100k"].idxmax()]
    if int(high["year"]) != int(row["year"]):
        text += f", against {numbers.fmt_rate(high['officers_per_100k'], 0)} in {int(high['year'])}"
    return text


def arrests_table() -> pd.DataFrame:
    """Met arrests for notifiable offences by financial year: ``financial_year, arrests, year_end``
    (``year_end`` is the calendar year the financial year ends in)."""
    table = series.met_arrests().copy()
    table["year_end"] = table["financial_year"].str.slice(0, 4).astype(int) + 1
    return table[["financial_year", "arrests", "year_end"]].reset_index(drop=True)


def arrests_title(table: pd.DataFrame, year: int) -> str:
    """Finding-title: arrests in the financial year ending in March of the focus year, or where the data stop."""
    by_end = table.set_index("year_end")
    first, last = int(by_end.index.min()), int(by_end.index.max())
    peak_end = int(by_end["arrests"].idxmax())
    peak_text = f"the most in the data was {fmt_int(by_end.at[peak_end, 'arrests'])} in {by_end.at[peak_end, 'financial_year']}"
    if year in by_end.index:
        row = by_end.loc[year]
        text = f"The Met made {count_phrase(row['arrests'], 'arrests')} in {row['financial_year']}, the financial year to March {year}"
        if peak_end != year:
            text += f"; {peak_text}"
        return text
    if year > last:
        return f"The Met's arrests data held end in {financial_year(last)}, before {year}; {peak_text}"
    return f"The Met's arrests data held start in {financial_year(first)}, after {year}"


def headline(year: int, base_year: int) -> str:
    """One sentence for the report index: the officer level at 31 March of the focus year and its change."""
    return change_sentence(base_year, year)


__all__ = [
    "BASIS_LABELS",
    "FORCE",
    "OFFICERS",
    "OfficerFigure",
    "arrests_table",
    "arrests_title",
    "change_sentence",
    "headline",
    "march_fte",
    "officer_change",
    "officers",
    "officers_at",
    "officers_title",
    "other_count_sentences",
    "per_100k",
    "per_100k_title",
    "worker_types",
    "worker_types_title",
]
