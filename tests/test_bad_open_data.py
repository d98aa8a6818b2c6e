"""Bad input in the recorded-crime and ONS rates files: one clear line naming the file, row and column;
exit code 2; the output folder untouched (the pattern of tests/test_bad_input.py).

Both sources are parsed before population, victims and workforce, so a failing build stops early;
the unchanged files beside the corrupted one are parsed once per process (conftest). CRLF line endings and a UTF-8 BOM are not errors
(tests/test_open_data.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.runner.cli import main

NEWEST = "MPS Borough Level Crime (most recent 24 months) 2024-07 to 2026-06.csv"
NEWEST_REL = f"recorded_crime/{NEWEST}"
ONS = "homicide-offences_2026-02-11.csv"
ONS_REL = f"ons_homicide/{ONS}"


@pytest.fixture(scope="module")
def crime_rows(shared_raw_dir: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((shared_raw_dir / "recorded_crime" / NEWEST).read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def ons_rows(shared_raw_dir: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((shared_raw_dir / "ons_homicide" / ONS).read_text(encoding="utf-8-sig"))))


@pytest.fixture
def out_dir(tmp_path: Path, reuse_unchanged_parses: None) -> tuple[Path, dict[str, bytes]]:
    """An output folder that already holds a series set from an earlier build (the unchanged
    releases beside the corrupted one are parsed once per process: conftest)."""
    out = tmp_path / "series"
    out.mkdir()
    files = {"homicide_annual.csv": b"year,area_code,victims\n1999,SENTINEL,1\n", "build_log.json": b'{"rows": {"homicide_annual.csv": 1}}\n'}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out, files


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _cut_short(rows: list[list[str]], keep: int, fields: int) -> tuple[bytes, int]:
    """The first ``keep`` rows, then a last row ending after ``fields`` fields with no newline, as a
    download cut short leaves it; returns the bytes and the last row's line number."""
    return _csv(rows[:keep]) + _csv([rows[keep][:fields]]).rstrip(b"\n"), keep + 1


def _line(rows: list[list[str]], *first: str) -> int:
    """1-based line (header = 1) of the row starting with ``first``."""
    return next(i for i, r in enumerate(rows, start=1) if tuple(r[: len(first)]) == first)


HOMICIDE_HACKNEY = ("VIOLENCE AGAINST THE PERSON", "HOMICIDE", "Hackney")


def _with_cell(rows: list[list[str]], line: int, column: str, value: str) -> list[list[str]]:
    copy = [list(r) for r in rows]
    copy[line - 1][copy[0].index(column)] = value
    return copy


def _run(raw: Path, out: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str], *expected: str) -> str:
    folder, files = out
    code = main(["data", "build", "--raw-dir", str(raw), "--out-dir", str(folder)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    for part in expected:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files), "files were added to the output folder"
    for name, data in files.items():
        assert (folder / name).read_bytes() == data, f"{name} was modified"
    return lines[0]


# (id, corrupt the newest release's rows -> (bytes, parts the message must contain))
def _crime_cases() -> list[tuple[str, Callable[[list[list[str]]], tuple[bytes, tuple[str, ...]]]]]:
    def cell(value: str, problem: str, column: str = "202501"):
        def make(rows):
            line = _line(rows, *HOMICIDE_HACKNEY)
            return _csv(_with_cell(rows, line, column, value)), (NEWEST, f"row {line}", f"column '{column}'", problem)
        return make

    def header(old: str, new: str, *problem: str):
        def make(rows):
            copy = [list(r) for r in rows]
            copy[0][copy[0].index(old)] = new
            return _csv(copy), (NEWEST, "row 1", *problem)
        return make

    def duplicated(rows):
        line = _line(rows, *HOMICIDE_HACKNEY)
        copy = rows[:line] + [rows[line - 1]] + rows[line:]
        return _csv(copy), (NEWEST, f"row {line + 1}", "column 'BOCU'", "repeats VIOLENCE AGAINST THE PERSON / HOMICIDE / Hackney", f"first on row {line}")

    def area(name: str, problem: str):
        def make(rows):
            line = _line(rows, *HOMICIDE_HACKNEY)
            copy = [list(r) for r in rows]
            copy[line - 1][2] = name
            return _csv(copy), (NEWEST, f"row {line}", "column 'BOCU'", problem)
        return make

    def truncated(rows):
        data, line = _cut_short(rows, len(rows) * 2 // 3, 10)
        return data, (NEWEST, f"row {line}", "column '202502'", "cut short", "truncated")  # 10 fields: 3 names + Jul 2024-Jan 2025

    def subgroup(rows):
        line = _line(rows, *HOMICIDE_HACKNEY)
        copy = [list(r) for r in rows]
        copy[line - 1][1] = "HOMICIDES"
        return _csv(copy), (NEWEST, f"row {line}", "column 'SubGroup'", "unknown subgroup 'HOMICIDES'", "SUBGROUP_RENAMES")

    def empty_month(rows):
        at = rows[0].index("202603")
        copy = [r[:at] + ["0"] + r[at + 1 :] for r in rows[1:]]
        return _csv([rows[0], *copy]), (NEWEST, "row 1", "column '202603'", "no offence at all in London in March 2026")

    return [
        ("non-numeric count", cell("seven", "'seven' is not a number")),
        ("negative count", cell("-3", "count '-3' is negative")),
        ("fractional count", cell("1.5", "count '1.5' is not a whole number")),
        ("empty count", cell("", "missing value where a number is required")),
        ("unknown header layout", header("Group", "Category", "unknown header layout 'Category, SubGroup, BOCU'", "column 'Category'")),
        ("malformed month column", header("202512", "202513", "column '202513'", "'202513' is not a month column (YYYYMM)")),
        ("month column missing", header("202512", "202601", "column '202601'", "from Nov 2025 to Jan 2026: a month is missing")),
        ("duplicated row", duplicated),
        ("unknown area", area("Atlantis", "'Atlantis' is neither a London borough policed by the Met nor a known non-borough place")),
        ("City of London", area("City of London", "'City of London' is policed by the City of London Police")),
        ("truncated file", truncated),
        ("unknown subgroup of a kept group", subgroup),
        ("empty month column", empty_month),
    ]


CRIME_CASES = _crime_cases()


@pytest.mark.parametrize("corrupt", [c[1] for c in CRIME_CASES], ids=[c[0] for c in CRIME_CASES])
def test_bad_recorded_crime_release_is_one_clear_line(corrupt, crime_rows, raw_tree, out_dir, capsys) -> None:
    data, expected = corrupt(crime_rows)
    _run(raw_tree({NEWEST_REL: data}), out_dir, capsys, *expected)


def test_areas_match_case_and_ampersand_insensitively(crime_rows, raw_tree, tmp_path) -> None:
    """'HAMMERSMITH & FULHAM' is the ONS 'Hammersmith and Fulham' (not an error), parsed to the ONS name."""
    from analysis.data.parse_recorded_crime import parse_recorded_crime

    copy = [list(r) for r in crime_rows]
    for row in copy[1:]:
        if row[2] == "Hammersmith and Fulham":
            row[2] = "HAMMERSMITH & FULHAM"
    path = tmp_path / "release.csv"
    path.write_bytes(_csv(copy))
    areas = set(parse_recorded_crime(path).frame["area"])
    assert "Hammersmith and Fulham" in areas and "HAMMERSMITH & FULHAM" not in areas


def test_a_new_file_marked_as_a_release_that_fails_is_an_error(crime_rows, raw_tree, out_dir, capsys) -> None:
    """An unlisted file whose header has month columns is a release: its bad layout stops the build."""
    bad = [["Category", "SubCategory", "Borough", "202607"], ["ROBBERY", "ROBBERY OF PERSONAL PROPERTY", "Hackney", "40"]]
    _run(raw_tree({"recorded_crime/MPS Borough Level Crime (most recent 24 months).csv": _csv(bad)}), out_dir, capsys,
         "MPS Borough Level Crime (most recent 24 months).csv", "row 1", "unknown header layout")


def test_an_unreadable_new_crime_file_is_an_error(raw_tree, out_dir, capsys) -> None:
    data = "Group,SubGroup,BOCU,202607\n".encode("utf-16")
    _run(raw_tree({"recorded_crime/new release.csv": data}), out_dir, capsys, "new release.csv", "not a UTF-8 CSV")


def test_a_month_after_the_build_date_is_refused(raw_tree, out_dir, capsys) -> None:
    rows = [["Group", "SubGroup", "BOCU", "209901"], ["ROBBERY", "ROBBERY OF PERSONAL PROPERTY", "Hackney", "40"]]
    _run(raw_tree({"recorded_crime/future.csv": _csv(rows)}), out_dir, capsys,
         "future.csv", "row 1", "column '209901'", "January 2099", "after the build date")


# --- ONS rates ------------------------------------------------------------------------------------


def _ons_cases() -> list[tuple[str, Callable[[list[list[str]]], tuple[bytes, tuple[str, ...]]]]]:
    def met_line(rows):
        return _line(rows, "E23000001", "Metropolitan Police", "Police Force Area", "Homicide Offences", "2022-04-01/P3Y")

    def cell(column: str, value: str, *problem: str):
        def make(rows):
            line = met_line(rows)
            return _csv(_with_cell(rows, line, column, value)), (ONS, f"row {line}", f"column '{column}'", *problem)
        return make

    def header(rows):
        copy = [list(r) for r in rows]
        copy[0][0] = "code"
        return _csv(copy), (ONS, "row 1", "unknown header layout 'code, areanm, geography, indicator, ...'", "column 'areacd'")

    def duplicated(rows):
        line = met_line(rows)
        copy = rows[:line] + [rows[line - 1]] + rows[line:]
        return _csv(copy), (ONS, f"row {line + 1}", "column 'period'", "repeats Metropolitan Police (E23000001)")

    def truncated(rows):
        data, line = _cut_short(rows, len(rows) // 2, 6)
        return data, (ONS, f"row {line}", "column 'measure'", "cut short")

    return [
        ("non-numeric rate", cell("observation", "twelve", "'twelve' is not a number")),
        ("negative rate", cell("observation", "-1.5", "rate '-1.5' is negative")),
        ("malformed period", cell("period", "2022-13-01/P3Y", "period '2022-13-01/P3Y' is not a valid 3-year period")),
        ("one-year period", cell("period", "2022-04-01/P1Y", "is not a valid 3-year period")),
        ("rate per 100,000", cell("unit", "Rate per 100,000 population", "is not per million population")),
        ("bad area code", cell("areacd", "Met", "'Met' is not an ONS area code")),
        ("unknown header layout", header),
        ("duplicated row", duplicated),
        ("truncated file", truncated),
    ]


ONS_CASES = _ons_cases()


@pytest.mark.parametrize("corrupt", [c[1] for c in ONS_CASES], ids=[c[0] for c in ONS_CASES])
def test_bad_ons_rates_file_is_one_clear_line(corrupt, ons_rows, raw_tree, out_dir, capsys) -> None:
    data, expected = corrupt(ons_rows)
    _run(raw_tree({ONS_REL: data}), out_dir, capsys, *expected)
