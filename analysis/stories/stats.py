"""Small, pure statistical helpers: rates, exact Poisson intervals, count comparisons, records.

Every function takes data in and returns data out; nothing here reads files or keeps state.

Units
-----
* Counts are numbers of events (e.g. homicide victims) in a period.
* Rates are events per 100,000 residents (``PER``) over the same period as the count;
  for annual counts and mid-year populations that is "per 100,000 per year".
* Percentages are in percent (``-11.0`` means 11% lower), never fractions.
* Exposures (``compare_counts``) are in any unit, as long as both periods use the same one
  (person-years, months covered, population, ...).

Exact intervals follow Garwood (1936): for an observed count ``k`` the two-sided interval at
level ``1 - alpha`` is ``chi2.ppf(alpha/2, 2k)/2`` to ``chi2.ppf(1 - alpha/2, 2k + 2)/2``,
with the lower limit 0 when ``k == 0``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = [
    "PER",
    "Change",
    "CountComparison",
    "Record",
    "change_since",
    "compare_counts",
    "peak",
    "poisson_ci",
    "poisson_ci_frame",
    "rate_ci",
    "rate_per_100k",
    "record_since",
    "rolling_sum",
]

PER: float = 100_000.0
"""Denominator of every rate in this module: rates are per 100,000 residents."""


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, Real) or not (0.0 < float(level) < 1.0):
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    return float(level)


def _check_population(population: float) -> float:
    return _check_exposure(population, "population")


def _check_count(count: object, name: str = "count") -> int:
    """Return ``count`` as an ``int`` if it is a non-negative whole number, else raise ValueError."""
    if isinstance(count, bool):
        raise ValueError(f"{name} must be a non-negative whole number, got {count!r}")
    if isinstance(count, Integral):
        value = int(count)
    elif isinstance(count, Real) and math.isfinite(float(count)) and float(count).is_integer():
        value = int(float(count))
    else:
        raise ValueError(f"{name} must be a non-negative whole number, got {count!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative whole number, got {count!r}")
    return value


def _check_exposure(exposure: float, name: str) -> float:
    if isinstance(exposure, bool) or not isinstance(exposure, Real):
        raise ValueError(f"{name} must be a positive number, got {exposure!r}")
    value = float(exposure)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number, got {exposure!r}")
    return value


def _check_years(series: pd.Series, name: str) -> None:
    """TypeError unless ``series`` is a Series; ValueError unless its index is unique integer years."""
    if not isinstance(series, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by year, got {type(series).__name__}")
    if not series.index.is_unique:
        dupes = sorted({int(y) for y in series.index[series.index.duplicated()]})
        raise ValueError(f"{name} has duplicate years: {dupes}")
    if len(series) and not all(isinstance(y, Integral) and not isinstance(y, bool) for y in series.index):
        raise ValueError(f"{name} must be indexed by integer years, got index {list(series.index)[:5]!r}")


def _year_series(series: pd.Series, name: str = "series") -> pd.Series:
    """Sorted copy of a year-indexed series with NaN (no data) rows dropped; checks the index."""
    _check_years(series, name)
    out = pd.Series(pd.to_numeric(series, errors="raise").to_numpy(dtype=float), index=[int(y) for y in series.index])
    return out.sort_index().dropna()


def _year_values(series: pd.Series, name: str = "series") -> list[tuple[int, float]]:
    """``(year, value)`` pairs of a year-indexed series, by year, NaN (no data) rows dropped; the
    checks of :func:`_year_series`, without building a new Series (record_since runs per year and area)."""
    _check_years(series, name)
    values = pd.to_numeric(series, errors="raise").to_numpy(dtype=float)
    return sorted((int(y), float(v)) for y, v in zip(series.index, values) if not math.isnan(v))


# ---------------------------------------------------------------------------
# rates and exact intervals
# ---------------------------------------------------------------------------


def rate_per_100k(count: float, population: float) -> float:
    """Rate per 100,000 residents.

    Returns ``count / population * 100,000`` as a float (events per 100,000 residents over
    the period the count covers). A NaN count gives NaN (missing stays missing).

    Raises:
        ValueError: if ``population`` is not a positive finite number (<= 0, NaN, inf),
            or ``count`` is negative.
    """
    pop = _check_population(population)
    c = float(count)
    if math.isnan(c):
        return math.nan
    if c < 0:
        raise ValueError(f"count must not be negative, got {count!r}")
    return c / pop * PER


def poisson_ci(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) two-sided confidence interval for the mean of a Poisson count.

    Returns ``(lower, upper)`` in events (the same unit as ``count``); ``lower`` is exactly
    0.0 when ``count == 0``.

    Raises:
        ValueError: if ``count`` is not a non-negative whole number or ``level`` is not in (0, 1).
    """
    k = _check_count(count)
    alpha = 1.0 - _check_level(level)
    lower = 0.0 if k == 0 else float(_st.chi2.ppf(alpha / 2.0, 2 * k) / 2.0)
    upper = float(_st.chi2.ppf(1.0 - alpha / 2.0, 2 * k + 2) / 2.0)
    return lower, upper


def poisson_ci_frame(counts: pd.Series, level: float = 0.95) -> pd.DataFrame:
    """Vectorised :func:`poisson_ci`.

    Returns a DataFrame with float columns ``lower`` and ``upper`` (events), on the same
    index as ``counts``. NaN counts give NaN limits; zero counts give ``lower == 0``.

    Raises:
        ValueError: if a non-NaN count is negative or not a whole number, or ``level`` is bad.
    """
    alpha = 1.0 - _check_level(level)
    k = pd.to_numeric(counts, errors="raise").to_numpy(dtype=float)
    known = ~np.isnan(k)
    filled = np.where(known, k, 0.0)
    bad = known & ((filled < 0) | (filled != np.floor(filled)) | ~np.isfinite(filled))
    if bad.any():
        raise ValueError(
            f"counts must be non-negative whole numbers; bad values at {list(counts.index[bad])[:5]!r}"
        )
    with np.errstate(invalid="ignore"):
        lower = np.where(k == 0, 0.0, _st.chi2.ppf(alpha / 2.0, 2 * k) / 2.0)
        upper = _st.chi2.ppf(1.0 - alpha / 2.0, 2 * k + 2) / 2.0
    lower = np.where(known, lower, np.nan)
    upper = np.where(known, upper, np.nan)
    return pd.DataFrame({"lower": lower, "upper": upper}, index=counts.index)


def rate_ci(count: int, population: float, level: float = 0.95) -> tuple[float, float]:
    """Exact interval of a rate per 100,000: the Garwood interval of the count over the population.

    Returns ``(lower, upper)`` in events per 100,000 residents.

    Raises:
        ValueError: for a bad count, population (<= 0, NaN, inf) or level.
    """
    pop = _check_population(population)
    lower, upper = poisson_ci(count, level)
    return lower / pop * PER, upper / pop * PER


# ---------------------------------------------------------------------------
# comparing two counts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CountComparison:
    """Result of :func:`compare_counts`; ``a`` is the base (earlier) period, ``b`` the focus (later).

    Attributes:
        count_a, count_b: the two counts (events).
        change: ``count_b - count_a`` (events).
        pct_change: ``100 * (b - a) / a`` in percent of the *counts*; NaN when ``a == 0``.
        rate_ratio: ``(b / exposure_b) / (a / exposure_a)``; ``inf`` when only ``a`` is 0,
            NaN when both are 0.
        ratio_lower, ratio_upper: exact interval of the rate ratio at ``level``.
        p_value: two-sided exact conditional (binomial) p value for equal rates.
        significant: ``p_value < 1 - level``.
        exposure_a, exposure_b, level: the inputs, kept so the result describes itself.
    """

    count_a: int
    count_b: int
    change: int
    pct_change: float
    rate_ratio: float
    ratio_lower: float
    ratio_upper: float
    p_value: float
    significant: bool
    exposure_a: float = 1.0
    exposure_b: float = 1.0
    level: float = 0.95


def _ratio_from_share(share_a: float, exposure_a: float, exposure_b: float) -> float:
    """Rate ratio b/a implied by the share of events falling in period a."""
    if share_a <= 0.0:
        return math.inf
    return exposure_a * (1.0 - share_a) / (share_a * exposure_b)


@functools.lru_cache(maxsize=4096)
def compare_counts(
    count_a: int,
    count_b: int,
    exposure_a: float = 1.0,
    exposure_b: float = 1.0,
    level: float = 0.95,
) -> CountComparison:
    """Exact conditional test of two Poisson counts and exact interval of their rate ratio.

    Given ``n = a + b``, under equal rates ``a ~ Binomial(n, p0)`` with
    ``p0 = exposure_a / (exposure_a + exposure_b)``. The p value is the two-sided
    ``scipy.stats.binomtest`` p value; the rate-ratio interval is the Clopper–Pearson
    interval of the binomial proportion mapped to ``(b / e_b) / (a / e_a)``.

    Convention: ``a`` is the earlier/base period, ``b`` the later/focus period, so a rate
    ratio below 1 means the focus period is lower. The result is immutable and the same inputs give
    the same result, so it is computed once per process (cached).

    When both counts are 0 there is no information: ``p_value`` is 1.0, the rate ratio NaN
    and its interval ``(0, inf)``.

    Returns a :class:`CountComparison` (counts in events, percentages in percent).

    Raises:
        ValueError: for negative or non-whole counts, non-positive exposures or a bad level.
    """
    a = _check_count(count_a, "count_a")
    b = _check_count(count_b, "count_b")
    ea = _check_exposure(exposure_a, "exposure_a")
    eb = _check_exposure(exposure_b, "exposure_b")
    lvl = _check_level(level)
    n = a + b

    pct = math.nan if a == 0 else 100.0 * (b - a) / a
    if n == 0:
        ratio, lo, hi, p = math.nan, 0.0, math.inf, 1.0
    else:
        ratio = math.inf if a == 0 else (b / eb) / (a / ea)
        res = _st.binomtest(a, n, ea / (ea + eb), alternative="two-sided")
        p = float(min(1.0, res.pvalue))
        # Clopper-Pearson ("exact") limits of the share in period a, in their closed beta form
        # (what binomtest's proportion_ci(method="exact") finds by root-finding, far faster).
        alpha = 1.0 - lvl
        share_low = 0.0 if a == 0 else float(_st.beta.ppf(alpha / 2, a, n - a + 1))
        share_high = 1.0 if a == n else float(_st.beta.ppf(1 - alpha / 2, a + 1, n - a))
        # The ratio falls as the share in period a rises, so the limits swap.
        lo = _ratio_from_share(share_high, ea, eb)
        hi = _ratio_from_share(share_low, ea, eb)
    return CountComparison(
        count_a=a,
        count_b=b,
        change=b - a,
        pct_change=pct,
        rate_ratio=ratio,
        ratio_lower=lo,
        ratio_upper=hi,
        p_value=p,
        significant=bool(p < 1.0 - lvl),
        exposure_a=ea,
        exposure_b=eb,
        level=lvl,
    )


# ---------------------------------------------------------------------------
# changes, records and peaks in year-indexed series
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """Change between two labels of a series (see :func:`change_since`).

    ``change`` is ``focus_value - base_value`` in the series' unit; ``pct_change`` is in
    percent of ``base_value`` (NaN when ``base_value`` is 0 or either value is NaN).
    """

    base: Hashable
    focus: Hashable
    base_value: float
    focus_value: float
    change: float
    pct_change: float


def change_since(series: pd.Series, base: Hashable, focus: Hashable) -> Change:
    """Change from ``series[base]`` to ``series[focus]``.

    Returns a :class:`Change` with both values, the absolute change (series' unit) and the
    percentage change (percent; NaN if the base value is 0). NaN values propagate.

    Raises:
        KeyError: naming the missing label(s) and the range of labels present.
    """
    missing = [label for label in (base, focus) if label not in series.index]
    if missing:
        present = list(series.index)
        span = f"{present[0]!r}..{present[-1]!r}" if present else "nothing"
        raise KeyError(
            f"change_since: label(s) {', '.join(repr(m) for m in missing)} not in the series "
            f"(its index runs {span})"
        )
    base_value = float(series.loc[base])
    focus_value = float(series.loc[focus])
    change = focus_value - base_value
    pct = math.nan if (base_value == 0 or math.isnan(change)) else 100.0 * change / base_value
    return Change(base=base, focus=focus, base_value=base_value, focus_value=focus_value, change=change, pct_change=pct)


@dataclass(frozen=True)
class Record:
    """How the focus year ranks against earlier years (see :func:`record_since`).

    Attributes:
        focus: the year examined.
        value: its value (the series' unit).
        kind: ``"low"`` (fewest/lowest) or ``"high"`` (most/highest).
        since_year: the most recent earlier year whose value is at least as extreme
            (``<=`` value for "low", ``>=`` for "high"); None if there is none.
        since_value: that year's value, or None.
        tie: True when ``since_value == value``.
        is_record: True when ``since_year`` is None: no earlier year is as extreme. This is
            vacuously True when there is no earlier year (``years_compared == 0``).
        series_start: first year with data in the whole series.
        years_compared: number of earlier years with data.
        previous_value: value of the latest earlier year with data, or None.
        previous_year: that year, or None (it may be before ``focus - 1`` if there are gaps).
        series_end: last year with data in the whole series (may be after ``focus``).
        missing_years: years from ``series_start`` to ``focus - 1`` without data (absent or NaN).
    """

    focus: int
    value: float
    kind: Literal["low", "high"]
    since_year: int | None
    since_value: float | None
    tie: bool
    is_record: bool
    series_start: int
    years_compared: int
    previous_value: float | None
    previous_year: int | None = None
    series_end: int | None = None
    missing_years: tuple[int, ...] = ()


def record_since(series: pd.Series, focus: int, kind: Literal["low", "high"] = "low") -> Record:
    """Find the "fewest since YEAR" / "highest since YEAR" for ``focus`` in a year-indexed series.

    ``series`` is indexed by integer years (sorted here if needed; gaps allowed); NaN values
    mean "no data" and are ignored. Only years before ``focus`` are compared. Values are
    compared exactly, so round rates first if ties should be judged at the displayed precision.

    Returns a :class:`Record` (values in the series' unit, years as ``int``).

    Raises:
        ValueError: for an unknown ``kind``, a non-integer or duplicated index, or a NaN focus value.
        KeyError: if ``focus`` is not in the index.
    """
    if kind not in ("low", "high"):
        raise ValueError(f"kind must be 'low' or 'high', got {kind!r}")
    data = _year_values(series)
    focus = int(focus)
    if focus not in series.index:
        span = f"{data[0][0]}-{data[-1][0]}" if data else "no years"
        raise KeyError(f"record_since: focus year {focus} is not in the series (years with data: {span})")
    values = dict(data)
    if focus not in values:
        raise ValueError(f"record_since: the series has no data (NaN) for the focus year {focus}")

    value = values[focus]
    earlier = [(y, v) for y, v in data if y < focus]
    as_extreme = [(y, v) for y, v in earlier if (v <= value if kind == "low" else v >= value)]
    since_year: int | None
    since_value: float | None
    since_year, since_value = as_extreme[-1] if as_extreme else (None, None)
    series_start = data[0][0]
    with_data = {y for y, _ in earlier}
    missing = tuple(y for y in range(series_start, focus) if y not in with_data)
    return Record(
        focus=focus,
        value=value,
        kind=kind,
        since_year=since_year,
        since_value=since_value,
        tie=since_value is not None and since_value == value,
        is_record=since_year is None,
        series_start=series_start,
        years_compared=len(earlier),
        previous_value=earlier[-1][1] if earlier else None,
        previous_year=earlier[-1][0] if earlier else None,
        series_end=data[-1][0],
        missing_years=missing,
    )


def peak(series: pd.Series) -> tuple[int, float]:
    """Year and value of the maximum of a year-indexed series, ignoring NaN.

    Returns ``(year, value)``; on ties the earliest year wins.

    Raises:
        ValueError: if the series has no data.
    """
    data = _year_series(series)
    if data.empty:
        raise ValueError("peak: the series has no data")
    year = data.idxmax()  # first occurrence in the sorted index, i.e. the earliest year
    return int(year), float(data.loc[year])


def rolling_sum(monthly: pd.Series, window: int = 12) -> pd.Series:
    """Rolling total over complete windows only.

    Returns a float Series on the same index whose value at each position is the sum of that
    observation and the ``window - 1`` before it; NaN until ``window`` observations are
    available and wherever a NaN falls inside the window (an incomplete window is never summed).
    The input is taken in its given order; it should be one row per month with no missing months.

    Raises:
        ValueError: if ``window`` is not a positive integer.
    """
    if isinstance(window, bool) or not isinstance(window, Integral) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    values = pd.to_numeric(monthly, errors="raise").astype(float)
    return values.rolling(window=int(window), min_periods=int(window)).sum()
