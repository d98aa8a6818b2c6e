"""Numbers and nouns as the pages write them: one formatter for each kind of number, and nouns
that agree with their count ("1 homicide", "no victims under 25", "1,000 homicides").

Number formats:
* tables use an ASCII hyphen-minus for negatives (:func:`fmt_int`, :func:`fmt_pct`,
  :func:`fmt_rate`);
* prose uses explicit signs with a true minus sign, U+2212 (:func:`fmt_signed`,
  :func:`fmt_signed_pct`).
Rounding is half away from zero on the decimal value as printed by Python (so 12.5 -> "13").
Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MINUS = "\u2212"
"""The minus sign used in prose (U+2212), as opposed to the hyphen-minus used in tables."""

_MISSING = "n/a"


@dataclass(frozen=True)
class Noun:
    """A countable noun with its two forms: ``Noun("homicide", "homicides")``."""

    singular: str
    plural: str

    def of(self, n: float) -> str:
        """The form that agrees with ``n``: singular for exactly one, plural otherwise (0 included)."""
        return self.singular if n == 1 else self.plural

    def __str__(self) -> str:
        return self.plural


HOMICIDES = Noun("homicide", "homicides")
VICTIMS = Noun("victim", "victims")
HOMICIDE_VICTIMS = Noun("homicide victim", "homicide victims")
OFFENCES = Noun("homicide offence", "homicide offences")
UNDER_25 = Noun("victim under 25", "victims under 25")
TEENAGERS = Noun("victim aged 13 to 19", "victims aged 13 to 19")
OFFICERS = Noun("officer", "officers")
ARRESTS = Noun("arrest", "arrests")

_KNOWN: dict[str, Noun] = {n.plural: n for n in (HOMICIDES, VICTIMS, HOMICIDE_VICTIMS, OFFENCES, UNDER_25, TEENAGERS, OFFICERS, ARRESTS)}


def noun(value: "Noun | str") -> Noun:
    """``value`` as a Noun; a plain string must be the plural of a known noun (ValueError otherwise)."""
    if isinstance(value, Noun):
        return value
    if value in _KNOWN:
        return _KNOWN[value]
    raise ValueError(f"unknown noun {value!r}: pass a Noun(singular, plural)")


def count_phrase(n: float, what: "Noun | str") -> str:
    """``"no homicides"``, ``"1 homicide"``, ``"1,000 homicides"``: the count with an agreeing noun."""
    word = noun(what)
    if _is_missing(n):
        raise ValueError(f"cannot say how many {word.plural}: the count is missing")
    value = int(_round(n, 0))
    return f"no {word.plural}" if value == 0 else f"{value:,} {word.of(value)}"


def there_were(n: float, what: "Noun | str") -> str:
    """``"there were no homicide offences"``, ``"there was 1 homicide offence"``, ``"there were 7 …"``."""
    return f"there {'was' if n == 1 else 'were'} {count_phrase(n, what)}"


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


def and_list(items: "list[str] | tuple[str, ...]") -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``."""
    items = [str(i) for i in items]
    if not items:
        return ""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def ordinal(n: int) -> str:
    """``"1st"``, ``"2nd"``, ``"23rd"``, ``"11th"``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def part_of(part: int, total: int, what: "Noun | str", owner: str) -> str:
    """Subject and verb for a part of a whole, grammatical for any counts:
    ``"16 of London's 153 homicide victims were"``, ``"1 of Lambeth's 8 homicide victims was"``,
    ``"none of Hackney's 4 homicide victims was"``, ``"all 3 of Lambeth's victims under 25 were"``,
    ``"Hackney's one victim under 25 was"`` (``"was not"`` when the part is 0)."""
    n = noun(what)
    part, total = int(part), int(total)
    if total == 1:
        return f"{owner}'s one {n.singular} {'was' if part else 'was not'}"
    if part == total:
        return f"all {fmt_int(total)} of {owner}'s {n.plural} were"
    if part == 0:
        return f"none of {owner}'s {fmt_int(total)} {n.plural} was"
    return f"{fmt_int(part)} of {owner}'s {fmt_int(total)} {n.plural} {'was' if part == 1 else 'were'}"
