"""One validation of the notebooks' parameters, used by every notebook and by the runner.

``validate_parameters(year, area, base_year)`` resolves the defaults against the data and says
clearly what is wrong: an unknown area (with the closest names that can be reported), a year
outside the data, a base year that is not earlier than the focus year. A partial year is accepted
but flagged, so the notebooks report it as partial ("January–March 2024") and never rank it
against whole years.

It reads only the small index of areas and years in ``data/series`` (``areas.csv`` and the
annual homicide table) with the standard library, so the command line can refuse a bad year or
area before it imports pandas.
"""

from __future__ import annotations

import csv
import functools
import difflib
from dataclasses import dataclass
from pathlib import Path

from analysis.core.dates import month_range_label
from analysis.core.errors import ParameterError, shorten
from analysis.core.paths import SERIES_DIR

LONDON = "London"
LONDON_CODE = "E12000007"


@dataclass(frozen=True)
class Area:
    """An area of the series: its ONS name and code, whether the Met polices it, and for each year
    with data how many months of it the data cover (12 = the whole year)."""

    name: str
    code: str
    policed_by_met: bool
    months: dict[int, int]

    @property
    def is_borough(self) -> bool:
        return self.code != LONDON_CODE


@dataclass(frozen=True)
class ResolvedParameters:
    """Parameters after defaults and validation.

    ``year`` is the focus year, ``base_year`` the comparison year, ``months_covered`` how many
    months of the focus year the data hold (12 = whole year), ``latest_complete`` the latest
    whole year with a total for the area, ``first_year``/``last_year`` the span of the series.
    """

    year: int
    area: str
    area_code: str
    base_year: int
    output_dir: str | None
    months_covered: int
    is_borough: bool
    latest_complete: int
    first_year: int
    last_year: int

    @property
    def is_partial(self) -> bool:
        """True when the focus year's data stop before December."""
        return self.months_covered < 12

    @property
    def period_label(self) -> str:
        """The focus period as text: ``2025`` or ``January–March 2024``."""
        return month_range_label(self.year, self.months_covered)

    def as_dict(self) -> dict[str, object]:
        """The parameters as given to the notebook (for findings and run records)."""
        return {"year": self.year, "area": self.area, "base_year": self.base_year}


def _name_key(name: str) -> str:
    return " ".join(str(name).replace("&", " and ").lower().split())


def read_areas(series_dir: Path = SERIES_DIR) -> dict[str, Area]:
    """Every area of the series, keyed by a normalised name (case, spaces and '&'/'and' ignored).

    Read once per process for each version of the two files it reads (their size and mtime)."""
    series_dir = Path(series_dir)
    stamps = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (series_dir / "homicide_annual.csv", series_dir / "areas.csv"))
    return dict(_read_areas(series_dir, stamps))


@functools.lru_cache(maxsize=8)
def _read_areas(series_dir: Path, stamps: tuple) -> dict[str, Area]:
    months: dict[str, dict[int, int]] = {}
    with open(series_dir / "homicide_annual.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            covered = max(int(row[c]) for c in row if c.endswith("months_covered") or c.endswith("_months") if row[c])
            months.setdefault(row["area_code"], {})[int(row["year"])] = covered
    areas: dict[str, Area] = {}
    with open(series_dir / "areas.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            policed = str(row["policed_by_met"]).strip().lower() in ("true", "1", "yes")
            areas[_name_key(row["area"])] = Area(row["area"], row["area_code"], policed, dict(sorted(months.get(row["area_code"], {}).items())))
    return areas


def reportable_areas(series_dir: Path = SERIES_DIR) -> list[str]:
    """Names of the areas a report can be made for (London and the boroughs the Met polices)."""
    return [a.name for a in read_areas(series_dir).values() if a.policed_by_met]


def resolve_area(area: str, series_dir: Path = SERIES_DIR) -> Area:
    """The area named ``area``; ParameterError naming close matches when unknown.

    The City of London is refused: it is policed by the City of London Police, not the Met.
    """
    if not isinstance(area, str) or not area.strip():
        raise ParameterError(f"area must be 'London' or a London borough's name, not {shorten(repr(area))}")
    areas = read_areas(series_dir)
    found = areas.get(_name_key(area))
    if found is None:
        names = [a.name for a in areas.values() if a.policed_by_met]
        close = difflib.get_close_matches(area[:100], names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else f" Known areas: {', '.join(names)}."
        raise ParameterError(f"unknown area '{shorten(area)}'.{hint}")
    if not found.policed_by_met:
        raise ParameterError(
            f"{found.name} is policed by the City of London Police, not the Metropolitan Police, so its homicides are not in the MPS data"
        )
    return found


def available_years(area: str = LONDON, series_dir: Path = SERIES_DIR) -> list[int]:
    """Every year the notebooks support for the area, ascending: each year with data (whole or
    partial) that has an earlier year to compare with, so the series' first year is left out."""
    return list(resolve_area(area, series_dir).months)[1:]


def validate_parameters(
    year: int | None = None,
    area: str = LONDON,
    base_year: int | None = None,
    output_dir: str | None = None,
    series_dir: Path = SERIES_DIR,
) -> ResolvedParameters:
    """Check the notebook parameters against the data and fill in defaults.

    ``year=None`` means the latest whole year with data for the area; ``base_year=None`` the
    previous year. Raises ParameterError with a message a reader can act on.
    """
    found = resolve_area(area, series_dir)
    years = list(found.months)
    complete = [y for y, m in found.months.items() if m == 12]
    if not years or not complete:
        raise ParameterError(f"no whole year of homicide data for {found.name}")
    first, last, latest_complete = years[0], years[-1], complete[-1]
    for label, value in (("year", year), ("base_year", base_year)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParameterError(f"{label} must be a whole year such as {latest_complete}, not {shorten(repr(value))}")
    focus = latest_complete if year is None else year
    if focus not in found.months:
        raise ParameterError(f"no homicide data for {found.name} in {focus}: the data cover {first} to {last}")
    base = focus - 1 if base_year is None else base_year
    if base >= focus:
        raise ParameterError(f"base_year ({base}) must be earlier than year ({focus})")
    if base not in found.months:
        raise ParameterError(
            f"no homicide data for {found.name} in base year {base}: the data cover {first} to {last}"
            + (f"; {focus} is the first year, so there is no earlier year to compare" if focus == first else "")
        )
    if output_dir is not None and not isinstance(output_dir, (str, Path)):
        raise ParameterError(f"output_dir must be a folder path or None, not {shorten(repr(output_dir))}")
    return ResolvedParameters(
        year=focus,
        area=found.name,
        area_code=found.code,
        base_year=base,
        output_dir=None if output_dir is None else str(output_dir),
        months_covered=found.months[focus],
        is_borough=found.is_borough,
        latest_complete=latest_complete,
        first_year=first,
        last_year=last,
    )
