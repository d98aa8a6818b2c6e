"""Progress of a run on stderr: bars on a terminal, plain lines in a log.

On a terminal, two tqdm bars (reports and notebooks); anywhere else (CI, a file, a pipe) one
plain line per finished notebook and report, so a log holds no escape codes.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """Reports ``runs`` parameter sets made of ``notebooks`` notebook runs in all."""

    def __init__(self, runs: int, notebooks: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.runs_total, self.notebooks_total = runs, notebooks
        self.runs_done = self.notebooks_done = 0
        self.bars: list[Any] = []
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        if self.tty:
            from tqdm import tqdm

            self._tqdm = tqdm
            if runs:
                self.bars.append(tqdm(total=runs, desc="reports  ", unit="report", position=0, file=self.stream,
                                      dynamic_ncols=True, leave=True))
            self.bars.append(tqdm(total=notebooks, desc="notebooks", unit="nb", position=len(self.bars),
                                  file=self.stream, dynamic_ncols=True, leave=True))

    def write(self, text: str) -> None:
        """A message line (between the bars on a terminal)."""
        if self.tty:
            self._tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def notebook_done(self, label: str, seconds: float | None = None) -> None:
        self.notebooks_done += 1
        if self.tty:
            self.bars[-1].set_postfix_str(label, refresh=False)
            self.bars[-1].update(1)
        elif self.enabled:
            took = f" in {seconds:.1f} s" if seconds is not None else ""
            self.write(f"notebooks {self.notebooks_done}/{self.notebooks_total}: {label}{took}")

    def run_done(self, label: str = "") -> None:
        self.runs_done += 1
        if self.tty and self.runs_total:
            self.bars[0].update(1)
        elif self.enabled and self.runs_total:
            self.write(f"reports {self.runs_done}/{self.runs_total}: {label}".rstrip(": "))

    def close(self) -> None:
        for bar in reversed(self.bars):
            bar.close()
        self.bars = []
