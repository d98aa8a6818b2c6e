"""Notebook 04 (claims check) on the page: each claim as a paragraph, and the chart of verdicts."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis.core import markdown as md
from analysis.present import charts, sources
from analysis.stories import narrative
from analysis.stories.claims import (
    APPROXIMATELY,
    CANNOT_CHECK,
    NOT_SUPPORTED,
    PUBLISHED_ONLY,
    SUPPORTED,
    WHERE_DATA_EXIST,
    story_description,
    verdict_counts,
)


def plot_verdicts(table: pd.DataFrame, title: str):
    """Horizontal bars: number of claims per verdict and basis, value on each bar, labels on the axis."""
    with charts.house_style():
        return _plot_verdicts(table, title)


def _plot_verdicts(table: pd.DataFrame, title: str):
    counts = verdict_counts(table).iloc[::-1]
    fig, ax = charts.figure(
        title,
        f"Quantitative claims in the {story_description()}, by verdict and by the basis the verdict rests on",
        charts.source_note(sources.SOURCE_VICTIMS, sources.SOURCE_OFFENCES, sources.SOURCE_POPULATION,
                           sources.SOURCE_WORKFORCE, sources.SOURCE_PUBLISHED),
        figsize=(10, 1.6 + 0.45 * len(counts)),
    )
    colours = {
        SUPPORTED: charts.PALETTE["shooting"],
        APPROXIMATELY: charts.PALETTE["other"],
        WHERE_DATA_EXIST: charts.PALETTE["other"],
        PUBLISHED_ONLY: charts.PALETTE["secondary"],
        NOT_SUPPORTED: charts.PALETTE["highlight"],
        CANNOT_CHECK: charts.PALETTE["muted"],
    }
    labels = [f"{v} ({b})" for v, b in zip(counts["verdict"], counts["basis"])]
    bars = ax.barh(labels, counts["claims"], color=[colours[v] for v in counts["verdict"]], height=0.6)
    charts.label_bars(ax, bars)
    ax.set_xlabel("Number of claims")
    ax.grid(axis="y", visible=False)
    ax.set_xlim(left=0)
    charts.count_ticks(ax, axis="x")
    return fig


def _fmt_figure(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2014"
    if "year" in unit:
        return str(int(value))
    if float(value).is_integer():
        text = narrative.fmt_int(abs(value))
    else:
        text = f"{abs(value):,.3f}".rstrip("0").rstrip(".")
    return f"\u2212{text}" if value < 0 else text


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """The claims as a reader scans them: claim, claimed and computed figures, verdict and basis (text only)."""
    return pd.DataFrame({
        "claim": table["claim"],
        "claimed": [_fmt_figure(v, u) for v, u in zip(table["claimed"], table["unit"])],
        "computed": [_fmt_figure(v, u) for v, u in zip(table["computed"], table["unit"])],
        "verdict": table["verdict"],
        "basis": table["basis"],
    })


def describe(row: Any) -> tuple[str, str]:
    """One claim's check as a paragraph: claim, claimed and computed figures, verdict with its basis, evidence.

    Returns ``(markdown, plain text)``. Every piece is plain text made literal (the claim and the
    evidence come from files), so nothing in them can become markup on the page.
    """
    computed = _fmt_figure(row.computed, row.unit)
    figures = f"Claimed {_fmt_figure(row.claimed, row.unit)} ({row.unit})"
    source = "a published statement" if row.basis == "published statement" else row.basis
    figures += f"; computed {computed} from {source} ({row.period_used})." if computed != "\u2014" else "."
    verdict = f"Verdict: {row.verdict}" + (f", on {source}." if row.basis != "no data" else ".")
    markdown = md.paragraph(md.bold(row.claim), md.literal(figures), md.italic(verdict), md.literal(row.evidence))
    return markdown, f"{row.claim} {figures} {verdict} {row.evidence}"
