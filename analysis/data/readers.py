"""Reading official files into raw frames, with one clear error for each way a file can be bad.

CSV files may carry a UTF-8 BOM or Windows line endings (both simply work); a spreadsheet saved
under a ``.csv`` name, an empty file, a repeated header row or a missing column is a
:class:`~analysis.core.errors.DataError` naming the file and the place.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from analysis.core.errors import DataError

# Leading bytes of the spreadsheet formats that turn up where a CSV is expected.
_SPREADSHEET_MAGIC: dict[bytes, str] = {
    b"PK\x03\x04": "a zipped spreadsheet (.xlsx or .ods)",
    b"\xd0\xcf\x11\xe0": "a legacy Excel workbook (.xls)",
}


def _sniff_spreadsheet(head: bytes) -> str | None:
    for magic, kind in _SPREADSHEET_MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def read_csv_text(path: Path) -> str:
    """Return the decoded text of a CSV file (plain or ``.gz``), BOM stripped and line endings unified.

    Raises DataError for an empty file, a spreadsheet given as CSV, or bytes that are not UTF-8.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(path, "is not a valid gzip file") from exc
    if not raw.strip():
        raise DataError(path, "is empty")
    kind = _sniff_spreadsheet(raw[:8])
    if kind is not None:
        raise DataError(path, f"is {kind}, not a CSV text file")
    if b"\x00" in raw[:65536]:
        raise DataError(path, "contains NUL bytes: binary or UTF-16, not a UTF-8 CSV text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise DataError(path, f"is not UTF-8 text (byte {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_row_lengths(path: Path, text: str) -> None:
    """DataError naming the first row whose number of fields differs from the header's (blank lines skipped)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, [])
        rows = [(reader.line_num, fields) for fields in reader]
    except csv.Error as exc:
        raise DataError(path, f"is not a well-formed CSV ({exc})", row=reader.line_num) from None
    for line, fields in rows:
        if not fields or len(fields) == len(header):
            continue
        if len(fields) < len(header):
            raise DataError(
                path,
                f"has {len(fields)} fields where the header has {len(header)}: the row is cut short (truncated file?)",
                row=line,
                column=header[len(fields)].strip(),
            )
        raise DataError(path, f"has {len(fields)} fields where the header has {len(header)}", row=line)


def read_csv(path: Path, *, whole_rows: bool = False, numbers: bool = False) -> pd.DataFrame:
    """Read a CSV into a frame of strings (no type guessing), header names stripped of spaces.

    Returns a DataFrame whose index is the 1-based line number in the file (header = line 1),
    so errors can name the row a person would find in a text editor.
    Raises DataError for an empty file, a header only, or a row that repeats the header; with
    ``whole_rows``, also for a row with fewer or more fields than the header (a truncated file:
    pandas would otherwise read the missing fields as empty text). With ``numbers``, a column
    whose every cell is a plain number is read as numbers (fast for wide tables of counts); every
    other column stays text, and no text is ever read as missing.
    """
    text = read_csv_text(path)
    if whole_rows:
        _check_row_lengths(path, text)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=None if numbers else str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.ParserError as exc:
        raise DataError(path, f"is not a well-formed CSV ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(path, "is empty") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    if frame.empty:
        raise DataError(path, "has a header but no data rows")
    header = list(frame.columns)
    candidates = frame[strip_distinct(frame.iloc[:, 0].astype(str)) == header[0]]
    repeats = candidates.apply(lambda row: [str(v).strip() for v in row] == header, axis=1)
    if len(candidates) and repeats.any():
        raise DataError(path, "repeats the header row (files concatenated?)", row=int(repeats.idxmax()))
    return frame


def strip_distinct(values: pd.Series) -> pd.Series:
    """``values.str.strip()``, stripping each distinct value once (fast on long columns with few values)."""
    return values.map({v: v.strip() for v in values.unique()})


def require_columns(frame: pd.DataFrame, path: Path, alternatives: dict[str, Iterable[str]]) -> dict[str, str]:
    """Map canonical names to the column each file actually uses.

    ``alternatives`` maps a canonical name to the header spellings seen in the wild. Returns
    ``{canonical: actual}``; raises DataError naming the first canonical column with no match.
    """
    found: dict[str, str] = {}
    present = {c.strip().lower(): c for c in frame.columns}
    for canonical, names in alternatives.items():
        match = next((present[n.lower()] for n in names if n.lower() in present), None)
        if match is None:
            spelled = " or ".join(f"'{n}'" for n in names)
            raise DataError(path, f"missing column {spelled}", column=canonical)
        found[canonical] = match
    return found


def read_sheet(path: Path, sheet: str | None = None, *, contains: str | None = None) -> list[list[object]]:
    """Return the rows of one sheet of a spreadsheet (.ods, .xlsx, .xls) as Python lists.

    Pick the sheet by exact name, or by the first sheet whose name contains ``contains``
    (dashes normalised). Raises DataError for an unreadable workbook or a missing sheet.
    """
    path = Path(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise DataError(path, f"is not a readable spreadsheet ({exc})") from exc
    names = book.sheet_names
    chosen = None
    if sheet is not None and sheet in names:
        chosen = sheet
    elif contains is not None:
        def norm(s: str) -> str:
            return s.replace("–", "-").replace(" ", "").lower()

        chosen = next((n for n in names if norm(contains) in norm(n)), None)
    if chosen is None:
        wanted = sheet if sheet is not None else f"*{contains}*"
        raise DataError(path, f"has no sheet '{wanted}' (sheets: {', '.join(names)})")
    return book.get_sheet_by_name(chosen).to_python()


def to_number(value: object, path: Path, *, row: int, column: str, allow_missing: bool = False) -> float | None:
    """Parse a count or measure written as text or number ("1,234", 1234.0, "-" for missing).

    Returns a float, or None for a missing marker when ``allow_missing``; otherwise DataError.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if pd.isna(value):
            if allow_missing:
                return None
            raise DataError(path, "missing value where a number is required", row=row, column=column)
        return float(value)
    text = str(value).strip().replace(",", "")
    if text in {"", "-", "..", ":", "N/A", "NA", "x", "z"}:
        if allow_missing:
            return None
        raise DataError(path, f"missing value '{value}' where a number is required", row=row, column=column)
    try:
        return float(text)
    except ValueError:
        raise DataError(path, f"'{value}' is not a number", row=row, column=column) from None


def numeric_column(frame: pd.DataFrame, column: str, path: Path, *, allow_missing: bool = False) -> pd.Series:
    """Convert one text column to floats, with a DataError naming the first bad row."""
    cleaned = frame[column].astype(str).str.strip().str.replace(",", "", regex=False)
    missing = cleaned.isin(["", "-", "..", ":", "N/A", "NA"])
    numbers = pd.to_numeric(cleaned.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    if bad.any():
        row = int(bad.idxmax())
        raise DataError(path, f"'{frame.at[row, column]}' is not a number", row=row, column=column)
    if missing.any() and not allow_missing:
        row = int(missing.idxmax())
        raise DataError(path, "missing value where a number is required", row=row, column=column)
    return numbers


def numeric_block(frame: pd.DataFrame, columns: Iterable[str], path: Path, *, allow_missing: bool = False) -> pd.DataFrame:
    """Convert many text columns to floats at once, with the errors of :func:`numeric_column`.

    Returns a frame of floats with the same index and the given columns. Columns already read as
    numbers (``read_csv(..., numbers=True)``) are taken as they are; plain numbers in text take a
    fast path (one conversion per column); a column where that fails goes through
    ``numeric_column``, which strips spaces and thousands separators, reads missing markers as
    NaN where ``allow_missing``, and names the first bad row.
    """
    columns = list(columns)
    block = frame[columns]
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in block.dtypes):
        return block.astype(float)
    converted = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            converted[column] = values.astype(float)
            continue
        quick = pd.to_numeric(values.astype(str), errors="coerce")
        slow = quick.isna().any()
        converted[column] = numeric_column(frame, column, path, allow_missing=allow_missing) if slow else quick.astype(float)
    return pd.DataFrame(converted, index=frame.index)


def find_releases(folder: Path, required: Iterable[Path], recognise: Callable[[Path], bool], parse: Callable[[Path], object],
                  *, what: str, header: str) -> tuple[list, dict[str, str]]:
    """Parse every release of one source in ``folder``; say why every other file was left out.

    A CSV (or gzip) whose header ``recognise`` accepts is a release, so a new one needs no code
    change; files in ``required`` (those the manifest lists) are always parsed, so a listed file
    that has lost its header is an error rather than silently left out. ``what`` names the source
    and ``header`` what marks its header, for the messages. Returns the parsed releases sorted by
    ``(last, first, path.name)`` and ``{file name: why it was ignored}``.
    """
    required_paths = {Path(p) for p in required}
    found: set[Path] = set()
    ignored: dict[str, str] = {}
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        if path in required_paths:
            continue
        if path.suffix.lower() not in {".csv", ".gz"}:
            ignored[path.name] = "not a CSV file"
        elif recognise(path):
            found.add(path)
        else:
            ignored[path.name] = f"its header is not that of a {what} release (no {header})"
    paths = sorted(found | required_paths)
    if not paths:
        raise DataError(folder, f"holds no {what} release (a CSV whose header has {header})")
    releases = [parse(p) for p in paths]
    return sorted(releases, key=lambda r: (r.last, r.first, r.path.name)), ignored  # type: ignore[attr-defined]
