"""The cited table of caveats that explain a figure from outside the data (``data/caveats.csv``).

A caveat names what it is about (``subject``: a force or area), the span of time it covers, the
explanation, and the publication it comes from. Pages quote it only beside the figures it covers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis.core.paths import DATA_DIR
from analysis.data.schemas import read_cited_table

CAVEATS_FILE = DATA_DIR / "caveats.csv"

CAVEATS = pa.DataFrameSchema(
    {
        "id": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$"), unique=True),
        "subject": pa.Column(str, pa.Check.str_length(min_value=2)),
        "period_start": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "period_end": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "caveat": pa.Column(str, pa.Check.str_length(min_value=10)),
        "source_title": pa.Column(str, pa.Check.str_length(min_value=3)),
        "url": pa.Column(str, pa.Check.str_matches(r"^https?://")),
        "published": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{2}(-\d{2})?)?$")),
    },
    strict=True,
    name="caveats",
)


def read_caveats(path: Path = CAVEATS_FILE) -> pd.DataFrame:
    """The caveats, validated, with ``period_start``/``period_end`` as Timestamps."""
    frame = read_cited_table(path, CAVEATS)
    return frame.assign(period_start=pd.to_datetime(frame["period_start"]), period_end=pd.to_datetime(frame["period_end"]))
