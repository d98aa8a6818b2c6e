"""The data layer end to end: rebuild from the raw files, determinism, spot checks, a new release.

* The rebuild tests need ``../shared/data/raw``; without it they are skipped with a message,
  except in CI (``CI=true``), where they fail (see tests/conftest.py).
* The spot checks read the committed ``data/series`` (which the rebuild test proves equal to a
  fresh build), so they run even without the raw files. Each expectation names its source.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import reuse_parses

from analysis.data.build import SERIES_FILES, build_series, render_files
from analysis.runner.cli import main
from analysis.core.paths import SERIES_DIR

LONDON = "E12000007"
CITY_OF_LONDON = "E09000001"
VICTIMS_MAIN = "mps_homicide_victims_2003-01_to_2024-03.csv"
VICTIMS_OLD = "homicide_victims.csv"
MAIN_LABEL = "MPS victims Jan 2003 to Mar 2024"


# --------------------------------------------------------------------------------------------
# One build per module, through the CLI, timed.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_build(shared_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``python -m analysis data build`` into a temporary folder; returns (folder, what it printed)."""
    out = tmp_path_factory.mktemp("series")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["data", "build", "--raw-dir", str(shared_raw_dir), "--out-dir", str(out)])
    assert code == 0
    return out, printed.getvalue()


@pytest.mark.slow
def test_rebuild_is_byte_identical_to_committed_series(cli_build: tuple[Path, str]) -> None:
    """(a) Every committed series file is exactly what the build makes from the raw files."""
    out, _ = cli_build
    built = sorted(p.name for p in out.iterdir())
    committed = sorted(p.name for p in SERIES_DIR.iterdir() if p.is_file())
    assert built == sorted(SERIES_FILES)
    assert committed == built, "data/series holds files the build does not make, or lacks some"
    differ = [name for name in built if (out / name).read_bytes() != (SERIES_DIR / name).read_bytes()]
    assert not differ, f"committed series differ from a fresh build: {differ}; run `python -m analysis data build --raw-dir ../shared/data/raw`"


@pytest.mark.slow
def test_build_says_what_it_wrote_and_how_long_it_took(cli_build: tuple[Path, str]) -> None:
    """(d) The command names every file it wrote with its rows, and its own duration (the time
    itself is measured by benchmarks, not asserted here)."""
    out, printed = cli_build
    lines = printed.strip().splitlines()
    assert re.fullmatch(rf"built {len(SERIES_FILES)} files in {re.escape(str(out))} from .+ in \d+\.\d s", lines[0]), lines[0]
    log = json.loads((out / "build_log.json").read_text())
    for name in SERIES_FILES:
        expected = f"  {name}" if name == "build_log.json" else f"  {name}: {log['rows'][name]} rows"
        assert expected in lines, f"{expected!r} not printed"


@pytest.mark.slow
def test_data_check_rebuilds_the_same_bytes(cli_build: tuple[Path, str], shared_raw_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """(b) Deterministic, and (e) `data check` works: the command validates the raw files, builds
    the series a second time, independently, and finds every file byte-identical to the first
    build's (which test (a) finds identical to the committed series, the folder `data check`
    reads by default), one build for both checks."""
    import analysis.data.build as build_module

    out, _ = cli_build
    rendered: dict[str, dict[str, bytes]] = {}
    render = build_module.render_files
    monkeypatch.setattr(build_module, "render_files", lambda result: rendered.setdefault("files", render(result)))
    code = main(["data", "check", "--raw-dir", str(shared_raw_dir), "--out-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"every series in {out} is up to date" in captured.out
    assert sorted(rendered["files"]) == sorted(SERIES_FILES)  # the second build made every file, not a subset


@pytest.mark.slow
def test_data_check_names_a_stale_series_and_fails(cli_build: tuple[Path, str], shared_raw_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`data check` fails, naming the file, when a committed series is not what the build makes
    (the build's files are the first build's, so no third build runs here)."""
    import analysis.data.build as build_module

    out, _ = cli_build
    fresh = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    monkeypatch.setattr(build_module, "build_series", lambda raw_dir: "built")
    monkeypatch.setattr(build_module, "render_files", lambda result: dict(fresh))
    stale = tmp_path / "series"
    stale.mkdir()
    for name, data in fresh.items():
        (stale / name).write_bytes(data)
    (stale / "population.csv").write_bytes(fresh["population.csv"].replace(b"\n", b"\r\n", 1))
    code = main(["data", "check", "--raw-dir", str(shared_raw_dir), "--out-dir", str(stale)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"these series differ from {stale}: population.csv;" in captured.err
    assert captured.out == ""


# --------------------------------------------------------------------------------------------
# (c) Spot checks on the committed series, each against a cited figure.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def series() -> dict[str, pd.DataFrame]:
    """The committed series, read as text (so decimals are checked as written)."""
    return {
        name: pd.read_csv(SERIES_DIR / name, dtype=str, keep_default_na=False)
        for name in SERIES_FILES
        if name.endswith(".csv")
    }


@pytest.fixture(scope="module")
def build_log() -> dict:
    return json.loads((SERIES_DIR / "build_log.json").read_text(encoding="utf-8"))


def _annual(series: dict[str, pd.DataFrame]) -> pd.DataFrame:
    annual = series["homicide_annual.csv"].copy()
    annual["year"] = annual["year"].astype(int)
    annual["victims"] = pd.to_numeric(annual["victims"]).astype("Int64")  # empty where only offences cover the year
    return annual


def _london(series: dict[str, pd.DataFrame], year: int) -> pd.Series:
    annual = _annual(series)
    rows = annual[(annual["year"] == year) & (annual["area_code"] == LONDON)]
    assert len(rows) == 1, f"expected one London row for {year}"
    return rows.iloc[0]


def test_london_victims_2014_and_2003(series: dict[str, pd.DataFrame]) -> None:
    # homicide/SOURCES.md, section C (file 1): 2014 = 95; also The Independent 2026-01-11 ("95 were registered").
    assert _london(series, 2014)["victims"] == 95
    # homicide/SOURCES.md, section C (file 1): 2003 = 216; also the MPS FOI offences count (section B2).
    assert _london(series, 2003)["victims"] == 216


def test_teenage_victims_2021(series: dict[str, pd.DataFrame]) -> None:
    # homicide/SOURCES.md, section C: teens 13-19 in 2021 = 30 (the record, per the BBC text in section B1).
    assert _london(series, 2021)["victims_13_19"] == "30"


def test_london_population_mid_2024(series: dict[str, pd.DataFrame]) -> None:
    # population/SOURCES.md, London total table: mid-2024 = 9,089,736 (mye24tablesew.csv).
    pop = series["population.csv"]
    row = pop[(pop["year"] == "2024") & (pop["area_code"] == LONDON)]
    assert row["population"].tolist() == ["9089736"]


def test_met_officers_fte_31_march_2023(series: dict[str, pd.DataFrame]) -> None:
    # workforce/SOURCES.md, section 6: 31 March 2023 = 34,899.05 FTE (Home Office open data, released 26 July 2023).
    # Rounding: FTE is kept to 2 dp, exactly as the Home Office publishes it.
    wf = series["met_workforce.csv"]
    row = wf[
        (wf["date"] == "2023-03-31")
        & (wf["worker_type"] == "Police officer")
        & (wf["measure"] == "FTE")
        & (wf["source_type"] == "official data")
    ]
    assert row["value"].tolist() == ["34899.05"]
    assert row["basis"].tolist() == ["home_office_fte"]


def test_london_2024_is_the_published_whole_year_figure(series: dict[str, pd.DataFrame]) -> None:
    # homicide/SOURCES.md, section B1: 2024 total = 109 (The Independent, 2026-01-11). Open data cover
    # Jan-Mar 2024 only, so precedence rule 2 (analysis/build.py) uses the published figure.
    row = _london(series, 2024)
    assert row["victims"] == 109
    assert row["victims_months"] == "12"
    assert row["victims_source"] == "published"
    assert row["victims_release"] == "homicide_2024_total"


def test_borough_2024_rows_cover_three_months(series: dict[str, pd.DataFrame]) -> None:
    # homicide/SOURCES.md, file 1: "2024 has only Jan, Feb and Mar"; boroughs have no published 2024 figure.
    annual = _annual(series)
    boroughs_2024 = annual[(annual["year"] == 2024) & (annual["area_code"] != LONDON)]
    assert len(boroughs_2024) == 32
    assert set(boroughs_2024["victims_months"]) == {"3"}
    assert set(boroughs_2024["victims_source"]) == {"open data"}


def test_every_borough_year_row_exists(series: dict[str, pd.DataFrame]) -> None:
    # 32 Met boroughs (population/SOURCES.md: the MPD is the 32 boroughs) for every year of open data,
    # 2003 to 2024 (homicide/SOURCES.md, file 1); zeros are rows, not gaps.
    annual = _annual(series)
    areas = series["areas.csv"]
    met_boroughs = set(areas.loc[(areas["level"] == "london borough") & (areas["policed_by_met"] == "True"), "area_code"])
    assert len(met_boroughs) == 32
    for year in range(2003, 2025):
        present = set(annual.loc[(annual["year"] == year) & (annual["area_code"] != LONDON), "area_code"])
        assert present == met_boroughs, f"borough rows missing or extra in {year}"
    boroughs = annual[annual["area_code"] != LONDON]
    assert (boroughs["victims"] == 0).any(), "zero borough-years should be present as rows"
    # 2025 has a published London total only (section B1): borough rows exist for the recorded offences
    # (recorded_crime/SOURCES.md: April 2010 to June 2026) but their victims columns are empty.
    for year in (2025, 2026):
        rows = annual[(annual["year"] == year) & (annual["area_code"] != LONDON)]
        assert set(rows["area_code"]) == met_boroughs, year
        assert rows["victims"].isna().all() and (rows[["victims_months", "victims_source", "victims_release"]] == "").all().all()
        assert (rows["offences"] != "").all() and set(rows["offences_months"]) == {"12" if year == 2025 else "6"}


def test_unmapped_victims_count_in_london_and_in_no_borough(series: dict[str, pd.DataFrame], build_log: dict) -> None:
    # homicide/SOURCES.md, file 1: Borough includes 'Unmapped' (64 rows, 2010 to 2024). They count in the London
    # total and in no borough: London = sum of boroughs + no-borough victims, year by year.
    annual = _annual(series)
    open_data = annual[annual["victims_source"] == "open data"]
    london = open_data[open_data["area_code"] == LONDON].set_index("year")["victims"]
    boroughs = open_data[open_data["area_code"] != LONDON].groupby("year")["victims"].sum()
    gap = (london - boroughs.reindex(london.index)).astype(int)
    assert (gap >= 0).all()
    # 2024 London is the published figure, so its open-data gap is not in the annual table; take it from the months.
    monthly = series["homicide_monthly.csv"].astype({"year": int, "victims": int})
    m_london = monthly[monthly["area_code"] == LONDON].groupby("year")["victims"].sum()
    m_boroughs = monthly[monthly["area_code"] != LONDON].groupby("year")["victims"].sum()
    monthly_gap = (m_london - m_boroughs).astype(int)
    assert gap.to_dict() == monthly_gap.loc[gap.index].to_dict()
    assert int(monthly_gap.sum()) == sum(build_log["homicide"]["victims_in_london_but_no_borough"].values())
    assert int(monthly_gap.loc[:2009].sum()) == 0  # 'Unmapped' appears from 2010 (file 1)


def test_unmapped_per_year_matches_the_raw_file(series: dict[str, pd.DataFrame], shared_raw_dir: Path) -> None:
    # Independent count from the raw file with the csv module: rows whose Borough is 'Unmapped', per year.
    with (shared_raw_dir / "homicide" / VICTIMS_MAIN).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unmapped: dict[int, int] = {}
    for row in rows:
        if row["Borough"].strip() == "Unmapped":
            unmapped[int(row["Recorded Year"])] = unmapped.get(int(row["Recorded Year"]), 0) + 1
    assert sum(unmapped.values()) == 64  # homicide/SOURCES.md, file 1: 'Unmapped' (64 rows)
    monthly = series["homicide_monthly.csv"].astype({"year": int, "victims": int})
    london = monthly[monthly["area_code"] == LONDON].groupby("year")["victims"].sum()
    boroughs = monthly[monthly["area_code"] != LONDON].groupby("year")["victims"].sum()
    for year in london.index:
        assert london[year] == boroughs[year] + unmapped.get(year, 0), year


def test_city_of_london_in_population_not_in_homicide(series: dict[str, pd.DataFrame]) -> None:
    # homicide/SOURCES.md, file 1 caveats: homicides recorded by the City of London Police are excluded;
    # population/SOURCES.md: London (E12000007) = 32 boroughs plus the City of London.
    for name in ("homicide_annual.csv", "homicide_monthly.csv", "homicide_breakdowns.csv"):
        assert CITY_OF_LONDON not in set(series[name]["area_code"]), name
    pop = series["population.csv"]
    city_years = set(pop.loc[pop["area_code"] == CITY_OF_LONDON, "year"].astype(int))
    assert set(range(1997, 2025)) <= city_years
    areas = series["areas.csv"].set_index("area_code")
    assert areas.at[CITY_OF_LONDON, "policed_by_met"] == "False"


def test_revisions_2020_older_and_newer_release(series: dict[str, pd.DataFrame]) -> None:
    # homicide/SOURCES.md, file 1 caveats and section C: 2020 is 127 in file 2 (2021 extract) but 133 in file 1.
    rev = series["homicide_revisions.csv"]
    y2020 = rev[rev["year"] == "2020"].set_index("release_file")["victims"]
    assert y2020[VICTIMS_OLD] == "127"
    assert y2020[VICTIMS_MAIN] == "133"
    # The annual series takes the newer release (precedence rule 1).
    assert _london(series, 2020)["victims"] == 133
    assert _london(series, 2020)["victims_release"] == MAIN_LABEL


def test_borough_population_totals_1997_2000_empty_with_note(series: dict[str, pd.DataFrame]) -> None:
    # population/SOURCES.md, la_pop_estimates.csv: "For 1997-2000 ages 85-89 and 90+ are '-'"; under-25s complete.
    pop = series["population.csv"]
    boroughs = pop[pop["area_code"].str.startswith("E09")]
    early = boroughs[boroughs["year"].astype(int).between(1997, 2000)]
    assert len(early) == 33 * 4
    assert (early["population"] == "").all()
    assert (early["note"].str.contains("85+", regex=False)).all()
    assert (early["population_under_25"] != "").all()
    later = boroughs[boroughs["year"].astype(int) >= 2001]
    assert (later["population"] != "").all()
    # London's own total for those years comes from the region file's 'All Ages' row (population/SOURCES.md).
    london_1997 = pop[(pop["year"] == "1997") & (pop["area_code"] == LONDON)]
    assert london_1997["population"].tolist() == ["7014838"]


def test_census_rebasing_between_2020_and_2021_is_recorded(series: dict[str, pd.DataFrame], build_log: dict) -> None:
    # population/SOURCES.md, caveat 1: series break between 2020 (rolled forward from 2011) and 2021 (Census 2021).
    pop = series["population.csv"]
    london = pop[pop["area_code"] == LONDON].set_index("year")
    assert london.at["2020", "basis"] != london.at["2021", "basis"]
    assert "Census 2021" in london.at["2021", "basis"]
    assert "2020" in build_log["population"]["series_break"] and "2021" in build_log["population"]["series_break"]


# --------------------------------------------------------------------------------------------
# (f) A new victims release, in the other header layout, is picked up without code changes.
# --------------------------------------------------------------------------------------------

NEW_RELEASE = "Homicide Victims 2003 - Jun 2025.csv"  # the later Datastore file name (homicide/SOURCES.md, B3)
OLD_LAYOUT = [
    "Count of Victims", "Age Group", "Sex", "Method of Killing", "Domestic Abuse", "Recorded Date",
    "Homicide Offence Type", "Solved Status", "Borough", "Officer Observed Ethnicity",
]
# Synthetic rows: (year, month, borough, age band). One extra 2020 victim (a revision), April to
# December 2024 (completing 2024) and January to June 2025.
SYNTHETIC = (
    [(2020, "Nov", "Lambeth", "20 to 24")]
    + [(2024, m, "Westminster", "25 to 34") for m in ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")]
    + [(2025, m, "Hackney", "13 to 19") for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")]
)
NEW_LABEL = "MPS victims Jan 2003 to Jun 2025"


def _old_layout_release(main_file: Path) -> bytes:
    """The main file's rows rewritten in the older `Recorded Date` layout and codings, plus SYNTHETIC rows."""
    recode = {
        "Domestic Abuse": {"Domestic Abuse": "Yes", "Not Domestic Abuse": "No"},
        "Method of Killing": {"Other Methods of Killing": "Other Method of Killing"},
        "Officer Observed Ethnicity": {"Unrecorded / Unknown": "Not Recorded / Unknown"},
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(OLD_LAYOUT)
    with main_file.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            row["Method of Killing"] = row.pop("MethodofKilling")
            row["Recorded Date"] = f"{row['Recorded Month']} {row['Recorded Year']}"
            record = [recode.get(c, {}).get(row[c], row[c]) for c in OLD_LAYOUT]
            writer.writerow(record)
    for year, month, borough, age in SYNTHETIC:
        writer.writerow(["1", age, "Male", "Knife or Sharp Implement", "No", f"{month} {year}", "Murder", "Unsolved", borough, "Black"])
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def with_new_release(shared_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Build from a copy of the raw tree whose homicide folder has one more release, in the old layout."""
    root = tmp_path_factory.mktemp("raw_new_release")
    for source in sorted(shared_raw_dir.rglob("*")):
        if source.is_file():
            target = root / source.relative_to(shared_raw_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    (root / "homicide" / NEW_RELEASE).write_bytes(_old_layout_release(shared_raw_dir / "homicide" / VICTIMS_MAIN))
    with pytest.MonkeyPatch.context() as mp:
        reuse_parses(mp)  # the unchanged victims, population, crime and ONS files: parsed once per process
        return build_series(root)


@pytest.mark.slow
def test_new_release_is_picked_up(with_new_release, series: dict[str, pd.DataFrame]) -> None:
    log = with_new_release.log
    files = [r["file"] for r in log["homicide"]["releases"]]
    assert files == [VICTIMS_OLD, VICTIMS_MAIN, NEW_RELEASE]  # oldest coverage first
    assert log["inputs_not_in_manifest"] == [NEW_RELEASE]
    assert f"homicide/{NEW_RELEASE}" in log["inputs"]
    # People proceeded against (homicide/SOURCES.md, files 3 and 4) are not victims releases.
    assert not any("ppa" in f or f.endswith(".parquet") for f in files)
    new = next(r for r in log["homicide"]["releases"] if r["file"] == NEW_RELEASE)
    assert new["coverage"] == "Jan 2003 to Jun 2025"
    assert new["victims"] == 2936 + len(SYNTHETIC)  # homicide/SOURCES.md, file 1: 2,936 rows


@pytest.mark.slow
def test_newest_release_wins_for_every_year_it_covers(with_new_release) -> None:
    annual = with_new_release.frames["homicide_annual.csv"]
    london = annual[annual["area_code"] == LONDON].set_index("year")
    open_years = london[london["victims_source"] == "open data"]
    assert set(open_years.index) == set(range(2003, 2025))
    assert set(open_years["victims_release"]) == {NEW_LABEL}
    # The revision in the new release wins: 2020 = 133 (file 1) + 1 synthetic.
    assert london.at[2020, "victims"] == 134
    # 2024 is now a complete year of open data, which outranks the published 109 (rule 1 before rule 2).
    assert london.at[2024, "victims"] == 24 + 9  # file 1: 24 victims in Jan-Mar 2024 (SOURCES.md, section C)
    assert london.at[2024, "victims_months"] == 12
    # 2025 is partial (Jan-Jun), so the published whole-year figure (97, section B1) is used (rule 2).
    assert london.at[2025, "victims_source"] == "published"
    assert london.at[2025, "victims"] == 97
    boroughs_2025 = annual[(annual["year"] == 2025) & (annual["area_code"] != LONDON)]
    assert len(boroughs_2025) == 32 and set(boroughs_2025["victims_months"]) == {6}
    assert set(annual.loc[annual["area_code"] != LONDON, "victims_release"]) - {""} == {NEW_LABEL}
    # Recorded offences are unaffected by a victims release (recorded_crime/SOURCES.md: 2025 = 96 offences).
    assert london.at[2025, "offences"] == 96
    decisions = {d["year"]: d["decision"] for d in with_new_release.log["homicide"]["published_precedence"]}
    assert decisions[2024] == "open data kept (complete year)"
    # Every release's annual totals stay in the revisions table.
    rev = with_new_release.frames["homicide_revisions.csv"]
    y2020 = rev[rev["year"] == 2020].set_index("release_file")["victims"].to_dict()
    assert y2020 == {VICTIMS_OLD: 127, VICTIMS_MAIN: 133, NEW_RELEASE: 134}
    monthly = with_new_release.frames["homicide_monthly.csv"]
    assert (int(monthly["year"].max()), int(monthly.loc[monthly["year"] == monthly["year"].max(), "month"].max())) == (2025, 6)


@pytest.mark.slow
def test_new_release_leaves_other_series_unchanged(with_new_release, cli_build: tuple[Path, str]) -> None:
    out, _ = cli_build
    files = render_files(with_new_release)
    for name in ("population.csv", "met_workforce.csv", "met_arrests.csv", "areas.csv"):
        assert files[name] == (out / name).read_bytes(), name
