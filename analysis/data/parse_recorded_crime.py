"""Parser for "MPS Recorded Crime: Geographic Breakdown" (London Datastore), borough level.

Offences recorded per month, one row per offence group × subgroup × area and one column per
month (``YYYYMM``). Two header layouts are read, recognised by the header, never by the file name:

* ``MajorText, MinorText, BoroughName, YYYYMM, ...`` (the historical file and the older
  "most recent 24 months" files);
* ``Group, SubGroup, BOCU, YYYYMM, ...`` (newer "most recent 24 months" files; ``BOCU`` holds the
  borough name despite its name).

Areas are the 32 boroughs the Met polices (ONS names, matched case- and '&'-insensitively against
``parse_population.LONDON_AUTHORITIES``) plus the places that belong to London but to no borough
(``NON_BOROUGH_PLACES``). The City of London is never in these files (City of London Police). A
subgroup renamed between releases is mapped to the newest spelling (``SUBGROUP_RENAMES``). Any
other area, an unknown subgroup of a kept group, a bad month column, a count that is not a whole
number >= 0, a repeated row or a cut-short row is a DataError naming the file, row and column.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.errors import DataError
from analysis.data import schemas
from analysis.data.parse_population import LONDON_AUTHORITIES
from analysis.data.readers import find_releases, numeric_block, read_csv, read_csv_text

#: Header layouts: name -> (group, subgroup, area) column names, before the month columns.
LAYOUTS: dict[str, tuple[str, str, str]] = {
    "MajorText, MinorText, BoroughName": ("MajorText", "MinorText", "BoroughName"),
    "Group, SubGroup, BOCU": ("Group", "SubGroup", "BOCU"),
}

CITY_OF_LONDON = "E09000001"

#: Places that belong to London's total but to no borough, as the files spell them.
NON_BOROUGH_PLACES: tuple[str, ...] = ("Unknown", "London Heathrow and London City Airports")

#: Subgroups renamed between releases: (group, older spelling) -> newest spelling. Checked
#: across the three releases held (2010-04 to 2023-11, 2023-12 to 2025-11, 2024-07 to 2026-06):
#: the only rename is in PUBLIC ORDER OFFENCES. ``DOMESTIC BURGLARY`` (to early 2023) and the
#: ``RES BURGLARY ...`` / ``BURGLARY - RESIDENTIAL`` subgroups after it are a change of
#: classification, not of spelling, and are left as they are.
SUBGROUP_RENAMES: dict[tuple[str, str], str] = {
    ("PUBLIC ORDER OFFENCES", "PUBLIC FEAR ALARM OR DISTRESS"): "PUBLIC FEAR, ALARM OR DISTRESS",
}

#: Every subgroup of the groups the series keep (newest spelling). A subgroup of these groups not
#: listed here stops the build: a rename needs a line in SUBGROUP_RENAMES, a new subgroup one here.
KEPT_SUBGROUPS: dict[str, tuple[str, ...]] = {
    "VIOLENCE AGAINST THE PERSON": (
        "DEATH SERIOUS INJURY ILLEGAL DRIVING",
        "HOMICIDE",
        "STALKING AND HARASSMENT",
        "VIOLENCE WITH INJURY",
        "VIOLENCE WITHOUT INJURY",
    ),
    "ROBBERY": ("ROBBERY OF BUSINESS PROPERTY", "ROBBERY OF PERSONAL PROPERTY"),
    "POSSESSION OF WEAPONS": ("POSSESSION OF WEAPONS",),
}

_MONTH_COLUMN = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})$")
_LOOKS_LIKE_MONTH = re.compile(r"^\d{6}(\.\d+)?$")


def _key(name: str) -> str:
    """Matching key for an area name: lower case, '&' read as 'and', spaces squeezed."""
    return " ".join(str(name).replace("&", " and ").split()).lower()


def _label(period: int) -> str:
    return f"{calendar.month_abbr[period % 12 + 1]} {period // 12}"


@dataclass(frozen=True)
class CrimeRelease:
    """One release: its canonical rows, its coverage (first and last month), layout and renames applied."""

    path: Path
    frame: pd.DataFrame
    first: tuple[int, int]
    last: tuple[int, int]
    layout: str
    renamed: dict[str, int] = field(default_factory=dict)

    @property
    def first_period(self) -> int:
        """First month as ``year * 12 + month - 1``."""
        return self.first[0] * 12 + self.first[1] - 1

    @property
    def last_period(self) -> int:
        """Last month as ``year * 12 + month - 1``."""
        return self.last[0] * 12 + self.last[1] - 1

    @property
    def coverage(self) -> str:
        """Coverage as text, e.g. ``Jul 2024 to Jun 2026``."""
        return f"{_label(self.first_period)} to {_label(self.last_period)}"

    @property
    def label(self) -> str:
        """The release's name in the series, e.g. ``MPS recorded crime Jul 2024 to Jun 2026``."""
        return release_label(self.first_period, self.last_period)


def release_label(first_period: int, last_period: int) -> str:
    """Name of a release by its coverage (periods are ``year * 12 + month - 1``)."""
    return f"MPS recorded crime {_label(first_period)} to {_label(last_period)}"


def _header(path: Path) -> list[str]:
    """The header row's fields, stripped (read as text, so a repeated month column stays visible)."""
    first = read_csv_text(path).split("\n", 1)[0]
    return [c.strip() for c in next(csv.reader([first]), [])]


def is_recorded_crime_file(path: Path) -> bool:
    """True when a file's header marks it as a recorded-crime release.

    That is a CSV whose header has a ``YYYYMM``-like column, or starts with the group, subgroup
    and area columns of a known layout. Such a file is parsed, and an error in it stops the
    build. Raises DataError for a CSV that cannot be read as text (it might be a release).
    """
    path = Path(path)
    if path.suffix.lower() not in {".csv", ".gz"}:
        return False
    header = [c.lower() for c in _header(path)]
    starts = any(header[:3] == [c.lower() for c in cols] for cols in LAYOUTS.values())
    return starts or any(_LOOKS_LIKE_MONTH.match(c) for c in header)


def _layout(path: Path, columns: list[str]) -> tuple[str, tuple[str, str, str]]:
    lowered = [c.lower() for c in columns[:3]]
    for name, cols in LAYOUTS.items():
        if lowered == [c.lower() for c in cols]:
            return name, (columns[0], columns[1], columns[2])
    expected = " or ".join(f"'{name}'" for name in LAYOUTS)
    shown = ", ".join(columns[:3])
    raise DataError(
        path,
        f"unknown header layout '{shown}': a recorded-crime release starts with {expected}, then one column per month (YYYYMM)",
        row=1,
        column=columns[0] if columns else None,
    )


def _months(path: Path, columns: list[str]) -> list[int]:
    """Month columns as periods (``year * 12 + month - 1``): valid, in order, without gaps or repeats."""
    if not columns:
        raise DataError(path, "has no month columns (YYYYMM) after the group, subgroup and area columns", row=1)
    periods: list[int] = []
    for column in columns:
        match = _MONTH_COLUMN.match(column)
        if match is None and re.fullmatch(r"\d{6}\.\d+", column):
            raise DataError(path, f"month {column.split('.')[0]} has two columns", row=1, column=column.split(".")[0])
        if match is None or not 1 <= int(match["month"]) <= 12 or not 1990 <= int(match["year"]) <= 2100:
            raise DataError(path, f"'{column}' is not a month column (YYYYMM)", row=1, column=column)
        period = int(match["year"]) * 12 + int(match["month"]) - 1
        if periods and period != periods[-1] + 1:
            what = "a month is missing" if period > periods[-1] else "months out of order"
            raise DataError(path, f"month columns go from {_label(periods[-1])} to {_label(period)}: {what}", row=1, column=column)
        periods.append(period)
    return periods


def _areas(path: Path, names: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
    """(ONS name or the file's name of a non-borough place, ONS code or '') for each row."""
    boroughs = {_key(name): (name, code) for code, name in LONDON_AUTHORITIES.items() if code != CITY_OF_LONDON}
    places = {_key(name): (name, "") for name in NON_BOROUGH_PLACES}
    known = boroughs | places
    found = names.map({name: known.get(_key(name)) for name in names.unique()})  # a few dozen distinct names
    missing = found.isna()
    if missing.any():
        row = int(missing.idxmax())
        name = names.at[row]
        if _key(name) == _key(LONDON_AUTHORITIES[CITY_OF_LONDON]):
            problem = f"'{name}' is policed by the City of London Police and is never in the Met's recorded crime"
        else:
            problem = f"'{name}' is neither a London borough policed by the Met nor a known non-borough place ({', '.join(NON_BOROUGH_PLACES)})"
        raise DataError(path, problem, row=row, column=column)
    return found.map(lambda f: f[0]), found.map(lambda f: f[1])


def _offence_names(path: Path, raw: pd.DataFrame, group_col: str, subgroup_col: str) -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """Groups and subgroups (spaces squeezed, renames applied); the renames applied with their row counts."""
    def squeezed(column: str) -> pd.Series:  # spaces squeezed, upper case; computed once per distinct name
        return raw[column].map({name: " ".join(name.split()).upper() for name in raw[column].unique()})

    group, subgroup = squeezed(group_col), squeezed(subgroup_col)
    for column, values in ((group_col, group), (subgroup_col, subgroup)):
        empty = values == ""
        if empty.any():
            raise DataError(path, "empty offence name", row=int(empty.idxmax()), column=column)
    renamed: dict[str, int] = {}
    for (old_group, old), new in SUBGROUP_RENAMES.items():
        hit = (group == old_group) & (subgroup == old)
        if hit.any():
            subgroup = subgroup.where(~hit, new)
            renamed[f"{old_group} / {old} -> {new}"] = int(hit.sum())
    known = {(g, s) for g, subgroups in KEPT_SUBGROUPS.items() for s in subgroups}
    pairs = pd.MultiIndex.from_arrays([group, subgroup])
    unknown = group.isin(list(KEPT_SUBGROUPS)) & ~pd.Series(pairs.isin(list(known)), index=raw.index)
    if unknown.any():
        row = int(unknown.idxmax())
        raise DataError(
            path,
            f"unknown subgroup '{raw.at[row, subgroup_col]}' of {group.at[row]} (renamed? add it to SUBGROUP_RENAMES in analysis/data/parse_recorded_crime.py)",
            row=row,
            column=subgroup_col,
        )
    return group, subgroup, renamed


def parse_recorded_crime(path: Path) -> CrimeRelease:
    """Parse one release into the canonical long frame: one row per group × subgroup × area × month.

    Returns a CrimeRelease whose frame has the columns of ``schemas.RECORDED_CRIME`` (``offences``
    = offences recorded in the month, a count) indexed by source line. Cells of 0 are left out:
    a row a release lacks counts as 0 anyway (see ``derive_crime``).
    """
    path = Path(path)
    raw = read_csv(path, whole_rows=True, numbers=True)
    columns = list(raw.columns)
    layout, (group_col, subgroup_col, area_col) = _layout(path, columns)
    month_cols = columns[3:]
    periods = _months(path, month_cols)
    for column in (group_col, subgroup_col, area_col):
        raw[column] = raw[column].astype(str)
    group, subgroup, renamed = _offence_names(path, raw, group_col, subgroup_col)
    area, area_code = _areas(path, raw[area_col], area_col)
    keys = pd.DataFrame({"group": group, "subgroup": subgroup, "area": area})
    repeated = keys.duplicated(keep="first")
    if repeated.any():
        row = int(repeated.idxmax())
        first = int(keys.index[(keys == keys.loc[row]).all(axis=1)][0])
        raise DataError(
            path,
            f"repeats {group.at[row]} / {subgroup.at[row]} / {area.at[row]} (first on row {first})",
            row=row,
            column=area_col,
        )

    counts = numeric_block(raw, month_cols, path).to_numpy()
    for bad, problem in ((~np.isfinite(counts) | (counts % 1 != 0), "is not a whole number"), (counts < 0, "is negative")):
        if bad.any():
            i, j = np.argwhere(bad)[0]
            row = int(raw.index[i])
            raise DataError(path, f"count '{raw.iat[i, j + 3]}' {problem}", row=row, column=month_cols[j])

    nonzero = counts != 0
    rows, cols = np.nonzero(nonzero)
    month_periods = np.asarray(periods)[cols]
    frame = pd.DataFrame(
        {
            "release": release_label(periods[0], periods[-1]),
            "group": group.to_numpy()[rows],
            "subgroup": subgroup.to_numpy()[rows],
            "area": area.to_numpy()[rows],
            "area_code": area_code.to_numpy()[rows],
            "year": month_periods // 12,
            "month": month_periods % 12 + 1,
            "offences": counts[nonzero].astype(np.int64),
        },
        index=raw.index.to_numpy()[rows],
    )
    frame = frame.astype({"year": int, "month": int})
    schemas.validate(frame, schemas.RECORDED_CRIME, path)
    first, last = (periods[0] // 12, periods[0] % 12 + 1), (periods[-1] // 12, periods[-1] % 12 + 1)
    return CrimeRelease(path=path, frame=frame, first=first, last=last, layout=layout, renamed=renamed)


def find_crime_releases(folder: Path, required: Iterable[Path] = ()) -> tuple[list[CrimeRelease], dict[str, str]]:
    """Parse every recorded-crime release in ``folder``, oldest last month first; say which files were left out.

    Releases are recognised by their header (:func:`is_recorded_crime_file`), so a new release
    needs no code change; files in ``required`` (those the manifest lists) are always parsed.
    A file recognised as a release that fails to parse is an error, never skipped. Returns the
    releases (sorted by last month, then first month, then file name) and ``{file name: why it
    was ignored}`` for every other file.
    """
    return find_releases(folder, required, is_recorded_crime_file, parse_recorded_crime, what="recorded-crime", header="YYYYMM month columns")
