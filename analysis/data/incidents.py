"""The cited table of exceptional multi-victim incidents (``data/multi_victim_incidents.csv``).

The victim records have no incident identifier: every row is one victim, so an attack that killed
thirteen people is thirteen rows. To show a series with and without such incidents (as ONS does
for its homicide figures), the few the Met recorded are kept by hand, each with its source.
``in_victim_records`` says whether the incident can be found in the open records (``yes``: its
victims are in them and are taken out by :func:`victims_in_incidents`) or not (``not
identifiable``: no borough and month holds a cluster of that size, so nothing is adjusted).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis.core.paths import DATA_DIR
from analysis.data.schemas import read_cited_table
from analysis.data.series import path_stamp

INCIDENTS_FILE = DATA_DIR / "multi_victim_incidents.csv"

INCIDENTS = pa.DataFrameSchema(
    {
        "id": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$"), unique=True),
        "date": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "area": pa.Column(str),
        "place": pa.Column(str),
        "victims": pa.Column(int, pa.Check.gt(1)),
        "recorded_by": pa.Column(str),
        "in_victim_records": pa.Column(str, pa.Check.isin(["yes", "not identifiable"])),
        "source_title": pa.Column(str, pa.Check.str_length(min_value=3)),
        "url": pa.Column(str, pa.Check.str_matches(r"^https?://")),
        "published": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{2}(-\d{2})?)?$")),
        "note": pa.Column(str),
    },
    strict=True,
    name="multi-victim incidents",
)


def read_incidents(path: Path = INCIDENTS_FILE) -> pd.DataFrame:
    """The incidents, one row each, validated; ``victims`` as int, ``year`` added (from ``date``)."""
    frame = read_cited_table(path, INCIDENTS, numbers=("victims",))
    return frame.assign(victims=frame["victims"].astype(int), year=frame["date"].str[:4].astype(int))


@functools.lru_cache(maxsize=2)
def _default_incidents(stamp: tuple[int, int]) -> pd.DataFrame:
    return read_incidents()


def victims_in_incidents(area: str, incidents: pd.DataFrame | None = None) -> pd.Series:
    """Victims of the incidents found in the open records, per year, for ``area`` (London counts
    every borough's); an empty series when there are none. Counts are victims."""
    if incidents is None:
        return _victims_in_default_incidents(area, path_stamp(INCIDENTS_FILE)).copy()
    return _victims_by_year(incidents, area)


@functools.lru_cache(maxsize=64)
def _victims_in_default_incidents(area: str, stamp: tuple[int, int]) -> pd.Series:
    return _victims_by_year(_default_incidents(stamp), area)


def _victims_by_year(table: pd.DataFrame, area: str) -> pd.Series:
    found = table[table["in_victim_records"] == "yes"]
    if area != "London":
        found = found[found["area"] == area]
    return found.groupby("year")["victims"].sum().astype(int)


def incident_places(area: str) -> dict[int, list[str]]:
    """Where the incidents found in the open records happened, by year, for ``area`` (London: every borough)."""
    return {year: list(places) for year, places in _incident_places(area, path_stamp(INCIDENTS_FILE)).items()}


@functools.lru_cache(maxsize=64)
def _incident_places(area: str, stamp: tuple[int, int]) -> dict[int, tuple[str, ...]]:
    table = _default_incidents(stamp)
    found = table[table["in_victim_records"] == "yes"]
    if area != "London":
        found = found[found["area"] == area]
    return {int(y): tuple(rows["place"]) for y, rows in found.groupby("year")}
