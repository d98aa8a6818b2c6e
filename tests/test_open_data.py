"""The two open-data sources added in 2026: MPS recorded crime by borough and month, ONS homicide rates.

* Spot checks read the committed ``data/series`` (which tests/test_data_build.py proves equal to a
  fresh build), so they run without the raw files; each expectation names its source.
* Parser checks and the "a new release needs no code change" build use ``../shared/data/raw``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import reuse_parses

from analysis.core.errors import ParameterError
from analysis.core.paths import SERIES_DIR
from analysis.data import series as series_api
from analysis.data.build import build_series, render_files
from analysis.data.parse_ons_rates import parse_ons_rates
from analysis.data.parse_recorded_crime import (
    is_recorded_crime_file,
    parse_recorded_crime,
)

LONDON = "E12000007"
CITY_OF_LONDON = "E09000001"
HACKNEY = "E09000012"
MET = "E23000001"
ENGLAND_AND_WALES = "K04000001"
VAP, HOMICIDE = "VIOLENCE AGAINST THE PERSON", "HOMICIDE"
HISTORICAL = "MPS Borough Level Crime (Historical) 2010-04 to 2023-11.csv"
RELEASE_2025_11 = "MPS Borough Level Crime (most recent 24 months) 2023-12 to 2025-11.csv"
NEWEST = "MPS Borough Level Crime (most recent 24 months) 2024-07 to 2026-06.csv"
LABEL_HISTORICAL = "MPS recorded crime Apr 2010 to Nov 2023"
LABEL_2025_11 = "MPS recorded crime Dec 2023 to Nov 2025"
LABEL_NEWEST = "MPS recorded crime Jul 2024 to Jun 2026"
ONS_2026 = "homicide-offences_2026-02-11.csv"
ONS_2025 = "homicide-offences_2025-02-11.csv"


@pytest.fixture(scope="module")
def committed() -> dict[str, pd.DataFrame]:
    """The committed new series, read as text (decimals checked as written)."""
    names = ("homicide_annual.csv", "recorded_crime_monthly.csv", "recorded_crime_revisions.csv", "homicide_rates_ons.csv")
    return {name: pd.read_csv(SERIES_DIR / name, dtype=str, keep_default_na=False) for name in names}


@pytest.fixture(scope="module")
def monthly(committed: dict[str, pd.DataFrame]) -> pd.DataFrame:
    frame = committed["recorded_crime_monthly.csv"].copy()
    return frame.astype({"year": int, "month": int, "offences": int})


@pytest.fixture(scope="module")
def build_log() -> dict:
    return json.loads((SERIES_DIR / "build_log.json").read_text(encoding="utf-8"))


def _annual_row(committed: dict[str, pd.DataFrame], year: int, code: str) -> pd.Series:
    annual = committed["homicide_annual.csv"]
    rows = annual[(annual["year"] == str(year)) & (annual["area_code"] == code)]
    assert len(rows) == 1, (year, code)
    return rows.iloc[0]


# --------------------------------------------------------------------------------------------
# Spot checks: recorded homicide offences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "offences", "months"), [(2014, "95", "12"), (2019, "153", "12"), (2024, "106", "12"), (2025, "96", "12"), (2026, "55", "6")])
def test_london_homicide_offences_per_year(committed, year: int, offences: str, months: str) -> None:
    # recorded_crime/SOURCES.md, table "calendar year ... offences, this data (newest release covering the year)":
    # 2014 = 95, 2019 = 153, 2024 = 106, 2025 = 96, Jan-Jun 2026 = 55.
    row = _annual_row(committed, year, LONDON)
    assert row["offences"] == offences
    assert row["offences_months"] == months


def test_hackney_homicide_offences_2025(committed, shared_raw_dir: Path) -> None:
    # Newest release (recorded_crime/SOURCES.md, file 3), row VIOLENCE AGAINST THE PERSON / HOMICIDE / Hackney,
    # columns 202501-202512: 7 offences. Counted again here from the raw file with the csv module.
    assert _annual_row(committed, 2025, HACKNEY)["offences"] == "7"
    with (shared_raw_dir / "recorded_crime" / NEWEST).open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if (r["Group"], r["SubGroup"], r["BOCU"]) == (VAP, HOMICIDE, "Hackney"))
    assert sum(int(row[f"2025{m:02d}"]) for m in range(1, 13)) == 7


def test_annual_table_months_each_measure_covers(committed) -> None:
    # recorded_crime/SOURCES.md: April 2010 to June 2026, so 2010 has 9 months and 2026 has 6.
    # homicide/SOURCES.md, file 1: victim-level data end in March 2024, so boroughs have 3 months of 2024.
    assert _annual_row(committed, 2010, LONDON)["offences_months"] == "9"
    hackney_2024 = _annual_row(committed, 2024, HACKNEY)
    assert (hackney_2024["victims_months"], hackney_2024["offences_months"]) == ("3", "12")
    for year in (2025, 2026):  # no victims data for boroughs (published figures are London only)
        row = _annual_row(committed, year, HACKNEY)
        assert row[["victims", "victims_months", "victims_source", "victims_release"]].tolist() == ["", "", "", ""]
    before = _annual_row(committed, 2009, LONDON)  # offences start in April 2010
    assert before[["offences", "offences_months", "offences_release"]].tolist() == ["", "", ""]
    assert list(committed["homicide_annual.csv"].columns) == [
        "year", "area_code", "area", "victims", "victims_under_25", "victims_13_19", "victims_months",
        "victims_source", "victims_release", "offences", "offences_months", "offences_release",
    ]


def test_monthly_homicide_matches_the_annual_offences(monthly, committed) -> None:
    homicide = monthly[(monthly["offence_subgroup"] == HOMICIDE) & (monthly["area_code"] == LONDON)]
    by_year = homicide.groupby("year")["offences"].sum()
    annual = committed["homicide_annual.csv"]
    london = annual[(annual["area_code"] == LONDON) & (annual["offences"] != "")].set_index("year")["offences"]
    assert {str(y): str(v) for y, v in by_year.items()} == london.to_dict()


# --------------------------------------------------------------------------------------------
# Spot checks: structure of the recorded-crime series
# --------------------------------------------------------------------------------------------


def test_london_is_the_sum_of_every_borough_and_non_borough_row(monthly) -> None:
    # Definition (data/README.md): London = 32 boroughs + 'Unknown' + the airports, every month and subgroup.
    key = ["year", "month", "offence_group", "offence_subgroup"]
    london = monthly[monthly["area_code"] == LONDON].set_index(key)["offences"]
    parts = monthly[monthly["area_code"] != LONDON].groupby(key)["offences"].sum()
    assert london.sort_index().to_dict() == parts.sort_index().to_dict()
    places = set(monthly.loc[monthly["area_code"] == "", "area"])
    assert places == {"Unknown", "London Heathrow and London City Airports"}  # recorded_crime/SOURCES.md, layouts


def test_no_city_of_london_in_recorded_crime(committed) -> None:
    # recorded_crime/SOURCES.md: "The City of London is not in these files (City of London Police)".
    for name in ("recorded_crime_monthly.csv", "recorded_crime_revisions.csv"):
        frame = committed[name]
        assert CITY_OF_LONDON not in set(frame["area_code"]) and "City of London" not in set(frame["area"]), name


def test_only_the_kept_groups_and_every_violence_subgroup(monthly) -> None:
    # recorded_crime/SOURCES.md, layouts: the five subgroups of violence against the person; robbery's two.
    groups = monthly.groupby("offence_group")["offence_subgroup"].unique().map(sorted).to_dict()
    assert groups == {
        "POSSESSION OF WEAPONS": ["POSSESSION OF WEAPONS"],
        "ROBBERY": ["ROBBERY OF BUSINESS PROPERTY", "ROBBERY OF PERSONAL PROPERTY"],
        VAP: ["DEATH SERIOUS INJURY ILLEGAL DRIVING", HOMICIDE, "STALKING AND HARASSMENT", "VIOLENCE WITH INJURY", "VIOLENCE WITHOUT INJURY"],
    }
    assert (monthly["offences"] > 0).all()  # zero rows are left out


def test_release_rule_newest_release_wins_month_by_month(monthly) -> None:
    # recorded_crime/SOURCES.md, files: Apr 2010-Nov 2023, Dec 2023-Nov 2025, Jul 2024-Jun 2026. For each
    # month, the release with the latest last month that covers it.
    period = monthly["year"] * 12 + monthly["month"] - 1
    expected = pd.Series(LABEL_HISTORICAL, index=monthly.index)
    expected[period >= 2023 * 12 + 11] = LABEL_2025_11
    expected[period >= 2024 * 12 + 6] = LABEL_NEWEST
    assert (monthly["release"] == expected).all()
    assert (int(period.min()), int(period.max())) == (2010 * 12 + 3, 2026 * 12 + 5)


def test_a_row_the_winning_release_lacks_counts_as_zero(monthly, committed) -> None:
    # The Dec 2023-Nov 2025 release has an 'Unknown' homicide in July 2024; the newest release has no such
    # row (recorded_crime/SOURCES.md: 'Unknown' rows; checked in the raw files), so July 2024 counts 0.
    unknown = monthly[(monthly["area"] == "Unknown") & (monthly["offence_subgroup"] == HOMICIDE)]
    assert not ((unknown["year"] == 2024) & (unknown["month"].isin([7, 9]))).any()
    rev = committed["recorded_crime_revisions.csv"]
    july = rev[(rev["year"] == "2024") & (rev["month"] == "7") & (rev["area"] == "Unknown") & (rev["offence_subgroup"] == HOMICIDE)]
    assert july.set_index("release")[["offences", "used_in_series"]].to_dict("index") == {
        LABEL_2025_11: {"offences": "1", "used_in_series": "no"},
        LABEL_NEWEST: {"offences": "0", "used_in_series": "yes"},
    }
    helper = series_api.recorded_crime("Unknown", VAP, HOMICIDE).set_index(["year", "month"])["offences"]
    assert helper[(2024, 7)] == 0 and helper[(2024, 1)] == 1  # January 2024 is from the Dec 2023-Nov 2025 release


def test_london_homicide_revisions(committed, build_log) -> None:
    # recorded_crime/SOURCES.md, caveats: "homicide: Sep 2024 6->5, Dec 2024 7->8, Jan 2025 6->7, Apr 2025 9->8,
    # Aug 2025 8->9, Nov 2025 3->4" (older release -> newer release).
    rev = committed["recorded_crime_revisions.csv"]
    london = rev[(rev["area_code"] == LONDON) & (rev["offence_subgroup"] == HOMICIDE)]
    found = {
        (int(y), int(m)): tuple(g.set_index("release").loc[[LABEL_2025_11, LABEL_NEWEST], "offences"].astype(int))
        for (y, m), g in london.groupby(["year", "month"])
    }
    assert found == {(2024, 9): (6, 5), (2024, 12): (7, 8), (2025, 1): (6, 7), (2025, 4): (9, 8), (2025, 8): (8, 9), (2025, 11): (3, 4)}
    assert set(london.loc[london["release"] == LABEL_NEWEST, "used_in_series"]) == {"yes"}
    keys = rev[["year", "month", "area_code", "area", "offence_group", "offence_subgroup"]].drop_duplicates()
    assert build_log["recorded_crime"]["revisions"] == len(keys)


def test_revisions_only_where_releases_disagree(committed) -> None:
    rev = committed["recorded_crime_revisions.csv"].astype({"offences": int})
    key = ["year", "month", "area_code", "area", "offence_group", "offence_subgroup"]
    spread = rev.groupby(key)["offences"].agg(["min", "max", "size"])
    assert (spread["min"] != spread["max"]).all() and (spread["size"] >= 2).all()
    assert (rev.groupby(key)["used_in_series"].apply(lambda u: (u == "yes").sum()) == 1).all()


def test_recorded_crime_helper_fills_zero_months() -> None:
    # Hackney homicide: many months with none; the helper gives every month April 2010 to June 2026 (195).
    hackney = series_api.recorded_crime("Hackney", "violence against the person", "homicide")
    assert len(hackney) == 195 and hackney["period"].is_monotonic_increasing
    assert (hackney["offences"] == 0).any()
    assert int(hackney.loc[hackney["year"] == 2025, "offences"].sum()) == 7  # as test_hackney_homicide_offences_2025
    london = series_api.recorded_crime("London", VAP, HOMICIDE)
    assert int(london.loc[london["year"] == 2014, "offences"].sum()) == 95  # recorded_crime/SOURCES.md
    with pytest.raises(ParameterError, match="City of London"):
        series_api.recorded_crime("City of London")
    with pytest.raises(ParameterError, match="unknown offence subgroup"):
        series_api.recorded_crime("London", "ROBBERY", HOMICIDE)


def test_column_contracts_and_accessors(committed) -> None:
    assert list(committed["recorded_crime_monthly.csv"].columns) == [
        "year", "month", "area_code", "area", "offence_group", "offence_subgroup", "offences", "release",
    ]
    assert list(committed["homicide_rates_ons.csv"].columns) == [
        "period_start", "period_end", "area_code", "area", "geography", "rate_per_million", "vintage", "note",
    ]
    rates = series_api.homicide_rates_ons()
    met = rates[(rates["area_code"] == MET) & (rates["vintage"] == "2026-02-11")].set_index("period_end")
    assert met.loc[pd.Timestamp("2025-03-31"), "rate_per_million"] == pytest.approx(12.65)  # ons_homicide/SOURCES.md
    revisions = series_api.recorded_crime_revisions()
    assert set(revisions["used_in_series"]) == {"yes", "no"} and "" in set(revisions["area_code"])


def test_homicide_annual_accessor_keeps_both_measures() -> None:
    table = series_api.homicide_annual("Hackney")
    assert pd.isna(table.at[2025, "victims"]) and table.at[2025, "victims_source"] == ""
    assert table.at[2025, "offences"] == 7 and table.at[2003, "victims_source"] == "open data"


# --------------------------------------------------------------------------------------------
# Spot checks: ONS rates
# --------------------------------------------------------------------------------------------


def _rate(committed, code: str, start: str, vintage: str) -> str:
    rates = committed["homicide_rates_ons.csv"]
    rows = rates[(rates["area_code"] == code) & (rates["period_start"] == start) & (rates["vintage"] == vintage)]
    assert len(rows) == 1, (code, start, vintage)
    return rows["rate_per_million"].iloc[0]


def test_ons_rates_three_years_to_march_2025(committed) -> None:
    # ons_homicide/SOURCES.md, selected values (newest file), 3 years to March 2025: Met 12.65, England and Wales 9.11.
    assert _rate(committed, MET, "2022-04-01", "2026-02-11") == "12.65"
    assert _rate(committed, ENGLAND_AND_WALES, "2022-04-01", "2026-02-11") == "9.11"
    rates = committed["homicide_rates_ons.csv"]
    assert set(rates.loc[rates["period_start"] == "2022-04-01", "period_end"]) == {"2025-03-31"}


def test_ons_revision_between_vintages(committed) -> None:
    # ons_homicide/SOURCES.md: "the Met's 3 years to March 2024 was 13.47 in the 2025 file and 13.66 in the 2026 file".
    assert _rate(committed, MET, "2021-04-01", "2025-02-11") == "13.47"
    assert _rate(committed, MET, "2021-04-01", "2026-02-11") == "13.66"


def test_every_ons_row_of_both_vintages_and_city_of_london_marked(committed) -> None:
    # Both files have 504 data rows (505 lines with the header); the City of London (E23000034) has no value.
    rates = committed["homicide_rates_ons.csv"]
    assert rates["vintage"].value_counts().to_dict() == {"2025-02-11": 504, "2026-02-11": 504}
    empty = rates[rates["rate_per_million"] == ""]
    assert set(empty["area_code"]) == {"E23000034"} and len(empty) == 18
    assert empty["note"].str.startswith("no value published").all()
    assert (rates.loc[rates["rate_per_million"] != "", "note"] == "").all()


def test_build_log_records_releases_choices_renames_and_ignored_files(build_log) -> None:
    crime = build_log["recorded_crime"]
    assert [(r["file"], r["coverage"], r["layout"]) for r in crime["releases"]] == [
        (HISTORICAL, "Apr 2010 to Nov 2023", "MajorText, MinorText, BoroughName"),
        (RELEASE_2025_11, "Dec 2023 to Nov 2025", "MajorText, MinorText, BoroughName"),
        (NEWEST, "Jul 2024 to Jun 2026", "Group, SubGroup, BOCU"),
    ]
    assert [(r["from"], r["to"], r["file"]) for r in crime["release_by_month"]] == [
        ("2010-04", "2023-11", HISTORICAL), ("2023-12", "2024-06", RELEASE_2025_11), ("2024-07", "2026-06", NEWEST),
    ]
    assert crime["subgroup_renames"] == {"PUBLIC ORDER OFFENCES / PUBLIC FEAR ALARM OR DISTRESS": "PUBLIC FEAR, ALARM OR DISTRESS"}
    assert set(crime["subgroup_renames_applied"]) == {HISTORICAL, RELEASE_2025_11}
    ignored = build_log["ignored_files"]
    for name in ("homicide-offences_2025-02-11.json", "homicide-offences_2026-02-11.json"):
        assert "not read" in ignored[f"ons_homicide/{name}"]
    assert "recorded_crime/SOURCES.md" in ignored
    assert [f["vintage"] for f in build_log["ons_homicide_rates"]["files"]] == ["2026-02-11", "2025-02-11"]


# --------------------------------------------------------------------------------------------
# Parsers on the raw files: recognised by header; CRLF and a BOM simply work
# --------------------------------------------------------------------------------------------


def test_release_recognised_by_header_not_name(shared_raw_dir: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "whatever.csv"
    renamed.write_bytes((shared_raw_dir / "recorded_crime" / NEWEST).read_bytes())
    assert is_recorded_crime_file(renamed)
    assert parse_recorded_crime(renamed).label == LABEL_NEWEST  # named by its coverage, not its file name
    other = tmp_path / "MPS Borough Level Crime (most recent 24 months).csv"
    other.write_text("Borough,Population\nHackney,259956\n", encoding="utf-8")
    assert not is_recorded_crime_file(other)


def test_crlf_and_bom_parse_to_the_same_rows(shared_raw_dir: Path, tmp_path: Path) -> None:
    crime = (shared_raw_dir / "recorded_crime" / HISTORICAL).read_bytes()
    assert b"\r\n" not in crime[:2000] and not crime.startswith(b"\xef\xbb\xbf")
    windows = tmp_path / HISTORICAL
    windows.write_bytes(b"\xef\xbb\xbf" + crime.replace(b"\n", b"\r\n"))
    pd.testing.assert_frame_equal(parse_recorded_crime(windows).frame, parse_recorded_crime(shared_raw_dir / "recorded_crime" / HISTORICAL).frame)
    ons = (shared_raw_dir / "ons_homicide" / ONS_2026).read_bytes()
    assert ons.startswith(b"\xef\xbb\xbf") and b"\r\n" in ons  # ons_homicide/SOURCES.md: BOM and CRLF
    unix = tmp_path / ONS_2026
    unix.write_bytes(ons[3:].replace(b"\r\n", b"\n"))
    pd.testing.assert_frame_equal(parse_ons_rates(unix).frame, parse_ons_rates(shared_raw_dir / "ons_homicide" / ONS_2026).frame)


# --------------------------------------------------------------------------------------------
# A new recorded-crime release is picked up with no code change (full build: slow)
# --------------------------------------------------------------------------------------------

NEW_RELEASE = "crime release dropped in.csv"  # any name: releases are recognised by their header


def _next_release(newest: str) -> bytes:
    """The newest release moved on a month (Aug 2024 to Jul 2026), with one revised Hackney homicide in
    January 2025 (+1) and July 2026 a copy of June 2026; written with CRLF line endings and a BOM."""
    rows = list(csv.reader(io.StringIO(newest)))
    header = rows[0]
    out = [header[:3] + header[4:] + ["202607"]]
    for row in rows[1:]:
        values = row[4:] + [row[-1]]
        if tuple(row[:3]) == (VAP, HOMICIDE, "Hackney"):
            values[header.index("202501") - 4] = str(int(values[header.index("202501") - 4]) + 1)
        out.append(row[:3] + values)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(out)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def with_new_crime_release(shared_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("raw_new_crime_release")
    for source in sorted(shared_raw_dir.rglob("*")):
        if source.is_file():
            target = root / source.relative_to(shared_raw_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    newest = (shared_raw_dir / "recorded_crime" / NEWEST).read_text(encoding="utf-8")
    (root / "recorded_crime" / NEW_RELEASE).write_bytes(_next_release(newest))
    with pytest.MonkeyPatch.context() as mp:
        reuse_parses(mp)  # the unchanged files: parsed once per process (the new release is parsed afresh)
        return build_series(root)


@pytest.mark.slow
def test_new_crime_release_is_picked_up_and_wins(with_new_crime_release) -> None:
    log = with_new_crime_release.log
    assert log["inputs_not_in_manifest"] == [NEW_RELEASE]
    assert f"recorded_crime/{NEW_RELEASE}" in log["inputs"]
    chosen = [(r["from"], r["to"], r["file"]) for r in log["recorded_crime"]["release_by_month"]]
    assert chosen[-2:] == [("2024-07", "2024-07", NEWEST), ("2024-08", "2026-07", NEW_RELEASE)]
    frames = with_new_crime_release.frames
    annual = frames["homicide_annual.csv"].set_index(["year", "area_code"])
    assert annual.at[(2025, HACKNEY), "offences"] == 8  # 7 + the synthetic revision
    assert annual.at[(2026, LONDON), "offences_months"] == 7
    rev = frames["recorded_crime_revisions.csv"]
    hackney = rev[(rev["area_code"] == HACKNEY) & (rev["offence_subgroup"] == HOMICIDE) & (rev["year"] == 2025) & (rev["month"] == 1)]
    assert set(hackney["release"]) == {LABEL_2025_11, LABEL_NEWEST, "MPS recorded crime Aug 2024 to Jul 2026"}


@pytest.mark.slow
def test_new_crime_release_leaves_other_series_unchanged(with_new_crime_release) -> None:
    files = render_files(with_new_crime_release)
    for name in ("population.csv", "homicide_monthly.csv", "homicide_breakdowns.csv", "homicide_rates_ons.csv", "areas.csv"):
        assert files[name] == (SERIES_DIR / name).read_bytes(), name


def test_the_data_log_lists_every_evidence_basis():
    """Verdicts and pages name their basis from one vocabulary; the data log defines each term."""
    from analysis.core.paths import DATA_DIR
    from analysis.data import bases

    log = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    section = log.split("### Evidence bases", 1)[1].split("\n### ", 1)[0]
    for basis in bases.BASES:
        assert f"| {basis} |" in section, f"data/README.md does not define the basis {basis!r}"
