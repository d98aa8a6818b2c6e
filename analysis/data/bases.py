"""The evidence bases: one vocabulary shared by the data log (``data/README.md``), the claims
check and the pages, naming what kind of source a number rests on.

A verdict names its basis from this list; the data log rates each source under the same names.
"""

from __future__ import annotations

OPEN_VICTIM_RECORDS = "open victim records"
OPEN_OFFENCE_RECORDS = "open offence records"
ONS_HOMICIDE_INDEX_RATES = "ONS homicide index rates"
ONS_POPULATION_ESTIMATES = "ONS population estimates"
HOME_OFFICE_WORKFORCE = "Home Office workforce data"
PUBLISHED_STATEMENT = "published statement"
NO_DATA = "no data"

#: Bases that are official data files (open data), in the order a verdict prefers them.
OPEN_DATA: tuple[str, ...] = (
    OPEN_VICTIM_RECORDS,
    OPEN_OFFENCE_RECORDS,
    ONS_HOMICIDE_INDEX_RATES,
    ONS_POPULATION_ESTIMATES,
    HOME_OFFICE_WORKFORCE,
)
#: Every basis, open data first.
BASES: tuple[str, ...] = (*OPEN_DATA, PUBLISHED_STATEMENT, NO_DATA)


def is_open(basis: str) -> bool:
    """True when ``basis`` is an official open data file rather than a statement or nothing."""
    return basis in OPEN_DATA
