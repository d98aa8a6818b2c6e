"""The hand-kept, cited table of figures that exist only in publications (``data/published_figures.csv``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core.paths import PUBLISHED_FIGURES
from analysis.data import schemas


def read_published(path: Path = PUBLISHED_FIGURES) -> pd.DataFrame:
    """Return the published figures, one row per figure, validated (``value`` as float).

    Every row names its source title, URL and publication date; ``used_in_series`` says whether
    the build uses it (``yes``) or keeps it only as evidence, e.g. of a revision (``no``).
    """
    return schemas.read_cited_table(path, schemas.PUBLISHED, numbers=("value",))


def published_value(published: pd.DataFrame, series: str, period: str, area: str = "London", *, used_only: bool = False) -> pd.DataFrame:
    """Rows of one series and period (newest publication first)."""
    rows = published[(published["series"] == series) & (published["period"] == str(period)) & (published["area"] == area)]
    if used_only:
        rows = rows[rows["used_in_series"] == "yes"]
    return rows.sort_values("published", ascending=False)
