"""Derive the tidy series under ``data/series/`` from the official files, deterministically.

``build_series(raw_dir)`` parses every source in the manifest, validates it, derives the series
and returns them as frames; ``write_series(series, out_dir)`` writes them only after all of them
validated, replacing the old files in one step each, so a failure leaves earlier outputs as they
were. Rebuilding from the same inputs gives byte-identical files.

The homicide series and the precedence rules for annual victims are in ``derive_homicide``; the
recorded-crime series and the release rule in ``derive_crime`` (both stated in data/README.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import folders
from analysis.core.errors import DataError
from analysis.core.paths import PUBLISHED_FIGURES, SERIES_DIR, SOURCES_MANIFEST
from analysis.data import checks, schemas
from analysis.data.derive_crime import annual_homicide_offences, derive_recorded_crime
from analysis.data.derive_homicide import CITY_OF_LONDON, derive_homicide
from analysis.data.manifest import SourceFile, load_manifest, sha256_of, source_files
from analysis.data.parse_homicide import find_victim_releases
from analysis.data.parse_ons_rates import RatesFile, parse_ons_rates
from analysis.data.parse_population import (
    LONDON_CODE,
    LONDON_NAME,
    london_boroughs,
    parse_nomis_local_authorities,
    parse_nomis_region,
    parse_ons_mye2,
)
from analysis.data.parse_recorded_crime import (
    CrimeRelease,
    find_crime_releases,
    parse_recorded_crime,
)
from analysis.data.parse_workforce import parse_arrests, parse_workforce_table
from analysis.data.published import read_published

SERIES_FILES = (
    "areas.csv",
    "homicide_annual.csv",
    "homicide_breakdowns.csv",
    "homicide_monthly.csv",
    "homicide_revisions.csv",
    "homicide_rates_ons.csv",
    "recorded_crime_monthly.csv",
    "recorded_crime_revisions.csv",
    "population.csv",
    "met_workforce.csv",
    "met_arrests.csv",
    "build_log.json",
)


@dataclass
class BuildResult:
    """The derived series (file name -> frame) and the facts for the build log."""

    frames: dict[str, pd.DataFrame]
    log: dict[str, Any] = field(default_factory=dict)


#: Why the JSON files beside the ONS rates are not read (recorded in the build log).
ONS_JSON_IGNORED = (
    "ONS metadata (JSON), not read: it can be stale (the 2026-02-11 file's metadata still describes "
    "the periods to March 2024 and the data as at 6 December 2024); periods and units are read from the CSV"
)


def derive_workforce(official: pd.DataFrame, published: pd.DataFrame, official_label: str) -> pd.DataFrame:
    """met_workforce: official 31 March figures plus published officer figures, each with its basis."""
    official_rows = pd.DataFrame(
        {
            "date": official["year"].map(lambda y: f"{y}-03-31"),
            "worker_type": official["worker_type"],
            "measure": official["measure"],
            "value": official["value"],
            "basis": official["measure"].map({"FTE": "home_office_fte", "headcount": "home_office_headcount"}),
            "period_type": "31 March",
            "source_type": "official data",
            "source": official_label,
        }
    )
    figures = published[(published["series"] == "met_officers") & (published["used_in_series"] == "yes")]

    def period_type(date: str) -> str:
        return {"03-31": "31 March", "09-30": "30 September"}.get(date[5:], "month end")

    published_rows = pd.DataFrame(
        {
            "date": figures["period"],
            "worker_type": "Police officer",
            "measure": figures["unit"].map(lambda u: "FTE" if "FTE" in u else ("headcount" if "headcount" in u else "officers")),
            "value": figures["value"].astype(float),
            "basis": figures["basis"],
            "period_type": figures["period"].map(period_type),
            "source_type": "published figure",
            "source": figures["id"],
        }
    )
    out = pd.concat([official_rows, published_rows], ignore_index=True)
    out = out.sort_values(["date", "worker_type", "measure", "basis", "source"]).reset_index(drop=True)
    return schemas.validate(out, schemas.MET_WORKFORCE, "met_workforce.csv")


PARSERS: dict[str, Callable[..., Any]] = {
    "nomis_region": parse_nomis_region,
    "nomis_local_authorities": parse_nomis_local_authorities,
    "ons_mye2": parse_ons_mye2,
    "home_office_workforce": parse_workforce_table,
    "home_office_arrests": parse_arrests,
    "mps_recorded_crime": parse_recorded_crime,
    "ons_homicide_rates": parse_ons_rates,
}


def _require(path: Path, entry: SourceFile) -> Path:
    if not path.is_file():
        raise DataError(path, f"not found: source '{entry.source_id}' expects it (see data/sources.yml; `python -m analysis data fetch` downloads it)")
    return path


def _with_source(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A parsed population part with the file and line each row came from (for error messages only)."""
    rows = pd.to_numeric(pd.Series(frame.index, index=frame.index), errors="coerce")
    return frame.assign(source_file=str(path), source_row=rows.astype("Int64"))


def _ignored_files(raw_dir: Path, entries: list[SourceFile], used: set[Path], extra: dict[str, dict[str, str]]) -> dict[str, str]:
    """``{folder/file: why}`` for every file in a source folder that the build did not read."""
    ignored: dict[str, str] = {}
    for folder in sorted({e.folder for e in entries}):
        base = raw_dir / folder
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            if path.resolve() in used:
                continue
            rel = path.relative_to(raw_dir).as_posix()
            ignored[rel] = extra.get(folder, {}).get(path.name, "not listed in data/sources.yml")
    return ignored


def _one_folder(by_parser: dict[str, list[SourceFile]], parser: str, manifest_path: Path) -> str:
    folders_ = {e.folder for e in by_parser.get(parser, [])}
    if len(folders_) != 1:
        raise DataError(manifest_path, f"needs exactly one folder of files with parser: {parser}")
    return folders_.pop()


def _recorded_crime(raw_dir: Path, entries: list[SourceFile], folder: str, today: dt.date) -> tuple[list[CrimeRelease], dict[str, str]]:
    """Every recorded-crime release in the folder (the listed ones and any other the header marks), checked."""
    listed = [_require(entry.path(raw_dir), entry) for entry in entries]
    releases, ignored = find_crime_releases(raw_dir / folder, required=listed)
    for release in releases:
        checks.check_crime_release(release.path, release.frame, release.first_period, release.last_period, today)
    return releases, ignored


def _ons_rates(raw_dir: Path, entries: list[SourceFile], today: dt.date) -> tuple[list[RatesFile], pd.DataFrame]:
    """Every listed vintage of the ONS rates, and the homicide_rates_ons frame (all rows of every vintage)."""
    files = []
    for entry in entries:
        path = _require(entry.path(raw_dir), entry)
        rates = parse_ons_rates(path, vintage=entry.options.get("vintage"))
        checks.check_rate_periods(path, rates.frame, today)
        if any(f.vintage == rates.vintage for f in files):
            raise DataError(path, f"has the vintage {rates.vintage} of another ONS rates file; each vintage must be given once")
        files.append(rates)
    frame = pd.concat([f.frame for f in files], ignore_index=True)
    missing = frame["rate_per_million"].isna()
    status = frame["status"].map(lambda s: f"ONS status '{s}'" if s else "")
    frame["note"] = status.where(~missing, ("no value published; " + status).str.rstrip("; "))
    frame = frame.sort_values(["vintage", "area_code", "period_start"]).reset_index(drop=True)
    frame = frame[list(schemas.HOMICIDE_RATES_ONS.columns)]
    return files, schemas.validate(frame, schemas.HOMICIDE_RATES_ONS, "homicide_rates_ons.csv")


#: A rate that differs between two vintages by more than this share, for the same area and period,
#: is listed in the build log (revisions are normal; a whole force moving at once is worth a look).
RATE_REVISION_LISTED = 0.2


def rate_vintage_changes(rates: pd.DataFrame) -> dict[str, str]:
    """``{area (code): 'newer/older from x to y'}`` for areas whose rate for some period differs by more
    than RATE_REVISION_LISTED between the newest and the previous vintage (ratios of the rates)."""
    vintages = sorted(rates["vintage"].unique())
    if len(vintages) < 2:
        return {}
    wide = rates.pivot_table(index=["area_code", "area", "period_start"], columns="vintage", values="rate_per_million")
    ratio = (wide[vintages[-1]] / wide[vintages[-2]]).dropna()
    changed = {}
    for (code, area), values in ratio.groupby(level=["area_code", "area"]):
        if (abs(values - 1) > RATE_REVISION_LISTED).any():
            changed[f"{area} ({code})"] = f"{vintages[-1]}/{vintages[-2]} from {values.min():.2f} to {values.max():.2f}"
    return changed


def build_series(
    raw_dir: Path,
    *,
    manifest_path: Path = SOURCES_MANIFEST,
    published_path: Path = PUBLISHED_FIGURES,
    today: dt.date | None = None,
) -> BuildResult:
    """Parse every source under ``raw_dir`` and derive every series; nothing is written.

    Returns a BuildResult with one frame per file in SERIES_FILES (except the log) and the log facts.
    Raises DataError for any bad or implausible input (``analysis.data.checks``; ``today``, default the
    current date, is the latest date a record may carry).
    """
    today = today or dt.date.today()
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError(raw_dir, "raw data folder not found (pass --raw-dir, e.g. ../shared/data/raw)")
    manifest = load_manifest(manifest_path)
    entries = source_files(manifest)
    published = read_published(published_path)

    by_parser: dict[str, list[SourceFile]] = {}
    for entry in entries:
        by_parser.setdefault(entry.parser, []).append(entry)

    # The victim records first: the file most often replaced by hand, refused before anything is derived.
    folder = raw_dir / _one_folder(by_parser, "mps_victims", manifest_path)
    listed = [_require(entry.path(raw_dir), entry) for entry in by_parser["mps_victims"]]
    releases, ignored_victims = find_victim_releases(folder, required=listed)
    for release in releases:
        checks.check_release_months(release.path, release.frame, today)

    crime_folder = _one_folder(by_parser, "mps_recorded_crime", manifest_path)
    rates_folder = _one_folder(by_parser, "ons_homicide_rates", manifest_path)
    crime_releases, ignored_crime = _recorded_crime(raw_dir, by_parser["mps_recorded_crime"], crime_folder, today)
    rate_files, rates = _ons_rates(raw_dir, by_parser["ons_homicide_rates"], today)

    newest_mye = by_parser["ons_mye2"][-1]
    boroughs = london_boroughs(_require(newest_mye.path(raw_dir), newest_mye))

    population_parts = []
    for entry in by_parser.get("nomis_region", []):
        path = _require(entry.path(raw_dir), entry)
        population_parts.append(_with_source(parse_nomis_region(path, vintage=entry.options["vintage"]), path))
    for entry in by_parser.get("nomis_local_authorities", []):
        path = _require(entry.path(raw_dir), entry)
        population_parts.append(
            _with_source(parse_nomis_local_authorities(path, vintage=entry.options["vintage"], area_codes=boroughs), path)
        )
    for entry in by_parser.get("ons_mye2", []):
        path = _require(entry.path(raw_dir), entry)
        london_boroughs(path)  # every MYE file's names are checked against the register
        population_parts.append(
            _with_source(parse_ons_mye2(path, vintage=entry.options["vintage"], area_codes=boroughs, year=entry.options.get("year")), path)
        )
    for part in population_parts:
        checks.check_population_parts(Path(part["source_file"].iloc[0]), part)
    population = pd.concat(population_parts, ignore_index=True)
    dupes = population.duplicated(["year", "area_code"], keep=False)
    if dupes.any():
        first = population[dupes].iloc[0]
        raise DataError(manifest_path, f"two population files both give {first['area']} {first['year']}")
    checks.check_population_years(population)
    population = population.drop(columns=["source_file", "source_row"])
    population = population.sort_values(["year", "area_code"]).reset_index(drop=True)
    for column in ("population", "population_under_25", "population_13_19"):
        population[column] = population[column].round().astype("Int64")

    crime, crime_log = derive_recorded_crime(crime_releases)
    met_borough_codes = sorted(c for c in boroughs if c != CITY_OF_LONDON)
    offences = annual_homicide_offences(crime_releases, crime["recorded_crime_monthly.csv"], met_borough_codes)

    homicide, homicide_log = derive_homicide(releases, boroughs, published, offences)

    workforce_entry = by_parser["home_office_workforce"][-1]
    official = parse_workforce_table(_require(workforce_entry.path(raw_dir), workforce_entry))
    workforce = derive_workforce(official, published, f"Home Office police workforce open data ({workforce_entry.name})")

    arrests_entry = by_parser["home_office_arrests"][-1]
    arrests = parse_arrests(_require(arrests_entry.path(raw_dir), arrests_entry)).assign(
        source=f"Home Office arrests open data, via {arrests_entry.name}"
    )

    areas = pd.DataFrame(
        [
            {"area_code": LONDON_CODE, "area": LONDON_NAME, "level": "region", "policed_by_met": True},
            *(
                {"area_code": code, "area": name, "level": "london borough", "policed_by_met": code != CITY_OF_LONDON}
                for code, name in boroughs.items()
            ),
        ]
    )

    known = {e.path(raw_dir).resolve() for e in entries}
    found = [r.path for r in releases] + [r.path for r in crime_releases]
    unlisted = [p for p in found if p.resolve() not in known]
    used = known | {p.resolve() for p in found}
    ons_json = {p.name: ONS_JSON_IGNORED for p in (raw_dir / rates_folder).glob("*.json")}
    ignored = _ignored_files(raw_dir, entries, used, {folder.name: ignored_victims, crime_folder: ignored_crime, rates_folder: ons_json})
    log = {
        "inputs": {
            f"{e.folder}/{e.name}": sha256_of(e.path(raw_dir)) for e in entries
        }
        | {p.relative_to(raw_dir).as_posix(): sha256_of(p) for p in unlisted},
        "inputs_not_in_manifest": sorted(p.name for p in unlisted),
        "ignored_files": ignored,
        "homicide": homicide_log,
        "recorded_crime": crime_log,
        "ons_homicide_rates": {
            "files": [
                {
                    "file": f.path.name,
                    "vintage": f.vintage,
                    "layout": f.layout,
                    "periods": f"{f.frame['period_start'].min()} to {f.frame['period_end'].max()}",
                    "rows": len(f.frame),
                    "rows_without_value": int(f.frame["rate_per_million"].isna().sum()),
                }
                for f in rate_files
            ],
            "areas_revised_by_more_than_20_percent": rate_vintage_changes(rates),
        },
        "population": {
            "years": f"{int(population['year'].min())}-{int(population['year'].max())}",
            "borough_years_without_total": int(population["population"].isna().sum()),
            "series_break": "mid-2020 (pre-Census 2021 series) to mid-2021 (Census 2021 based)",
        },
        "workforce": {
            "official_years": f"{int(official['year'].min())}-{int(official['year'].max())}",
            "published_rows": int((workforce["source_type"] == "published figure").sum()),
        },
        "rows": {},
    }
    frames = {
        "areas.csv": areas,
        **homicide,
        "homicide_rates_ons.csv": rates,
        **crime,
        "population.csv": population,
        "met_workforce.csv": workforce,
        "met_arrests.csv": arrests,
    }
    log["rows"] = {name: int(len(frame)) for name, frame in frames.items()}
    return BuildResult(frames=frames, log=log)


def render_files(result: BuildResult) -> dict[str, bytes]:
    """The bytes of every series file, exactly as written to disk (deterministic)."""
    files: dict[str, bytes] = {}
    for name, frame in result.frames.items():
        text = frame.to_csv(index=False, lineterminator="\n", float_format="%.2f")
        files[name] = text.encode("utf-8")
    files["build_log.json"] = (json.dumps(result.log, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    return files


BUILD_LOG = "build_log.json"


def is_series_folder(folder: Path) -> bool:
    """True when ``folder`` holds only what a data build wrote: a build log and the series it lists."""
    folder = Path(folder)
    try:
        log = json.loads((folder / BUILD_LOG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(log, dict):
        return False
    ours = set(SERIES_FILES) | set(log.get("rows", {})) | {BUILD_LOG}
    return all(p.name in ours for p in folder.iterdir())


def write_series(result: BuildResult, out_dir: Path = SERIES_DIR) -> list[Path]:
    """Write every series into ``out_dir`` as one set: all files go to a staging folder beside it,
    which then replaces ``out_dir`` in one step (an atomic exchange on Linux).

    A failure at any point leaves ``out_dir`` byte-identical. ``out_dir`` must be absent, empty or
    a folder an earlier build wrote (OutputError otherwise: nothing of the user's is replaced).
    Returns the written paths.
    """
    out_dir = folders.check_target(out_dir, is_ours=is_series_folder, what="series set",
                                   marker_name=BUILD_LOG)
    files = render_files(result)
    was_absent = not out_dir.exists()
    folders.clean_leftovers(out_dir, is_ours=is_series_folder)
    staging, lock = folders.staging_for(out_dir)
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        folders.publish(staging, out_dir, is_ours=is_series_folder, what="series set", was_absent=was_absent)
    except BaseException:
        folders.discard_staging(staging, lock)
        raise
    lock.release()
    return [out_dir / name for name in files]
