"""The ONS force comparison (notebook 01), the wider-violence measures (notebook 05) and the caps
that keep a verdict no stronger than its basis (notebook 04).

Sources of the expectations:
- ONS: homicide offences per million, April 2022 - March 2025, vintage published 2026-02-11
  (../shared/data/raw/ons_homicide/, data/series/homicide_rates_ons.csv);
- MPS recorded crime: data/series/recorded_crime_monthly.csv (release Jul 2024 to Jun 2026).
"""

from __future__ import annotations

import pytest

from analysis.data import bases
from analysis.stories import claims, compare, params, violence


def test_the_met_is_set_beside_england_and_wales_on_one_basis():
    period = compare.period_for(2025)
    # the latest 3-year period ending by 31 March of the year after the focus year
    assert (period.start.year, period.end.year, period.end.month) == (2022, 2025, 3) and period.covered
    table = compare.comparison_table(period).set_index("area")
    assert table.at["Metropolitan Police", "rate_per_million"] == pytest.approx(12.65)  # ONS
    assert table.at["England and Wales", "rate_per_million"] == pytest.approx(9.11)  # ONS
    title = compare.comparison_title(period)
    assert title.startswith("The Met's homicide rate, 12.7 per million a year in April 2022–March 2025")
    assert "p =" not in title  # p-values stay out of titles


def test_a_force_with_a_flagged_revision_is_ranked_both_ways():
    period = compare.period_for(2025)
    with_all, without = compare.met_rank(period), compare.met_rank(period, leave_out=("South Yorkshire",))
    assert without.position == with_all.position - 1 and "South Yorkshire" not in without.higher
    text = " ".join(compare.comparison_sentences(period))
    assert "leaving out South Yorkshire" in text


def test_a_revision_is_the_oldest_against_the_newest_vintage_of_a_period(monkeypatch):
    """Per area and period: the first vintage against the last; a period held once, or unchanged, is no revision."""
    import pandas as pd

    def row(area, end, vintage, rate):
        return {"period_start": pd.Timestamp(end - 3, 4, 1), "period_end": pd.Timestamp(end, 3, 31), "area_code": "x",
                "area": area, "geography": compare.FORCE, "rate_per_million": rate, "vintage": vintage, "note": ""}

    rates = pd.DataFrame([
        row("A", 2024, "2025-02", 10.0), row("A", 2024, "2024-02", 8.0), row("A", 2024, "2024-12", 9.0),  # revised twice
        row("B", 2024, "2024-02", 5.0), row("B", 2024, "2025-02", 5.0),  # unchanged
        row("C", 2023, "2024-02", 7.0),  # held once
        row("C", 2024, "2024-02", None), row("C", 2024, "2025-02", 4.0),  # no rate in one vintage: held once
        row("D", 2023, "2024-02", 2.0), row("D", 2023, "2025-02", 3.0),
    ])
    monkeypatch.setattr(compare, "_rates", lambda: rates.copy())
    uncached = compare._revisions.__wrapped__  # the process's cache keeps the committed data's revisions only
    found = uncached(None, ("test", 0))
    assert [(r.area, r.end.year, r.old_vintage, r.new_vintage, r.old, r.new) for r in found] == [
        ("A", 2024, "2024-02", "2025-02", 8.0, 10.0), ("D", 2023, "2024-02", "2025-02", 2.0, 3.0)]
    assert [r.area for r in uncached("D", ("test", 0))] == ["D"]


def test_the_hillsborough_reclassification_is_said_beside_its_period():
    caveat = compare.caveat_sentence(compare.period_for(2016))
    assert caveat is not None and "Hillsborough" in caveat and "April 2014–March 2017" in caveat
    assert compare.caveat_sentence(compare.period_for(2025)) is None or "Hillsborough" not in compare.caveat_sentence(compare.period_for(2025))


def test_wider_violence_counts_come_from_the_offence_series():
    table = violence.annual("London").set_index("year")
    # MPS recorded crime, London 2025: 96 homicide offences; every month of 2025 covered
    assert int(table.at[2025, "homicide"]) == 96 and int(table.at[2025, "months_covered"]) == 12
    assert int(table.at[2026, "months_covered"]) == 6 and table.at[2026, "robbery_rate"] != table.at[2026, "robbery_rate"]  # NaN: partial
    first = violence.index_table("London", 2025)
    assert (first.iloc[0, 1:] == 100).all()  # each type against its own first whole year


def test_a_partial_focus_year_is_compared_like_for_like_and_never_given_a_rate():
    p = params.validate_parameters(2026)
    found = {c.type.key: c for c in violence.changes(p)}
    homicide = found["homicide"]
    # MPS recorded crime: 55 homicide offences in January-June 2026, 43 in January-June 2025
    assert (homicide.count, homicide.base, homicide.rate) == (55, 43, None)
    assert homicide.label == "January–June 2026" and homicide.base_label == "January–June 2025"
    assert violence.rolling_end(p) == (2026, 6)


def test_a_verdict_is_capped_by_its_basis():
    assert claims.capped(claims.SUPPORTED, claims.cap_for(bases.PUBLISHED_STATEMENT)) == claims.PUBLISHED_ONLY
    assert claims.capped(claims.SUPPORTED, claims.cap_for(bases.OPEN_OFFENCE_RECORDS, same_measure=False)) == claims.APPROXIMATELY
    assert claims.capped(claims.NOT_SUPPORTED, claims.PUBLISHED_ONLY) == claims.NOT_SUPPORTED  # negatives stay
    with pytest.raises(ValueError, match="shared vocabulary"):
        claims.Evidence("a newspaper", 1.0, claims.SUPPORTED, "x")


def test_every_verdict_names_a_basis_from_the_vocabulary_and_published_ones_stay_capped():
    results = claims.check_all(claims.load_claims())
    assert set(results["basis"]) <= set(bases.BASES)
    published = results[results["basis"] == bases.PUBLISHED_STATEMENT]
    assert len(published) and set(published["verdict"]) <= {claims.PUBLISHED_ONLY, claims.NOT_SUPPORTED}
    # the verdict title counts only open-data-backed verdicts as borne out
    assert "rest on published statements alone" in claims.verdicts_title(results)
