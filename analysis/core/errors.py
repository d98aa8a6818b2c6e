"""One error type for bad input, carrying the file, the place in it and what is wrong."""

from __future__ import annotations

from pathlib import Path


class DataError(Exception):
    """Raised when an input file cannot be turned into a valid series.

    The message is a single line naming the file, the row and/or column, and the problem,
    e.g. ``homicide.csv, row 812, column 'Age Group': unknown age band '7 to 9'``.
    Row numbers are 1-based line numbers in the file, counting the header as line 1.
    """

    def __init__(
        self,
        path: str | Path | None,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.row = row
        self.column = column
        self.problem = message
        where = [self.path.name if self.path is not None else "<input>"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")


class ParameterError(ValueError):
    """Raised when notebook or report parameters are not valid for the data (unknown area, year out of range)."""


class ReportError(RuntimeError):
    """A notebook failed or broke the report contract (exit code 1)."""


class OutputError(Exception):
    """Raised when an output folder may not be written or replaced (exit code 2): it is the home
    folder, the repository or a folder holding files the tool did not write."""


def shorten(text: object, limit: int = 80) -> str:
    """``text`` for an error message: cut to ``limit`` characters with a note of its full length.

    User input (an area name, a path) is echoed in messages; a 100,000-character value must not be.
    """
    value = str(text)
    if len(value) <= limit:
        return value
    return f"{value[: limit - 1]}… ({len(value):,} characters)"
