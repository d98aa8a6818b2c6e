"""Saving and showing figures, deterministically, and the findings a notebook writes for its report.

* :func:`save_figure` writes ``figures/<stem>.png`` (and ``.svg`` when asked), and the table
  behind the chart as ``tables/<stem>.csv``, byte-identical from run to run (no timestamps or
  version strings in the files; fixed SVG ids; text drawn as paths).
* :func:`show` displays the same PNG in the notebook, its alt text, title and file in the image
  output's display metadata, where the report's page template reads them: the description
  travels with the image.
* :class:`Findings` collects a notebook's headline, key sentences and figure records
  (:data:`FIGURE_KEYS`) and writes them as ``findings/<notebook>.json`` for the report's index.

Which formats are saved: PNG always; SVG too when ``ANALYSIS_FIGURE_FORMATS`` includes ``svg``
(``python -m analysis report --svg`` sets it for the kernels). SVG costs a second rendering of
every chart, so it is written only when asked.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.present.contract import FIGURE_KEYS
from analysis.present.layout import finalize
from analysis.present.style import DPI, house_style


#: zlib level for PNGs: 1 is several times faster than Pillow's default 6 for ~20% larger files.
PNG_COMPRESS_LEVEL = 1
FORMATS_VARIABLE = "ANALYSIS_FIGURE_FORMATS"

_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_PNG_METADATA_BASE: dict[str, Any] = {"Software": None}
# While saving, a figure laid out by ``layout.finalize`` must not get constrained layout back
# (savefig restores the figure's "no layout engine" through the rcParams default).
_SAVING = {"figure.constrained_layout.use": False, "figure.autolayout": False}
_SVG_METADATA_BASE: dict[str, Any] = {"Date": None, "Creator": None}


def figure_formats() -> tuple[str, ...]:
    """The formats to save: ``("png",)``, or ``("png", "svg")`` when the environment asks for SVG."""
    asked = {f.strip().lower() for f in os.environ.get(FORMATS_VARIABLE, "png").split(",")}
    return ("png", "svg") if "svg" in asked else ("png",)


def png_bytes(fig: Figure, *, title: str | None = None, alt: str | None = None) -> bytes:
    """The figure as PNG bytes (120 dpi, no software or date metadata), rendered once per figure
    and metadata: ``save_figure`` and ``show`` share one rendering."""
    cached = getattr(fig, "house_png", None)
    if cached is not None and cached[0] == (title, alt):
        return cached[1]
    metadata = dict(_PNG_METADATA_BASE)
    if title:
        metadata["Title"] = title
    if alt:
        metadata["Description"] = alt
    buffer = io.BytesIO()
    with house_style(), matplotlib.rc_context(_SAVING):
        finalize(fig)
        fig.savefig(buffer, format="png", dpi=DPI, metadata=metadata, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    data = buffer.getvalue()
    fig.house_png = ((title, alt), data)  # type: ignore[attr-defined]
    return data


def svg_bytes(fig: Figure, *, title: str, alt: str) -> bytes:
    """The figure as SVG bytes (text as paths, fixed ids, no date or creator)."""
    metadata = dict(_SVG_METADATA_BASE, Title=title, Description=alt)
    buffer = io.BytesIO()
    with house_style(), matplotlib.rc_context(_SAVING):
        finalize(fig)
        fig.savefig(buffer, format="svg", dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def save_figure(
    fig: Figure,
    table: pd.DataFrame,
    stem: str,
    output_dir: str | Path | None,
    *,
    title: str,
    alt: str,
) -> dict[str, str | None]:
    """Save the chart (PNG, and SVG when asked) and the table behind it (CSV); return its record.

    Writes ``figures/<stem>.png`` (120 dpi), ``figures/<stem>.svg`` and ``tables/<stem>.csv``
    under ``output_dir``. With ``output_dir=None`` nothing is written and the paths in the record
    are None. Paths in the record are relative to ``output_dir``, as POSIX strings.
    """
    if not isinstance(stem, str) or not _STEM_RE.match(stem):
        raise ValueError(f"stem {stem!r} must be letters, digits, '_' or '-' (no path parts)")
    if not isinstance(table, pd.DataFrame):
        raise TypeError("save_figure() needs the table behind the chart as a pandas DataFrame")
    if not title or not title.strip():
        raise ValueError("save_figure() needs the finding-title")
    if not alt or not alt.strip():
        raise ValueError("save_figure() needs alt text describing the chart")
    record: dict[str, str | None] = dict.fromkeys(FIGURE_KEYS)
    record.update(stem=stem, title=title, alt=alt)
    if output_dir is None:
        return record
    root = Path(output_dir)
    record["png"] = f"figures/{stem}.png"
    _write_bytes(root / record["png"], png_bytes(fig, title=title, alt=alt))
    if "svg" in figure_formats():
        record["svg"] = f"figures/{stem}.svg"
        _write_bytes(root / record["svg"], svg_bytes(fig, title=title, alt=alt))
    record["table"] = f"tables/{stem}.csv"
    _write_bytes(root / record["table"], table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return record


def display_metadata(record: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The image output's display metadata for a figure record: alt text, title, saved file."""
    meta = {"alt": str(record.get("alt") or ""), "title": str(record.get("title") or "")}
    if record.get("png"):
        meta["file"] = str(record["png"])
    return {"image/png": meta}


def show(fig: Figure, *, record: Mapping[str, Any]) -> None:
    """Display the chart as one PNG with its description in the display metadata; close it.

    The PNG is the one ``save_figure`` rendered. No ``<Figure ...>`` repr, no SVG and nothing on
    stderr reach the cell's output.
    """
    import IPython.display as ipd
    import matplotlib.pyplot as plt

    png = png_bytes(fig, title=record.get("title"), alt=record.get("alt"))
    data = {"image/png": base64.b64encode(png).decode("ascii")}
    ipd.display(data, raw=True, metadata=display_metadata(record))
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Findings: what a notebook found, for the report
# --------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} to findings JSON")


@dataclass
class Findings:
    """Collects a notebook's headline, key sentences and figure records, and writes them as JSON.

    ``findings = Findings("01_trends", parameters)``; ``findings.headline = "..."``;
    ``findings.add(save_figure(...))``; ``findings.add_sentence("peak", "...")``;
    ``findings.write(output_dir)``. Re-running a cell replaces, never duplicates, its entries.
    """

    notebook: str
    parameters: dict[str, Any]
    headline: str = ""
    sentences: dict[str, str] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        name = str(self.notebook).removesuffix(".ipynb")
        if not _STEM_RE.match(name):
            raise ValueError(f"notebook name {self.notebook!r} must be a plain file stem")
        self.notebook = name
        self.parameters = dict(self.parameters or {})

    def add(self, record: Mapping[str, Any]) -> None:
        """Add a figure record from ``save_figure`` (a record with the same stem is replaced)."""
        missing = [key for key in FIGURE_KEYS if key not in record]
        if missing:
            raise ValueError(f"figure record lacks {missing}; pass what save_figure() returned")
        entry = {key: record[key] for key in FIGURE_KEYS}
        for index, existing in enumerate(self.figures):
            if existing["stem"] == entry["stem"]:
                self.figures[index] = entry
                return
        self.figures.append(entry)

    def add_sentence(self, key: str, text: str) -> None:
        """Record a key sentence of the narrative under ``key`` (re-adding a key replaces it)."""
        if not key or not isinstance(key, str):
            raise ValueError("sentence key must be a non-empty string")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"sentence {key!r} is empty")
        self.sentences[key] = text.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "parameters": self.parameters,
            "headline": self.headline,
            "sentences": dict(self.sentences),
            "figures": [dict(entry) for entry in self.figures],
        }

    def to_json(self) -> str:
        if not isinstance(self.headline, str) or not self.headline.strip():
            raise ValueError(f"findings for {self.notebook!r} have no headline")
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False, default=_json_default) + "\n"

    def write(self, output_dir: str | Path | None) -> Path | None:
        """Write ``output_dir/findings/<notebook>.json``; with ``output_dir=None`` write nothing.

        The headline is required either way, so a missing one fails under nbval too.
        """
        text = self.to_json()
        if output_dir is None:
            return None
        path = Path(output_dir) / "findings" / f"{self.notebook}.json"
        _write_bytes(path, text.encode("utf-8"))
        return path
