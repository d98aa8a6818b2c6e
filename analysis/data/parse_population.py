"""Parsers for the ONS mid-year population estimates, in the three layouts the series spans.

* nomis region extract (``pop_region_*.csv``): wide, one row per age (``All Ages``, ``Age 0`` …
  ``Aged 90+``) and region name, one column per year;
* nomis local-authority extract (``la_pop_estimates.csv``): long, ``name, code, year, Age 0 … Aged 90+``;
* ONS "MYE2 – Persons" table (``.xls``, ``.xlsx`` or its CSV export): ``Code, Name, Geography,
  All ages, 0 … 90+``, one file per mid-year.

Each returns rows for London (E12000007) and its boroughs (E09…) with the columns of
``schemas.POPULATION_ROWS``: population (all ages), under 25 (ages 0–24) and 13–19.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.core.errors import DataError
from analysis.data import schemas
from analysis.data.readers import numeric_block, numeric_column, read_csv, read_sheet, require_columns

LONDON_CODE = "E12000007"
LONDON_NAME = "London"
BASIS_2011 = "pre-Census 2021 series (rolled forward from earlier censuses)"
BASIS_2021 = "based on Census 2021"
CENSUS_BREAK_YEAR = 2021  # first year of the Census 2021-based series

#: The 33 London local authorities (E09), as named in the ONS Register of Geographic Codes
#: (https://geoportal.statistics.gov.uk, "Register of Geographic Codes"); codes and names have been
#: stable since 2009. Every population file's names are checked against it, so a misspelt name is
#: reported in the file that misspells it, not later as an "unknown borough" in the victims file.
LONDON_AUTHORITIES: dict[str, str] = {
    "E09000001": "City of London", "E09000002": "Barking and Dagenham", "E09000003": "Barnet",
    "E09000004": "Bexley", "E09000005": "Brent", "E09000006": "Bromley", "E09000007": "Camden",
    "E09000008": "Croydon", "E09000009": "Ealing", "E09000010": "Enfield", "E09000011": "Greenwich",
    "E09000012": "Hackney", "E09000013": "Hammersmith and Fulham", "E09000014": "Haringey",
    "E09000015": "Harrow", "E09000016": "Havering", "E09000017": "Hillingdon", "E09000018": "Hounslow",
    "E09000019": "Islington", "E09000020": "Kensington and Chelsea", "E09000021": "Kingston upon Thames",
    "E09000022": "Lambeth", "E09000023": "Lewisham", "E09000024": "Merton", "E09000025": "Newham",
    "E09000026": "Redbridge", "E09000027": "Richmond upon Thames", "E09000028": "Southwark",
    "E09000029": "Sutton", "E09000030": "Tower Hamlets", "E09000031": "Waltham Forest",
    "E09000032": "Wandsworth", "E09000033": "Westminster",
}

UNDER_25_AGES = range(0, 25)
TEEN_AGES = range(13, 20)


def _basis(year: int) -> str:
    return BASIS_2021 if year >= CENSUS_BREAK_YEAR else BASIS_2011


def _age_columns(columns: list[str], pattern: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for column in columns:
        match = re.fullmatch(pattern, column.strip(), flags=re.IGNORECASE)
        if match:
            found[int(match.group(1))] = column
    return found


def _check_ages(path: Path, ages: dict[int, str], needed: range) -> None:
    missing = [a for a in needed if a not in ages]
    if missing:
        raise DataError(path, f"has no column for age {missing[0]}", column=f"age {missing[0]}")


def parse_nomis_region(path: Path, *, vintage: str) -> pd.DataFrame:
    """London rows of the nomis single-year-of-age region extract, one per year.

    Total population is the ``All Ages`` row (ages 85+ are ``-`` for 1991–2000, so single ages
    do not sum to it then); under-25 and 13–19 are sums of single ages, complete in every year.
    """
    path = Path(path)
    raw = read_csv(path)
    cols = require_columns(raw, path, {"age": ("Age",), "region": ("region", "Region")})
    london = raw[raw[cols["region"]].str.strip().str.lower() == LONDON_NAME.lower()]
    if london.empty:
        raise DataError(path, f"has no rows for region '{LONDON_NAME}'", column=cols["region"])
    years = [c for c in raw.columns if re.fullmatch(r"\d{4}", c)]
    if not years:
        raise DataError(path, "has no year columns (e.g. '2020')")
    age_keys = london[cols["age"]].str.strip().str.lower()
    ages = london.set_index(age_keys)
    wanted = {"all ages", *(f"age {a}" for a in range(25))}
    absent = sorted(wanted - set(ages.index))
    if absent:
        raise DataError(path, f"has no London row for '{absent[0]}'", column=cols["age"])
    all_ages_line = int(age_keys.index[age_keys == "all ages"][0])
    rows = []
    for year in years:
        values = numeric_column(london, year, path, allow_missing=True)
        values.index = ages.index
        total = values.get("all ages")
        if pd.isna(total):
            raise DataError(path, "London 'All Ages' is missing", row=all_ages_line, column=year)
        under_25 = values[[f"age {a}" for a in UNDER_25_AGES]]
        if under_25.isna().any():
            raise DataError(path, "London ages 0-24 are incomplete", column=year)
        rows.append(
            {
                "year": int(year),
                "area_code": LONDON_CODE,
                "area": LONDON_NAME,
                "population": float(total),
                "population_under_25": float(under_25.sum()),
                "population_13_19": float(values[[f"age {a}" for a in TEEN_AGES]].sum()),
                "vintage": vintage,
                "basis": _basis(int(year)),
                "note": "",
            }
        )
    frame = pd.DataFrame(rows, index=[all_ages_line] * len(rows))  # indexed by the 'All Ages' line
    return schemas.validate(frame, schemas.POPULATION_ROWS, path)


def parse_nomis_local_authorities(path: Path, *, vintage: str, area_codes: dict[str, str]) -> pd.DataFrame:
    """Borough rows (codes in ``area_codes``, code -> ONS name) of the nomis local-authority extract.

    The file has no all-ages column: the total is the sum of single ages. Where ages 85+ are
    missing (1997–2000) the total is left empty and the note says so; under-25s are complete.
    """
    path = Path(path)
    raw = read_csv(path)
    cols = require_columns(raw, path, {"name": ("name",), "code": ("code",), "year": ("year",)})
    ages = _age_columns(list(raw.columns), r"age (\d+)")
    _check_ages(path, ages, range(0, 90))
    top = next((c for c in raw.columns if re.fullmatch(r"aged 90\+", c.strip(), flags=re.IGNORECASE)), None)
    if top is None:
        raise DataError(path, "has no column for ages 90+", column="Aged 90+")
    boroughs = raw[raw[cols["code"]].str.strip().isin(area_codes)]
    if boroughs.empty:
        raise DataError(path, "has no London borough rows (codes E09…)", column=cols["code"])
    numbers = numeric_block(boroughs, list(ages.values()), path, allow_missing=True).set_axis(list(ages), axis=1)
    numbers[90] = numeric_column(boroughs, top, path, allow_missing=True)
    incomplete = numbers.isna().any(axis=1)
    if numbers.loc[:, list(UNDER_25_AGES)].isna().any().any():
        row = int(numbers.loc[:, list(UNDER_25_AGES)].isna().any(axis=1).idxmax())
        raise DataError(path, "ages 0-24 are incomplete", row=row)
    years = numeric_column(boroughs, cols["year"], path).astype(int)
    codes = boroughs[cols["code"]].str.strip()
    out = pd.DataFrame(
        {
            "year": years,
            "area_code": codes,
            "area": codes.map(area_codes),
            "population": numbers.sum(axis=1).where(~incomplete).astype(float),
            "population_under_25": numbers.loc[:, list(UNDER_25_AGES)].sum(axis=1).astype(float),
            "population_13_19": numbers.loc[:, list(TEEN_AGES)].sum(axis=1).astype(float),
            "vintage": vintage,
            "basis": years.map(_basis),
            "note": incomplete.map({True: "total not available: ages 85+ not published for this year", False: ""}),
        }
    )
    return schemas.validate(out, schemas.POPULATION_ROWS, path)  # indexed by source line


def _mye2_from_rows(rows: list[list[object]], path: Path) -> tuple[pd.DataFrame, int | None]:
    header_at = next(
        (i for i, r in enumerate(rows) if r and str(r[0]).strip() == "Code" and any(str(c).strip().lower() == "all ages" for c in r)),
        None,
    )
    if header_at is None:
        raise DataError(path, "has no header row starting 'Code' with an 'All ages' column")
    title = " ".join(str(c) for r in rows[:header_at] for c in r if c)
    match = re.search(r"mid-(\d{4})", title, flags=re.IGNORECASE)
    header = [str(c).strip() for c in rows[header_at]]
    body = [[("" if v is None else str(v)) for v in r] for r in rows[header_at + 1 :] if any(str(v).strip() for v in r)]
    frame = pd.DataFrame(body, columns=header, index=pd.RangeIndex(header_at + 2, header_at + 2 + len(body)))
    return frame, int(match.group(1)) if match else None


def _year_from_name(path: Path) -> int | None:
    name = path.name.lower()
    match = re.search(r"mid-?(\d{4})", name) or re.search(r"mye(\d{2})(?!\d)", name)
    if not match:
        return None
    year = int(match.group(1))
    return year + 2000 if year < 100 else year


def parse_ons_mye2(path: Path, *, vintage: str, area_codes: dict[str, str], year: int | None = None) -> pd.DataFrame:
    """London and borough rows of an ONS "MYE2 – Persons" table (.xls, .xlsx, or its CSV export).

    The mid-year is taken from ``year``, else the sheet's title ("… mid-2021"), else the file name
    (``mye24…`` → 2024). Returns one row per area for that year.
    """
    path = Path(path)
    if path.suffix.lower() in {".xls", ".xlsx", ".ods"}:
        frame, title_year = _mye2_from_rows(read_sheet(path, contains="MYE2 - Persons"), path)
    else:
        frame, title_year = read_csv(path), None
    year = year or title_year or _year_from_name(path)
    if year is None:
        raise DataError(path, "cannot tell which mid-year it estimates (no 'mid-YYYY' title, no year in the file name)")
    cols = require_columns(frame, path, {"code": ("Code",), "name": ("Name",), "all ages": ("All ages", "All Ages")})
    ages = _age_columns(list(frame.columns), r"(\d+)")
    _check_ages(path, ages, range(0, 25))
    codes = frame[cols["code"]].str.strip()
    wanted = frame[codes.isin([LONDON_CODE, *area_codes])]
    if LONDON_CODE not in set(wanted[cols["code"]].str.strip()):
        raise DataError(path, f"has no row for London ({LONDON_CODE})", column=cols["code"])
    codes = wanted[cols["code"]].str.strip()
    out = pd.DataFrame(
        {
            "year": year,
            "area_code": codes,
            "area": codes.map({LONDON_CODE: LONDON_NAME, **area_codes}),
            "population": numeric_column(wanted, cols["all ages"], path).astype(float),
            "population_under_25": sum(numeric_column(wanted, ages[a], path) for a in UNDER_25_AGES).astype(float),
            "population_13_19": sum(numeric_column(wanted, ages[a], path) for a in TEEN_AGES).astype(float),
            "vintage": vintage,
            "basis": _basis(year),
            "note": "",
        }
    )
    return schemas.validate(out, schemas.POPULATION_ROWS, path)


def london_boroughs(path: Path) -> dict[str, str]:
    """ONS codes and names of the 33 London local authorities (E09…), read from an MYE2 table.

    Returns ``{code: name}`` with ONS spellings (e.g. ``Kingston upon Thames``), sorted by code.
    """
    path = Path(path)
    if path.suffix.lower() in {".xls", ".xlsx", ".ods"}:
        frame, _ = _mye2_from_rows(read_sheet(path, contains="MYE2 - Persons"), path)
    else:
        frame = read_csv(path)
    cols = require_columns(frame, path, {"code": ("Code",), "name": ("Name",)})
    rows = frame[frame[cols["code"]].str.strip().str.startswith("E09")]
    boroughs = dict(sorted(zip(rows[cols["code"]].str.strip(), rows[cols["name"]].str.strip())))
    if len(boroughs) != len(LONDON_AUTHORITIES):
        raise DataError(path, f"lists {len(boroughs)} London local authorities (E09…), expected {len(LONDON_AUTHORITIES)}", column=cols["code"])
    for line, code, name in zip(rows.index, rows[cols["code"]].str.strip(), rows[cols["name"]].str.strip()):
        expected = LONDON_AUTHORITIES.get(code)
        if expected is None:
            raise DataError(path, f"'{code}' is not a London local authority code", row=int(line), column=cols["code"])
        if " ".join(name.replace("&", " and ").split()).lower() != expected.lower():
            raise DataError(path, f"'{name}' is not the ONS name of {code} ('{expected}')", row=int(line), column=cols["name"])
    return boroughs
