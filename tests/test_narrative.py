"""Tests for analysis.stories.narrative: exact strings, so any change of wording or number fails.

Real-world figures: London homicides 2014 = 95, 2024 = 109, 2025 = 97 are the Metropolitan
Police year-end figures released January 2026 (reported e.g. by The Independent, 11 Jan 2026);
the project's source for the series is the MPS homicide victims open data on the London
Datastore. Every other value here is illustrative and says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.stories.narrative import (
    MINUS,
    caveat_series_start,
    chance_phrase,
    change_phrase,
    fmt_int,
    fmt_p,
    fmt_pct,
    fmt_rate,
    fmt_signed,
    fmt_signed_pct,
    month_range_label,
    record_phrase,
    year_label,
    year_span,
)
from analysis.stories.stats import compare_counts, record_since

# MPS figures (module docstring).
LONDON_2014, LONDON_2024, LONDON_2025 = 95, 109, 97

assert MINUS == "\u2212"
EN = "\u2013"


# ---------------------------------------------------------------------------
# number formats
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "expected"),
    [(1234, "1,234"), (-1234, "-1,234"), (0, "0"), (1234.5, "1,235"), (97.0, "97"), (float("nan"), "n/a"), (None, "n/a")],
)
def test_fmt_int(x, expected):
    assert fmt_int(x) == expected


@pytest.mark.parametrize(
    ("x", "expected"),
    [(12, "+12"), (-12, f"{MINUS}12"), (0, "0"), (-0.4, "0"), (1234, "+1,234"), (-56.0, f"{MINUS}56")],
)
def test_fmt_signed(x, expected):
    assert fmt_signed(x) == expected


def test_fmt_pct_takes_percent_values():
    assert fmt_pct(11.2) == "11%"
    assert fmt_pct(100 * -12 / 109) == "-11%"  # ASCII hyphen in tables
    assert fmt_pct(12.5) == "13%"  # half away from zero, not banker's rounding
    assert fmt_pct(11.25, digits=1) == "11.3%"
    assert fmt_pct(-0.2) == "0%"  # no negative zero


def test_fmt_signed_pct():
    assert fmt_signed_pct(100 * -12 / 109) == f"{MINUS}11%"
    assert fmt_signed_pct(12.0) == "+12%"
    assert fmt_signed_pct(-0.3) == "0%"
    assert fmt_signed_pct(-36.63, digits=1) == f"{MINUS}36.6%"
    assert fmt_signed_pct(float("nan")) == "n/a"


def test_fmt_rate():
    assert fmt_rate(1.0712) == "1.07"
    assert fmt_rate(1.065) == "1.07"  # the float 1.065 is stored as 1.06499..., f"{:.2f}" gives 1.06
    assert fmt_rate(1.1, digits=1) == "1.1"
    assert fmt_rate(0) == "0.00"


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.4435119634598579, "p = 0.44"), (0.0031, "p = 0.0031"), (0.05, "p = 0.05"),
     (0.00048, "p < 0.001"), (0.001, "p = 0.001"), (1.0, "p = 1"), (0.0625, "p = 0.063"), (0.99951, "p = 1"), (0.0999, "p = 0.1")],
)
def test_fmt_p(p, expected):
    assert fmt_p(p) == expected


# ---------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------


def test_month_range_label():
    assert month_range_label(2024, 3) == f"January{EN}March 2024"
    assert month_range_label(2024, 1) == "January 2024"
    assert month_range_label(2024, 11) == f"January{EN}November 2024"
    assert month_range_label(2024, 12) == "2024"
    assert month_range_label(2024, np.int64(2)) == f"January{EN}February 2024"


def test_year_label():
    assert year_label(2024, 3) == f"2024 (January{EN}March only)"
    assert year_label(2024, 1) == "2024 (January only)"
    assert year_label(2024, 12) == "2024"


@pytest.mark.parametrize("months", [0, 13, 2.5, True])
def test_labels_reject_bad_months(months):
    with pytest.raises(ValueError, match="months_covered"):
        month_range_label(2024, months)


def test_year_span():
    assert year_span([2019]) == "2019"
    assert year_span([2019, 2020]) == "2019 and 2020"
    assert year_span([2021, 2019, 2020]) == f"2019{EN}2021"
    assert year_span([2008, 2010, 2019, 2020, 2021]) == f"2008, 2010 and 2019{EN}2021"
    assert year_span([]) == ""


# ---------------------------------------------------------------------------
# record_phrase
# ---------------------------------------------------------------------------


def _series(values: dict[int, float]) -> pd.Series:
    return pd.Series(values, dtype=float)


# 2014, 2024, 2025 from the MPS figures; 2003 and the years in between are illustrative
# placeholders (all above 97, as the Met's "lowest since 2014" statement implies).
COUNTS = _series(
    {2003: 180, 2004: 170, 2013: 100, 2014: LONDON_2014, 2015: 110, 2016: 105, 2017: 115,
     2018: 130, 2019: 150, 2020: 120, 2021: 125, 2022: 108, 2023: 105,
     2024: LONDON_2024, 2025: LONDON_2025}
)


def test_record_phrase_fewest_since():
    r = record_since(COUNTS, 2025)
    assert record_phrase(r) == "the fewest homicides since 2014, when there were 95"
    assert record_phrase(r, noun="victims") == "the fewest victims since 2014, when there were 95"


def test_record_phrase_tie():
    s = COUNTS.copy()
    s[2025] = 95  # illustrative tie with 2014
    assert record_phrase(record_since(s, 2025)) == "the same number as in 2014 (95), and the fewest since then"


def test_record_phrase_record_in_series():
    s = COUNTS.copy()
    s[2025] = 80  # illustrative: below every earlier year
    r = record_since(s, 2025)
    assert record_phrase(r) == (
        "the fewest homicides in the series, which starts in 2003 "
        f"(not counting 2005{EN}2012, which have no data)"
    )


def test_record_phrase_record_without_gaps():
    r = record_since(_series({2003: 200, 2004: 150, 2005: 120}), 2005)
    assert record_phrase(r) == "the fewest homicides in the series, which starts in 2003"


def test_record_phrase_record_not_the_latest_year():
    # Illustrative: 2005 is lower than 2003-2004, but later years exist and are not compared.
    r = record_since(_series({2003: 200, 2004: 150, 2005: 120, 2006: 90}), 2005)
    assert record_phrase(r) == "the fewest homicides in the series up to that year (it starts in 2003)"


def test_record_phrase_first_year():
    r = record_since(COUNTS, 2003)
    assert record_phrase(r) == "the first year of the series (2003), so there is nothing earlier to compare"


def test_record_phrase_rise_from_last_year_is_not_called_a_low():
    # Illustrative: 95 then 97 -> the "since" year is last year; say plainly it is more.
    r = record_since(_series({2023: 120, 2024: 95, 2025: 97}), 2025)
    assert record_phrase(r) == "more homicides than in 2024 (95)"
    r = record_since(_series({2023: 120, 2024: 97, 2025: 97}), 2025)
    assert record_phrase(r) == "the same number as in 2024 (97)"


def test_record_phrase_previous_year_across_a_gap():
    r = record_since(_series({2022: 90, 2023: np.nan, 2024: 97}), 2024)
    assert record_phrase(r) == "more homicides than in 2022 (90), the latest earlier year with data"


def test_record_phrase_names_gap_years_inside_since_span():
    s = COUNTS.copy()
    s[2019] = np.nan  # illustrative: a year without data between 2014 and 2025
    r = record_since(s, 2025)
    assert record_phrase(r) == (
        "the fewest homicides since 2014, when there were 95 (not counting 2019, which has no data)"
    )


def test_record_phrase_singular_and_zero():
    # Illustrative small-area counts.
    r = record_since(_series({2020: 1, 2021: 4, 2022: 3, 2023: 2}), 2023)
    assert record_phrase(r) == "the fewest homicides since 2020, when there was 1"
    r = record_since(_series({2020: 0, 2021: 4, 2022: 3, 2023: 0}), 2023)
    assert record_phrase(r) == "the same number as in 2020 (none), and the fewest since then"


def test_record_phrase_high_kind():
    # Illustrative: 130 in 2018 is the most since 2008 (154).
    s = _series({2008: 154, 2009: 125, 2010: 127, 2011: 118, 2012: 112, 2013: 109,
                 2014: 95, 2015: 110, 2016: 105, 2017: 116, 2018: 130})
    r = record_since(s, 2018, kind="high")
    assert record_phrase(r) == "the most homicides since 2008, when there were 154"
    assert record_phrase(r, measure="rate") == "the highest rate since 2008, when it was 154.00 per 100,000"
    r = record_since(_series({2016: 105, 2017: 130, 2018: 116}), 2018, kind="high")
    assert record_phrase(r) == "fewer homicides than in 2017 (130)"
    r = record_since(_series({2016: 105, 2017: 116, 2018: 130}), 2018, kind="high")
    assert record_phrase(r) == "the most homicides in the series, which starts in 2016"


def test_record_phrase_rates():
    # Illustrative rates per 100,000.
    rates = _series({2003: 3.1, 2013: 1.2, 2014: 1.11, 2015: 1.3, 2024: 1.2, 2025: 1.14})
    r = record_since(rates, 2025)
    assert record_phrase(r, measure="rate") == (
        "the lowest rate since 2014, when it was 1.11 per 100,000 "
        f"(not counting 2016{EN}2023, which have no data)"
    )
    low = record_since(_series({2003: 3.1, 2014: 1.11, 2025: 1.05}), 2025)
    assert record_phrase(low, measure="rate").startswith("the lowest rate in the series, which starts in 2003")
    tie = record_since(_series({2014: 1.11, 2015: 1.3, 2016: 1.11}), 2016)
    assert record_phrase(tie, measure="rate") == "the same rate as in 2014 (1.11 per 100,000), and the lowest since then"
    up = record_since(_series({2014: 1.11, 2015: 1.3}), 2015)
    assert record_phrase(up, measure="rate") == "a higher rate than in 2014 (1.11 per 100,000)"


def test_record_phrase_partial_year_is_not_ranked():
    r = record_since(COUNTS, 2025)
    assert record_phrase(r, months_covered=3) == (
        f"2025 is covered only for January{EN}March, so it cannot be ranked against full years"
    )


def test_record_phrase_rejects_bad_measure():
    with pytest.raises(ValueError, match="measure"):
        record_phrase(record_since(COUNTS, 2025), measure="share")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# change_phrase and chance_phrase
# ---------------------------------------------------------------------------


def test_change_phrase_decrease():
    c = compare_counts(LONDON_2024, LONDON_2025)
    assert change_phrase(c, "2024", "2025") == f"97 homicides in 2025, 12 fewer than the 109 in 2024 ({MINUS}11%)"


def test_change_phrase_increase():
    c = compare_counts(LONDON_2025, LONDON_2024)  # illustrative: the same counts the other way round
    assert change_phrase(c, "2025", "2026") == "109 homicides in 2026, 12 more than the 97 in 2025 (+12%)"


def test_change_phrase_no_change():
    c = compare_counts(97, 97)
    assert change_phrase(c, "2024", "2025") == "97 homicides in 2025, the same as in 2024"


def test_change_phrase_zero_counts_and_singular():
    assert change_phrase(compare_counts(0, 3), "2024", "2025") == "3 homicides in 2025, up from none in 2024"
    # A base under 10 gets no percentage: "-100%" from 5 to 0 would overstate what 5 deaths can show.
    assert change_phrase(compare_counts(5, 0), "2024", "2025") == "no homicides in 2025, down from 5 in 2024"
    assert change_phrase(compare_counts(12, 0), "2024", "2025") == f"no homicides in 2025, down from 12 in 2024 ({MINUS}100%)"
    assert change_phrase(compare_counts(0, 0), "2024", "2025") == "no homicides in 2025, the same as in 2024"
    assert change_phrase(compare_counts(2, 1), "2024", "2025") == "1 homicide in 2025, down from 2 in 2024"
    assert change_phrase(compare_counts(1, 4), "2024", "2025") == "4 homicides in 2025, up from 1 in 2024"


def test_change_phrase_never_says_zero_percent_for_a_change():
    assert change_phrase(compare_counts(77_161, 77_425), "2018", "2019").endswith("(+0.3%)")
    assert change_phrase(compare_counts(100_000, 100_010), "2018", "2019").endswith("(a change of under 0.1%)")


def test_change_phrase_partial_year_like_for_like():
    # Illustrative: January-March in both years, so exposures are equal and labels say so.
    c = compare_counts(30, 24)
    assert change_phrase(c, month_range_label(2024, 3), month_range_label(2025, 3)) == (
        f"24 homicides in January{EN}March 2025, 6 fewer than the 30 in January{EN}March 2024 ({MINUS}20%)"
    )


def test_change_phrase_unequal_exposures_adds_rate_clause():
    # Illustrative: 3 months of 2025 (24) vs all of 2024 (109): fewer events, but a higher rate.
    c = compare_counts(109, 24, exposure_a=12, exposure_b=3)
    assert change_phrase(c, "2024", year_label(2025, 3)) == (
        f"24 homicides in 2025 (January{EN}March only), 85 fewer than the 109 in 2024 ({MINUS}78%); "
        "allowing for the different lengths of the periods, the rate is 12% lower"
    )
    assert c.rate_ratio == pytest.approx((24 / 3) / (109 / 12))  # 0.8807 -> 12% lower
    c = compare_counts(12, 4, exposure_a=12, exposure_b=2)  # illustrative: rate 1/month vs 2/month
    assert change_phrase(c, "2024", year_label(2025, 2)).endswith(
        # 2 expected at the base rate: too few for a percentage, so the direction only.
        "allowing for the different lengths of the periods, the rate is higher"
    )


def test_chance_phrase_not_significant():
    c = compare_counts(LONDON_2024, LONDON_2025)
    assert chance_phrase(c) == (
        "a change of this size is within what chance alone would produce (exact conditional test, p = 0.44)"
    )


def test_chance_phrase_significant():
    c = compare_counts(153, LONDON_2025)  # 2019 = 153 per the brief (unverified; see test_stats.py)
    assert chance_phrase(c) == (
        "a change of this size is larger than chance alone would readily produce "
        "(exact conditional test, p < 0.001)"
    )
    c = compare_counts(30, 50)  # illustrative: p = 0.033
    assert chance_phrase(c) == (
        "a change of this size is larger than chance alone would readily produce "
        "(exact conditional test, p = 0.033)"
    )


def test_chance_phrase_no_change_and_zeros():
    assert chance_phrase(compare_counts(40, 40)) == (
        "the counts are equal, so there is no change for chance to explain (exact conditional test, p = 1)"
    )
    assert chance_phrase(compare_counts(0, 0)) == "there are no events in either period, so there is no change to test"
    assert chance_phrase(compare_counts(10, 20, exposure_a=1, exposure_b=2)).startswith("the rates are equal")


# ---------------------------------------------------------------------------
# caveat_series_start
# ---------------------------------------------------------------------------


def test_caveat_series_start():
    assert caveat_series_start(1997, 2003) == (
        "the claim refers back to 1997, but the count series here starts in 2003, "
        f"so years 1997{EN}2002 cannot be checked"
    )
    assert caveat_series_start(2002, 2003) == (
        "the claim refers back to 2002, but the count series here starts in 2003, so year 2002 cannot be checked"
    )
    assert caveat_series_start(2003, 2003) == ""
    assert caveat_series_start(2014, 2003) == ""
    assert caveat_series_start(1990, 2001, series_name="rate series").startswith(
        "the claim refers back to 1990, but the rate series here"
    )


def test_every_function_returns_str():
    r = record_since(COUNTS, 2025)
    c = compare_counts(109, 97)
    outputs = [fmt_int(1), fmt_signed(1), fmt_pct(1), fmt_signed_pct(1), fmt_rate(1), fmt_p(0.5),
               month_range_label(2024, 3), year_label(2024, 3), record_phrase(r),
               change_phrase(c, "a", "b"), chance_phrase(c), caveat_series_start(2003, 2003)]
    assert all(isinstance(o, str) for o in outputs)
    assert not math.isnan(c.p_value)


def test_a_series_that_starts_part_way_through_a_year_names_the_months_it_has():
    from analysis.core.dates import partial_year_label

    # MPS recorded crime starts in April 2010: its first year is April-December, not January-September
    assert partial_year_label(2010, 9, at_start=True) == f"April{EN}December 2010"
    assert partial_year_label(2026, 6) == f"January{EN}June 2026"
    assert partial_year_label(2010, 1, at_start=True) == "December 2010"


def test_a_part_of_a_whole_is_grammatical_for_any_counts():
    from analysis.stories.numbers import part_of

    victims = "homicide victims"
    assert part_of(16, 153, victims, "London") == "16 of London's 153 homicide victims were"
    assert part_of(1, 8, victims, "Lambeth") == "1 of Lambeth's 8 homicide victims was"
    assert part_of(0, 4, victims, "Hackney") == "none of Hackney's 4 homicide victims was"
    assert part_of(3, 3, victims, "Lambeth") == "all 3 of Lambeth's homicide victims were"
    assert part_of(1, 1, victims, "Hackney") == "Hackney's one homicide victim was"
    assert part_of(0, 1, victims, "Hackney") == "Hackney's one homicide victim was not"
