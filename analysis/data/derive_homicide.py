"""Homicide victims series from the MPS victims releases, and the annual table beside recorded offences.

``derive_homicide`` takes the parsed victims releases, the ONS borough register, the published
figures and the annual homicide offences (``derive_crime.annual_homicide_offences``) and returns
``homicide_annual``, ``homicide_breakdowns``, ``homicide_monthly`` and ``homicide_revisions``.

Precedence for annual homicide **victims** (stated in the data log, data/README.md):
1. a complete year of open data (the newest release that covers it);
2. else a published whole-year figure from ``data/published_figures.csv`` (``used_in_series=yes``);
3. else a partial year of open data, flagged by ``victims_months`` < 12.

Recorded **offences** (MPS recorded crime, homicide subgroup) sit beside the victims in the annual
table, with the months they cover and the releases used; the two measures are never mixed.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from analysis.core.errors import DataError
from analysis.data import schemas
from analysis.data.parse_homicide import VictimsRelease
from analysis.data.parse_population import LONDON_CODE, LONDON_NAME

# Homicide records that belong to London but to no borough.
NO_BOROUGH = {"unmapped", "heathrow"}
CITY_OF_LONDON = "E09000001"  # policed by the City of London Police, not the Met

BREAKDOWN_DIMENSIONS: dict[str, str] = {
    "method": "method",
    "sex": "sex",
    "age_band": "age_band",
    "domestic_abuse": "domestic_abuse",
    "ethnicity": "ethnicity",
    "offence_type": "offence_type",
    "solved_status": "solved_status",
}


def normalise_area_name(name: str) -> str:
    """Key for matching area names across publishers: lower case, '&' -> 'and', spaces squeezed."""
    return re.sub(r"\s+", " ", name.replace("&", " and ").strip().lower())


def _release_label(release: VictimsRelease) -> str:
    return f"MPS victims {release.label}"


def _months_covered(release: VictimsRelease, year: int) -> int:
    first_month = release.first[1] if year == release.first[0] else 1
    last_month = release.last[1] if year == release.last[0] else 12
    return last_month - first_month + 1


def _map_boroughs(release: VictimsRelease, boroughs: dict[str, str]) -> pd.Series:
    """ONS area code of each victim row; None for rows counted in London but no borough."""
    by_name = {normalise_area_name(name): code for code, name in boroughs.items()}
    keys = release.frame["borough"].map(normalise_area_name)
    codes = keys.map(by_name)
    unknown = codes.isna() & ~keys.isin(NO_BOROUGH)
    if unknown.any():
        row = int(unknown.idxmax())
        raise DataError(release.path, f"unknown borough '{release.frame.at[row, 'borough']}'", row=row, column="Borough")
    return codes.where(~keys.isin(NO_BOROUGH), None)


def _victims_by_year(releases: list[VictimsRelease], boroughs: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Victim rows with area codes, each year taken from the newest release that covers it.

    Returns (chosen rows, revisions table of every release's annual London totals).
    """
    chosen: dict[int, pd.DataFrame] = {}
    revisions = []
    for release in releases:  # oldest coverage first: newer releases overwrite
        frame = release.frame.assign(area_code=_map_boroughs(release, boroughs), release=_release_label(release))
        frame["months_covered"] = frame["year"].map(lambda y: _months_covered(release, int(y)))
        for year, rows in frame.groupby("year"):
            chosen[int(year)] = rows
            revisions.append(
                {
                    "year": int(year),
                    "release": _release_label(release),
                    "release_file": release.path.name,
                    "months_covered": int(rows["months_covered"].iloc[0]),
                    "victims": int(rows["victims"].sum()),
                    "victims_under_25": int(rows.loc[rows["age_band"].isin(schemas.UNDER_25_BANDS), "victims"].sum()),
                }
            )
    rows = pd.concat([chosen[y] for y in sorted(chosen)])
    revisions_frame = pd.DataFrame(revisions).sort_values(["year", "release"]).reset_index(drop=True)
    return rows, revisions_frame


def _annual_open_data(rows: pd.DataFrame, met_boroughs: dict[str, str]) -> pd.DataFrame:
    """London and borough totals per year from victim rows, with zero rows for borough-years without victims."""
    under = rows["age_band"].isin(schemas.UNDER_25_BANDS)
    teen = rows["age_band"].isin(schemas.TEEN_BANDS)
    rows = rows.assign(u25=rows["victims"].where(under, 0), teen=rows["victims"].where(teen, 0))
    meta = rows.groupby("year").agg(months_covered=("months_covered", "first"), release=("release", "first"))
    london = rows.groupby("year")[["victims", "u25", "teen"]].sum().assign(area_code=LONDON_CODE)
    by_borough = rows.dropna(subset=["area_code"]).groupby(["year", "area_code"])[["victims", "u25", "teen"]].sum()
    grid = pd.MultiIndex.from_product([meta.index, sorted(met_boroughs)], names=["year", "area_code"])
    by_borough = by_borough.reindex(grid, fill_value=0).reset_index()
    annual = pd.concat([london.reset_index(), by_borough], ignore_index=True)
    annual = annual.join(meta, on="year")
    annual["area"] = annual["area_code"].map({LONDON_CODE: LONDON_NAME, **met_boroughs})
    annual["victims_source"] = "open data"
    return annual.rename(
        columns={"u25": "victims_under_25", "teen": "victims_13_19", "months_covered": "victims_months", "release": "victims_release"}
    )


def _apply_published(annual: pd.DataFrame, published: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Apply the precedence rules to London years with published whole-year figures."""
    used = published[(published["used_in_series"] == "yes") & (published["area"] == LONDON_NAME)]
    decisions = []
    totals = used[used["series"] == "homicide_victims"]
    annual = annual.set_index(["year", "area_code"])
    for _, fig in totals.sort_values("period").iterrows():
        year = int(fig["period"])
        key = (year, LONDON_CODE)
        if key in annual.index and int(annual.at[key, "victims_months"]) == 12:
            decisions.append({"year": year, "figure": fig["id"], "decision": "open data kept (complete year)"})
            continue
        partial = key in annual.index
        sub = used[used["period"] == str(year)].set_index("series")["value"]
        annual.loc[key, ["victims", "victims_months", "victims_source", "victims_release", "area"]] = [
            int(fig["value"]),
            12,
            "published",
            fig["id"],
            LONDON_NAME,
        ]
        annual.loc[key, "victims_under_25"] = sub.get("homicide_victims_under_25", pd.NA)
        annual.loc[key, "victims_13_19"] = sub.get("homicide_victims_13_19", pd.NA)
        decisions.append(
            {
                "year": year,
                "figure": fig["id"],
                "decision": "published whole-year figure replaces a partial year of open data" if partial else "published figure (no open data)",
            }
        )
    return annual.reset_index(), decisions


def annual_table(victims: pd.DataFrame, offences: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The homicide_annual table: victims and recorded offences side by side, one row per year and area.

    ``victims`` has a row per year and area with victims data, ``offences`` one per year and area
    with offences data (``derive_crime.annual_homicide_offences``); a year either covers is a row,
    and the measure it lacks is empty (counts and months missing, text columns ''). ``names``
    maps area codes to names. Returns the columns of ``schemas.HOMICIDE_ANNUAL``, sorted by year and area code.
    """
    victim_columns = ["victims", "victims_under_25", "victims_13_19", "victims_months", "victims_source", "victims_release"]
    table = victims[["year", "area_code", *victim_columns]].merge(
        offences[["year", "area_code", "offences", "offences_months", "offences_release"]],
        on=["year", "area_code"],
        how="outer",
    )
    table["area"] = table["area_code"].map(names)
    for column in ("victims_source", "victims_release", "offences_release"):
        table[column] = table[column].fillna("").astype(str)
    counts = ["victims", "victims_under_25", "victims_13_19", "victims_months", "offences", "offences_months"]
    table = table.astype({"year": int, **{c: "Int64" for c in counts}})
    table = table.sort_values(["year", "area_code"]).reset_index(drop=True)
    return table[list(schemas.HOMICIDE_ANNUAL.columns)]


def derive_homicide(
    releases: list[VictimsRelease], boroughs: dict[str, str], published: pd.DataFrame, offences: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """homicide_annual, homicide_breakdowns, homicide_monthly and homicide_revisions frames, plus log facts.

    ``offences`` is the annual homicide offences table (``derive_crime.annual_homicide_offences``),
    set beside the victims in homicide_annual.
    """
    met_boroughs = {c: n for c, n in boroughs.items() if c != CITY_OF_LONDON}
    rows, revisions = _victims_by_year(releases, boroughs)
    if (rows["area_code"] == CITY_OF_LONDON).any():
        row = int((rows["area_code"] == CITY_OF_LONDON).idxmax())
        raise DataError(releases[-1].path, "has a City of London victim, which the Met does not police", row=row, column="Borough")
    victims, decisions = _apply_published(_annual_open_data(rows, met_boroughs), published)
    annual = annual_table(victims, offences, {LONDON_CODE: LONDON_NAME, **met_boroughs})

    # Breakdowns: one dimension at a time, all ages and under-25s, London and boroughs.
    parts = []
    for ages, subset in (("all", rows), ("under_25", rows[rows["age_band"].isin(schemas.UNDER_25_BANDS)])):
        for dimension, column in BREAKDOWN_DIMENSIONS.items():
            london = subset.groupby(["year", column])["victims"].sum().reset_index().assign(area_code=LONDON_CODE)
            borough = subset.dropna(subset=["area_code"]).groupby(["year", "area_code", column])["victims"].sum().reset_index()
            both = pd.concat([london, borough], ignore_index=True).rename(columns={column: "category"})
            parts.append(both.assign(dimension=dimension, ages=ages))
    breakdowns = pd.concat(parts, ignore_index=True)
    breakdowns = breakdowns[breakdowns["victims"] > 0][list(schemas.HOMICIDE_BREAKDOWNS.columns)]
    breakdowns = breakdowns.astype({"year": int, "victims": int}).sort_values(
        ["year", "area_code", "dimension", "ages", "category"]
    ).reset_index(drop=True)

    # Monthly totals with zero months filled, London and boroughs.
    under = rows["age_band"].isin(schemas.UNDER_25_BANDS)
    rows = rows.assign(u25=rows["victims"].where(under, 0))
    periods = rows["year"] * 12 + rows["month"] - 1
    months = pd.Index(range(int(periods.min()), int(periods.max()) + 1))
    frames = []
    for code, subset in [(LONDON_CODE, rows), *((c, rows[rows["area_code"] == c]) for c in sorted(met_boroughs))]:
        counts = subset.groupby(subset["year"] * 12 + subset["month"] - 1)[["victims", "u25"]].sum().reindex(months, fill_value=0)
        frames.append(
            pd.DataFrame(
                {
                    "year": months // 12,
                    "month": months % 12 + 1,
                    "area_code": code,
                    "victims": counts["victims"].to_numpy(),
                    "victims_under_25": counts["u25"].to_numpy(),
                }
            )
        )
    monthly = pd.concat(frames, ignore_index=True).astype({"year": int, "month": int, "victims": int, "victims_under_25": int})
    monthly = monthly.sort_values(["area_code", "year", "month"]).reset_index(drop=True)

    no_borough = rows[rows["area_code"].isna()]
    log = {
        "releases": [
            {"file": r.path.name, "coverage": r.label, "rows": int(len(r.frame)), "victims": int(r.frame["victims"].sum())}
            for r in releases
        ],
        "victims_in_london_but_no_borough": {
            name: int(group["victims"].sum()) for name, group in no_borough.groupby(no_borough["borough"])
        },
        "published_precedence": decisions,
    }
    return {
        "homicide_annual.csv": schemas.validate(annual, schemas.HOMICIDE_ANNUAL, "homicide_annual.csv"),
        "homicide_breakdowns.csv": schemas.validate(breakdowns, schemas.HOMICIDE_BREAKDOWNS, "homicide_breakdowns.csv"),
        "homicide_monthly.csv": schemas.validate(monthly, schemas.HOMICIDE_MONTHLY, "homicide_monthly.csv"),
        "homicide_revisions.csv": revisions,
    }, log

