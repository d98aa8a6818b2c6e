"""Parser for ONS homicide offences per million population (Home Office Homicide Index), 3-year periods.

The files come from ONS's "explore local statistics" data (``homicide-offences.csv``): one row per
area (police force area, region, nation, England and Wales) and 3-year rolling financial-year
period. Two header layouts are read, recognised by the header, never by the file name:

* ``areacd, areanm, geography, indicator, period, observation, measure, unit, lci_95, uci_95,
  status, notes`` with periods such as ``2022-04-01/P3Y`` (the February 2026 file);
* ``AREACD, AREANM, Geography, Variable Name, Indicator, Period, Observation, Measure, Unit,
  Lower Confidence Interval (95%), Upper Confidence Interval (95%), Observation Status, Polarity,
  Notes`` with periods such as ``2021-04-01T00:00:00/P3Y`` (the February 2025 file).

The JSON metadata beside each file is not read (the newer one still describes the older data).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core.errors import DataError
from analysis.data import schemas
from analysis.data.readers import numeric_column, read_csv

#: Header layouts: name -> canonical name -> the column the layout uses (matched case-insensitively).
LAYOUTS: dict[str, dict[str, str]] = {
    "areacd, areanm, geography, indicator, period, observation, ...": {
        "area_code": "areacd", "area": "areanm", "geography": "geography", "indicator": "indicator",
        "period": "period", "observation": "observation", "unit": "unit", "status": "status",
    },
    "AREACD, AREANM, Geography, Variable Name, Indicator, Period, Observation, ...": {
        "area_code": "AREACD", "area": "AREANM", "geography": "Geography", "indicator": "Indicator",
        "period": "Period", "observation": "Observation", "unit": "Unit", "status": "Observation Status",
    },
}
INDICATOR = "Homicide Offences"
#: Length of every period, in years (3-year rolling periods from 1 April).
PERIOD_YEARS = 3
_PERIOD = re.compile(r"^(?P<start>\d{4}-\d{2}-\d{2})(T00:00:00)?/P(?P<years>\d+)Y$")
_AREA_CODE = r"[EWSNK]\d{8}"
_PER_MILLION = re.compile(r"per\s+(?:1,?000,?000|million)\b", re.IGNORECASE)


def _layout(path: Path, columns: list[str]) -> tuple[str, dict[str, str]]:
    present = {c.lower(): c for c in columns}
    best: tuple[int, str] | None = None
    for name, wanted in LAYOUTS.items():
        missing = [c for c in wanted.values() if c.lower() not in present]
        if not missing:
            return name, {canonical: present[c.lower()] for canonical, c in wanted.items()}
        if best is None or len(missing) < best[0]:
            best = (len(missing), missing[0])
    expected = " or ".join(f"'{name}'" for name in LAYOUTS)
    raise DataError(
        path,
        f"unknown header layout '{', '.join(columns[:4])}, ...': expected {expected}",
        row=1,
        column=best[1] if best else None,
    )


def vintage_from_name(path: Path) -> str | None:
    """The ISO date in a file name (``homicide-offences_2026-02-11.csv`` -> ``2026-02-11``), else None."""
    match = re.search(r"(\d{4}-\d{2}-\d{2})", Path(path).name)
    return match.group(1) if match else None


def _period_dates(text: str) -> tuple[str, str] | None:
    """ISO start and end (inclusive) of one period text, e.g. 2022-04-01 and 2025-03-31; None if not a valid period."""
    match = _PERIOD.match(text.strip())
    if match is None or int(match["years"]) != PERIOD_YEARS:
        return None
    try:
        start = dt.date.fromisoformat(match["start"])
        end = start.replace(year=start.year + PERIOD_YEARS) - dt.timedelta(days=1)
    except ValueError:
        return None
    return start.isoformat(), end.isoformat()


def _periods(path: Path, values: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
    """ISO start and end dates (inclusive) of each period; DataError naming the first row that is not one."""
    dates = values.map({text: _period_dates(text) for text in values.unique()})  # a dozen distinct periods
    bad = dates.isna()
    if bad.any():
        row = int(bad.idxmax())
        raise DataError(
            path,
            f"period '{values.at[row]}' is not a valid {PERIOD_YEARS}-year period (YYYY-MM-DD/P{PERIOD_YEARS}Y)",
            row=row,
            column=column,
        )
    return dates.map(lambda d: d[0]).astype(str), dates.map(lambda d: d[1]).astype(str)


@dataclass(frozen=True)
class RatesFile:
    """One vintage of the ONS rates: its canonical rows, header layout and vintage."""

    path: Path
    frame: pd.DataFrame
    layout: str
    vintage: str


def parse_ons_rates(path: Path, *, vintage: str | None = None) -> RatesFile:
    """Homicide offences per million population for every area and 3-year period in one ONS file.

    Returns a RatesFile whose frame has the columns of ``schemas.ONS_RATES``, indexed by source
    line: ``period_start`` and ``period_end`` (ISO dates, inclusive), ``area_code``, ``area``,
    ``geography``, ``rate_per_million`` (homicide offences a year per million population, empty
    where the source gives no value), ``status`` (the source's observation status, e.g. ``u``) and
    ``vintage``: ``vintage`` as given (the manifest's), else the date in the file name; a file with
    neither is an error.
    """
    path = Path(path)
    vintage = vintage or vintage_from_name(path)
    if vintage is None:
        raise DataError(path, "has no vintage: give one in data/sources.yml or put the file's date (YYYY-MM-DD) in its name")
    raw = read_csv(path, whole_rows=True)
    layout, cols = _layout(path, list(raw.columns))
    indicator = raw[cols["indicator"]].str.strip()
    wrong = indicator.str.lower() != INDICATOR.lower()
    if wrong.any():
        row = int(wrong.idxmax())
        raise DataError(path, f"indicator '{indicator.at[row]}' is not '{INDICATOR}'", row=row, column=cols["indicator"])
    not_per_million = ~raw[cols["unit"]].str.contains(_PER_MILLION)
    if not_per_million.any():
        row = int(not_per_million.idxmax())
        raise DataError(path, f"unit '{raw.at[row, cols['unit']]}' is not per million population", row=row, column=cols["unit"])
    codes = raw[cols["area_code"]].str.strip()
    bad_code = ~codes.str.fullmatch(_AREA_CODE)
    if bad_code.any():
        row = int(bad_code.idxmax())
        raise DataError(path, f"'{codes.at[row]}' is not an ONS area code (e.g. E23000001)", row=row, column=cols["area_code"])
    rate = numeric_column(raw, cols["observation"], path, allow_missing=True)
    negative = rate < 0
    if negative.any():
        row = int(negative.idxmax())
        raise DataError(path, f"rate '{raw.at[row, cols['observation']]}' is negative", row=row, column=cols["observation"])
    start, end = _periods(path, raw[cols["period"]], cols["period"])
    out = pd.DataFrame(
        {
            "period_start": start,
            "period_end": end,
            "area_code": raw[cols["area_code"]].str.strip(),
            "area": raw[cols["area"]].str.strip(),
            "geography": raw[cols["geography"]].str.strip(),
            "rate_per_million": rate.astype(float),
            "status": raw[cols["status"]].str.strip(),
            "vintage": str(vintage),
        },
        index=raw.index,
    )
    repeated = out.duplicated(["area_code", "period_start"], keep="first")
    if repeated.any():
        row = int(repeated.idxmax())
        raise DataError(
            path,
            f"repeats {out.at[row, 'area']} ({out.at[row, 'area_code']}) for the period from {out.at[row, 'period_start']}",
            row=row,
            column=cols["period"],
        )
    return RatesFile(path=path, frame=schemas.validate(out, schemas.ONS_RATES, path), layout=layout, vintage=str(vintage))
