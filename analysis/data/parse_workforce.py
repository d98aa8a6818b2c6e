"""Parsers for the Home Office police workforce open data table and the arrests re-tabulation.

The workforce table (``open-data-table-police-workforce-*.ods``) has one row per force, year,
sex, rank and worker type, with headcount and FTE. Worker-type labels drift between years
(``Police Staff`` / ``Police staff``, ``Special Constable`` / ``Special constable``): they are
normalised, and a label never seen before stops the build with the row that carries it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core.errors import DataError
from analysis.data import schemas
from analysis.data.readers import numeric_column, read_csv, read_sheet, require_columns, strip_distinct

MET_GEOCODE = "E23000001"
MET_FORCE_NAME = "Metropolitan Police"

WORKER_TYPE_LABELS: dict[str, str] = {
    "police officer": "Police officer",
    "police officers": "Police officer",
    "police staff": "Police staff",
    "police community support officer": "Police community support officer",
    "pcso": "Police community support officer",
    "designated officer": "Designated officer",
    "special constable": "Special constable",
    "police support volunteer": "Police support volunteer",
}

_WORKFORCE_COLUMNS = {
    "year": ("As at 31 March...", "As at 31 March", "Year"),
    "geo_code": ("Geo code", "Geocode"),
    "worker_type": ("Worker type",),
    "headcount": ("Total (headcount)",),
    "fte": ("Total (FTE)",),
}


def parse_workforce_table(path: Path, *, geo_code: str = MET_GEOCODE) -> pd.DataFrame:
    """Totals for one force (default the Met) by 31 March year, worker type and measure.

    Returns the columns of ``schemas.WORKFORCE_ROWS``: ``year`` (the 31 March the figure is
    at), ``worker_type`` (normalised), ``measure`` (``FTE`` or ``headcount``) and ``value`` (people,
    FTE to two decimals). Worker types with no FTE (special constables, volunteers) have
    headcount rows only.
    """
    path = Path(path)
    rows = read_sheet(path, "Data")
    if not rows:
        raise DataError(path, "sheet 'Data' is empty")
    header = [str(c).strip() for c in rows[0]]
    frame = pd.DataFrame(
        [["" if v is None else str(v) for v in r] for r in rows[1:]],
        columns=header,
        index=pd.RangeIndex(2, len(rows) + 1),
    )
    cols = require_columns(frame, path, _WORKFORCE_COLUMNS)
    force = frame[frame[cols["geo_code"]].str.strip() == geo_code]
    if force.empty:
        raise DataError(path, f"has no rows for geo code {geo_code}", column=cols["geo_code"])
    labels = force[cols["worker_type"]].str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    worker_type = labels.map(WORKER_TYPE_LABELS)
    if worker_type.isna().any():
        row = int(worker_type.isna().idxmax())
        raise DataError(path, f"unknown worker type '{force.at[row, cols['worker_type']]}'", row=row, column=cols["worker_type"])
    year = numeric_column(force, cols["year"], path)
    if not (year % 1 == 0).all():
        row = int((year % 1 != 0).idxmax())
        raise DataError(path, f"'{force.at[row, cols['year']]}' is not a year", row=row, column=cols["year"])
    tidy = pd.DataFrame(
        {
            "year": year.astype(int),
            "worker_type": worker_type,
            "headcount": numeric_column(force, cols["headcount"], path),
            "FTE": numeric_column(force, cols["fte"], path, allow_missing=True),
        }
    )
    long = tidy.melt(id_vars=["year", "worker_type"], var_name="measure", value_name="value").dropna(subset=["value"])
    totals = (
        long.groupby(["year", "worker_type", "measure"], as_index=False)["value"].sum()
        .assign(value=lambda d: d["value"].round(2))
        .sort_values(["year", "worker_type", "measure"], key=lambda s: s.str.lower() if s.dtype == object else s)
        .reset_index(drop=True)
    )
    return schemas.validate(totals, schemas.WORKFORCE_ROWS, path)


def parse_arrests(path: Path, *, force_name: str = MET_FORCE_NAME) -> pd.DataFrame:
    """Arrests for notifiable offences for one force by financial year (``2006/07``…).

    Reads the tidy re-tabulation of the Home Office "Police powers and procedures" arrests
    open data (columns ``financial_year, force_name, …, arrests, year_ending``) and returns
    ``financial_year, year_ending, arrests`` summed over offence group, ethnicity, age and sex.
    """
    path = Path(path)
    raw = read_csv(path)
    cols = require_columns(
        raw,
        path,
        {"financial_year": ("financial_year",), "force_name": ("force_name",), "arrests": ("arrests",), "year_ending": ("year_ending",)},
    )
    force = raw[strip_distinct(raw[cols["force_name"]]) == force_name]
    if force.empty:
        raise DataError(path, f"has no rows for force '{force_name}'", column=cols["force_name"])
    arrests = numeric_column(force, cols["arrests"], path, allow_missing=True).fillna(0)
    frame = pd.DataFrame(
        {
            "financial_year": force[cols["financial_year"]].str.strip(),
            "year_ending": force[cols["year_ending"]].str.strip(),
            "arrests": arrests,
        }
    )
    out = frame.groupby(["financial_year", "year_ending"], as_index=False)["arrests"].sum()
    out["arrests"] = out["arrests"].round().astype(int)
    return schemas.validate(out, schemas.ARRESTS, path)
