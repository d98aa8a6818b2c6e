"""One shared validation of notebook parameters, run first thing in every notebook and by the runner.

``validate_parameters(year, area, base_year)`` resolves the defaults against the data and says
clearly what is wrong: an unknown area (with the closest names), a year outside the data, a
base year that is not earlier than the focus year. A partial year is accepted but flagged, so
the notebooks report it as partial ("January–March 2024") and never rank it against whole years.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from analysis import series
from analysis.errors import ParameterError, shorten
from analysis.narrative import month_range_label
from analysis.paths import SERIES_DIR


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


def resolve_area(area: str, series_dir: Path = SERIES_DIR) -> tuple[str, str]:
    """ONS name and code of a London area; ParameterError naming close matches when unknown.

    The City of London is refused: it is policed by the City of London Police, not the Met.
    """
    table = series.areas(series_dir)
    if not isinstance(area, str) or not area.strip():
        raise ParameterError(f"area must be 'London' or a London borough's name, not {shorten(repr(area))}")
    try:
        code = series.area_code(area, series_dir)
    except ParameterError:
        names = table["area"].tolist()
        close = difflib.get_close_matches(area[:100], names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else f" Known areas: {', '.join(names)}."
        raise ParameterError(f"unknown area '{shorten(area)}'.{hint}") from None
    row = table[table["area_code"] == code].iloc[0]
    if not bool(row["policed_by_met"]):
        raise ParameterError(f"{row['area']} is policed by the City of London Police, not the Metropolitan Police, so its homicides are not in the MPS data")
    return str(row["area"]), code


def available_years(area: str = "London", series_dir: Path = SERIES_DIR) -> list[int]:
    """Every year the notebooks support for the area, ascending: each year with a homicide total
    (whole or partial) that has an earlier year to compare with, so the series' first year is left out."""
    name, _ = resolve_area(area, series_dir)
    return [int(y) for y in series.homicide_annual(name, series_dir).index][1:]


def validate_parameters(
    year: int | None = None,
    area: str = "London",
    base_year: int | None = None,
    output_dir: str | None = None,
    series_dir: Path = SERIES_DIR,
) -> ResolvedParameters:
    """Check the notebook parameters against the data and fill in defaults.

    ``year=None`` means the latest whole year with a total for the area; ``base_year=None``
    the previous year. Raises ParameterError with a message a reader can act on.
    """
    name, code = resolve_area(area, series_dir)
    annual = series.homicide_annual(name, series_dir)
    years = [int(y) for y in annual.index]
    complete = [int(y) for y in annual.index[annual["months_covered"] == 12]]
    first, last = years[0], years[-1]
    latest_complete = complete[-1]
    for label, value in (("year", year), ("base_year", base_year)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParameterError(f"{label} must be a whole year such as {latest_complete}, not {value!r}")
    focus = latest_complete if year is None else year
    if focus not in years:
        raise ParameterError(f"no homicide data for {name} in {focus}: the data cover {first} to {last}")
    base = focus - 1 if base_year is None else base_year
    if base >= focus:
        raise ParameterError(f"base_year ({base}) must be earlier than year ({focus})")
    if base not in years:
        raise ParameterError(
            f"no homicide data for {name} in base year {base}: the data cover {first} to {last}"
            + (f"; {focus} is the first year, so there is no earlier year to compare" if focus == first else "")
        )
    if output_dir is not None and not isinstance(output_dir, (str, Path)):
        raise ParameterError(f"output_dir must be a folder path or None, not {output_dir!r}")
    return ResolvedParameters(
        year=focus,
        area=name,
        area_code=code,
        base_year=base,
        output_dir=None if output_dir is None else str(output_dir),
        months_covered=int(annual.at[focus, "months_covered"]),
        is_borough=code != series.LONDON_CODE,
        latest_complete=latest_complete,
        first_year=first,
        last_year=last,
    )
