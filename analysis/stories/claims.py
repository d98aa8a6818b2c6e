"""Claims check (notebook 04): every quantitative claim in ``seeds/claims.yml`` recomputed from the
series, with a verdict from a small fixed vocabulary and a one-line basis.

The checks are driven by each claim's ``check`` block (operation, series, period), so adding a
claim to the YAML needs no code change as long as it uses a known operation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis.core.errors import DataError
from analysis.core.paths import CLAIMS_FILE
from analysis.data import series
from analysis.stories import narrative, stats, tables, workforce

SUPPORTED = "supported"
APPROXIMATELY = "approximately supported"
WHERE_DATA_EXIST = "supported where data exist"
NOT_SUPPORTED = "not supported"
PUBLISHED_ONLY = "consistent with the published figure only"
CANNOT_CHECK = "cannot be checked with available data"
VERDICTS: tuple[str, ...] = (SUPPORTED, APPROXIMATELY, WHERE_DATA_EXIST, NOT_SUPPORTED, PUBLISHED_ONLY, CANNOT_CHECK)

SERIES_LABELS = {
    "victims": "homicide victims",
    "victims_under_25": "homicide victims under 25",
    "victims_13_19": "homicide victims aged 13 to 19",
}


@dataclass(frozen=True)
class ClaimResult:
    """One checked claim: what was claimed, what the data give, the verdict and why."""

    id: str
    claim: str
    claimed: float
    unit: str
    computed: float | None
    series_used: str
    period_used: str
    verdict: str
    basis: str


def story_description(path: Path = CLAIMS_FILE) -> str:
    """The seed story's description as the claims file gives it (lower-cased first letter, for use mid-sentence)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    text = str(data.get("source", {}).get("description", "seed story"))
    return text[:1].lower() + text[1:]


def load_claims(path: Path = CLAIMS_FILE) -> list[dict[str, Any]]:
    """The claims of the seed story, each with its ``check`` block; DataError if the file is malformed."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(path, f"cannot be read as YAML ({exc})") from exc
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list) or not claims:
        raise DataError(path, "has no 'claims' list")
    for index, claim in enumerate(claims, start=1):
        for key in ("id", "claim", "figure", "unit", "check"):
            if key not in claim:
                raise DataError(path, f"claim {index} has no '{key}'")
        if claim["check"].get("op") not in OPERATIONS:
            raise DataError(path, f"claim '{claim['id']}' has unknown check op '{claim['check'].get('op')}'")
    return claims


def _matches(claim: dict[str, Any], computed: float) -> bool:
    figure = float(claim["figure"])
    mode = claim.get("compare", "equal")
    if mode == "at least":
        return abs(computed) >= abs(figure)
    if mode == "about":
        return abs(computed - figure) <= abs(figure) * float(claim.get("tolerance_pct", 10)) / 100
    decimals = int(claim.get("decimals", 0))
    return round(computed, decimals) == round(figure, decimals)


def _near(claim: dict[str, Any], computed: float) -> bool:
    """Within one unit of the last claimed digit, or 2%: close enough to call approximate."""
    figure = float(claim["figure"])
    step = 10 ** -int(claim.get("decimals", 0))
    return abs(computed - figure) <= max(step, 0.02 * abs(figure))


def _verdict(claim: dict[str, Any], computed: float | None, *, published_only: bool) -> str:
    if computed is None or (isinstance(computed, float) and math.isnan(computed)):
        return CANNOT_CHECK
    if _matches(claim, computed):
        return PUBLISHED_ONLY if published_only else SUPPORTED
    if _near(claim, computed):
        return APPROXIMATELY
    return NOT_SUPPORTED


def _annual(check: dict[str, Any]) -> pd.DataFrame:
    return series.homicide_annual(check.get("area", "London"))


def _source_words(row: pd.Series, column: str = "victims") -> str:
    if row["source"] == "published":
        name = "homicide_victims" if column == "victims" else f"homicide_{column}"
        figures = series.published()
        used = figures[(figures["series"] == name) & (figures["period"] == str(row.name)) & (figures["used_in_series"] == "yes")]
        if len(used):
            return f"the published figure: {used['source_title'].iloc[0]} ({used['published'].iloc[0]})"
        return f"the published figure ({row['release']}, data/published_figures.csv)"
    return f"the MPS victims open data ({row['release']})"


def _check_value(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    annual = _annual(check)
    year = int(check["year"])
    column = check["series"]
    label = SERIES_LABELS[column]
    if year not in annual.index or pd.isna(annual.at[year, column]):
        return _result(claim, None, label, str(year), CANNOT_CHECK, f"No source held here gives {label} for {year}.")
    row = annual.loc[year]
    value = float(row[column])
    published = row["source"] == "published"
    basis = f"{narrative.fmt_int(value)} {label} in {year}, from {_source_words(row, column)}."
    if published:
        others = series.published()
        name = {"victims": "homicide_victims"}.get(column, f"homicide_{column}")
        alt = others[(others["series"] == name) & (others["period"] == str(year)) & (others["value"] != value)]
        for _, other in alt.iterrows():
            basis += f" {other['source_title']} ({other['published']}) gave {narrative.fmt_int(other['value'])}."
        opendata = series.monthly(check.get("area", "London"))
        months = opendata[opendata["year"] == year]
        if len(months):
            partial = int(months[column].sum()) if column in months else int(months["victims"].sum())
            basis += f" The open data cover only {narrative.month_range_label(year, int(months['month'].max()))} ({narrative.fmt_int(partial)})."
        else:
            basis += " No victim-level open data cover this year."
    return _result(claim, value, label, str(year), _verdict(claim, value, published_only=published), basis)


def _check_pct_change(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    annual = _annual(check)
    base, year, column = int(check["base_year"]), int(check["year"]), check["series"]
    a, b = annual.loc[base], annual.loc[year]
    cmp = stats.compare_counts(int(a[column]), int(b[column]))
    published = a["source"] == "published" and b["source"] == "published"
    basis = narrative.sentence(narrative.change_phrase(cmp, str(base), str(year)) + "; " + narrative.chance_phrase(cmp))
    whole = tables.whole_years(tables.annual_table(check.get("area", "London"), column=column), up_to=year)
    decade = whole[whole["year"].between(year - 10, year - 1)].set_index("year")["victims"]
    if len(decade):
        high_year = int(decade.idxmax())
        longer = stats.compare_counts(int(decade.max()), int(b[column]))
        basis += (
            f" Against {high_year}, the highest of the previous ten years ({narrative.fmt_int(decade.max())}), the fall is "
            f"{narrative.fmt_pct(abs(longer.pct_change))}: {narrative.chance_phrase(longer)}."
        )
    return _result(claim, round(cmp.pct_change, 1), SERIES_LABELS[column], f"{base} to {year}", _verdict(claim, cmp.pct_change, published_only=published), basis)


def _low_record(check: dict[str, Any]) -> tuple[pd.Series, int, stats.Record]:
    """Whole-year values of the check's series up to its year, and how low that year ranks."""
    table = tables.annual_table(check.get("area", "London"), column=check["series"])
    year = int(check["year"])
    values = tables.whole_years(table, up_to=year).set_index("year")["victims"]
    return values, year, stats.record_since(values, year, kind="low")


def _check_fewest_since(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    counts, year, record = _low_record(check)
    computed = None if record.is_record else float(record.since_year)
    basis = f"{narrative.fmt_int(counts.loc[year])} in {year}: {narrative.record_phrase(record)} (whole years {int(counts.index.min())}–{year})."
    if record.is_record:
        basis += " " + narrative.sentence(narrative.caveat_series_start(int(claim["figure"]), record.series_start))
    return _result(claim, computed, SERIES_LABELS[check["series"]], f"{int(counts.index.min())}–{year}", _verdict(claim, computed, published_only=False), basis)


def _rate_row(check: dict[str, Any]) -> tuple[pd.DataFrame, int]:
    population = {"victims": "population", "victims_under_25": "population_under_25", "victims_13_19": "population_13_19"}[check["series"]]
    return tables.annual_table(check.get("area", "London"), column=check["series"], population_column=population), int(check["year"])


def _check_rate(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    table, year = _rate_row(check)
    area = check.get("area", "London")
    label = f"{SERIES_LABELS[check['series']]} per 100,000 residents"
    rows = table[table["year"] == year]
    if rows.empty:
        pop = series.population(area)
        basis = f"No homicide count for {area} in {year} is held (the count series starts in {int(table['year'].min())})."
        if year in pop.index and pd.notna(pop.at[year, "population"]):
            implied = float(claim["figure"]) * pop.at[year, "population"] / stats.PER
            basis += f" With the mid-{year} population ({narrative.fmt_int(pop.at[year, 'population'])}) the claimed rate implies about {narrative.fmt_int(implied)} homicides."
        nearest = series.published()
        fy = nearest[nearest["series"] == "homicide_rate_per_100k_financial_year"]
        for _, row in fy.iterrows():
            basis += f" The nearest published rate is {row['value']:g} for {row['note'].split(',')[0].lower().rstrip('.')} ({row['source_title']})."
        return _result(claim, None, label, str(year), CANNOT_CHECK, basis)
    row = rows.iloc[0]
    rate = float(row["rate"])
    basis = (
        f"{narrative.fmt_int(row['victims'])} victims / {narrative.fmt_int(row['population'])} residents (mid-{int(row['population_year'])}) "
        f"× 100,000 = {rate:.3f} (95% interval {row['rate_lower']:.2f} to {row['rate_upper']:.2f})."
    )
    if bool(row["carried_forward"]):
        pop = series.population(area)["population"].dropna()
        alternatives = []
        for alt_year in sorted(pop.index[pop.index < int(row["population_year"])])[-1:]:
            alternatives.append(f"with mid-{alt_year} it would be {stats.rate_per_100k(row['victims'], pop.loc[alt_year]):.2f}")
        basis += f" There is no mid-{year} estimate: the claim holds with the latest (mid-{int(row['population_year'])}) estimate as denominator"
        basis += ("; " + "; ".join(alternatives) + ".") if alternatives else "."
    if row["source"] == "published":
        basis += " The count is the Met's published total."
    return _result(claim, round(rate, 3), label, str(year), _verdict(claim, rate, published_only=False), basis)


def _check_lowest_rate_since(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    table, year = _rate_row(check)
    rates = tables.whole_years(table, up_to=year).dropna(subset=["rate"]).set_index("year")["rate"]
    record = stats.record_since(rates, year, kind="low")
    claimed_start = int(check.get("claimed_start", claim["figure"]))
    basis = f"{rates.loc[year]:.2f} per 100,000 in {year}: {narrative.record_phrase(record, measure='rate')}."
    if record.is_record and record.series_start > claimed_start:
        caveat = narrative.caveat_series_start(claimed_start, record.series_start, "rate series")
        return _result(claim, float(record.series_start), "homicide rate per 100,000", f"{record.series_start}–{year}", WHERE_DATA_EXIST, basis + " " + narrative.sentence(caveat))
    computed = float(claimed_start) if record.is_record else float(record.since_year)
    return _result(claim, computed, "homicide rate per 100,000", f"{record.series_start}–{year}", _verdict(claim, computed, published_only=False), basis)


def _check_population_change(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    area = check.get("area", "London")
    base, year = int(check["base_year"]), int(check["year"])
    pop = series.population_for([base, year], area)
    change = stats.change_since(pop["population"], base, year)
    used = int(pop.loc[year, "population_year"])
    basis = (
        f"Mid-{base} {narrative.fmt_int(change.base_value)} to mid-{used} {narrative.fmt_int(change.focus_value)}: "
        f"{narrative.fmt_signed(change.change)} ({narrative.fmt_signed_pct(change.pct_change, 1)})"
    )
    if used != year:
        basis += f"; mid-{used} is the latest estimate"
    if base < tables.CENSUS_BREAK <= used:
        basis += "; the span crosses the 2021 census re-basing, which lowered London's estimates"
    return _result(claim, float(change.change), "ONS mid-year population", f"mid-{base} to mid-{used}", _verdict(claim, change.change, published_only=False), basis + ".")


def _check_peak(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    table = tables.annual_table(check.get("area", "London"), column=check["series"])
    values = tables.whole_years(table).set_index("year")["victims"]
    peak_year, peak_value = stats.peak(values)
    claimed_year = int(check.get("claimed_year", 0))
    basis = f"The highest whole year is {peak_year} with {narrative.fmt_int(peak_value)} ({int(values.index.min())}–{int(values.index.max())})."
    if claimed_year and claimed_year != peak_year:
        basis += f" The claimed peak year was {claimed_year}."
        return _result(claim, peak_value, SERIES_LABELS[check["series"]], f"{peak_year}", NOT_SUPPORTED, basis)
    annual = _annual(check)
    if annual.at[peak_year, "source"] == "open data" and not _matches(claim, peak_value):
        basis += f" The claimed {narrative.fmt_int(claim['figure'])} is not in the open data (release {annual.at[peak_year, 'release']}); the difference may be a later revision."
    return _result(claim, peak_value, SERIES_LABELS[check["series"]], f"{peak_year}", _verdict(claim, peak_value, published_only=False), basis)


def _check_lowest_before(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    values, year, record = _low_record(check)
    computed = float(year) if record.is_record else float("nan")
    noun = SERIES_LABELS[check["series"]].removeprefix("homicide ")
    basis = f"{narrative.fmt_int(values.loc[year])} in {year}: {narrative.record_phrase(record, noun=noun)}."
    annual = _annual(check)
    published = annual.at[year, "source"] == "published"
    if published:
        basis += f" The {year} figure is a published statement; earlier years are open data."
    verdict = (PUBLISHED_ONLY if published else SUPPORTED) if record.is_record else NOT_SUPPORTED
    return _result(claim, computed, SERIES_LABELS[check["series"]], f"{int(values.index.min())}–{year}", verdict, basis)


def _check_officer_change(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    start, end = pd.Timestamp(check["from"]), pd.Timestamp(check["to"])
    rows = workforce.officers()
    rows = rows[(rows["date"] >= start) & (rows["date"] <= end)]
    parts, best = [], None
    for basis_name, group in rows.groupby("basis"):
        group = group.sort_values("date")
        if len(group) < 2:
            continue
        first, last = group.iloc[0], group.iloc[-1]
        change = float(last["value"] - first["value"])
        parts.append(
            f"{workforce.BASIS_LABELS.get(basis_name, basis_name)}: {narrative.fmt_int(first['value'])} ({first['date']:%b %Y}) to "
            f"{narrative.fmt_int(last['value'])} ({last['date']:%b %Y}), {narrative.fmt_signed(change)}"
        )
        if best is None or abs(change) > abs(best[0]):
            best = (change, basis_name, group)
    if best is None:
        return _result(claim, None, "Met police officers", f"{start:%Y}–{end:%Y}", CANNOT_CHECK, "No two officer figures on one basis fall in the period.")
    change, basis_name, group = best
    published = (group["source_type"] == "published figure").all()
    basis = "Each basis compared only with itself. " + "; ".join(parts) + "."
    verdict = _verdict(claim, -change if change < 0 else change, published_only=published) if change < 0 else NOT_SUPPORTED
    return _result(claim, change, f"Met police officers ({workforce.BASIS_LABELS.get(basis_name, basis_name)})", f"{group['date'].min():%b %Y} to {group['date'].max():%b %Y}", verdict, basis)


def _check_no_data(claim: dict[str, Any]) -> ClaimResult:
    check = claim["check"]
    basis = narrative.sentence(f"Cannot be checked: {check['why']}")
    if check.get("series") == "arrests":
        arrests = series.met_arrests()
        basis += f" Met arrests data here run from {arrests['financial_year'].iloc[0]} to {arrests['financial_year'].iloc[-1]}."
    return _result(claim, None, "none", str(claim.get("period", "")), CANNOT_CHECK, basis)


def _result(claim: dict[str, Any], computed: float | None, series_used: str, period_used: str, verdict: str, basis: str) -> ClaimResult:
    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not in the fixed vocabulary")
    return ClaimResult(
        id=str(claim["id"]),
        claim=str(claim["claim"]),
        claimed=float(claim["figure"]),
        unit=str(claim["unit"]),
        computed=None if computed is None or (isinstance(computed, float) and math.isnan(computed)) else float(computed),
        series_used=series_used,
        period_used=period_used,
        verdict=verdict,
        basis=basis,
    )


OPERATIONS = {
    "value": _check_value,
    "pct_change": _check_pct_change,
    "fewest_since": _check_fewest_since,
    "rate": _check_rate,
    "lowest_rate_since": _check_lowest_rate_since,
    "population_change": _check_population_change,
    "peak": _check_peak,
    "lowest_before": _check_lowest_before,
    "officer_change": _check_officer_change,
    "no_data": _check_no_data,
}


def check_claim(claim: dict[str, Any]) -> ClaimResult:
    """Recompute one claim with the operation its ``check`` names."""
    return OPERATIONS[claim["check"]["op"]](claim)


def check_all(claims: list[dict[str, Any]]) -> pd.DataFrame:
    """Every claim checked, one row each, in the YAML's order (columns of ClaimResult)."""
    return pd.DataFrame([asdict(check_claim(c)) for c in claims])


def verdict_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How many claims got each verdict, in the vocabulary's order (verdicts with none left out)."""
    counts = table["verdict"].value_counts()
    return pd.DataFrame({"verdict": [v for v in VERDICTS if v in counts], "claims": [int(counts[v]) for v in VERDICTS if v in counts]})


def headline(table: pd.DataFrame) -> str:
    """One sentence summarising the verdicts."""
    counts = verdict_counts(table)
    parts = [f"{n} {v}" for v, n in zip(counts["verdict"], counts["claims"])]
    return f"Of {len(table)} quantitative claims in the story: " + "; ".join(parts) + "."


def verdicts_title(table: pd.DataFrame) -> str:
    """Finding-title for the verdict chart: how many claims the data themselves support."""
    data_backed = table["verdict"].isin([SUPPORTED, APPROXIMATELY, WHERE_DATA_EXIST]).sum()
    published = (table["verdict"] == PUBLISHED_ONLY).sum()
    return (
        f"{data_backed} of the story's {len(table)} claims are borne out by official data; "
        f"{published} rest on published figures alone"
    )


def write_claims_csv(table: pd.DataFrame, output_dir: str | Path | None) -> Path | None:
    """Write ``claims.csv`` at the root of the output folder (nothing when ``output_dir`` is None)."""
    if output_dir is None:
        return None
    path = Path(output_dir) / "claims.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return path
