"""Parser for the MPS homicide victims file (London Datastore "MPS Homicide Dashboard Data").

Both header layouts seen in the wild are read, so a new release drops in without code changes:
``Recorded Date`` ("Jan 2003") or ``Recorded Year`` + ``Recorded Month``; ``Method of Killing`` or
``MethodofKilling``; domestic abuse coded ``Yes/No`` or ``Domestic Abuse/Not Domestic Abuse``;
``Other Method(s) of Killing``; ``Not Recorded / Unknown`` or ``Unrecorded / Unknown``.
Every category is mapped to one canonical spelling; a value never seen before is an error
naming the file, the row and the column, never silently passed on.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core.errors import DataError
from analysis.data import schemas
from analysis.data.readers import (
    find_releases,
    numeric_column,
    read_csv,
    read_csv_text,
    require_columns,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "victims": ("Count of Victims",),
    "age_band": ("Age Group",),
    "sex": ("Sex",),
    "method": ("Method of Killing", "MethodofKilling", "Method Of Killing"),
    "domestic_abuse": ("Domestic Abuse",),
    "offence_type": ("Homicide Offence Type",),
    "solved_status": ("Solved Status",),
    "borough": ("Borough",),
    "ethnicity": ("Officer Observed Ethnicity",),
}

# Raw spelling (lower case, spaces squeezed) -> canonical category.
CATEGORY_MAPS: dict[str, dict[str, str]] = {
    "age_band": {band.lower(): band for band in schemas.AGE_BANDS},
    "sex": {"male": "Male", "female": "Female", "unknown": "Unknown", "unrecorded": "Unknown"},
    "method": {
        "knife or sharp implement": "Knife or sharp implement",
        "shooting": "Shooting",
        "blunt implement": "Blunt implement",
        "physical assault, no weapon": "Physical assault, no weapon",
        "other method of killing": "Other methods",
        "other methods of killing": "Other methods",
        "not known/not recorded": "Not known / not recorded",
        "not known / not recorded": "Not known / not recorded",
    },
    "domestic_abuse": {
        "yes": "Domestic abuse",
        "domestic abuse": "Domestic abuse",
        "no": "Not domestic abuse",
        "not domestic abuse": "Not domestic abuse",
    },
    "offence_type": {o.lower(): o for o in schemas.OFFENCES},
    "solved_status": {"solved": "Solved", "unsolved": "Unsolved"},
    "ethnicity": {
        "white": "White",
        "black": "Black",
        "asian": "Asian",
        "other": "Other",
        "not recorded / unknown": "Not recorded / unknown",
        "unrecorded / unknown": "Not recorded / unknown",
    },
}

_MONTHS: dict[str, int] = {
    **{calendar.month_abbr[m].lower(): m for m in range(1, 13)},
    **{calendar.month_name[m].lower(): m for m in range(1, 13)},
    "sept": 9,
}


@dataclass(frozen=True)
class VictimsRelease:
    """One release of the victims file: its canonical rows and the months it covers."""

    path: Path
    frame: pd.DataFrame
    first: tuple[int, int]
    last: tuple[int, int]

    @property
    def label(self) -> str:
        """Coverage as text, e.g. ``Jan 2003 to Mar 2024``."""
        return (
            f"{calendar.month_abbr[self.first[1]]} {self.first[0]} to "
            f"{calendar.month_abbr[self.last[1]]} {self.last[0]}"
        )


def is_victims_file(path: Path) -> bool:
    """True when the file's header is that of a victims release (and not, say, people proceeded against).

    Raises DataError for a CSV file that cannot be read as text at all: it might be a release,
    so it is never silently left out.
    """
    if path.suffix.lower() not in {".csv", ".gz"}:
        return False
    first_line = read_csv_text(path).split("\n", 1)[0].lower()
    return "count of victims" in first_line


def _squeeze(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.replace(r"\s+", " ", regex=True).str.lower()


def _map_categories(frame: pd.DataFrame, canonical: str, actual: str, path: Path) -> pd.Series:
    mapping = CATEGORY_MAPS[canonical]
    mapped = _squeeze(frame[actual]).map(mapping)
    unknown = mapped.isna()
    if unknown.any():
        row = int(unknown.idxmax())
        raise DataError(path, f"unknown {canonical.replace('_', ' ')} '{frame.at[row, actual]}'", row=row, column=actual)
    return mapped


def _parse_month(values: pd.Series, path: Path, column: str) -> pd.Series:
    text = _squeeze(values)
    months = text.map(_MONTHS)
    numeric = pd.to_numeric(text, errors="coerce")
    months = months.fillna(numeric.where(numeric.between(1, 12)))
    bad = months.isna()
    if bad.any():
        row = int(bad.idxmax())
        raise DataError(path, f"unparseable month '{values.at[row]}'", row=row, column=column)
    return months.astype(int)


def _parse_dates(frame: pd.DataFrame, path: Path) -> tuple[pd.Series, pd.Series]:
    columns = {c.lower(): c for c in frame.columns}
    if "recorded date" in columns:
        column = columns["recorded date"]
        text = frame[column].astype(str).str.strip()
        pattern = re.compile(r"^(?P<m>[A-Za-z]+)[ \-](?P<y>\d{4})$|^(?P<y2>\d{4})-(?P<m2>\d{1,2})(-\d{1,2})?$")
        parts = text.str.extract(pattern)
        month_text = parts["m"].fillna(parts["m2"])
        year_text = parts["y"].fillna(parts["y2"])
        bad = year_text.isna()
        if bad.any():
            row = int(bad.idxmax())
            raise DataError(path, f"unparseable month '{frame.at[row, column]}'", row=row, column=column)
        return year_text.astype(int), _parse_month(month_text, path, column)
    cols = require_columns(
        frame, path, {"year": ("Recorded Year",), "month": ("Recorded Month",)}
    )
    year = numeric_column(frame, cols["year"], path)
    if not year.between(1900, 2100).all() or not (year % 1 == 0).all():
        row = int((~year.between(1900, 2100) | (year % 1 != 0)).idxmax())
        raise DataError(path, f"'{frame.at[row, cols['year']]}' is not a year", row=row, column=cols["year"])
    return year.astype(int), _parse_month(frame[cols["month"]], path, cols["month"])


def parse_victims(path: Path) -> VictimsRelease:
    """Parse one victims release into the canonical frame (one row per victim record).

    Returns a VictimsRelease whose frame has the columns of ``schemas.VICTIMS``
    (``victims`` is the count of victims on the row, normally 1), indexed by source line number.
    """
    path = Path(path)
    raw = read_csv(path)
    cols = require_columns(raw, path, COLUMNS)
    out = pd.DataFrame(index=raw.index)
    out["year"], out["month"] = _parse_dates(raw, path)
    for canonical in CATEGORY_MAPS:
        out[canonical] = _map_categories(raw, canonical, cols[canonical], path)
    out["borough"] = raw[cols["borough"]].astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    victims = numeric_column(raw, cols["victims"], path)
    bad = (victims < 1) | (victims % 1 != 0)
    if bad.any():
        row = int(bad.idxmax())
        raise DataError(path, f"count of victims '{raw.at[row, cols['victims']]}' is not a whole number >= 1", row=row, column=cols["victims"])
    out["victims"] = victims.astype(int)
    out = out[list(schemas.VICTIMS.columns)]
    schemas.validate(out, schemas.VICTIMS, path)
    periods = out["year"] * 12 + out["month"] - 1
    first, last = int(periods.min()), int(periods.max())
    return VictimsRelease(path=path, frame=out, first=(first // 12, first % 12 + 1), last=(last // 12, last % 12 + 1))


def find_victim_releases(folder: Path, required: Iterable[Path] = ()) -> tuple[list[VictimsRelease], dict[str, str]]:
    """Parse every victims release in ``folder``, newest coverage last; say which files were left out.

    Files are recognised by their header (``Count of Victims``), so a new release needs no code
    change. Files in ``required`` (those the manifest lists) are always parsed, so a listed file
    that is empty, a spreadsheet or has lost its header is an error rather than silently left
    out; so is any CSV that cannot be read as text. Returns the releases and ``{file name: why it
    was ignored}`` for every other file (people proceeded against, SOURCES.md, other formats).
    """
    return find_releases(folder, required, is_victims_file, parse_victims, what="victims", header="'Count of Victims'")
