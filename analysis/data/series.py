"""Access to the committed tidy series under ``data/series/`` (found through the package, never the cwd).

Every function returns a fresh DataFrame (a copy the caller may change). Files, and the tables
derived from them here, are cached per file version: the modification time and size of each file
a result is read from (for a selection by area, ``areas.csv`` too) are part of its cache key, so a
changed file is read again.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.errors import ParameterError
from analysis.core.paths import PUBLISHED_FIGURES, SERIES_DIR
from analysis.data import schemas
from analysis.data.published import read_published

LONDON = "London"
LONDON_CODE = "E12000007"

# Method groups used in charts (the open data's six methods, folded to three plus unknown).
METHOD_GROUPS: dict[str, str] = {
    "Knife or sharp implement": "Knife or sharp implement",
    "Shooting": "Shooting",
    "Blunt implement": "Other methods",
    "Physical assault, no weapon": "Other methods",
    "Other methods": "Other methods",
    "Not known / not recorded": "Not known",
}


@functools.lru_cache(maxsize=32)
def _read_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def _read(name: str, series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """A fresh copy of one series file; parsed once per file version (path, mtime and size key the cache)."""
    path = Path(series_dir) / name
    stat = path.stat()
    return _read_cached(str(path), stat.st_mtime_ns, stat.st_size).copy()


def path_stamp(path: Path | str) -> tuple[int, int]:
    """``(mtime_ns, size)`` of a file: a key for caches of values derived from it."""
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_size


def file_stamp(name: str, series_dir: Path = SERIES_DIR) -> tuple[int, int]:
    """``(mtime_ns, size)`` of one series file: a key for caches of values derived from it."""
    return path_stamp(os.path.join(series_dir, name))  # called per sentence: no Path objects


def selection_stamp(name: str, series_dir: Path = SERIES_DIR) -> tuple[tuple[int, int], tuple[int, int]]:
    """The stamps a selection by area depends on: the file read, and ``areas.csv`` (names to codes)."""
    return file_stamp(name, series_dir), file_stamp("areas.csv", series_dir)


def areas(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """London and its 33 local authorities: ``area_code, area, level, policed_by_met``."""
    return _read("areas.csv", series_dir)


def area_code(area: str, series_dir: Path = SERIES_DIR) -> str:
    """ONS code of an area given by its ONS name (case and '&'/'and' insensitive); ParameterError if unknown."""
    codes = _area_codes(Path(series_dir), file_stamp("areas.csv", series_dir))
    key = _name_key(area)
    if key not in codes:
        raise ParameterError(f"unknown area '{area}'")
    return codes[key]


@functools.lru_cache(maxsize=8)
def _area_codes(series_dir: Path, stamp: tuple[int, int]) -> dict[str, str]:
    table = areas(series_dir)
    return {_name_key(name): str(code) for name, code in zip(table["area"], table["area_code"])}


def _name_key(name: str) -> str:
    return " ".join(str(name).replace("&", " and ").lower().split())


def homicide_annual(area: str = LONDON, series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Annual homicide victims and recorded homicide offences for one area, indexed by year.

    Two measures side by side, never mixed (one offence can have several victims):

    * victims: ``victims, victims_under_25, victims_13_19`` (counts), ``victims_months`` (12 for a
      whole year), ``victims_source`` (``open data`` or ``published``) and ``victims_release``;
    * offences: ``offences`` (MPS recorded crime, homicide subgroup; a count), ``offences_months``
      and ``offences_release`` (the recorded-crime releases used, joined by '; ').

    A year covered by only one measure has the other's counts and months missing (``<NA>``) and
    its text columns empty (''): victims end in 2025 (London, published) or March 2024
    (boroughs); offences run from April 2010.
    """
    return _homicide_annual(area, Path(series_dir), selection_stamp("homicide_annual.csv", series_dir)).copy()


@functools.lru_cache(maxsize=64)
def _homicide_annual(area: str, series_dir: Path, stamp: tuple) -> pd.DataFrame:
    code = area_code(area, series_dir)
    table = _read("homicide_annual.csv", series_dir)
    table = table[table["area_code"] == code].set_index("year").sort_index()
    for column in ("victims", "victims_under_25", "victims_13_19", "victims_months", "offences", "offences_months"):
        table[column] = table[column].astype("Int64")
    for column in ("victims_source", "victims_release", "offences_release"):
        table[column] = table[column].fillna("").astype(str)
    return table.drop(columns=["area_code"])


def population(area: str = LONDON, series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """ONS mid-year population for one area, indexed by year (persons; ``population`` empty where ages 85+ were not published)."""
    return _population(area, Path(series_dir), selection_stamp("population.csv", series_dir)).copy()


@functools.lru_cache(maxsize=64)
def _population(area: str, series_dir: Path, stamp: tuple) -> pd.DataFrame:
    code = area_code(area, series_dir)
    table = _read("population.csv", series_dir)
    return table[table["area_code"] == code].set_index("year").sort_index().drop(columns=["area_code"])


def population_for(years: list[int] | pd.Index, area: str = LONDON, series_dir: Path = SERIES_DIR, column: str = "population") -> pd.DataFrame:
    """Denominator for each year: the same year's mid-year estimate, else the latest earlier one carried forward.

    Returns a frame indexed by year with ``population`` (persons), ``population_year`` (the
    mid-year actually used) and ``carried_forward`` (True where it is not the same year).
    """
    stamp = selection_stamp("population.csv", series_dir)
    return _population_for(tuple(int(y) for y in years), area, Path(series_dir), column, stamp).copy()


@functools.lru_cache(maxsize=1024)
def _population_for(years: tuple[int, ...], area: str, series_dir: Path, column: str, stamp: tuple) -> pd.DataFrame:
    known_years, values = _population_column(area, series_dir, column, stamp)
    asked = np.asarray(years, dtype=np.int64)
    at = np.searchsorted(known_years, asked, side="right") - 1  # the latest estimate at or before each year
    found = at >= 0  # all False when the column holds no estimate at all
    at = np.maximum(at, 0)
    used = np.where(found, known_years[at], 0) if len(known_years) else np.zeros_like(asked)
    population = np.where(found, values[at], np.nan) if len(known_years) else np.full(len(asked), np.nan)
    return pd.DataFrame({
        "population": population,
        "population_year": pd.arrays.IntegerArray(used, ~found),  # <NA> where no estimate was used
        "carried_forward": found & (used != asked),
    }, index=pd.Index(asked, name="year"))


@functools.lru_cache(maxsize=256)
def _population_column(area: str, series_dir: Path, column: str, stamp: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The years (sorted) with an estimate in ``column`` and those estimates, as arrays."""
    pop = population(area, series_dir)[column].dropna().sort_index()
    return pop.index.to_numpy(dtype=np.int64), pop.to_numpy(dtype=float)


def breakdown(area: str, dimension: str, ages: str = "all", series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Victims by one dimension (``method``, ``sex``, ``age_band``…) per year: a wide table, years × categories.

    Covers the years with open data only (published-only years have no breakdowns); categories
    with no victims in a year are 0. Counts are victims.
    """
    stamps = (*selection_stamp("homicide_breakdowns.csv", series_dir), file_stamp("homicide_monthly.csv", series_dir))
    return _breakdown(area, dimension, ages, Path(series_dir), stamps).copy()


@functools.lru_cache(maxsize=256)
def _breakdown(area: str, dimension: str, ages: str, series_dir: Path, stamps: tuple) -> pd.DataFrame:
    code = area_code(area, series_dir)
    table = _read("homicide_breakdowns.csv", series_dir)
    years = sorted(_read("homicide_monthly.csv", series_dir)["year"].unique())
    rows = table[(table["area_code"] == code) & (table["dimension"] == dimension) & (table["ages"] == ages)]
    categories = {
        "method": schemas.METHODS,
        "sex": schemas.SEXES,
        "age_band": schemas.AGE_BANDS,
        "domestic_abuse": schemas.DOMESTIC,
        "ethnicity": schemas.ETHNICITIES,
        "offence_type": schemas.OFFENCES,
        "solved_status": schemas.SOLVED,
    }.get(dimension)
    if categories is None:
        raise ParameterError(f"unknown breakdown dimension '{dimension}'")
    wide = rows.pivot_table(index="year", columns="category", values="victims", aggfunc="sum", fill_value=0)
    wide = wide.reindex(index=years, columns=list(categories), fill_value=0).fillna(0).astype(int)
    wide.index.name = "year"
    wide.columns.name = None
    return wide


def monthly(area: str = LONDON, series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Monthly victims for one area: ``year, month, victims, victims_under_25`` with a ``period`` (first of the month)."""
    return _monthly(area, Path(series_dir), selection_stamp("homicide_monthly.csv", series_dir)).copy()


@functools.lru_cache(maxsize=64)
def _monthly(area: str, series_dir: Path, stamp: tuple) -> pd.DataFrame:
    code = area_code(area, series_dir)
    table = _read("homicide_monthly.csv", series_dir)
    table = table[table["area_code"] == code].drop(columns=["area_code"]).reset_index(drop=True)
    table["period"] = pd.to_datetime({"year": table["year"], "month": table["month"], "day": 1})
    return table


def revisions(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """London annual totals as each victims release gave them (``year, release, victims, …``)."""
    return _read("homicide_revisions.csv", series_dir)


def met_workforce(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Met workforce, long: ``date, worker_type, measure, value, basis, period_type, source_type, source``."""
    return _met_workforce(Path(series_dir), file_stamp("met_workforce.csv", series_dir)).copy()


@functools.lru_cache(maxsize=4)
def _met_workforce(series_dir: Path, stamp: tuple[int, int]) -> pd.DataFrame:
    table = _read("met_workforce.csv", series_dir)
    table["date"] = pd.to_datetime(table["date"])
    return table


def met_arrests(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Met arrests for notifiable offences by financial year (``financial_year, year_ending, arrests, source``)."""
    return _read("met_arrests.csv", series_dir)


def published() -> pd.DataFrame:
    """The cited table of figures known only from publications (a fresh copy; read and validated
    once per version of the file)."""
    return _published(path_stamp(PUBLISHED_FIGURES)).copy()


@functools.lru_cache(maxsize=2)
def _published(stamp: tuple[int, int]) -> pd.DataFrame:
    return read_published(PUBLISHED_FIGURES)


def warm(series_dir: Path = SERIES_DIR) -> None:
    """Read every committed series file and both cited tables once, into the caches keyed by each
    file's stamp (the kernels' zygote calls this through ``analysis.stories.warmup``). Returns nothing."""
    for path in sorted(Path(series_dir).glob("*.csv")):
        _read(path.name, series_dir)
    published()
    caveats()


def caveats() -> pd.DataFrame:
    """The cited table of caveats explaining figures from outside the data (``data/caveats.csv``)."""
    from analysis.data.caveats import CAVEATS_FILE

    return _caveats(path_stamp(CAVEATS_FILE)).copy()


@functools.lru_cache(maxsize=2)
def _caveats(stamp: tuple[int, int]) -> pd.DataFrame:
    from analysis.data.caveats import read_caveats

    return read_caveats()


def all_annual(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """The whole annual homicide table, every area (long: ``year, area_code, area, victims, …``)."""
    return _read("homicide_annual.csv", series_dir)


def all_population(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """The whole population table, every area (long: ``year, area_code, area, population, …``)."""
    return _read("population.csv", series_dir)


def recorded_crime(area: str = LONDON, group: str | None = None, subgroup: str | None = None, series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Monthly recorded offences for one area, with 0 for every month of the covered span without any.

    ``area`` is London, a borough (ONS name), or a place in London but in no borough as the MPS
    names it (``Unknown``, ``London Heathrow and London City Airports``). ``group`` (e.g.
    ``VIOLENCE AGAINST THE PERSON``) and ``subgroup`` (e.g. ``HOMICIDE``) narrow the offences
    (case-insensitive); None sums over every group or subgroup the series keeps. Returns ``year,
    month, period`` (first of the month), ``offences`` (offences recorded in the month, a count)
    and ``release`` (the MPS release the month is taken from), from the first to the last month
    of ``recorded_crime_monthly.csv``.
    """
    stamps = selection_stamp("recorded_crime_monthly.csv", series_dir)
    return _recorded_crime(area, group, subgroup, Path(series_dir), stamps).copy()


@functools.lru_cache(maxsize=256)
def _recorded_crime(area: str, group: str | None, subgroup: str | None, series_dir: Path, stamps: tuple) -> pd.DataFrame:
    table, releases, places = _recorded_crime_file(series_dir, stamps[0])
    if _name_key(area) in places:
        rows = table[(table["area_code"] == "") & (table["area"] == places[_name_key(area)])]
    else:
        code = area_code(area, series_dir)
        rows = table[table["area_code"] == code]
        if rows.empty:
            raise ParameterError(f"'{area}' is not in the Met's recorded crime (the City of London has its own police force)")
    for column, value in (("offence_group", group), ("offence_subgroup", subgroup)):
        if value is None:
            continue
        known = sorted(table[column].unique())
        if str(value).upper() not in known:
            raise ParameterError(f"unknown {column.replace('_', ' ')} '{value}' (known: {', '.join(known)})")
        rows = rows[rows[column] == str(value).upper()]
        table = table[table[column] == str(value).upper()]  # so a subgroup is looked up within its group
    months = releases.index
    counts = rows.groupby(["year", "month"])["offences"].sum().reindex(months, fill_value=0)
    out = pd.DataFrame({"offences": counts.astype(int), "release": releases}).reset_index()
    out.insert(2, "period", pd.to_datetime({"year": out["year"], "month": out["month"], "day": 1}))
    return out


@functools.lru_cache(maxsize=2)
def _recorded_crime_file(series_dir: Path, stamp: tuple[int, int]) -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
    """The recorded-crime table (area codes '' where the MPS names a place in no borough), the
    release each month is taken from, and those places by name key: read once per file version,
    never changed by callers (each call of ``_recorded_crime`` selects from it)."""
    table = _read("recorded_crime_monthly.csv", series_dir)
    table["area_code"] = table["area_code"].fillna("")
    releases = table.groupby(["year", "month"])["release"].first()  # one release a month (the release rule)
    places = {_name_key(a): a for a in table.loc[table["area_code"] == "", "area"].unique()}
    return table, releases, places


def recorded_crime_revisions(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """Every month × area × subgroup where two recorded-crime releases disagree, one row per release
    (``year, month, area_code, area, offence_group, offence_subgroup, release, offences, used_in_series``)."""
    table = _read("recorded_crime_revisions.csv", series_dir)
    table["area_code"] = table["area_code"].fillna("")
    return table


def homicide_rates_ons(series_dir: Path = SERIES_DIR) -> pd.DataFrame:
    """ONS homicide offences per million population a year, 3-year periods, every force, region and
    country, every vintage (``period_start, period_end, area_code, area, geography, rate_per_million,
    vintage, note``; dates as Timestamps; the rate is missing where ONS gives none)."""
    return _homicide_rates_ons(Path(series_dir), file_stamp("homicide_rates_ons.csv", series_dir)).copy()


@functools.lru_cache(maxsize=4)
def _homicide_rates_ons(series_dir: Path, stamp: tuple[int, int]) -> pd.DataFrame:
    table = _read("homicide_rates_ons.csv", series_dir)
    table["note"] = table["note"].fillna("")
    table["vintage"] = table["vintage"].astype(str)
    for column in ("period_start", "period_end"):
        table[column] = pd.to_datetime(table[column])
    return table
