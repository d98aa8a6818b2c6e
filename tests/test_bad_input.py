"""Bad input: one clear line naming the file, the row/column and the problem; exit code 2; nothing half-written.

Each case builds a throw-away copy of the raw tree (symlinks to the real files, with the one
corrupted file written for real), runs ``python -m analysis data build`` through
``analysis.runner.cli.main`` into an output folder that already holds a series file, and checks the
single stderr line, the exit code, and that the output folder is byte-for-byte as it was.
Windows line endings and a UTF-8 BOM are not errors: they give the same series.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import analysis.data.parse_workforce as parse_workforce
from analysis.data.build import build_series, render_files
from analysis.runner.cli import main
from analysis.core.errors import DataError
from analysis.core.paths import SERIES_DIR

VICTIMS = "mps_homicide_victims_2003-01_to_2024-03.csv"
VICTIMS_REL = f"homicide/{VICTIMS}"
ROW = 812  # the line (header = line 1) each row-level corruption is put on


@pytest.fixture(autouse=True)
def _reuse_unchanged_population(reuse_unchanged_parses: None) -> None:
    """Speed: each unchanged victims, population, recorded-crime and ONS rates file is parsed once (conftest)."""


@pytest.fixture(scope="module")
def victims_text(shared_raw_dir: Path) -> str:
    """The main victims file as text (LF line endings, no BOM)."""
    return (shared_raw_dir / "homicide" / VICTIMS).read_text(encoding="utf-8")


@pytest.fixture
def out_dir(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An output folder that already holds a series set from an earlier build (a sentinel file and its log)."""
    out = tmp_path / "series"
    out.mkdir()
    files = {
        "homicide_annual.csv": b"year,area_code,victims\n1999,SENTINEL,1\n",
        "build_log.json": b'{"rows": {"homicide_annual.csv": 1}}\n',
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out, files


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _set_cell(text: str, column: str, value: str, line: int = ROW) -> bytes:
    rows = _rows(text)
    rows[line - 1][rows[0].index(column)] = value
    return _csv(rows)


def _drop_column(text: str, column: str) -> bytes:
    rows = _rows(text)
    at = rows[0].index(column)
    return _csv([r[:at] + r[at + 1 :] for r in rows])


def _repeat_header(text: str, line: int = ROW) -> bytes:
    rows = _rows(text)
    return _csv(rows[: line - 1] + [rows[0]] + rows[line - 1 :])


def _run_build(raw: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main([*extra, "data", "build", "--raw-dir", str(raw), "--out-dir", str(out)])
    captured = capsys.readouterr()
    return code, captured.err


def _assert_one_clear_line(code: int, err: str, *expected: str) -> str:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    line = lines[0]
    assert line.startswith("error: ")
    for part in expected:
        assert part in line, f"{part!r} not in {line!r}"
    return line


def _assert_untouched(out: Path, files: dict[str, bytes]) -> None:
    assert sorted(p.name for p in out.iterdir()) == sorted(files), "files were added to the output folder"
    for name, data in files.items():
        assert (out / name).read_bytes() == data, f"{name} was modified"


# (id, how to corrupt the victims text, parts the one-line message must contain)
VICTIMS_CASES: list[tuple[str, Callable[[str], bytes], tuple[str, ...]]] = [
    ("missing column", lambda t: _drop_column(t, "Age Group"), (VICTIMS, "missing column", "'Age Group'")),
    ("non-numeric count", lambda t: _set_cell(t, "Count of Victims", "one"), (VICTIMS, f"row {ROW}", "'Count of Victims'", "'one' is not a number")),
    ("unknown age band", lambda t: _set_cell(t, "Age Group", "7 to 9"), (VICTIMS, f"row {ROW}", "'Age Group'", "unknown age band '7 to 9'")),
    ("unparseable month", lambda t: _set_cell(t, "Recorded Month", "Smarch"), (VICTIMS, f"row {ROW}", "'Recorded Month'", "unparseable month 'Smarch'")),
    ("non-numeric year", lambda t: _set_cell(t, "Recorded Year", "20l5"), (VICTIMS, f"row {ROW}", "'Recorded Year'", "'20l5' is not a number")),
    ("unknown borough", lambda t: _set_cell(t, "Borough", "Atlantis"), (VICTIMS, f"row {ROW}", "'Borough'", "unknown borough 'Atlantis'")),
    ("unknown method", lambda t: _set_cell(t, "MethodofKilling", "Poison dart"), (VICTIMS, f"row {ROW}", "'MethodofKilling'", "unknown method 'Poison dart'")),
    ("duplicated header row", _repeat_header, (VICTIMS, f"row {ROW}", "repeats the header row")),
    ("empty file", lambda t: b"", (VICTIMS, "is empty")),
    ("header only", lambda t: t.split("\n", 1)[0].encode() + b"\n", (VICTIMS, "no data rows")),
    ("binary file", lambda t: b"\x00\x01\x02binary\xff\xfe" * 10 + b"\n", (VICTIMS, "NUL bytes", "not a UTF-8 CSV")),
    ("UTF-16 file", lambda t: t.encode("utf-16"), (VICTIMS, "NUL bytes", "not a UTF-8 CSV")),
]


@pytest.mark.parametrize(("corrupt", "expected"), [c[1:] for c in VICTIMS_CASES], ids=[c[0] for c in VICTIMS_CASES])
def test_bad_victims_file_is_one_clear_line(
    corrupt: Callable[[str], bytes],
    expected: tuple[str, ...],
    victims_text: str,
    raw_tree: Callable[..., Path],
    out_dir: tuple[Path, dict[str, bytes]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = raw_tree({VICTIMS_REL: corrupt(victims_text)})
    out, files = out_dir
    code, err = _run_build(raw, out, capsys)
    _assert_one_clear_line(code, err, *expected)
    _assert_untouched(out, files)


def test_spreadsheet_given_as_csv(
    shared_raw_dir: Path, raw_tree: Callable[..., Path], out_dir: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The .xlsx bytes under the victims .csv name: named as a spreadsheet, not silently skipped."""
    xlsx = (shared_raw_dir / "population" / "mye22final.xlsx").read_bytes()
    raw = raw_tree({VICTIMS_REL: xlsx})
    out, files = out_dir
    code, err = _run_build(raw, out, capsys)
    _assert_one_clear_line(code, err, VICTIMS, "spreadsheet", "not a CSV")
    _assert_untouched(out, files)


def test_missing_source_file_points_to_fetch(
    raw_tree: Callable[..., Path], out_dir: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    raw = raw_tree()
    (raw / "population" / "mye24tablesew.csv").unlink()
    out, files = out_dir
    code, err = _run_build(raw, out, capsys)
    _assert_one_clear_line(code, err, "mye24tablesew.csv", "not found", "data fetch")
    _assert_untouched(out, files)


def test_non_numeric_population(
    shared_raw_dir: Path, raw_tree: Callable[..., Path], out_dir: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A count that is not a number in an ONS table (London's 'All ages' in mid-2024)."""
    text = (shared_raw_dir / "population" / "mye24tablesew.csv").read_text(encoding="utf-8-sig")
    rows = _rows(text)
    line = next(i for i, r in enumerate(rows, start=1) if r and r[0] == "E12000007")
    raw = raw_tree({"population/mye24tablesew.csv": _set_cell(text, "All ages", "nine million", line)})
    out, files = out_dir
    code, err = _run_build(raw, out, capsys)
    _assert_one_clear_line(code, err, "mye24tablesew.csv", f"row {line}", "'All ages'", "'nine million' is not a number")
    _assert_untouched(out, files)


def test_debug_shows_a_traceback(
    victims_text: str, raw_tree: Callable[..., Path], out_dir: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    raw = raw_tree({VICTIMS_REL: _set_cell(victims_text, "Age Group", "7 to 9")})
    out, files = out_dir
    code, err = _run_build(raw, out, capsys, "--debug")
    assert code == 2
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("error: ")
    _assert_untouched(out, files)


# --- the workforce table: an .ods cannot easily be corrupted here, so feed parse_workforce_table rows ---

HEADER = ["As at 31 March...", "Geo code", "Force Name", "Region", "Sex", "Rank description", "Worker type", "Total (headcount)", "Total (FTE)"]


def _sheet(*worker_types: str) -> list[list[object]]:
    rows: list[list[object]] = [HEADER]
    for i, worker in enumerate(worker_types):
        fte: object = "N/A" if "special" in worker.lower() else 10.0 + i
        rows.append([2023.0, "E23000001", "Metropolitan Police", "London", "Male", "Constable", worker, 11.0 + i, fte])
    rows.append([2023.0, "E23000002", "Other Force", "Elsewhere", "Male", "Constable", "Unheard-of worker", 1.0, 1.0])
    return rows


def test_worker_type_labels_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_workforce, "read_sheet", lambda path, sheet=None, **kw: _sheet("Police Staff", "Police staff", "Special Constable", "Police Officer"))
    table = parse_workforce.parse_workforce_table(Path("open-data-table-police-workforce-test.ods"))
    staff = table[(table["worker_type"] == "Police staff") & (table["measure"] == "headcount")]
    assert staff["value"].tolist() == [11.0 + 12.0]  # both spellings summed into one worker type
    specials = table[table["worker_type"] == "Special constable"]
    assert specials["measure"].tolist() == ["headcount"]  # no FTE for special constables ('N/A')
    assert set(table["worker_type"]) == {"Police staff", "Special constable", "Police officer"}


def test_unknown_worker_type_names_row_and_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_workforce, "read_sheet", lambda path, sheet=None, **kw: _sheet("Police Officer", "Police Cadet"))
    with pytest.raises(DataError) as caught:
        parse_workforce.parse_workforce_table(Path("open-data-table-police-workforce-test.ods"))
    message = str(caught.value)
    assert message == "open-data-table-police-workforce-test.ods, row 3, column 'Worker type': unknown worker type 'Police Cadet'"


def test_unknown_worker_type_through_the_cli(
    monkeypatch: pytest.MonkeyPatch, raw_tree: Callable[..., Path], out_dir: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(parse_workforce, "read_sheet", lambda path, sheet=None, **kw: _sheet("Police Officer", "Police Cadet"))
    raw = raw_tree()
    out, files = out_dir
    code, err = _run_build(raw, out, capsys)
    _assert_one_clear_line(code, err, "open-data-table-police-workforce-260723.ods", "row 3", "'Worker type'", "'Police Cadet'")
    _assert_untouched(out, files)


# --- not errors: Windows line endings and a UTF-8 BOM give the same series ---


@pytest.mark.slow
def test_windows_line_endings_and_bom_give_the_same_series(victims_text: str, raw_tree: Callable[..., Path]) -> None:
    data = b"\xef\xbb\xbf" + victims_text.replace("\n", "\r\n").encode("utf-8")
    assert data.count(b"\r\n") >= 2936
    files = render_files(build_series(raw_tree({VICTIMS_REL: data})))
    for name, built in files.items():
        committed = (SERIES_DIR / name).read_bytes()
        if name == "build_log.json":
            # Same facts; only the recorded checksum of the re-encoded input differs.
            built_log, committed_log = json.loads(built), json.loads(committed)
            built_log["inputs"].pop(VICTIMS_REL)
            committed_log["inputs"].pop(VICTIMS_REL)
            assert built_log == committed_log
        else:
            assert built == committed, f"{name} differs when the victims file has CRLF line endings and a BOM"


@pytest.mark.parametrize("text, why", [
    ("sources: [a, b\n  c: :\n", "not YAML"),
    ("sources: !!python/object/apply:os.getcwd []\n", "a tag that would run code"),
])
def test_a_manifest_that_is_not_plain_yaml_is_refused_naming_the_file(tmp_path: Path, text: str, why: str) -> None:
    """The manifest (and the claims file, through the same reader) is read with a safe loader:
    broken YAML, or a tag asking to construct a Python object, is a DataError naming the file."""
    from analysis.data.manifest import load_manifest

    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_manifest(path)
    assert "sources.yml" in str(caught.value) and "cannot be read as YAML" in str(caught.value), why
