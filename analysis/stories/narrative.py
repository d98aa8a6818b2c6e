"""The sentence layer: computed results into sentences and finding titles that cannot say wrong things.

No number is typed into any sentence here: every figure comes from the arguments. Each function
returns a ``str`` and stays true and grammatical for records, ties, increases, decreases, no
change, counts of 0, 1 or 1,000, and partial years. The rules, each kept by tests:

* nouns agree with their counts ("1 homicide", "no victims under 25"; ``numbers.Noun``);
* no percentage change on a base under :data:`SMALL_BASE` ("from 1 to 4", not "+300%");
* ties are reported as ties, and a maximum reached in the first year of a series is "the highest
  since the records began", not a "peak";
* a record ("the fewest since 2014") never stands alone when the change behind it is within
  what chance alone would produce (the caller adds :func:`chance_phrase`);
* dates come from ``analysis.core.dates`` (one helper for every month and span).
Number formats are ``analysis.stories.numbers`` (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from analysis.core.dates import EN_DASH, _check_months, _months, month_range_label, year_label, year_span  # noqa: F401 - re-exported
from analysis.stories.numbers import (  # noqa: F401 - re-exported: the sentence layer's one face
    MINUS,
    Noun,
    _is_missing,
    _round,
    count_phrase,
    fmt_int,
    fmt_p,
    fmt_pct,
    fmt_rate,
    fmt_signed,
    fmt_signed_pct,
    noun,
)
from analysis.stories.stats import CountComparison, Record

if TYPE_CHECKING:
    from analysis.stories.trend import Baseline, Trend

__all__ = [
    "MINUS",
    "SMALL_BASE",
    "caveat_series_start",
    "chance_phrase",
    "change_phrase",
    "count_phrase",
    "fmt_int",
    "fmt_p",
    "fmt_pct",
    "fmt_rate",
    "fmt_signed",
    "fmt_signed_pct",
    "month_range_label",
    "peak_phrase",
    "record_phrase",
    "year_label",
    "year_span",
]

#: Smallest base count a percentage change is given for; below it the change is said in counts.
SMALL_BASE = 10


# ---------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------


def _gap_note(missing: tuple[int, ...], after: int) -> str:
    """`` (not counting 2019, which has no data)`` for the missing years after ``after``; else ""."""
    gaps = tuple(y for y in missing if y > after)
    if not gaps:
        return ""
    verb = "has" if len(gaps) == 1 else "have"
    return f" (not counting {year_span(gaps)}, which {verb} no data)"


def record_phrase(
    record: Record,
    noun: "Noun | str" = "homicides",
    measure: Literal["count", "rate"] = "count",
    *,
    months_covered: int = 12,
    short: bool = False,
) -> str:
    """Describe how the focus year ranks against earlier years, as a noun phrase.

    ``short=True`` leaves out the value of the year it reaches back to ("the fewest since 2014"),
    for titles.

    Examples (kind "low", count): ``"the fewest homicides since 2014, when there were 95"``;
    tie: ``"the same number as in 2014 (95), and the fewest since then"``; record:
    ``"the fewest homicides in the series, which starts in 2003"``; first year:
    ``"the first year of the series (2003), so there is nothing earlier to compare"``.
    With ``measure="rate"`` values are rates per 100,000: ``"the lowest rate since 2014, when
    it was 1.11 per 100,000"``. Kind "high" uses "most"/"highest". If the latest earlier year
    is the one at least as extreme, the phrase says so plainly ("more homicides than in 2024 (95)")
    rather than claiming a vacuous "since". Years without data in the span are named.
    A partial focus year (``months_covered < 12``) is not ranked against full years.
    """
    if measure not in ("count", "rate"):
        raise ValueError(f"measure must be 'count' or 'rate', got {measure!r}")
    if record.kind not in ("low", "high"):
        raise ValueError(f"record.kind must be 'low' or 'high', got {record.kind!r}")
    what = noun_of(noun)
    if _check_months(months_covered) < 12:
        return (
            f"{record.focus} is covered only for {_months(months_covered)}, "
            "so it cannot be ranked against full years"
        )
    if record.years_compared == 0:
        return f"the first year of the series ({record.focus}), so there is nothing earlier to compare"

    low = record.kind == "low"
    if measure == "count":
        superlative = f"the {'fewest' if low else 'most'} {what.plural}"
        short_superlative = f"the {'fewest' if low else 'most'}"
        same = "the same number as"

        def amount(v: float) -> str:
            return "none" if v == 0 else fmt_int(v)

        def when(v: float) -> str:
            return "when there were none" if v == 0 else f"when there {'was' if v == 1 else 'were'} {fmt_int(v)}"

        opposite = f"{'more' if low else 'fewer'} {what.plural} than"
    else:
        superlative = f"the {'lowest' if low else 'highest'} rate"
        short_superlative = f"the {'lowest' if low else 'highest'}"
        same = "the same rate as"

        def amount(v: float) -> str:
            return f"{fmt_rate(v)} per 100,000"

        def when(v: float) -> str:
            return f"when it was {fmt_rate(v)} per 100,000"

        opposite = f"a {'higher' if low else 'lower'} rate than"

    if record.is_record:
        note = _gap_note(record.missing_years, record.series_start)
        if record.series_end is None or record.focus >= record.series_end:
            return f"{superlative} in the series, which starts in {record.series_start}{note}"
        return f"{superlative} in the series up to that year (it starts in {record.series_start}){note}"

    since, since_value = record.since_year, record.since_value
    assert since is not None and since_value is not None  # is_record is False
    note = _gap_note(record.missing_years, since)
    if since == record.previous_year:
        where = f"in {since} ({amount(since_value)})"
        latest = "" if since == record.focus - 1 else ", the latest earlier year with data"
        if record.tie:
            if measure == "count" and since_value == 0:
                return f"no change from {since}, when there were none too{latest}"
            return f"{same} {where}{latest}"
        return f"{opposite} {where}{latest}"
    if record.tie:
        if short:
            return f"{same} in {since}, and {short_superlative} since then"
        return f"{same} in {since} ({amount(since_value)}), and {short_superlative} since then{note}"
    if short:
        return f"{superlative} since {since}"
    return f"{superlative} since {since}, {when(since_value)}{note}"


def noun_of(value: "Noun | str") -> Noun:
    """The Noun for ``value`` (a Noun, or the plural of a known one)."""
    return noun(value)


def peak_phrase(values: "Mapping[int, float]", focus: int, what: "Noun | str" = "homicides") -> str:
    """Where the focus year stands against the highest year of a series, as a sentence.

    * the focus year is the highest: ``"2017 had the most homicides in the series (2003–2017), 69"``
      (or "equals the highest" when an earlier year had as many);
    * the highest year is the series' first: ``"The most homicides in the series, 216, were in 2003,
      the first year of the records; 2025 had 97, 55% fewer"``;
    * a maximum reached in several years is a tie: ``"... 2 in each of 9 years, first in 2003"``;
    * counts under :data:`SMALL_BASE` are compared in counts, not percentages, and a focus year
      with none says "none".
    Values are whole-year counts indexed by year (later years than ``focus`` are ignored).
    """
    word = noun_of(what)
    data = {int(y): float(v) for y, v in values.items() if int(y) <= focus and not _is_missing(v)}
    if focus not in data:
        raise ValueError(f"peak_phrase: no value for the focus year {focus}")
    first, focus_value = min(data), data[focus]
    high = max(data.values())
    high_years = sorted(y for y, v in data.items() if v == high)
    span = f"{first}{EN_DASH}{focus}" if first != focus else str(first)
    if len(data) == 1:
        return f"{focus} is the only year of the series, so it has no earlier high to compare with."
    if focus_value == high:
        if high_years[0] == focus:
            return f"{focus} had the most {word.plural} in the series ({span}): {fmt_int(high)}."
        return (f"{focus} equals the highest count in the series ({span}), {fmt_int(high)}, "
                f"first reached in {high_years[0]}.")
    if len(high_years) > 1:
        where = f"{fmt_int(high)} in each of {len(high_years)} years, first in {high_years[0]}"
    elif high_years[0] == first:
        where = f"{fmt_int(high)} in {first}, the first year of the records"
    else:
        where = f"{fmt_int(high)} in {high_years[0]}"
    if focus_value == 0:
        compared = f"{focus} had none"
    elif high < SMALL_BASE:
        compared = f"{focus} had {fmt_int(focus_value)}"
    else:
        pct = 100 * (focus_value - high) / high
        compared = f"{focus} had {fmt_int(focus_value)}, {fmt_pct(abs(pct))} fewer"
    return f"The most {word.plural} in a year since the records began ({span}) were {where}; {compared}."


# ---------------------------------------------------------------------------
# changes and chance
# ---------------------------------------------------------------------------


def change_phrase(
    comparison: CountComparison,
    base_label: str,
    focus_label: str,
    noun: "Noun | str" = "homicides",
) -> str:
    """Describe the change from the base count to the focus count.

    E.g. ``"97 homicides in 2025, 12 fewer than the 109 in 2024 (\u221211%)"``,
    ``"97 homicides in 2025, the same as in 2024"``, ``"3 homicides in 2025, up from none in 2024"``,
    ``"4 homicides in 2025, up from 1 in 2024"`` (a base under :data:`SMALL_BASE` gets no
    percentage). When the two periods have different exposures (e.g. a partial year) the
    exposure-adjusted rate change is added, since the raw counts are not like for like.
    """
    what = noun_of(noun)
    a, b = comparison.count_a, comparison.count_b
    head = f"{count_phrase(b, what)} in {focus_label}"
    if a == b:
        body = f"{head}, the same as in {base_label}"
    elif a == 0:
        body = f"{head}, up from none in {base_label}"
    elif a < SMALL_BASE:
        body = f"{head}, {'up' if b > a else 'down'} from {fmt_int(a)} in {base_label}"
    elif b == 0:
        body = f"{head}, down from {fmt_int(a)} in {base_label} ({fmt_signed_pct(comparison.pct_change)})"
    else:
        diff = abs(b - a)
        direction = "more" if b > a else "fewer"
        body = (
            f"{head}, {fmt_int(diff)} {direction} than the {fmt_int(a)} in {base_label} "
            f"({_pct_of_change(comparison.pct_change)})"
        )
    if not math.isclose(comparison.exposure_a, comparison.exposure_b, rel_tol=1e-9):
        body += "; " + _rate_adjusted(comparison)
    return body


def _pct_of_change(pct: float) -> str:
    """A change of counts that differ as a signed percentage, never ``"0%"``: one decimal under 1%."""
    if abs(pct) < 0.05:
        return "a change of under 0.1%"
    return fmt_signed_pct(pct, 1 if abs(pct) < 0.95 else 0)


def _rate_adjusted(comparison: CountComparison) -> str:
    ratio = comparison.rate_ratio
    if math.isnan(ratio):
        return "the periods differ in length, and with no events in either there is no rate to compare"
    lead = "allowing for the different lengths of the periods, the rate"
    if math.isinf(ratio):
        return f"{lead} rose from zero"
    pct = 100.0 * (ratio - 1.0)
    rounded = _round(pct, 0)
    if rounded == 0:
        return f"{lead} is about the same"
    if min(comparison.count_a, comparison.count_b) < SMALL_BASE:
        return f"{lead} is {'higher' if rounded > 0 else 'lower'}"
    direction = "higher" if rounded > 0 else "lower"
    return f"{lead} is {fmt_pct(abs(pct))} {direction}"


def chance_phrase(comparison: CountComparison) -> str:
    """Say whether the change is within what chance alone would produce, with the exact p value.

    ``"a change of this size is within what chance alone would produce (exact conditional test,
    p = 0.44)"`` or ``"... is larger than chance alone would readily produce (exact conditional
    test, p < 0.001)"``, judged at the comparison's own level (significant = p < 1 - level).
    Equal rates and two zero counts are said plainly, without claiming a change.
    """
    a, b = comparison.count_a, comparison.count_b
    test = f"exact conditional test, {fmt_p(comparison.p_value)}"
    if a == 0 and b == 0:
        return "there are no events in either period, so there is no change to test"
    if comparison.rate_ratio == 1.0:
        what = "counts" if math.isclose(comparison.exposure_a, comparison.exposure_b) else "rates"
        return f"the {what} are equal, so there is no change for chance to explain ({test})"
    if comparison.significant:
        return f"a change of this size is larger than chance alone would readily produce ({test})"
    return f"a change of this size is within what chance alone would produce ({test})"


def caveat_series_start(claimed_start: int, series_start: int, series_name: str = "count series") -> str:
    """The caveat needed when a claim reaches back before the data.

    Returns e.g. ``"the claim refers back to 1997, but the count series here starts in 2003,
    so years 1997\u20132002 cannot be checked"``, or ``""`` when ``claimed_start >= series_start``
    (nothing to caveat).
    """
    claimed_start, series_start = int(claimed_start), int(series_start)
    if claimed_start >= series_start:
        return ""
    unchecked = (
        f"year {claimed_start} cannot"
        if claimed_start == series_start - 1
        else f"years {claimed_start}{EN_DASH}{series_start - 1} cannot"
    )
    return (
        f"the claim refers back to {claimed_start}, but the {series_name} here starts in "
        f"{series_start}, so {unchecked} be checked"
    )


def sentence(text: str) -> str:
    """``text`` as a sentence: first letter capitalised (the rest untouched), ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# ---------------------------------------------------------------------------
# trends and pre-stated baselines
# ---------------------------------------------------------------------------


def trend_phrase(trend: "Trend | None", what: "Noun | str", *, area: str) -> str:
    """The fitted trend over the series as a sentence, its interval and whether it is clear.

    ``"Over 2003–2025, homicides in London fell by about 2.5% a year (95% interval 1.6% to 3.4%)."``;
    a trend whose interval includes no change is said to be unclear; too few events, no trend.
    """
    word = noun_of(what)
    if trend is None:
        return f"There are too few {word.plural} in {area} to judge a trend over the years."
    subject = f"the {word.singular} rate per 100,000 residents" if trend.per_capita else word.plural
    span = f"{trend.first_year}{EN_DASH}{trend.last_year}"
    level = f"{round(100 * trend.level)}% interval"
    if not trend.significant:
        return (
            f"Over {span}, {subject} in {area} show no clear trend: the fitted change is "
            f"{fmt_signed_pct(trend.pct_per_year, 1)} a year ({level} {fmt_signed_pct(trend.lower, 1)} to "
            f"{fmt_signed_pct(trend.upper, 1)}), which includes no change."
        )
    verb = "fell" if trend.pct_per_year < 0 else "rose"
    low, high = sorted((abs(trend.lower), abs(trend.upper)))
    return (
        f"Over {span}, {subject} in {area} {verb} by about {fmt_pct(abs(trend.pct_per_year), 1)} a year "
        f"({level} {fmt_pct(low, 1)} to {fmt_pct(high, 1)}), judged over the whole series with a model "
        "that allows for more variation than independent deaths would give."
    )


def baseline_phrase(baseline: "Baseline | None", what: "Noun | str", focus: int, count: float) -> str:
    """The focus year against the average of the years before it (a baseline stated in advance)."""
    word = noun_of(what)
    if baseline is None:
        return f"There are not enough earlier whole years to compare {focus} with their average."
    span = f"{baseline.first_year}{EN_DASH}{baseline.last_year}"
    mean = baseline.mean
    head = f"{count_phrase(count, word)} in {focus}, against an average of {mean:,.1f} a year in {span}"
    if mean < SMALL_BASE or count == mean:
        return head + "."
    pct = 100 * (count - mean) / mean
    direction = "fewer" if pct < 0 else "more"
    return f"{head} ({fmt_pct(abs(pct))} {direction}); " + chance_phrase(baseline.comparison).replace(
        "a change of this size", "a difference of this size") + "."
