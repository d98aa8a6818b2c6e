"""Pandera schemas for every canonical frame the parsers return and every tidy series the build writes.

``validate(frame, schema, path)`` turns pandera's report into one DataError line naming the
file, the row (where the frame carries source line numbers as its index) and the column.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis.core.errors import DataError

AGE_BANDS: tuple[str, ...] = (
    "0 to 12",
    "13 to 19",
    "20 to 24",
    "25 to 34",
    "35 to 44",
    "45 to 54",
    "55 to 64",
    "65 and over",
)
UNDER_25_BANDS: tuple[str, ...] = AGE_BANDS[:3]
TEEN_BANDS: tuple[str, ...] = ("13 to 19",)

SEXES = ("Male", "Female", "Unknown")
METHODS = (
    "Knife or sharp implement",
    "Shooting",
    "Blunt implement",
    "Physical assault, no weapon",
    "Other methods",
    "Not known / not recorded",
)
DOMESTIC = ("Domestic abuse", "Not domestic abuse")
OFFENCES = ("Murder", "Manslaughter", "Corporate manslaughter", "Infanticide")
SOLVED = ("Solved", "Unsolved")
ETHNICITIES = ("White", "Black", "Asian", "Other", "Not recorded / unknown")

WORKER_TYPES = (
    "Police officer",
    "Police staff",
    "Police community support officer",
    "Designated officer",
    "Special constable",
    "Police support volunteer",
)
MEASURES = ("FTE", "headcount")

_year = pa.Column(int, pa.Check.in_range(1900, 2100))


def _matches(pattern: str) -> pa.Check:
    """Every value matches ``pattern`` in full; each distinct value is tested once (fast on long series)."""
    compiled = re.compile(pattern)

    def check(values: pd.Series) -> pd.Series:
        return values.map({v: compiled.fullmatch(str(v)) is not None for v in values.unique()})

    return pa.Check(check, name=f"matches {pattern}")


#: Area codes of the recorded-crime series: London, a borough the Met polices (E09000002 to
#: E09000033; E09000001 is the City of London, never in the Met's data), or '' for a place in
#: London but in no borough.
_met_area_code = pa.Column(str, _matches(r"E12000007|E0900000[2-9]|E090000[12]\d|E0900003[0-3]|"))
_crime_release = pa.Column(str, _matches(r"MPS recorded crime [A-Z][a-z]{2} \d{4} to [A-Z][a-z]{2} \d{4}"))
_count = pa.Column(int, pa.Check.ge(0))

VICTIMS = pa.DataFrameSchema(
    {
        "year": _year,
        "month": pa.Column(int, pa.Check.in_range(1, 12)),
        "age_band": pa.Column(str, pa.Check.isin(AGE_BANDS)),
        "sex": pa.Column(str, pa.Check.isin(SEXES)),
        "method": pa.Column(str, pa.Check.isin(METHODS)),
        "domestic_abuse": pa.Column(str, pa.Check.isin(DOMESTIC)),
        "offence_type": pa.Column(str, pa.Check.isin(OFFENCES)),
        "solved_status": pa.Column(str, pa.Check.isin(SOLVED)),
        "borough": pa.Column(str, pa.Check.str_length(min_value=1)),
        "ethnicity": pa.Column(str, pa.Check.isin(ETHNICITIES)),
        "victims": pa.Column(int, pa.Check.ge(1)),
    },
    strict=True,
    coerce=False,
    name="MPS homicide victims (canonical)",
)

POPULATION_ROWS = pa.DataFrameSchema(
    {
        "year": _year,
        "area_code": pa.Column(str, pa.Check.str_matches(r"^[EWSNK]\d{8}$")),
        "area": pa.Column(str),
        "population": pa.Column(float, pa.Check.gt(0), nullable=True),
        "population_under_25": pa.Column(float, pa.Check.gt(0)),
        "population_13_19": pa.Column(float, pa.Check.gt(0)),
        "vintage": pa.Column(str),
        "basis": pa.Column(str),
        "note": pa.Column(str),
    },
    strict=True,
    name="ONS population (canonical)",
)

WORKFORCE_ROWS = pa.DataFrameSchema(
    {
        "year": _year,
        "worker_type": pa.Column(str, pa.Check.isin(WORKER_TYPES)),
        "measure": pa.Column(str, pa.Check.isin(MEASURES)),
        "value": pa.Column(float, pa.Check.ge(0)),
    },
    strict=True,
    name="Home Office workforce, Met (canonical)",
)

ARRESTS = pa.DataFrameSchema(
    {
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}/\d{2}$")),
        "year_ending": pa.Column(str, pa.Check.str_matches(r"^\d{4}-03-31$")),
        "arrests": _count,
    },
    strict=True,
    name="Home Office arrests, Met (canonical)",
)

RECORDED_CRIME = pa.DataFrameSchema(
    {
        "release": pa.Column(str),
        "group": pa.Column(str),
        "subgroup": pa.Column(str),
        "area": pa.Column(str),
        "area_code": _met_area_code,
        "year": _year,
        "month": pa.Column(int, pa.Check.in_range(1, 12)),
        "offences": pa.Column("int64", pa.Check.ge(1)),
    },
    strict=True,
    name="MPS recorded crime (canonical, non-zero cells)",
)

ONS_RATES = pa.DataFrameSchema(
    {
        "period_start": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "period_end": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "area_code": pa.Column(str, pa.Check.str_matches(r"^[EWSNK]\d{8}$")),
        "area": pa.Column(str, pa.Check.str_length(min_value=1)),
        "geography": pa.Column(str, pa.Check.str_length(min_value=1)),
        "rate_per_million": pa.Column(float, pa.Check.ge(0), nullable=True),
        "status": pa.Column(str),
        "vintage": pa.Column(str, pa.Check.str_length(min_value=1)),
    },
    strict=True,
    unique=["vintage", "area_code", "period_start", "period_end"],
    name="ONS homicide offences per million (canonical)",
)

PUBLISHED = pa.DataFrameSchema(
    {
        "id": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$"), unique=True),
        "series": pa.Column(str),
        "area": pa.Column(str),
        "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{2}(-\d{2})?)?$")),
        "value": pa.Column(float),
        "unit": pa.Column(str),
        "basis": pa.Column(str),
        "source_title": pa.Column(str, pa.Check.str_length(min_value=3)),
        "url": pa.Column(str, pa.Check.str_matches(r"^(https?://|seed:)")),
        "published": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{2}(-\d{2})?)?$")),
        "used_in_series": pa.Column(str, pa.Check.isin(["yes", "no"])),
        "note": pa.Column(str),
    },
    strict=True,
    name="published figures",
)

# --- tidy series as written under data/series -------------------------------------------

def _paired(measure: str, companions: tuple[str, ...]) -> pa.Check:
    """Where ``measure`` is empty so are its companions, and where it is given so are they
    (text companions are empty strings rather than missing)."""

    def check(frame: pd.DataFrame) -> pd.Series:
        given = frame[measure].notna()
        ok = pd.Series(True, index=frame.index)
        for column in companions:
            other = frame[column]
            ok &= (other.notna() & (other.astype(str) != "")) == given
        return ok

    return pa.Check(check, name=f"{measure} and {', '.join(companions)} given together")


HOMICIDE_ANNUAL = pa.DataFrameSchema(
    {
        "year": _year,
        "area_code": pa.Column(str),
        "area": pa.Column(str),
        "victims": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "victims_under_25": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "victims_13_19": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "victims_months": pa.Column("Int64", pa.Check.in_range(1, 12), nullable=True),
        "victims_source": pa.Column(str, pa.Check.isin(["open data", "published", ""])),
        "victims_release": pa.Column(str),
        "offences": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "offences_months": pa.Column("Int64", pa.Check.in_range(1, 12), nullable=True),
        "offences_release": pa.Column(str),
    },
    checks=[
        _paired("victims", ("victims_months", "victims_source", "victims_release")),
        _paired("offences", ("offences_months", "offences_release")),
    ],
    strict=True,
    ordered=True,
    unique=["year", "area_code"],
    name="homicide_annual",
)

HOMICIDE_BREAKDOWNS = pa.DataFrameSchema(
    {
        "year": _year,
        "area_code": pa.Column(str),
        "dimension": pa.Column(str),
        "category": pa.Column(str),
        "ages": pa.Column(str, pa.Check.isin(["all", "under_25"])),
        "victims": _count,
    },
    strict=True,
    unique=["year", "area_code", "dimension", "category", "ages"],
    name="homicide_breakdowns",
)

HOMICIDE_MONTHLY = pa.DataFrameSchema(
    {
        "year": _year,
        "month": pa.Column(int, pa.Check.in_range(1, 12)),
        "area_code": pa.Column(str),
        "victims": _count,
        "victims_under_25": _count,
    },
    strict=True,
    unique=["year", "month", "area_code"],
    name="homicide_monthly",
)

MET_WORKFORCE = pa.DataFrameSchema(
    {
        "date": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "worker_type": pa.Column(str),
        "measure": pa.Column(str),
        "value": pa.Column(float),
        "basis": pa.Column(str),
        "period_type": pa.Column(str),
        "source_type": pa.Column(str, pa.Check.isin(["official data", "published figure"])),
        "source": pa.Column(str),
    },
    strict=True,
    unique=["date", "worker_type", "measure", "basis", "source"],
    name="met_workforce",
)


RECORDED_CRIME_MONTHLY = pa.DataFrameSchema(
    {
        "year": _year,
        "month": pa.Column(int, pa.Check.in_range(1, 12)),
        "area_code": _met_area_code,
        "area": pa.Column(str),
        "offence_group": pa.Column(str),
        "offence_subgroup": pa.Column(str),
        "offences": pa.Column(int, pa.Check.ge(1)),
        "release": _crime_release,
    },
    strict=True,
    ordered=True,
    unique=["year", "month", "area_code", "area", "offence_group", "offence_subgroup"],
    name="recorded_crime_monthly",
)

RECORDED_CRIME_REVISIONS = pa.DataFrameSchema(
    {
        "year": _year,
        "month": pa.Column(int, pa.Check.in_range(1, 12)),
        "area_code": _met_area_code,
        "area": pa.Column(str),
        "offence_group": pa.Column(str),
        "offence_subgroup": pa.Column(str),
        "release": _crime_release,
        "offences": pa.Column(int, pa.Check.ge(0)),
        "used_in_series": pa.Column(str, pa.Check.isin(["yes", "no"])),
    },
    strict=True,
    ordered=True,
    unique=["year", "month", "area_code", "area", "offence_group", "offence_subgroup", "release"],
    name="recorded_crime_revisions",
)

HOMICIDE_RATES_ONS = pa.DataFrameSchema(
    {
        "period_start": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "period_end": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "area_code": pa.Column(str),
        "area": pa.Column(str),
        "geography": pa.Column(str),
        "rate_per_million": pa.Column(float, pa.Check.ge(0), nullable=True),
        "vintage": pa.Column(str, pa.Check.str_length(min_value=1)),
        "note": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["vintage", "area_code", "period_start", "period_end"],
    name="homicide_rates_ons",
)


def read_cited_table(path: Path, schema: pa.DataFrameSchema, *, numbers: tuple[str, ...] = ()) -> pd.DataFrame:
    """A small hand-kept table under ``data/`` (each row citing its source), read and validated:
    its columns checked by name, ``numbers`` converted (an error names the row), then ``schema``.
    Returns the schema's columns only, in its order."""
    from analysis.data.readers import numeric_column, read_csv, require_columns

    path = Path(path)
    frame = read_csv(path)
    require_columns(frame, path, {c: (c,) for c in schema.columns})
    frame = frame.assign(**{c: numeric_column(frame, c, path) for c in numbers})
    return validate(frame[list(schema.columns)], schema, path)


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, path: Path | str | None) -> pd.DataFrame:
    """Validate ``frame`` against ``schema``; return it unchanged or raise one DataError line.

    The row named is the frame's index label of the first failure (parsers index frames by
    source line number), the column is pandera's.
    """
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        column = first.get("column")
        index = first.get("index")
        check = str(first.get("check"))
        value = first.get("failure_case")
        row = int(index) if index is not None and not pd.isna(index) and str(index).isdigit() else None
        message = f"{schema.name}: value {value!r} fails {check}"
        if len(cases) > 1:
            message += f" ({len(cases)} failures in all)"
        raise DataError(path, message, row=row, column=None if pd.isna(column) else str(column)) from None
