"""Every generated sentence and title, for every reportable area and every year it supports,
checked against the rules of the sentence layer (issue 10):

* plural agreement ("1 homicide", never "1 homicides"; "there was 1", never "there were 1");
* no percentage change on a base under 10 ("from 1 to 4", never "+300%"), never "(0%)" for a change;
* no placeholder leaking ("nan", "None", "n/a", "0 of 0"), no doubled year ("2003 2003");
* no year outside the data the sentence can speak of;
* every section about the focus year, or naming the latest year its data cover and why;
* the area's name in every title of an area's section (force-wide ones name the Met);
* a record ("fewest since", "lowest rate") never claimed without saying whether chance explains it;
* a partial year never ranked against whole years.

The functions are called directly, not through the notebooks: one test per area, spread one at a
time over the workers (conftest.SPREAD). Measured on the 2-core machine: 1-3 s an area, every
year of it; the whole sweep (33 areas, about 760 area-years, plus the force-wide sentences per
year) about 50 CPU-seconds, ~25 s on two workers (27 November 2026, `make test`'s Python). London, Hackney and Sutton are swept in the quick edit loop, the other
boroughs in the full suite (``slow``). Hand-checked cases for a record, a tie, a zero, a one and a partial year follow the
sweep; their expectations come from the series files named in each comment.
"""

from __future__ import annotations

import re

import pytest

from analysis.data import series
from analysis.stories import compare, homicide, params, sections, violence, workforce, youth

AREAS = params.reportable_areas()

PLURAL_NOUNS = (
    "homicides", "homicide victims", "victims", "victims under 25", "homicide offences", "offences",
    "robberies", "claims", "officers", "arrests", "teenage victims", "victims aged 13–19",
)
SINGULAR_AFTER_ONE = re.compile(r"(?<![\d,.])\b1 (" + "|".join(re.escape(n) for n in PLURAL_NOUNS) + r")\b")
SMALL_BASE_PCT = re.compile(r"than the (\d+) in [^()]*\(([+\u2212-]?\d[\d.,]*%)\)")
DOUBLED_YEAR = re.compile(r"\b((?:19|20)\d\d) \1\b")
YEAR = re.compile(r"(?<![\d,.])((?:19|20)\d\d)(?![\d,])")
RECORD_WORDS = ("fewest", "lowest rate", "highest rate", "the most ")


def _first_last_years() -> tuple[int, int]:
    """The span of years any series here speaks of (population, victims, offences, workforce, ONS)."""
    years = [int(series.population("London").index.min()), 2003]
    years.append(int(series.all_annual()["year"].max()))
    return min(years), max(years)


FIRST, LAST = _first_last_years()


def _check_text(text: str, where: str, *, history: bool = False) -> None:
    """``history``: the text may name an earlier event by its year (the Hillsborough caveat)."""
    assert text and text.strip(), f"{where}: empty text"
    for bad in ("n/a", "0 of 0", "(0%)", "(+0%)", "(\u22120%)", "there were 1 ", "  ", " 0 is ", "(0)"):
        assert bad not in text, f"{where}: {bad!r} in {text!r}"
    assert not re.search(r"\b(nan|None|NaN)\b", text), f"{where}: a missing value printed in {text!r}"
    assert not SINGULAR_AFTER_ONE.search(text), f"{where}: plural after 1 in {text!r}"
    for base, pct in SMALL_BASE_PCT.findall(text):
        assert int(base) >= 10, f"{where}: a percentage ({pct}) on a base of {base} in {text!r}"
    assert not DOUBLED_YEAR.search(text), f"{where}: doubled year in {text!r}"
    for year in [] if history else YEAR.findall(text):
        assert FIRST <= int(year) <= LAST, f"{where}: year {year} outside the data ({FIRST}-{LAST}) in {text!r}"
    assert "peak" not in text.lower() or "peaked" in text.lower(), f"{where}: 'peak' in {text!r}"


def _check_title(title: str, area: str, where: str) -> None:
    _check_text(title, where)
    assert area in title or "the Met" in title or "Met " in title, f"{where}: no area name in {title!r}"


def _check_section_year(section_year: int, note: str, p: params.ResolvedParameters, where: str) -> None:
    """A section shows the focus year, or says which year it shows and why."""
    if section_year != p.year:
        assert note and str(section_year) in note, f"{where}: shows {section_year} for {p.year} without saying so ({note!r})"


def _sweep(area: str) -> int:
    checked = 0
    table = youth.youth_table(area)
    for year in params.available_years(area):
        p = params.validate_parameters(year, area)
        where = f"{area} {year}"

        hl = homicide.headline(p)
        _check_text(hl.headline, f"{where} homicide headline")
        _check_title(hl.count_title, area, f"{where} count title")
        _check_title(hl.rate_title, area, f"{where} rate title")
        for key, text in hl.sentences.items():
            _check_text(text, f"{where} homicide {key}")
        record = hl.sentences.get("record", "")
        if any(w in record for w in RECORD_WORDS):
            assert "chance" in record, f"{where}: a record without a word on chance: {record!r}"
        if p.is_partial:
            ranked = " ".join([hl.count_title, *hl.sentences.values()])
            assert not any(w in ranked for w in ("fewest", "lowest rate", "highest rate")), f"{where}: partial year ranked"
            assert p.period_label in hl.count_title and "since" not in hl.count_title

        yh = youth.headline(p, table)
        _check_title(yh.count_title, area, f"{where} youth title")
        for key, text in yh.sentences.items():
            _check_text(text, f"{where} youth {key}")

        method = sections.method_section(p)
        _check_title(method.title, area, f"{where} method title")
        _check_section_year(method.year, method.note, p, f"{where} method")
        _check_text(sections.domestic_sentence(p), f"{where} domestic")
        monthly = sections.monthly_section(p)
        _check_title(monthly.title, area, f"{where} monthly title")
        for text in monthly.sentences:
            _check_text(text, f"{where} monthly")
        ytd = sections.ytd_section(p)
        assert (ytd is not None) == p.is_partial, f"{where}: year to date shown for a whole year, or missing for a partial one"
        if ytd is not None:
            _check_title(ytd.title, area, f"{where} ytd title")
            assert p.period_label.split(" ")[0] in ytd.title
        boroughs = sections.borough_section(p)
        _check_text(boroughs.title, f"{where} borough title")
        _check_section_year(boroughs.year, boroughs.note, p, f"{where} boroughs")

        shown, why = violence.shown_year(p)
        _check_section_year(shown, why, p, f"{where} wider violence")
        _check_text(violence.headline(p), f"{where} violence headline")
        for change in violence.changes(p):
            _check_text(violence.change_sentence(change, area), f"{where} violence change")
        _check_title(violence.index_title(area, shown), area, f"{where} index title")
        _check_title(violence.rates_title(area, shown), area, f"{where} rates title")
        _check_title(violence.rolling_title(area, violence.rolling_end(p)), area, f"{where} rolling title")
        checked += 1
    return checked


#: Areas swept in the quick edit loop (``-m "not slow"``); the rest run in the full suite.
QUICK = {"London", "Hackney", "Sutton"}


@pytest.mark.parametrize("area", [a if a in QUICK else pytest.param(a, marks=pytest.mark.slow) for a in AREAS])
def test_every_sentence_for_every_year_keeps_the_rules(area):
    assert _sweep(area) == len(params.available_years(area))


@pytest.mark.parametrize("year", params.available_years("London"))
def test_force_wide_sentences_keep_the_rules(year):
    """Workforce and the ONS comparison are force-wide: the same for every area, checked per year."""
    p = params.validate_parameters(year)
    where = f"force-wide {year}"
    _check_text(workforce.change_sentence(p.base_year, year), where)
    for text in workforce.other_count_sentences(year):
        _check_text(text, where)
    _check_text(workforce.officers_title(year, p.base_year), where)
    _check_text(workforce.per_100k_title(workforce.per_100k(year), year), where)
    _check_text(workforce.headline(year, p.base_year), where)
    period = compare.period_for(year)
    for text in compare.comparison_sentences(period):
        _check_text(text, where, history=True)
    _check_text(compare.comparison_title(period), where)
    caveat = compare.caveat_sentence(period)
    if caveat is not None:
        _check_text(caveat, where, history=True)


# --- hand-checked cases ----------------------------------------------------------------------


def test_a_record_says_whether_chance_explains_it():
    hl = homicide.headline(params.validate_parameters(2014))
    # MPS victims: 95 in 2014, the lowest of 2003-2014; 109 in 2013
    assert hl.count_title == "London had 95 homicide victims in 2014, the fewest homicide victims in the series, which starts in 2003"
    assert "within what chance alone would produce" in hl.sentences["record"]


def test_a_tie_is_reported_as_a_tie():
    hl = homicide.headline(params.validate_parameters(2024, "Hackney"))
    # MPS recorded crime: 8 homicide offences in Hackney in 2024 and in 2013, fewer in every year between
    assert hl.count_title == "Hackney recorded 8 homicide offences in 2024, the same number as in 2013, and the most since then"


def test_zero_is_none():
    p = params.validate_parameters(2026, "Sutton")
    # MPS recorded crime: no homicide offences in Sutton in January-June 2025 or 2026
    assert violence.headline(p).startswith(
        "In Sutton, there were no homicide offences in either January–June 2025 or January–June 2026;"
    )


def test_one_is_singular_and_small_bases_get_no_percentage():
    p = params.validate_parameters(2025, "Richmond upon Thames")
    # MPS recorded crime: 1 homicide offence in Richmond upon Thames in 2025, none in 2024
    assert violence.headline(p).startswith("In Richmond upon Thames, there was 1 homicide offence in 2025, against none in 2024;")
    hl = homicide.headline(params.validate_parameters(2026, "Hackney"))
    # MPS recorded crime: 1 in January-June 2026, 4 in January-June 2025
    assert hl.sentences["change"].startswith("Like for like: 1 homicide offence in January–June 2026, down from 4 in January–June 2025")
    assert "%" not in hl.sentences["change"].split(";")[0]


def test_a_partial_year_is_compared_like_for_like():
    p = params.validate_parameters(2026)
    hl = homicide.headline(p)
    # MPS recorded crime: 55 homicide offences in London in January-June 2026, 43 a year earlier
    assert hl.count_title == "London: 55 homicide offences in January–June 2026 (a partial year)"
    assert "55 homicide offences in January–June 2026, 12 more than the 43 in January–June 2025" in hl.sentences["change"]
    assert violence.shown_year(p) == (2025, "2026 is a partial year, so the yearly figures end in 2025, the latest whole year.")
