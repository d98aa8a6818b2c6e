"""The headline of a notebook: its computed sentences and chart titles, and the record that leads it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stories import narrative, stats


@dataclass
class Headline:
    """Computed sentences about the focus year, and the finding-titles of the main charts."""

    sentences: dict[str, str] = field(default_factory=dict)
    count_title: str = ""
    rate_title: str = ""
    headline: str = ""


def notable_record(values: pd.Series, year: int, *, noun: str = "homicides", measure: str = "count") -> tuple[stats.Record, str]:
    """The more remarkable of "fewest since" and "most since" for ``year``, with its phrase.

    The record that reaches further back wins (a series record beats any "since"); a year
    that is neither is described against the previous year.
    """
    low = stats.record_since(values, year, kind="low")
    high = stats.record_since(values, year, kind="high")

    def reach(r: stats.Record) -> float:
        if r.years_compared == 0:
            return float("inf")
        return -np.inf if r.is_record else float(r.since_year)

    chosen = high if reach(high) < reach(low) else low
    return chosen, narrative.record_phrase(chosen, noun=noun, measure=measure)
