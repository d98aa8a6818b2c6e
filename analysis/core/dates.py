"""Dates as the pages write them: one helper for every month, month range and span of years.

Standard library only (the command line validates parameters with it before importing pandas).
"""

from __future__ import annotations

import calendar
from numbers import Integral

EN_DASH = "\u2013"


def month_name(month: int) -> str:
    """``"April"`` for 4."""
    return calendar.month_name[int(month)]


def month_year(year: int, month: int) -> str:
    """``"April 2024"``."""
    return f"{month_name(month)} {int(year)}"


def _check_months(months_covered: int) -> int:
    if isinstance(months_covered, bool) or not isinstance(months_covered, Integral) or not 1 <= months_covered <= 12:
        raise ValueError(f"months_covered must be a whole number from 1 to 12, got {months_covered!r}")
    return int(months_covered)


def _months(months_covered: int) -> str:
    m = _check_months(months_covered)
    if m == 1:
        return calendar.month_name[1]
    return f"{calendar.month_name[1]}{EN_DASH}{calendar.month_name[m]}"


def month_range_label(year: int, months_covered: int) -> str:
    """Label of the months of ``year`` covered from January: ``"January\u2013March 2024"``,
    ``"January 2024"`` for one month, ``"2024"`` for all twelve (en dash)."""
    if _check_months(months_covered) == 12:
        return str(year)
    return f"{_months(months_covered)} {year}"


def partial_year_label(year: int, months_covered: int, *, at_start: bool = False) -> str:
    """A partial year's months: from January (``"January–June 2026"``) or, for a series that
    starts part-way through its first year (``at_start``), to December (``"April–December 2010"``)."""
    m = _check_months(months_covered)
    if not at_start or m == 12:
        return month_range_label(year, m)
    first = 13 - m
    return f"{month_name(first)} {year}" if m == 1 else f"{month_name(first)}{EN_DASH}December {year}"


def year_label(year: int, months_covered: int) -> str:
    """Year label that flags a partial year: ``"2024 (January\u2013March only)"``, or ``"2024"``."""
    if _check_months(months_covered) == 12:
        return str(year)
    return f"{year} ({_months(months_covered)} only)"


def year_span(years: tuple[int, ...] | list[int]) -> str:
    """List years compactly, joining runs with an en dash: ``"2008, 2010 and 2019\u20132021"``."""
    ys = sorted(set(int(y) for y in years))
    runs: list[tuple[int, int]] = []
    for y in ys:
        if runs and y == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], y)
        else:
            runs.append((y, y))
    parts = [str(a) if a == b else (f"{a} and {b}" if b == a + 1 else f"{a}{EN_DASH}{b}") for a, b in runs]
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def day_month_year(year: int, month: int, day: int) -> str:
    """``"31 March 2025"`` (no leading zero)."""
    return f"{int(day)} {month_name(month)} {int(year)}"


def end_of_month(year: int, month: int) -> str:
    """``"the end of June 2024"``."""
    return f"the end of {month_year(year, month)}"


def financial_year(end_year: int) -> str:
    """``"2024/25"`` for the financial year April 2024 to March 2025 (ending in ``end_year``)."""
    return f"{int(end_year) - 1}/{int(end_year) % 100:02d}"
