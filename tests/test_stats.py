"""Tests for analysis.stories.stats: hand-checkable cases with exact expected values.

Real-world figures used below, and where they come from:
* London homicides 2014 = 95, 2024 = 109, 2025 = 97: Metropolitan Police year-end figures
  released January 2026 (reported e.g. by The Independent, 11 Jan 2026: "97 homicides in 2025,
  an 11 per cent decrease from the 109 reported in 2024 ... the lowest total since 2014 when 95
  were registered"); the MPS homicide victims open data on the London Datastore is the series
  the project loads. Counts in that data set are revised as cases are reclassified.
* London 2019: the brief gives 153; press counts for 2019 range from 146 to 153 depending on
  what is counted (Met investigations vs victims, BTP cases). It is not re-verified here, so the
  2019 test checks the conclusion for each of 146, 149 and 153.
Every other number below is illustrative and says so.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from analysis.stories.stats import (
    PER,
    Change,
    CountComparison,
    Record,
    change_since,
    compare_counts,
    peak,
    poisson_ci,
    poisson_ci_frame,
    rate_ci,
    rate_per_100k,
    record_since,
    rolling_sum,
)

# MPS figures (see module docstring): 2014 = 95, 2024 = 109, 2025 = 97.
LONDON_2014, LONDON_2024, LONDON_2025 = 95, 109, 97


# ---------------------------------------------------------------------------
# rate_per_100k
# ---------------------------------------------------------------------------


def test_rate_per_100k_hand_checked():
    # 110 events among 10,000,000 residents = 1.1 per 100,000.
    assert rate_per_100k(110, 10_000_000) == pytest.approx(1.1, abs=1e-12)
    assert rate_per_100k(1, 100_000) == 1.0
    assert rate_per_100k(0, 5) == 0.0
    assert PER == 100_000


def test_rate_per_100k_nan_count_stays_missing():
    assert math.isnan(rate_per_100k(float("nan"), 1000))


@pytest.mark.parametrize("population", [0, -1, float("nan"), float("inf")])
def test_rate_per_100k_rejects_bad_population(population):
    with pytest.raises(ValueError, match="population"):
        rate_per_100k(10, population)


def test_rate_per_100k_rejects_negative_count():
    with pytest.raises(ValueError, match="count"):
        rate_per_100k(-1, 1000)


# ---------------------------------------------------------------------------
# poisson_ci
# ---------------------------------------------------------------------------


def test_poisson_ci_97_matches_scipy_and_definition():
    """Exact 95% interval for 97 events.

    Verified three ways: (1) against scipy's chi-square quantiles (Garwood's formula) to 1e-6;
    (2) against the defining tail equations P(X >= 97 | mu=lower) = 0.025 and
    P(X <= 97 | mu=upper) = 0.025 with scipy.stats.poisson, which does not use the chi-square
    route; (3) against the rounded values 78.66 and 118.33.
    """
    lower, upper = poisson_ci(97)
    assert lower == pytest.approx(st.chi2.ppf(0.025, 194) / 2, abs=1e-6)
    assert upper == pytest.approx(st.chi2.ppf(0.975, 196) / 2, abs=1e-6)
    assert st.poisson.sf(96, lower) == pytest.approx(0.025, abs=1e-9)
    assert st.poisson.cdf(97, upper) == pytest.approx(0.025, abs=1e-9)
    assert (round(lower, 2), round(upper, 2)) == (78.66, 118.33)


@pytest.mark.parametrize(
    ("count", "lower", "upper"),
    [
        # Familiar tabulated Garwood limits (95%), re-derived here from the tail equations:
        # 0 -> (0, -ln 0.025 = 3.689); 1 -> (0.0253, 5.572); 10 -> (4.795, 18.390).
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (10, 4.795, 18.390),
    ],
)
def test_poisson_ci_tabulated_values(count, lower, upper):
    lo, hi = poisson_ci(count)
    assert lo == pytest.approx(lower, abs=5e-4)
    assert hi == pytest.approx(upper, abs=5e-4)


def test_poisson_ci_zero_has_lower_exactly_zero():
    lower, upper = poisson_ci(0)
    assert lower == 0.0
    assert upper == pytest.approx(-math.log(0.025), abs=1e-9)  # P(X=0 | mu) = e^-mu = 0.025


def test_poisson_ci_level():
    # For k = 0 the upper limit at level L is -ln((1 - L) / 2): 90% -> -ln(0.05) = 2.9957.
    assert poisson_ci(0, level=0.90)[1] == pytest.approx(-math.log(0.05), abs=1e-9)
    lo90, hi90 = poisson_ci(97, level=0.90)
    lo95, hi95 = poisson_ci(97)
    assert lo95 < lo90 < 97 < hi90 < hi95


def test_poisson_ci_accepts_integral_floats_and_numpy_ints():
    assert poisson_ci(97.0) == poisson_ci(97) == poisson_ci(np.int64(97))


@pytest.mark.parametrize("count", [-1, 2.5, float("nan"), True])
def test_poisson_ci_rejects_bad_counts(count):
    with pytest.raises(ValueError, match="count"):
        poisson_ci(count)


@pytest.mark.parametrize("level", [0, 1, 95, -0.5])
def test_poisson_ci_rejects_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        poisson_ci(5, level=level)


def test_poisson_ci_frame_matches_scalar_and_keeps_index():
    counts = pd.Series([0, 1, 97, np.nan], index=[2001, 2002, 2025, 2026])
    frame = poisson_ci_frame(counts)
    assert list(frame.columns) == ["lower", "upper"]
    assert list(frame.index) == [2001, 2002, 2025, 2026]
    for year in (2001, 2002, 2025):
        lo, hi = poisson_ci(int(counts[year]))
        assert frame.loc[year, "lower"] == pytest.approx(lo, abs=1e-9)
        assert frame.loc[year, "upper"] == pytest.approx(hi, abs=1e-9)
    assert frame.loc[2001, "lower"] == 0.0
    assert frame.loc[2026].isna().all()


def test_poisson_ci_frame_rejects_fractional_counts():
    with pytest.raises(ValueError, match="whole numbers"):
        poisson_ci_frame(pd.Series([1.0, 2.5], index=["a", "b"]))


def test_rate_ci_is_count_interval_over_population():
    # Illustrative population of 9,000,000: the limits are the count limits / 90.
    lo, hi = rate_ci(97, 9_000_000)
    c_lo, c_hi = poisson_ci(97)
    assert lo == pytest.approx(c_lo / 90, abs=1e-12)
    assert hi == pytest.approx(c_hi / 90, abs=1e-12)
    assert lo < rate_per_100k(97, 9_000_000) < hi
    with pytest.raises(ValueError):
        rate_ci(97, 0)


# ---------------------------------------------------------------------------
# compare_counts
# ---------------------------------------------------------------------------


def test_compare_2024_to_2025_not_significant():
    c = compare_counts(LONDON_2024, LONDON_2025)  # a = 2024 (base), b = 2025 (focus)
    assert isinstance(c, CountComparison)
    assert (c.count_a, c.count_b, c.change) == (109, 97, -12)
    assert c.pct_change == pytest.approx(100 * -12 / 109)  # -11.009%
    # Same p value as scipy's binomtest(97, 206, 0.5): with p0 = 0.5 the test is symmetric.
    assert c.p_value == pytest.approx(st.binomtest(97, 206, 0.5).pvalue, abs=1e-12)
    assert round(c.p_value, 2) == 0.44
    assert c.significant is False
    assert c.rate_ratio == pytest.approx(97 / 109)
    # Ratio limits from the Clopper-Pearson interval of 109/206, mapped via (1 - p) / p.
    ci = st.binomtest(109, 206, 0.5).proportion_ci(method="exact")
    assert c.ratio_lower == pytest.approx((1 - ci.high) / ci.high, abs=1e-12)
    assert c.ratio_upper == pytest.approx((1 - ci.low) / ci.low, abs=1e-12)
    assert (round(c.ratio_lower, 3), round(c.ratio_upper, 3)) == (0.670, 1.181)
    assert c.ratio_lower < 1 < c.ratio_upper


@pytest.mark.parametrize("count_2019", [146, 149, 153])
def test_compare_2019_to_2025_significant(count_2019):
    # 2019 figure: 153 per the brief; 146-153 in press reports (see module docstring).
    c = compare_counts(count_2019, LONDON_2025)
    assert c.significant is True
    assert c.p_value == pytest.approx(st.binomtest(97, count_2019 + 97, 0.5).pvalue, abs=1e-12)
    assert c.ratio_upper < 1


def test_compare_153_exact_p():
    c = compare_counts(153, 97)
    assert c.p_value < 0.001
    assert c.change == -56
    assert round(c.pct_change, 1) == -36.6


def test_compare_counts_with_exposures():
    # Illustrative: 10 events in 1 unit of exposure vs 10 in 2 units -> rate ratio 0.5;
    # under equal rates a ~ Binomial(20, 1/3).
    c = compare_counts(10, 10, exposure_a=1.0, exposure_b=2.0)
    assert c.rate_ratio == pytest.approx(0.5)
    assert c.p_value == pytest.approx(st.binomtest(10, 20, 1 / 3).pvalue, abs=1e-12)
    assert c.pct_change == 0.0  # percentages are of the counts
    assert (c.exposure_a, c.exposure_b) == (1.0, 2.0)
    assert c.ratio_lower < 0.5 < c.ratio_upper


def test_compare_counts_symmetry():
    ab, ba = compare_counts(30, 45), compare_counts(45, 30)
    assert ab.p_value == pytest.approx(ba.p_value, abs=1e-12)
    assert ab.ratio_lower == pytest.approx(1 / ba.ratio_upper, rel=1e-10)
    assert ab.ratio_upper == pytest.approx(1 / ba.ratio_lower, rel=1e-10)


def test_compare_counts_equal_counts():
    c = compare_counts(50, 50)
    assert c.change == 0 and c.pct_change == 0.0 and c.rate_ratio == 1.0
    assert c.p_value == 1.0
    assert c.significant is False


def test_compare_counts_zero_base():
    c = compare_counts(0, 5)
    assert math.isnan(c.pct_change)
    assert c.rate_ratio == math.inf and c.ratio_upper == math.inf
    assert c.p_value == pytest.approx(2 * 0.5**5)  # 0.0625: both tails of Binomial(5, 0.5)
    assert c.significant is False


def test_compare_counts_zero_focus():
    c = compare_counts(5, 0)
    assert c.pct_change == -100.0
    assert c.rate_ratio == 0.0 and c.ratio_lower == 0.0
    assert c.p_value == pytest.approx(0.0625)


def test_compare_counts_both_zero():
    c = compare_counts(0, 0)
    assert c.p_value == 1.0 and c.significant is False
    assert math.isnan(c.rate_ratio)
    assert (c.ratio_lower, c.ratio_upper) == (0.0, math.inf)


def test_compare_counts_level_controls_significance():
    # p for 109 vs 97 is 0.44: not significant at 95%, but "significant" at level 0.5 (p < 0.5).
    assert compare_counts(109, 97, level=0.5).significant is True


def test_compare_counts_rejects_bad_input():
    with pytest.raises(ValueError, match="count_a"):
        compare_counts(-1, 3)
    with pytest.raises(ValueError, match="exposure_b"):
        compare_counts(1, 3, exposure_b=0)


def test_results_are_frozen():
    c = compare_counts(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.p_value = 0.0  # type: ignore[misc]


# ---------------------------------------------------------------------------
# change_since
# ---------------------------------------------------------------------------


def test_change_since():
    s = pd.Series({2014: LONDON_2014, 2024: LONDON_2024, 2025: LONDON_2025})
    ch = change_since(s, 2024, 2025)
    assert ch == Change(base=2024, focus=2025, base_value=109.0, focus_value=97.0, change=-12.0, pct_change=100 * -12 / 109)
    assert round(ch.pct_change) == -11


def test_change_since_zero_base_gives_nan_pct():
    ch = change_since(pd.Series({"a": 0, "b": 4}), "a", "b")
    assert ch.change == 4.0 and math.isnan(ch.pct_change)


def test_change_since_missing_label():
    s = pd.Series({2024: 109, 2025: 97})
    with pytest.raises(KeyError, match="1997"):
        change_since(s, 1997, 2025)
    with pytest.raises(KeyError, match="2030"):
        change_since(s, 2024, 2030)


# ---------------------------------------------------------------------------
# record_since
# ---------------------------------------------------------------------------


def _series(values: dict[int, float]) -> pd.Series:
    return pd.Series(values, dtype=float)


# 2014, 2024 and 2025 are the MPS figures (module docstring); the years in between are
# illustrative placeholders, all above 97 as the Met's "lowest since 2014" statement implies.
LOW_SINCE_2014 = _series(
    {2012: 90, 2013: 100, 2014: LONDON_2014, 2015: 110, 2016: 105, 2017: 115, 2018: 130,
     2019: 150, 2020: 120, 2021: 125, 2022: 108, 2023: 105, 2024: LONDON_2024, 2025: LONDON_2025}
)


def test_record_fewest_since_2014():
    r = record_since(LOW_SINCE_2014, 2025)
    assert r == Record(
        focus=2025, value=97.0, kind="low", since_year=2014, since_value=95.0, tie=False,
        is_record=False, series_start=2012, years_compared=13, previous_value=109.0,
        previous_year=2024, series_end=2025, missing_years=(),
    )


def test_record_tie_with_2014():
    s = LOW_SINCE_2014.copy()
    s[2025] = 95.0  # illustrative: equal to 2014's 95
    r = record_since(s, 2025)
    assert (r.since_year, r.since_value, r.tie, r.is_record) == (2014, 95.0, True, False)


def test_record_strict_record_over_whole_series():
    s = LOW_SINCE_2014.copy()
    s[2025] = 80.0  # illustrative: below every earlier year
    r = record_since(s, 2025)
    assert r.since_year is None and r.since_value is None
    assert r.is_record is True and r.tie is False
    assert (r.series_start, r.years_compared) == (2012, 13)


def test_record_first_year_of_series():
    r = record_since(LOW_SINCE_2014, 2012)
    assert r.years_compared == 0
    assert r.previous_value is None and r.previous_year is None
    assert r.since_year is None and r.is_record is True  # vacuously: nothing to compare
    assert r.series_start == 2012 and r.series_end == 2025


def test_record_skips_gap_years():
    # Illustrative: 2019 has no data (NaN) and 2020 is absent from the index altogether.
    s = _series({2017: 100, 2018: 120, 2019: np.nan, 2021: 110, 2022: 105})
    r = record_since(s, 2022)
    assert (r.since_year, r.since_value) == (2017, 100.0)
    assert r.years_compared == 3
    assert (r.previous_year, r.previous_value) == (2021, 110.0)
    assert r.missing_years == (2019, 2020)


def test_record_nan_first_row_is_not_the_series_start():
    s = _series({2002: np.nan, 2003: 200, 2004: 150})
    r = record_since(s, 2004)
    assert r.series_start == 2003 and r.is_record is True and r.missing_years == ()


def test_record_high_kind():
    # Illustrative: 130 in 2018 is the most since 2008 (154); 2017's 116 is below it.
    s = _series({2008: 154, 2009: 125, 2010: 127, 2017: 116, 2018: 130})
    r = record_since(s, 2018, kind="high")
    assert (r.since_year, r.since_value, r.tie) == (2008, 154.0, False)
    assert r.missing_years == tuple(range(2011, 2017))
    top = record_since(_series({2001: 5, 2002: 9}), 2002, kind="high")
    assert top.is_record is True


def test_record_previous_year_as_extreme():
    # Illustrative: a rise from 95 to 97 -> the "since" year is simply last year.
    r = record_since(_series({2023: 120, 2024: 95, 2025: 97}), 2025)
    assert (r.since_year, r.previous_year, r.tie) == (2024, 2024, False)


def test_record_ignores_later_years_and_sorts_index():
    s = _series({2025: 97, 2014: 95, 2024: 109, 2030: 10})  # deliberately unsorted
    r = record_since(s, 2025)
    assert (r.since_year, r.years_compared, r.series_end) == (2014, 2, 2030)


def test_record_errors():
    with pytest.raises(KeyError, match="1999"):
        record_since(LOW_SINCE_2014, 1999)
    with pytest.raises(ValueError, match="no data"):
        record_since(_series({2019: np.nan, 2020: 3}), 2019)
    with pytest.raises(ValueError, match="kind"):
        record_since(LOW_SINCE_2014, 2025, kind="lowest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="integer years"):
        record_since(pd.Series([1.0, 2.0], index=["2024", "2025"]), 2025)


# ---------------------------------------------------------------------------
# peak and rolling_sum
# ---------------------------------------------------------------------------


def test_peak_earliest_on_ties_and_ignores_nan():
    s = _series({2005: 10, 2003: 30, 2004: np.nan, 2008: 30, 2009: 2})
    assert peak(s) == (2003, 30.0)
    assert isinstance(peak(s)[0], int)
    with pytest.raises(ValueError, match="no data"):
        peak(_series({2001: np.nan}))


def test_rolling_sum_complete_windows_only():
    s = pd.Series([1, 2, 3, 4, 5], index=pd.period_range("2024-01", periods=5, freq="M"))
    out = rolling_sum(s, window=3)
    assert list(out.index) == list(s.index)
    assert out.iloc[:2].isna().all()
    assert out.iloc[2:].tolist() == [6.0, 9.0, 12.0]


def test_rolling_sum_twelve_months_and_nan_inside_window():
    s = pd.Series(np.ones(24))
    out = rolling_sum(s)
    assert out.isna().sum() == 11 and out.iloc[11] == 12.0 and out.iloc[-1] == 12.0
    s[15] = np.nan
    out = rolling_sum(s)
    assert out.iloc[14] == 12.0
    assert out.iloc[15:].isna().all()  # every window through month 24 contains the gap


@pytest.mark.parametrize("window", [0, -3, 2.5])
def test_rolling_sum_rejects_bad_window(window):
    with pytest.raises(ValueError, match="window"):
        rolling_sum(pd.Series([1.0, 2.0]), window=window)
