"""Met workforce (notebook 03): officers over time on each counting basis, police staff and PCSOs,
officers per 100,000 residents, change since a base year (same basis only), officers beside
homicide rates (no causal claim), and arrests where data exist, as tables and sentences.

Officer numbers are people (FTE unless the basis says otherwise) at the date given; figures on
different bases are never subtracted from each other. The charts are in
``analysis.present.workforce_charts``.
"""

from __future__ import annotations

import pandas as pd

from analysis.data import series
from analysis.stories import narrative, stats, tables

BASIS_LABELS: dict[str, str] = {
    "home_office_fte": "Home Office FTE, 31 March",
    "home_office_fte_pre2003": "Home Office FTE, 31 March, pre-2003 basis (excludes career breaks)",
    "mps_strength": "MPS's own strength figure, end of financial year",
    "mps_monthly": "MPS monthly figure",
    "mps_foi_monthly": "MPS monthly figures released under FOI",
    "home_office_headcount": "Home Office headcount, 31 March",
    "home_office_headcount_september": "Home Office headcount, 30 September",
}


def officers(basis: str | None = None) -> pd.DataFrame:
    """Met police officer figures, one row per date and basis: ``date, year, value, basis, source_type, source``.

    ``year`` is the calendar year of the date. With ``basis`` given, only that basis.
    """
    table = series.met_workforce()
    rows = table[table["worker_type"] == "Police officer"].copy()
    if basis is not None:
        rows = rows[rows["basis"] == basis]
    rows["year"] = rows["date"].dt.year
    return rows[["date", "year", "value", "basis", "source_type", "source"]].sort_values(["basis", "date"]).reset_index(drop=True)


def march_fte() -> pd.DataFrame:
    """Officers (FTE) at 31 March by year, on every 31 March basis: ``year, officers, basis, source_type``."""
    rows = officers()
    rows = rows[(rows["date"].dt.month == 3) & rows["basis"].isin(["home_office_fte", "home_office_fte_pre2003", "mps_strength"])]
    return rows.rename(columns={"value": "officers"})[["year", "officers", "basis", "source_type"]].reset_index(drop=True)


def officer_change(base_year: int, year: int, basis: str = "home_office_fte") -> stats.Change | None:
    """Change in officers between 31 March of two years on one basis, or None when either is missing."""
    rows = march_fte()
    values = rows[rows["basis"] == basis].set_index("year")["officers"]
    if base_year not in values.index or year not in values.index:
        return None
    return stats.change_since(values, base_year, year)


def change_sentence(base_year: int, year: int) -> str:
    """"Officers fell by 1,022 (−3.0%) from March 2024 to March 2025 (Home Office FTE)", or why it cannot be said."""
    change = officer_change(base_year, year)
    if change is None:
        available = march_fte()
        have = available[available["year"].isin([base_year, year])]
        if have["basis"].nunique() > 1:
            return (
                f"31 March {base_year} and 31 March {year} are known only on different counting bases "
                f"({', '.join(BASIS_LABELS[b] for b in sorted(have['basis'].unique()))}), so they are not subtracted."
            )
        missing = [y for y in (base_year, year) if y not in set(available["year"])]
        return f"No Met officer figure for 31 March {', '.join(map(str, missing))} on the Home Office basis, so the change cannot be computed."
    verb = "rose" if change.change > 0 else ("fell" if change.change < 0 else "did not change")
    amount = f" by {narrative.fmt_int(abs(change.change))} ({narrative.fmt_signed_pct(change.pct_change, 1)})" if change.change else ""
    return (
        f"Met officer numbers {verb}{amount} from 31 March {base_year} ({narrative.fmt_int(change.base_value)}) "
        f"to 31 March {year} ({narrative.fmt_int(change.focus_value)}), full-time equivalent, Home Office basis."
    )


def foi_sentence() -> str:
    """The change between the two MPS FOI monthly figures (a different basis from the Home Office's)."""
    rows = officers("mps_foi_monthly").sort_values("date")
    if len(rows) < 2:
        return "No pair of MPS monthly figures released under FOI is available."
    first, last = rows.iloc[0], rows.iloc[-1]
    change = last["value"] - first["value"]
    return (
        f"On the Met's own monthly count (released under FOI), officers went from {narrative.fmt_int(first['value'])} at the end of "
        f"{first['date']:%B %Y} to {narrative.fmt_int(last['value'])} at the end of {last['date']:%B %Y}, "
        f"a change of {narrative.fmt_signed(change)} ({narrative.fmt_signed_pct(100 * change / first['value'], 1)}); "
        "this count sits on a different basis from the Home Office FTE, so it is compared only with itself."
    )


def officers_title(year: int, base_year: int) -> str:
    """Finding-title for the officer chart."""
    rows = march_fte()
    fte = rows[rows["basis"] == "home_office_fte"].set_index("year")["officers"]
    earlier = fte.index[fte.index <= year]
    focus = int(earlier.max()) if len(earlier) else int(fte.index.min())
    peak_year = int(fte.idxmax())
    change = officer_change(base_year, focus) if base_year in fte.index and base_year != focus else None
    text = f"The Met had {narrative.fmt_int(fte.loc[focus])} officers (FTE) at 31 March {focus}"
    if focus != year:
        text += f" (no figure on this basis for {year})"
    if change is not None and change.change:
        text += f", {narrative.fmt_int(abs(change.change))} {'fewer' if change.change < 0 else 'more'} than in {base_year}"
    if peak_year != focus:
        text += f"; the peak on this basis was {narrative.fmt_int(fte.max())} in {peak_year}"
    return text


def worker_types() -> pd.DataFrame:
    """Official FTE at 31 March by worker type (officers, police staff, PCSOs, designated officers), wide by year."""
    table = series.met_workforce()
    rows = table[(table["source_type"] == "official data") & (table["measure"] == "FTE")].copy()
    rows["year"] = rows["date"].dt.year
    wide = rows.pivot_table(index="year", columns="worker_type", values="value", aggfunc="sum").round(2)
    wide.columns.name = None
    return wide.reset_index()


def worker_types_title(table: pd.DataFrame) -> str:
    """Finding-title: change in police staff and PCSOs over the official series."""
    first, last = table.iloc[0], table.iloc[-1]
    pcso = stats.change_since(table.set_index("year")["Police community support officer"], int(first["year"]), int(last["year"]))
    staff = stats.change_since(table.set_index("year")["Police staff"], int(first["year"]), int(last["year"]))
    return (
        f"From {int(first['year'])} to {int(last['year'])} the Met's PCSOs changed by {narrative.fmt_signed_pct(pcso.pct_change)} "
        f"and its police staff by {narrative.fmt_signed_pct(staff.pct_change)} (FTE)"
    )


def per_100k() -> pd.DataFrame:
    """Officers (FTE, Home Office basis) per 100,000 residents, beside the homicide rate of the same calendar year.

    Officers at 31 March of year Y are divided by the ONS mid-Y population (the latest estimate
    carried forward where mid-Y is not out yet). Columns: ``year, officers, population,
    population_year, officers_per_100k, homicide_rate`` (victims per 100,000, whole years).
    """
    rows = march_fte()
    fte = rows[rows["basis"] == "home_office_fte"].set_index("year")["officers"]
    years = list(range(int(fte.index.min()), int(fte.index.max()) + 1))
    pop = series.population_for(years, "London")
    out = pd.DataFrame({"year": years, "officers": fte.reindex(years).to_numpy()})
    out["population"] = pop["population"].to_numpy()
    out["population_year"] = pop["population_year"].to_numpy()
    out["officers_per_100k"] = (stats.PER * out["officers"] / out["population"]).round(1)
    rates = tables.whole_years(tables.annual_table("London")).set_index("year")["rate"]
    out["homicide_rate"] = out["year"].map(rates).round(3)
    return out


def per_100k_title(table: pd.DataFrame, year: int) -> str:
    """Finding-title for the officers-beside-homicide chart (descriptive, no causal wording)."""
    known = table.dropna(subset=["officers_per_100k"])
    row = known[known["year"] == year]
    row = row.iloc[0] if len(row) else known.iloc[-1]
    peak = known.loc[known["officers_per_100k"].idxmax()]
    return (
        f"London had {narrative.fmt_rate(row['officers_per_100k'], 0)} Met officers per 100,000 residents in {int(row['year'])}, "
        f"against a high of {narrative.fmt_rate(peak['officers_per_100k'], 0)} in {int(peak['year'])}; the homicide rate is shown beside it, not as an effect of it"
    )


def correlation_sentence(table: pd.DataFrame) -> str:
    """A descriptive, explicitly non-causal statement of how the two series co-varied."""
    both = table.dropna(subset=["officers_per_100k", "homicide_rate"])
    if len(both) < 5:
        return "Too few years with both series to describe how they moved together."
    r = both["officers_per_100k"].corr(both["homicide_rate"])
    consecutive = both.set_index("year")[["officers_per_100k", "homicide_rate"]].reindex(range(int(both["year"].min()), int(both["year"].max()) + 1))
    d = consecutive.diff().dropna()
    r_change = d["officers_per_100k"].corr(d["homicide_rate"])
    return (
        f"Across {int(both['year'].min())}–{int(both['year'].max())} ({len(both)} years), the correlation between officers per 100,000 and the homicide rate is "
        f"{r:+.2f} in levels and {r_change:+.2f} in year-on-year changes ({len(d)} pairs of consecutive years). Both series trend over time for many reasons, "
        "so neither number says what more or fewer officers would do to homicide."
    )


def arrests_table() -> pd.DataFrame:
    """Met arrests for notifiable offences by financial year (Home Office), with the change on the year before."""
    table = series.met_arrests()[["financial_year", "year_ending", "arrests"]].copy()
    table["change"] = table["arrests"].diff()
    table["change"] = table["change"].astype("Int64")
    return table


def arrests_title(table: pd.DataFrame) -> str:
    """Finding-title: arrests at the start, peak and end of the series."""
    first, last = table.iloc[0], table.iloc[-1]
    peak = table.loc[table["arrests"].idxmax()]
    change = stats.change_since(table.set_index("financial_year")["arrests"], first["financial_year"], last["financial_year"])
    return (
        f"Met arrests peaked at {narrative.fmt_int(peak['arrests'])} in {peak['financial_year']} and were "
        f"{narrative.fmt_int(last['arrests'])} in {last['financial_year']} ({narrative.fmt_signed_pct(change.pct_change)} on {first['financial_year']})"
    )


def headline(year: int, base_year: int) -> str:
    """One sentence for the report index: the change since the base year, or the level when no change can be computed."""
    if officer_change(base_year, year) is not None:
        return change_sentence(base_year, year)
    return officers_title(year, base_year) + "."
