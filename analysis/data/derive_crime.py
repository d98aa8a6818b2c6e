"""Series from the MPS recorded-crime releases: the release rule, London totals, revisions, annual homicide offences.

**Release rule.** Releases are snapshots, and they overlap. For each month, the release with the
latest last month that covers the month supplies every row of that month (ties: the later first
month, then the file name); a row that release lacks counts as 0 (the newest release has, for
example, no ``Unknown`` homicide in July 2024, which the one before it had). Rows of 0 are left out
of ``recorded_crime_monthly.csv``; ``analysis.data.series.recorded_crime`` fills them back in.

**London** (E12000007) is the sum of every borough row and every row of a place in London but in
no borough (``Unknown``, the airports), which keep the file's name in ``area`` and an empty
``area_code``.

**Revisions** (``recorded_crime_revisions.csv``, long): for every month × area × subgroup where two
releases covering the month disagree (a lacking row counts as 0), one row per covering release
with its count, and ``used_in_series`` saying which release the monthly series takes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.data import schemas
from analysis.data.parse_population import LONDON_CODE, LONDON_NAME
from analysis.data.parse_recorded_crime import (
    KEPT_SUBGROUPS,
    SUBGROUP_RENAMES,
    CrimeRelease,
)

#: Offence groups kept in the series (every subgroup of each).
KEPT_GROUPS: tuple[str, ...] = tuple(KEPT_SUBGROUPS)
HOMICIDE: tuple[str, str] = ("VIOLENCE AGAINST THE PERSON", "HOMICIDE")

_KEY = ["period", "offence_group", "offence_subgroup", "area_code", "area"]


def _month_text(period: int) -> str:
    return f"{period // 12}-{period % 12 + 1:02d}"


def release_for_each_month(releases: list[CrimeRelease]) -> dict[int, CrimeRelease]:
    """``{period: release}`` (period = ``year * 12 + month - 1``) under the release rule.

    ``releases`` must be sorted as ``find_crime_releases`` returns them (last month, first month,
    file name): each later release overwrites the months it covers.
    """
    chosen: dict[int, CrimeRelease] = {}
    for release in releases:
        for period in range(release.first_period, release.last_period + 1):
            chosen[period] = release
    return chosen


def month_ranges(chosen: dict[int, CrimeRelease]) -> list[dict[str, str]]:
    """Consecutive months taken from one release: ``[{release, file, from, to}]`` (months as ``YYYY-MM``)."""
    ranges: list[dict[str, str]] = []
    for period in sorted(chosen):
        release = chosen[period]
        if ranges and ranges[-1]["release"] == release.label and ranges[-1]["file"] == release.path.name:
            ranges[-1]["to"] = _month_text(period)
        else:
            ranges.append({"release": release.label, "file": release.path.name, "from": _month_text(period), "to": _month_text(period)})
    return ranges


def _kept_rows(release: CrimeRelease) -> pd.DataFrame:
    """The release's rows of the kept groups, with ``period`` and the series' column names."""
    frame = release.frame
    rows = frame[frame["group"].isin(KEPT_GROUPS)]
    return pd.DataFrame(
        {
            "period": (rows["year"] * 12 + rows["month"] - 1).to_numpy(),
            "offence_group": rows["group"].to_numpy(),
            "offence_subgroup": rows["subgroup"].to_numpy(),
            "area_code": rows["area_code"].to_numpy(),
            "area": rows["area"].to_numpy(),
            "offences": rows["offences"].to_numpy(),
            "release": release.label,
        }
    )


def _with_london(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` plus one London row per release, month and subgroup: the sum over every area."""
    london = rows.groupby(["release", "period", "offence_group", "offence_subgroup"], as_index=False)["offences"].sum()
    london = london.assign(area_code=LONDON_CODE, area=LONDON_NAME)
    return pd.concat([rows, london[rows.columns]], ignore_index=True)


def _finish(frame: pd.DataFrame, columns: list[str], sort: list[str]) -> pd.DataFrame:
    frame = frame.assign(year=frame["period"] // 12, month=frame["period"] % 12 + 1)
    frame = frame.sort_values(sort, kind="stable").reset_index(drop=True)
    return frame[columns].astype({"year": int, "month": int, "offences": int})


def _revisions(rows: pd.DataFrame, releases: list[CrimeRelease], chosen: dict[int, CrimeRelease]) -> pd.DataFrame:
    """Every key (month × area × subgroup) on which the releases covering the month disagree, long."""
    cover_count: dict[int, int] = {}
    for release in releases:
        for period in range(release.first_period, release.last_period + 1):
            cover_count[period] = cover_count.get(period, 0) + 1
    overlap = [period for period, count in cover_count.items() if count > 1]  # only there can releases disagree
    rows = rows[rows["period"].isin(overlap)]
    columns = list(schemas.RECORDED_CRIME_REVISIONS.columns)
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=int if c in ("year", "month", "offences") else str) for c in columns})
    wide = rows.pivot_table(index=_KEY, columns="release", values="offences", aggfunc="sum")
    periods = wide.index.get_level_values("period")
    for release in releases:
        if release.label not in wide.columns:
            wide[release.label] = float("nan")
        covers = (periods >= release.first_period) & (periods <= release.last_period)
        wide[release.label] = wide[release.label].where(~covers | wide[release.label].notna(), 0).where(covers)
    wide = wide[wide.max(axis=1) != wide.min(axis=1)]
    long = wide.stack().dropna().rename("offences").reset_index()
    label_of = {period: release.label for period, release in chosen.items()}
    long["used_in_series"] = (long["period"].map(label_of) == long["release"]).map({True: "yes", False: "no"})
    return _finish(long, columns, ["period", "offence_group", "offence_subgroup", "area_code", "area", "release"])


def derive_recorded_crime(releases: list[CrimeRelease]) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """``recorded_crime_monthly`` and ``recorded_crime_revisions`` frames (offences, counts), plus log facts.

    ``releases`` sorted as ``find_crime_releases`` returns them.
    """
    chosen = release_for_each_month(releases)
    every = _with_london(pd.concat([_kept_rows(r) for r in releases], ignore_index=True))
    label_of = {period: release.label for period, release in chosen.items()}
    in_series = every["release"].to_numpy() == every["period"].map(label_of).to_numpy()
    monthly = _finish(
        every[in_series],
        list(schemas.RECORDED_CRIME_MONTHLY.columns),
        ["period", "offence_group", "offence_subgroup", "area_code", "area"],
    )
    revisions = _revisions(every, releases, chosen)
    homicide_london = revisions[
        (revisions["offence_group"] == HOMICIDE[0]) & (revisions["offence_subgroup"] == HOMICIDE[1]) & (revisions["area_code"] == LONDON_CODE)
    ]
    no_borough = monthly[(monthly["area_code"] == "") & (monthly["offence_subgroup"] == HOMICIDE[1])]
    log = {
        "releases": [
            {"file": r.path.name, "coverage": r.coverage, "layout": r.layout, "nonzero_cells": len(r.frame)}
            for r in releases
        ],
        "release_by_month": month_ranges(chosen),
        "groups_kept": list(KEPT_GROUPS),
        "subgroup_renames": {f"{group} / {old}": new for (group, old), new in SUBGROUP_RENAMES.items()},
        "subgroup_renames_applied": {r.path.name: r.renamed for r in releases if r.renamed},
        "revisions": len(revisions[["year", "month", "area_code", "area", "offence_group", "offence_subgroup"]].drop_duplicates()),
        "london_homicide_revisions": [
            f"{y}-{m:02d}: " + ", ".join(f"{g['release'].iloc[i]} {g['offences'].iloc[i]}" for i in range(len(g)))
            for (y, m), g in homicide_london.groupby(["year", "month"])
        ],
        "homicide_offences_in_london_but_no_borough": {
            str(place): int(group["offences"].sum()) for place, group in no_borough.groupby("area")
        },
    }
    return {
        "recorded_crime_monthly.csv": schemas.validate(monthly, schemas.RECORDED_CRIME_MONTHLY, "recorded_crime_monthly.csv"),
        "recorded_crime_revisions.csv": schemas.validate(revisions, schemas.RECORDED_CRIME_REVISIONS, "recorded_crime_revisions.csv"),
    }, log


def annual_homicide_offences(releases: list[CrimeRelease], monthly: pd.DataFrame, area_codes: list[str]) -> pd.DataFrame:
    """Homicide offences per calendar year for London and the boroughs ``area_codes``, zeros filled.

    ``monthly`` is the recorded_crime_monthly frame built from ``releases``. Returns ``year,
    area_code, offences`` (a count), ``offences_months`` (months of the year the releases cover)
    and ``offences_release`` (the releases used, in month order, joined by '; ').
    """
    chosen = release_for_each_month(releases)
    months = pd.DataFrame(
        {"year": [p // 12 for p in sorted(chosen)], "release": [chosen[p].label for p in sorted(chosen)]}
    )
    per_year = months.groupby("year").agg(
        offences_months=("release", "size"),
        offences_release=("release", lambda r: "; ".join(dict.fromkeys(r))),
    )
    homicide = monthly[(monthly["offence_group"] == HOMICIDE[0]) & (monthly["offence_subgroup"] == HOMICIDE[1])]
    counts = homicide.groupby(["year", "area_code"])["offences"].sum()
    grid = pd.MultiIndex.from_product([per_year.index, [LONDON_CODE, *area_codes]], names=["year", "area_code"])
    counts = counts.reindex(grid, fill_value=0).rename("offences").reset_index()
    return counts.join(per_year, on="year")
