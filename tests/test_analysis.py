"""Unit tests for the notebook-level analysis: parameters, homicide, youth, workforce and claims.

Expectations that are facts about London carry their source in a comment. Sources:
- MPS: MPS homicide victims open data (London Datastore), release Jan 2003 to Mar 2024,
  as tabulated in ../shared/data/raw/homicide/SOURCES.md section C;
- ONS: mid-year population estimates, ../shared/data/raw/population/SOURCES.md;
- HO: Home Office police workforce open data, ../shared/data/raw/workforce/SOURCES.md section 6;
- published: data/published_figures.csv (each row cites its publication).
"""

from __future__ import annotations

import io
import json
import math
import re
import tokenize
from pathlib import Path

import pytest

from analysis.stories import claims, homicide, params, sections, tables, workforce, youth
from analysis.data import series
from analysis.core.errors import ParameterError


# --- parameters ----------------------------------------------------------------------------


def test_defaults_resolve_to_latest_whole_year():
    p = params.validate_parameters()
    # published: the Met's 2025 total is the latest whole year for London
    assert (p.year, p.base_year, p.area, p.is_partial) == (2025, 2024, "London", False)
    borough = params.validate_parameters(area="Hackney")
    # MPS recorded crime runs to June 2026, so a borough's latest whole year is 2025 too
    assert (borough.year, borough.base_year, borough.is_borough) == (2025, 2024, True)


def test_partial_year_is_flagged_with_its_months():
    p = params.validate_parameters(2026, "Hackney")
    assert p.is_partial and p.months_covered == 6  # MPS recorded crime: to June 2026
    assert p.period_label == "January–June 2026"
    # 2024, where the victim records stop in March, is whole on the offence records
    assert not params.validate_parameters(2024, "Hackney").is_partial


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"area": "Hackny"}, "Did you mean 'Hackney'"),
        ({"year": 2030}, "the data cover 2003 to 2026"),
        ({"year": 2003}, "no earlier year to compare"),
        ({"year": 2020, "base_year": 2020}, "must be earlier"),
        ({"area": "City of London"}, "City of London Police"),
        ({"year": "2020"}, "must be a whole year"),
        ({"year": True}, "must be a whole year"),
    ],
)
def test_bad_parameters_say_what_is_wrong(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        params.validate_parameters(**kwargs)


def test_area_names_match_across_spellings():
    assert params.resolve_area("hammersmith & fulham").name == "Hammersmith and Fulham"
    assert params.resolve_area("Kingston Upon Thames").name == "Kingston upon Thames"


def test_available_years_include_partial_borough_year():
    years = params.available_years("Lambeth")
    assert years[0] == 2004 and years[-1] == 2026  # 2003 opens the series: nothing earlier to compare
    for year in years:
        params.validate_parameters(year, "Lambeth")


# --- homicide ------------------------------------------------------------------------------


def test_annual_table_counts_rates_and_intervals():
    table = tables.annual_table("London").set_index("year")
    assert table.at[2014, "victims"] == 95  # MPS 2014 = 95
    assert table.at[2003, "victims"] == 216  # MPS 2003 = 216
    # exact 95% Poisson interval for 95 events: lower limit = chi2.ppf(0.025, 190) / 2
    assert table.at[2014, "lower"] == pytest.approx(76.86, abs=0.01)
    # ONS mid-2024 London = 9,089,736, carried forward to 2025 (no mid-2025 estimate)
    assert table.at[2025, "population"] == 9_089_736 and bool(table.at[2025, "carried_forward"])
    assert round(table.at[2025, "rate"], 2) == 1.07  # 97 / 9,089,736 * 100,000
    assert not bool(table.at[2024, "carried_forward"])


def test_partial_year_has_no_rate():
    table = tables.annual_table("Hackney").set_index("year")
    assert table.at[2024, "months_covered"] == 3
    assert math.isnan(table.at[2024, "rate"])


def test_headline_for_2025_finds_fewest_since_2014_and_chance():
    p = params.validate_parameters(2025)
    hl = homicide.headline(p)
    # published: 97 in 2025, 109 in 2024; MPS: 95 in 2014 is the last year as low
    assert hl.count_title == "London had 97 homicide victims in 2025, the fewest homicide victims since 2014"
    assert "when there were 95" in hl.sentences["record"]
    assert "p = 0.44" in hl.sentences["change"] and "within what chance" in hl.sentences["change"]
    assert "published total" in hl.sentences["count"]  # the basis is named
    assert "mid-2024 estimate" in hl.sentences["rate"]  # no mid-2025 estimate: carried forward, said so
    assert "lowest rate in the series, which starts in 2003" in hl.rate_title
    # MPS recorded crime: 96 homicide offences in 2025, shown beside the published victims
    assert "96 homicide offences" in hl.sentences["other_measure"]


def test_headline_for_a_series_record_and_a_high():
    hl = homicide.headline(params.validate_parameters(2014))
    assert "the fewest homicide victims in the series, which starts in 2003" in hl.count_title  # MPS: 95 lowest 2003-2014
    hl = homicide.headline(params.validate_parameters(2019))
    assert "the most homicide victims since 2008" in hl.count_title  # MPS: 153 in 2019, 155 in 2008
    # the series starts at its highest: "since the records began", never "a peak"
    assert "216 in 2003, the first year of the records" in hl.sentences["peak"] and "peak" not in hl.sentences["peak"]


def test_headline_for_partial_year_compares_like_for_like():
    p = params.validate_parameters(2026, "Hackney")
    hl = homicide.headline(p)
    assert "partial year" in hl.count_title
    assert "January–June 2026" in hl.sentences["change"] and "January–June 2025" in hl.sentences["change"]
    # MPS recorded crime: 1 homicide offence in Hackney in January-June 2026, 4 a year earlier
    assert "1 homicide offence in January–June 2026, down from 4" in hl.sentences["change"]
    assert "%" not in hl.sentences["change"]  # a base under 10 gets no percentage
    assert "fewest" not in " ".join(hl.sentences.values())


def test_population_sentence_flags_census_rebasing():
    text = homicide.population_sentence("Hackney", [2019], 2023)
    assert "re-basing" in text


def test_method_section_uses_whole_years_only_and_names_the_year_shown():
    section = sections.method_section(params.validate_parameters(2025))
    methods = section.table
    assert methods["year"].max() == 2023 and section.year == 2023  # MPS: 2024 has January–March only
    assert "shows 2023" in section.note and "March 2024" in section.note
    assert (methods[["Knife or sharp implement", "Shooting", "Other methods", "Not known"]].sum(axis=1) == methods["total"]).all()
    # a focus year the records cover is shown as itself, with no note
    early = sections.method_section(params.validate_parameters(2019))
    assert early.year == 2019 and not early.note and "In 2019" in early.title


def test_borough_rates_pool_whole_years():
    section = sections.borough_section(params.validate_parameters(2025))
    rates = section.table
    assert len(rates) == 32 and rates["window"].iloc[0] == "2023–2025"
    assert (rates["rate_lower"] <= rates["rate"]).all() and (rates["rate"] <= rates["rate_upper"]).all()
    assert rates["rate"].is_monotonic_decreasing
    # early focus years still get a full window inside the series
    end, _, _ = sections.borough_window(params.validate_parameters(2004), 3)
    assert end == 2005


def test_ytd_counts_same_months():
    counts = tables.ytd_counts("London", 3)
    assert counts.loc[2024] == 24  # MPS: January–March 2024 = 24


# --- youth ---------------------------------------------------------------------------------


def test_youth_table_shares_and_peak():
    table = youth.youth_table("London").set_index("year")
    assert table.at[2017, "victims_under_25"] == 68  # MPS: 2017 under 25 = 68
    assert table.at[2021, "victims_13_19"] == 30  # MPS: 2021 teenagers = 30
    assert table.at[2025, "victims_under_25"] == 18  # published: Guardian, January 2026
    assert table.at[2017, "share_under_25_pct"] == pytest.approx(100 * 68 / 141, abs=0.05)


def test_youth_headline_record_low():
    p = params.validate_parameters(2025)
    hl = youth.headline(p, youth.youth_table("London"))
    assert "the fewest victims under 25 in the series" in hl.count_title
    assert "(a published figure)" in hl.sentences["record_under_25"]  # the basis is named
    assert "were 68 in 2017" in hl.sentences["peak_under_25"]  # MPS: 2017 under 25 = 68


# --- workforce -----------------------------------------------------------------------------


def test_officer_change_same_basis_only():
    change = workforce.officer_change(2024, 2025)
    assert change.change == -1022  # published: Home Office FTE 34,315 (2024) and 33,293 (2025)
    assert workforce.officer_change(2002, 2003) is None  # different bases: never subtracted
    assert "another counting basis" in workforce.change_sentence(2002, 2003)
    assert "not subtracted" in workforce.change_sentence(2002, 2003)
    # HO: no figure for 31 March 2004 is held; the sentence says so instead of inventing a change
    assert "there is none for 31 March 2004" in workforce.change_sentence(2003, 2004)


def test_march_fte_official_value():
    fte = workforce.march_fte()
    row = fte[(fte["year"] == 2023) & (fte["basis"] == "home_office_fte")]
    assert row["officers"].iloc[0] == pytest.approx(34899.05)  # HO: 31 March 2023


def test_per_100k_breaks_gaps_and_is_not_causal():
    table = workforce.per_100k()
    assert table.set_index("year").loc[2004, "officers"] != table.set_index("year").loc[2004, "officers"]  # NaN: no 2004 figure
    # no correlation between officers and homicide is computed anywhere (issue 10: not causal)
    assert not any(hasattr(workforce, name) for name in ("correlation_sentence", "correlation"))


# --- claims --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checked():
    return claims.check_all(claims.load_claims()).set_index("id")


def test_every_claim_gets_a_verdict_from_the_vocabulary(checked):
    assert set(checked["verdict"]) <= set(claims.VERDICTS)
    assert len(checked) == len(claims.load_claims())


def test_claim_verdicts_match_an_honest_check(checked):
    assert checked.at["total_2014", "verdict"] == claims.SUPPORTED  # MPS 2014 = 95
    # MPS recorded crime: 96 homicide offences in 2025 against 97 victims claimed; offences are a
    # related measure, so the verdict on them is at most "approximately supported"
    assert checked.at["total_2025", "verdict"] == claims.APPROXIMATELY
    assert checked.at["total_2025", "basis"] == "open offence records" and checked.at["total_2025", "computed"] == 96
    assert checked.at["under25_peak_2017", "verdict"] == claims.APPROXIMATELY  # MPS 2017 = 68, claim 69
    assert checked.at["rate_1997", "verdict"] == claims.CANNOT_CHECK  # no 1997 count
    assert checked.at["lowest_rate_since_1997", "verdict"] == claims.WHERE_DATA_EXIST
    # published: 18 under 25 in 2025 exists only in a statement, and the verdict says no more
    assert checked.at["under25_2025", "verdict"] == claims.PUBLISHED_ONLY
    assert checked.at["rate_2025", "verdict"] == claims.APPROXIMATELY
    assert "mid-2024" in checked.at["rate_2025", "evidence"] and "1.07" in checked.at["rate_2025", "evidence"]
    assert "p = 0.44" in checked.at["fall_2024_2025", "evidence"] and "2020–2024" in checked.at["fall_2024_2025", "evidence"]
    # baselines are fixed in advance: never "the highest of the previous ten years"
    assert "highest of" not in " ".join(checked["evidence"])


def test_a_wrong_claim_is_not_supported():
    wrong = {"id": "x", "claim": "x", "figure": 120, "unit": "victims", "check": {"op": "value", "series": "victims", "area": "London", "year": 2014}}
    assert claims.check_claim(wrong).verdict == claims.NOT_SUPPORTED
    close = dict(wrong, figure=96)
    assert claims.check_claim(close).verdict == claims.APPROXIMATELY


def test_claims_file_errors_are_clear(tmp_path):
    bad = tmp_path / "claims.yml"
    bad.write_text("claims:\n  - id: a\n    claim: b\n    figure: 1\n    unit: c\n    check: {op: guess}\n")
    with pytest.raises(Exception, match="unknown check op 'guess'"):
        claims.load_claims(bad)


# --- every supported year and area produces sentences ------------------------------------


# Every year of every area: tests/test_sentences.py sweeps them all, with the sentence rules.


def test_series_breakdown_fills_zero_categories():
    """Every category is a column and every year with open data a row, zeros included: the file
    omits zero rows (Sutton had no shooting victims in most years)."""
    from analysis.data import schemas

    wide = series.breakdown("Sutton", "method")
    assert list(wide.columns) == list(schemas.METHODS)
    monthly_years = sorted(series.monthly("Sutton")["year"].unique())
    assert list(wide.index) == monthly_years and wide.index.min() == 2003
    assert (wide >= 0).all().all() and (wide["Shooting"] == 0).sum() > len(wide) // 2
    assert int(wide.loc[2003].sum()) == int(series.homicide_annual("Sutton").loc[2003, "victims"])


# --- notebooks stay thin -------------------------------------------------------------------


NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_number_is_typed_into_notebook_markdown(path):
    """Numbers in the narrative come from data through code, so markdown cells hold no digits."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            assert not re.search(r"\d", text), f"{path.name} cell {index} types a number: {text[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_cells_hold_no_figures_either(path):
    """Code cells call into analysis/; apart from the parameters cell they carry no number literal
    that could be a finding (small structural numbers such as a window length of years are allowed;
    descriptive strings such as alt text naming "95% intervals" are not number literals)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        tokens = tokenize.generate_tokens(io.StringIO("".join(cell["source"])).readline)
        big = [t.string for t in tokens if t.type == tokenize.NUMBER and float(t.string) > 12]
        assert not big, f"{path.name} cell {index} has number literals {big}"


def test_borough_rates_carry_the_latest_population_forward():
    """No mid-2025 estimate exists: mid-2024 stands in for 2025, so three years of offences are
    divided by three years of residents (MPS recorded crime: Lewisham 23 homicide offences in
    2023-2025; ONS mid-2023 and mid-2024 populations)."""
    section = sections.borough_section(params.validate_parameters(2025))
    top = section.table.iloc[0]
    pop = series.population("Lewisham")["population"]
    assert top["area"] == "Lewisham" and top["offences"] == 23
    assert top["population_years"] == int(pop.loc[2023] + 2 * pop.loc[2024])
    assert "mid-2024 stands in for 2025" in section.note


def test_cached_tables_come_back_as_fresh_copies_and_follow_their_file(tmp_path, monkeypatch):
    """published() is read once per version of the file (the zygote's warm-up fills it), but a
    caller that edits its copy changes nobody else's, and a changed file is read again."""
    first = series.published()
    first.loc[:, "value"] = -1.0
    assert (series.published()["value"] != -1.0).any()
    copy = tmp_path / "published_figures.csv"
    text = series.PUBLISHED_FIGURES.read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    monkeypatch.setattr(series, "PUBLISHED_FIGURES", copy)
    before = len(series.published())
    lines = text.splitlines(keepends=True)
    copy.write_text("".join(lines[:-1]), encoding="utf-8")  # one row fewer: size and mtime change
    assert len(series.published()) == before - 1
    series.warm()  # every series file and both cited tables: no error on the committed data


@pytest.mark.parametrize("read", [
    lambda d: series.met_workforce(d),
    lambda d: series.homicide_rates_ons(d),
    lambda d: series.monthly("Hackney", d),
    lambda d: series.recorded_crime("Hackney", "VIOLENCE AGAINST THE PERSON", "HOMICIDE", d),
], ids=["met_workforce", "homicide_rates_ons", "monthly", "recorded_crime"])
def test_derived_series_are_cached_per_file_version_and_handed_out_as_copies(tmp_path, read):
    """The accessors that convert dates or pick an area keep their result per version of the file:
    an edited copy changes nobody else's result, and a rewritten file is read again."""
    import shutil

    folder = tmp_path / "series"
    shutil.copytree(series.SERIES_DIR, folder)
    first = read(folder)
    columns = list(first.columns)
    del first[columns[0]]  # changes the caller's copy only
    again = read(folder)
    assert len(again) and list(again.columns) == columns
    for path in folder.glob("*.csv"):  # every other row of every file dropped (areas kept whole)
        if path.name != "areas.csv":
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            path.write_text("".join(lines[:1] + lines[1::2]), encoding="utf-8")
    changed = read(folder)
    assert len(changed) and not changed.equals(again)
