"""Turn computed results into sentences and finding titles.

No number is typed into any sentence here: every figure comes from the arguments. Each
function returns a ``str`` and is written so the sentence stays true for records, ties,
increases, decreases, no change, zero counts and partial years.

Number formats:
* tables use an ASCII hyphen-minus for negatives (:func:`fmt_int`, :func:`fmt_pct`,
  :func:`fmt_rate`);
* prose uses explicit signs with a true minus sign, U+2212 (:func:`fmt_signed`,
  :func:`fmt_signed_pct`).
Rounding is half away from zero on the decimal value as printed by Python (so 12.5 -> "13").
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from analysis.core.dates import EN_DASH, _check_months, _months, month_range_label, year_label, year_span  # noqa: F401 - re-exported
from analysis.stories.stats import CountComparison, Record

__all__ = [
    "MINUS",
    "caveat_series_start",
    "chance_phrase",
    "change_phrase",
    "fmt_int",
    "fmt_p",
    "fmt_pct",
    "fmt_rate",
    "fmt_signed",
    "fmt_signed_pct",
    "month_range_label",
    "record_phrase",
    "year_label",
    "year_span",
]

MINUS = "\u2212"
"""The minus sign used in prose (U+2212), as opposed to the hyphen-minus used in tables."""

_MISSING = "n/a"


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------


def _is_missing(x: object) -> bool:
    """True for None, NaN and pandas' NA (which refuses ``float()``)."""
    if x is None:
        return True
    try:
        return math.isnan(float(x))  # type: ignore[arg-type]
    except TypeError:
        return True


def _round(x: float, digits: int) -> Decimal:
    """Round half away from zero at ``digits`` decimals; never returns negative zero."""
    d = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return d if d != 0 else abs(d)


def fmt_int(x: float) -> str:
    """Whole number with thousands separators for tables: ``1234 -> "1,234"``, ``-1234 -> "-1,234"``.

    Floats are rounded to the nearest whole number (half away from zero); NaN/None give "n/a".
    """
    if _is_missing(x):
        return _MISSING
    return f"{int(_round(x, 0)):,}"


def fmt_signed(x: float) -> str:
    """Whole number with an explicit sign for prose: ``"+12"``, ``"\u221212"`` (U+2212), ``"0"``."""
    if _is_missing(x):
        return _MISSING
    n = int(_round(x, 0))
    if n > 0:
        return f"+{n:,}"
    if n < 0:
        return f"{MINUS}{-n:,}"
    return "0"


def fmt_pct(x: float, digits: int = 0) -> str:
    """Percentage for tables. ``x`` is already in percent: ``11.2 -> "11%"``, ``-11.0 -> "-11%"``."""
    if _is_missing(x):
        return _MISSING
    return f"{_round(x, digits):,.{digits}f}%"


def fmt_signed_pct(x: float, digits: int = 0) -> str:
    """Percentage with an explicit sign for prose (``x`` in percent): ``"+12%"``, ``"\u221211%"``, ``"0%"``."""
    if _is_missing(x):
        return _MISSING
    d = _round(x, digits)
    body = f"{abs(d):,.{digits}f}%"
    if d > 0:
        return f"+{body}"
    if d < 0:
        return f"{MINUS}{body}"
    return body


def fmt_rate(x: float, digits: int = 2) -> str:
    """Rate (e.g. per 100,000) with fixed decimals: ``1.0712 -> "1.07"``."""
    if _is_missing(x):
        return _MISSING
    return f"{_round(x, digits):,.{digits}f}"


def fmt_p(p: float) -> str:
    """P value as ``"p = 0.44"`` (two significant digits) or ``"p < 0.001"``."""
    if _is_missing(p):
        return f"p = {_MISSING}"
    if p < 0.001:
        return "p < 0.001"
    if p >= 1:
        return "p = 1"
    d = Decimal(repr(float(p)))
    two_sig = d.quantize(Decimal(1).scaleb(d.adjusted() - 1), rounding=ROUND_HALF_UP)
    return f"p = {two_sig.normalize():f}"


# ---------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------


def _noun(noun: str, n: float) -> str:
    """Naive singular: drop a trailing "s" when the count is exactly one."""
    return noun[:-1] if n == 1 and noun.endswith("s") and not noun.endswith("ss") else noun


def _gap_note(missing: tuple[int, ...], after: int) -> str:
    """`` (not counting 2019, which has no data)`` for the missing years after ``after``; else ""."""
    gaps = tuple(y for y in missing if y > after)
    if not gaps:
        return ""
    verb = "has" if len(gaps) == 1 else "have"
    return f" (not counting {year_span(gaps)}, which {verb} no data)"


def record_phrase(
    record: Record,
    noun: str = "homicides",
    measure: Literal["count", "rate"] = "count",
    *,
    months_covered: int = 12,
) -> str:
    """Describe how the focus year ranks against earlier years, as a noun phrase.

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
    if _check_months(months_covered) < 12:
        return (
            f"{record.focus} is covered only for {_months(months_covered)}, "
            "so it cannot be ranked against full years"
        )
    if record.years_compared == 0:
        return f"the first year of the series ({record.focus}), so there is nothing earlier to compare"

    low = record.kind == "low"
    if measure == "count":
        superlative = f"the {'fewest' if low else 'most'} {noun}"
        short_superlative = f"the {'fewest' if low else 'most'}"
        same = "the same number as"

        def amount(v: float) -> str:
            return fmt_int(v)

        def when(v: float) -> str:
            return f"when there {'was' if v == 1 else 'were'} {fmt_int(v)}"

        opposite = f"{'more' if low else 'fewer'} {noun} than"  # focus less extreme than last year
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
    adjacent = since == record.previous_year
    if adjacent:
        where = f"in {since} ({amount(since_value)})"
        latest = "" if since == record.focus - 1 else ", the latest earlier year with data"
        if record.tie:
            return f"{same} {where}{latest}"
        return f"{opposite} {where}{latest}"
    if record.tie:
        return f"{same} in {since} ({amount(since_value)}), and {short_superlative} since then{note}"
    return f"{superlative} since {since}, {when(since_value)}{note}"


# ---------------------------------------------------------------------------
# changes and chance
# ---------------------------------------------------------------------------


def _count_with_noun(n: int, noun: str) -> str:
    return f"no {noun}" if n == 0 else f"{fmt_int(n)} {_noun(noun, n)}"


def change_phrase(
    comparison: CountComparison,
    base_label: str,
    focus_label: str,
    noun: str = "homicides",
) -> str:
    """Describe the change from the base count to the focus count.

    E.g. ``"97 homicides in 2025, 12 fewer than the 109 in 2024 (\u221211%)"``,
    ``"... 12 more than the 97 in 2024 (+12%)"``, ``"97 homicides in 2025, the same as in 2024"``,
    ``"3 homicides in 2025, up from none in 2024"``. Percentages are of the counts; when the
    two periods have different exposures (e.g. a partial year) the exposure-adjusted rate
    change is added, since the raw counts are not like for like.
    """
    a, b = comparison.count_a, comparison.count_b
    head = f"{_count_with_noun(b, noun)} in {focus_label}"
    if a == b:
        body = f"{head}, the same as in {base_label}"
    elif a == 0:
        body = f"{head}, up from none in {base_label}"
    elif b == 0:
        body = f"{head}, down from {fmt_int(a)} in {base_label} ({fmt_signed_pct(comparison.pct_change)})"
    else:
        diff = abs(b - a)
        direction = "more" if b > a else "fewer"
        body = (
            f"{head}, {fmt_int(diff)} {direction} than the {fmt_int(a)} in {base_label} "
            f"({fmt_signed_pct(comparison.pct_change)})"
        )
    if not math.isclose(comparison.exposure_a, comparison.exposure_b, rel_tol=1e-9):
        body += "; " + _rate_adjusted(comparison)
    return body


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


def relative_phrase(pct: float, digits: int = 0) -> str:
    """``"55% below"``, ``"12% above"`` or ``"equal to"`` for a percentage change (in percent)."""
    if _is_missing(pct):
        return "not comparable with"
    rounded = _round(abs(pct), digits)
    if rounded == 0:
        return "about equal to" if pct != 0 else "equal to"
    return f"{fmt_pct(abs(pct), digits)} {'below' if pct < 0 else 'above'}"
