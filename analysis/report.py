"""Run the notebooks: ``python -m analysis report`` (the report) and ``python -m analysis notebooks``.

``report`` executes every ``notebooks/[0-9][0-9]_*.ipynb`` for one or more parameter sets and
writes, per set, a folder (default ``reports/<area>/<year>/`` under the current directory)::

    index.html                   headline findings + chart thumbnails, links to everything below
    01_homicide_decline.ipynb    the executed notebook (``output_dir = "."``: re-run it in place)
    01_homicide_decline.html     narrative page (code hidden)
    01_homicide_decline.code.html   the same page with the code
    figures/*.png|svg  tables/*.csv  findings/*.json  claims.csv   written by the notebooks
    assets/notebook.css          the JupyterLab stylesheet, shared by the pages
    run.json                     parameters, source checksums, package versions (no timestamps)

How it runs (see benchmarks/README.md for the measurements behind each choice):

* Parameters are checked before anything runs: names and types against each notebook's
  ``parameters`` cell (parsed with ``ast``: papermill's own inspector does not understand
  ``int | None`` annotations and papermill only *warns* on unknown names and guesses the type of
  ``-p`` values), then against the data with ``analysis.params.validate_parameters``. Bad
  parameters raise :class:`~analysis.errors.ParameterError` (exit code 2).
* Every notebook runs in its own fresh kernel process, forked from a "zygote" that has already
  imported ipykernel and whatever the notebooks import (``analysis.runner_kernel``); kernels are
  driven in-process by nbclient from ``--jobs`` worker processes, which also render the HTML with
  one nbconvert exporter per process (templates compiled once, before the workers fork).
* The parameters are injected as papermill does (a cell tagged ``injected-parameters`` after the
  ``parameters`` cell). The kernel's working directory is the report folder and
  ``output_dir = "."``, so the executed notebook names no temporary path.
* Atomic: a run writes into a hidden sibling folder and swaps it in with one ``rename`` (Linux
  ``renameat2(RENAME_EXCHANGE)`` when a previous report exists) only once every notebook has
  succeeded, so a failed or interrupted run leaves the previous report exactly as it was.
  Leftovers of a killed run are removed by the next run.
* Failures name the notebook, the cell (index and first line) and the parameter set; the
  executed notebook up to the failure is kept in ``.<year>.failed/`` next to the report.

``notebooks`` re-executes the committed notebooks in place with their default parameters (no
injected cell, kernel started in ``notebooks/`` as nbval does) and normalises them so that two
runs give byte-identical files: sequential execution counts, no timing metadata, fixed kernel
metadata, deterministic cell ids.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import concurrent.futures
import contextlib
import csv
import hashlib
import json
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import folders, paths
from analysis.errors import OutputError, ParameterError, shorten

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
TEMPLATES_DIR = Path(__file__).resolve().with_name("templates")
NOTEBOOK_TEMPLATE = "report_notebook.html.j2"
INDEX_TEMPLATE = "report_index.html.j2"

#: The parameter the runner sets itself (the kernel runs in the report folder).
OUTPUT_DIR_PARAMETER = "output_dir"
OUTPUT_DIR_VALUE = "."

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
#: Written into every executed notebook instead of what the kernel reports, so a notebook does
#: not change when it is re-run on another patch release of Python.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
#: Cell metadata keys that only record when/how long something ran.
VOLATILE_CELL_METADATA = ("execution", "papermill", "ExecuteTime", "collapsed", "scrolled")

DEFAULT_TIMEOUT = 1800  # seconds per cell


class ReportError(RuntimeError):
    """A notebook failed or broke the report contract (exit code 1)."""


# =============================================================================================
# Notebooks and their declared parameters
# =============================================================================================


def find_notebooks(folder: Path | str | None = None) -> list[Path]:
    """The report's notebooks, in order: ``[0-9][0-9]_*.ipynb`` in ``folder`` (default notebooks/)."""
    folder = Path(folder) if folder is not None else paths.NOTEBOOKS_DIR
    found = sorted(p for p in folder.glob(NOTEBOOK_PATTERN) if p.is_file())
    return found


def _read_json_notebook(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list((cell.get("metadata") or {}).get("tags") or [])


def parameters_cell_index(nb: Mapping[str, Any], name: str = "notebook") -> int:
    """Index of the one code cell tagged ``parameters`` (the contract requires exactly one)."""
    found = [
        i for i, c in enumerate(nb["cells"]) if c.get("cell_type") == "code" and "parameters" in _tags(c)
    ]
    if len(found) != 1:
        raise ReportError(
            f"{name}: expected exactly one code cell tagged 'parameters', found {len(found)}"
        )
    return found[0]


@dataclass(frozen=True)
class Declared:
    """A parameter as declared in a notebook's parameters cell."""

    name: str
    annotation: str | None
    default: Any
    #: Allowed Python types (``type(None)`` for None), or None when the declaration cannot be
    #: checked (no annotation and a default of None, or an annotation we do not understand).
    types: tuple[type, ...] | None

    def accepts(self, value: Any) -> bool:
        if self.types is None:
            return True
        for t in self.types:
            if t is type(None) and value is None:
                return True
            if t is bool and isinstance(value, bool):
                return True
            if t is int and isinstance(value, int) and not isinstance(value, bool):
                return True
            if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                return True
            if t is str and isinstance(value, str):
                return True
        return False

    @property
    def type_text(self) -> str:
        if self.annotation:
            return self.annotation
        if self.types:
            return " | ".join("None" if t is type(None) else t.__name__ for t in self.types)
        return "any"


_SIMPLE_TYPES: dict[str, type] = {"int": int, "str": str, "float": float, "bool": bool}


def _annotation_types(node: ast.expr) -> tuple[type, ...] | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return (type(None),)
    if isinstance(node, ast.Name):
        if node.id in _SIMPLE_TYPES:
            return (_SIMPLE_TYPES[node.id],)
        if node.id == "None":
            return (type(None),)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_types(node.left), _annotation_types(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Subscript):
        head = node.value
        head_name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", None)
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        parts = [_annotation_types(item) for item in items]
        if any(p is None for p in parts):
            return None
        flat = tuple(t for p in parts for t in p)  # type: ignore[union-attr]
        if head_name == "Optional":
            return flat + (type(None),)
        if head_name == "Union":
            return flat
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "int | None"
        try:
            return _annotation_types(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    return None


def declared_parameters(nb: Mapping[str, Any], name: str = "notebook") -> dict[str, Declared]:
    """Parse the parameters cell with ``ast``: name -> :class:`Declared`, in declaration order."""
    cell = nb["cells"][parameters_cell_index(nb, name)]
    source = "\n".join(
        line for line in _source(cell).splitlines() if not line.lstrip().startswith(("%", "!"))
    )
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(f"{name}: cannot parse the parameters cell: {exc}") from exc
    declared: dict[str, Declared] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            default = _literal(node.value)
            types = _annotation_types(node.annotation)
            declared[node.target.id] = Declared(
                node.target.id, ast.unparse(node.annotation), default, types
            )
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    default = _literal(node.value)
                    inferred = type(default)
                    types = (inferred,) if inferred in _SIMPLE_TYPES.values() else None
                    declared[target.id] = Declared(target.id, None, default, types)
    return declared


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None


def coerce_parameter_text(declared: Declared, text: str) -> Any:
    """Turn a command-line string into a value of the parameter's *declared* type (no guessing)."""
    types = declared.types
    if types is None:
        types = (type(None), int, float, str) if declared.default is None else (str,)
    candidates: list[Any] = []
    lowered = text.strip().lower()
    for t in types:
        if t is type(None) and lowered in ("none", "null"):
            candidates.append(None)
        elif t is bool and lowered in ("true", "false", "yes", "no", "1", "0"):
            candidates.append(lowered in ("true", "yes", "1"))
        elif t is int and re.fullmatch(r"[+-]?\d+", text.strip()):
            candidates.append(int(text))
        elif t is float:
            with contextlib.suppress(ValueError):
                candidates.append(float(text))
        elif t is str:
            candidates.append(text)
    if not candidates:
        raise ParameterError(
            f"parameter {declared.name!r} is declared as {declared.type_text}; "
            f"cannot use {text!r}"
        )
    return candidates[0]


def check_parameters(
    notebooks: Mapping[str, Mapping[str, Declared]], values: Mapping[str, Any], label: str
) -> None:
    """Reject names a notebook does not declare and values of the wrong type (ParameterError)."""
    for nb_name, declared in notebooks.items():
        unknown = sorted(set(values) - set(declared))
        if unknown:
            known = ", ".join(sorted(set(declared) - {OUTPUT_DIR_PARAMETER}))
            raise ParameterError(
                f"{nb_name} has no parameter {', '.join(map(repr, unknown))} "
                f"(its parameters cell declares: {known}) [{label}]"
            )
        for key, value in values.items():
            decl = declared[key]
            if not decl.accepts(value):
                raise ParameterError(
                    f"{nb_name}: parameter {key!r} is declared as {decl.type_text}, "
                    f"got {type(value).__name__} {value!r} [{label}]"
                )


def imported_modules(notebooks: Iterable[Mapping[str, Any]]) -> set[str]:
    """Module names imported by the notebooks' code cells (what the kernel zygote preloads)."""
    names: set[str] = set()
    for nb in notebooks:
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            source = "\n".join(
                line
                for line in _source(cell).splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
                    names.update(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    # charts.show() and friends import pyplot lazily; a kernel with matplotlib nearly always needs it.
    if any(n == "matplotlib" or n.startswith(("matplotlib.", "analysis")) for n in names):
        names.add("matplotlib.pyplot")
    return names


def notebook_title(nb: Mapping[str, Any], fallback: str) -> str:
    """The first Markdown heading of the notebook, else ``fallback``."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            match = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback


# =============================================================================================
# Parameter sets
# =============================================================================================


@dataclass(frozen=True)
class ParamSet:
    """One report: the values injected into every notebook, and its folder below the reports root."""

    values: tuple[tuple[str, Any], ...]
    folder: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.values)

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)


def _safe_folder_part(text: str) -> str:
    cleaned = re.sub(r"[/\\\x00-\x1f]", "-", str(text)).strip().strip(".")
    return cleaned or "_"


def folder_for(values: Mapping[str, Any], explicit_base_year: bool) -> str:
    """``<area>/<year>`` (``<year>-from-<base_year>`` when a base year was asked for)."""
    area = _safe_folder_part(values.get("area") or "London")
    year = values.get("year")
    year_part = "latest" if year is None else str(year)
    if explicit_base_year and values.get("base_year") is not None:
        year_part += f"-from-{values['base_year']}"
    return f"{area}/{year_part}"


def _params_module() -> Any:
    """``analysis.params`` (written separately); imported only when data checks are wanted."""
    import importlib

    try:
        return importlib.import_module("analysis.params")
    except ModuleNotFoundError as exc:
        if exc.name == "analysis.params":
            raise ReportError(
                "analysis.params is not available, so parameters cannot be checked against the "
                "data (use --no-data-check for notebooks that do not need it)"
            ) from exc
        raise


def resolve_param_sets(
    years: Sequence[str] | None,
    areas: Sequence[str] | None,
    base_year: int | None = None,
    extra: Mapping[str, Any] | None = None,
    *,
    data_check: bool = True,
    skipped: list[str] | None = None,
) -> list[ParamSet]:
    """Expand ``--year``/``--area`` into parameter sets, validated against the data when asked.

    ``years`` holds strings: years, or ``"all"`` for every year ``available_years(area)`` gives
    (years that then fail validation are left out and described in ``skipped``; an explicitly
    requested year that fails raises ParameterError).
    """
    areas = list(areas or ["London"])
    params_mod = _params_module() if data_check else None
    sets: list[ParamSet] = []
    seen: dict[str, ParamSet] = {}
    for area in areas:
        every_year = False
        if not years:
            year_list: list[int | None] = [None]
        elif any(str(y).lower() == "all" for y in years):
            every_year = True
            if len(years) > 1:
                raise ParameterError("--year all cannot be combined with explicit years")
            if params_mod is None:
                raise ParameterError("--year all needs the data check (it asks analysis.params)")
            year_list = list(params_mod.available_years(area))
            if not year_list:
                raise ParameterError(f"no years available for area {area!r}")
        else:
            year_list = []
            for y in years:
                try:
                    year_list.append(int(str(y)))
                except ValueError:
                    raise ParameterError(f"--year expects years or 'all', got {y!r}") from None
        for year in year_list:
            values: dict[str, Any] = {"year": year, "area": area, "base_year": base_year}
            if params_mod is not None:
                try:
                    resolved = params_mod.validate_parameters(year, area, base_year)
                except ParameterError as exc:
                    if not every_year:
                        raise
                    # available_years() lists every year with data; a year may still be unusable
                    # as a focus year (e.g. the first one has no earlier year to compare with).
                    if skipped is not None:
                        skipped.append(f"{area} {year}: {exc}")
                    continue
                for key in ("year", "area", "base_year"):
                    if hasattr(resolved, key):
                        values[key] = getattr(resolved, key)
                    elif isinstance(resolved, Mapping) and key in resolved:
                        values[key] = resolved[key]
            values.update(extra or {})
            ps = ParamSet(tuple(values.items()), folder_for(values, base_year is not None))
            if ps.folder in seen:
                if seen[ps.folder] != ps:
                    raise ParameterError(f"two parameter sets would share {ps.folder}/")
                continue
            seen[ps.folder] = ps
            sets.append(ps)
    if not sets:
        raise ParameterError("no valid parameter set: " + "; ".join(skipped or []))
    return sets


def output_folder(out: str | None, ps: ParamSet, several: bool) -> Path:
    """Where a parameter set's report goes (relative paths are relative to the current directory).

    Default ``reports/<area>/<year>``. ``--out DIR``: exactly DIR for a single parameter set, or
    ``DIR/<area>/<year>`` for several; ``{area}``, ``{year}`` and ``{base_year}`` placeholders
    in DIR are filled in. A bad placeholder or an empty DIR is a ParameterError.
    """
    if out is None:
        return Path("reports") / ps.folder
    if not out.strip():
        raise ParameterError("--out is empty; name a folder for the report, e.g. --out reports/London/2025")
    if "{" in out or "}" in out:
        values = ps.as_dict()
        try:
            filled = out.format(area=_safe_folder_part(values.get("area")), year=values.get("year"),
                                base_year=values.get("base_year"))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ParameterError(
                f"--out {shorten(out)!r}: {exc.__class__.__name__} {shorten(exc)}; the only placeholders are "
                "{area}, {year} and {base_year} (write {{ and }} for literal braces)"
            ) from None
        return Path(filled)
    return Path(out) / ps.folder if several else Path(out)


# =============================================================================================
# Notebook normalisation (deterministic files)
# =============================================================================================


def inject_parameters(nb: Any, values: Mapping[str, Any], name: str = "notebook") -> Any:
    """Insert papermill's ``injected-parameters`` cell after the ``parameters`` cell (in place)."""
    import nbformat

    for i in reversed(range(len(nb.cells))):
        if "injected-parameters" in _tags(nb.cells[i]):
            del nb.cells[i]
    index = parameters_cell_index(nb, name)
    lines = ["# Parameters"] + [f"{key} = {_python_literal(value)}" for key, value in values.items()]
    cell = nbformat.v4.new_code_cell(source="\n".join(lines) + "\n")
    cell.metadata["tags"] = ["injected-parameters"]
    cell["id"] = "injected-parameters"
    nb.cells.insert(index + 1, cell)
    nb.metadata["papermill"] = {"parameters": dict(values)}
    return nb


def _python_literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    literal = repr(value)
    ast.literal_eval(literal)  # only plain literals can be injected
    return literal


def strip_injected(nb: Any) -> Any:
    nb.cells = [c for c in nb.cells if "injected-parameters" not in _tags(c)]
    nb.metadata.pop("papermill", None)
    return nb


def clear_outputs(nb: Any) -> Any:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def normalize_notebook(nb: Any) -> Any:
    """Make an executed notebook deterministic (in place): see the module docstring."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    for key in ("widgets", "toc-autonumbering"):
        nb.metadata.pop(key, None)
    used: set[str] = set()
    count = 0
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        cell_id = cell.get("id")
        if not cell_id or cell_id in used:
            cell_id = f"cell-{index:02d}"
            while cell_id in used:
                cell_id += "x"
            cell["id"] = cell_id
        used.add(cell_id)
        if cell.cell_type != "code":
            continue
        if cell.execution_count is None and not cell.outputs:
            continue  # never ran (empty cell)
        count += 1
        cell.execution_count = count
        cell.outputs = coalesce_streams(cell.outputs)
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
    nb.nbformat, nb.nbformat_minor = 4, max(int(nb.get("nbformat_minor", 5)), 5)
    return nb


def coalesce_streams(outputs: Sequence[Any]) -> list[Any]:
    """Merge adjacent stream outputs of the same stream (stdout/stderr) into one.

    The kernel batches what a cell prints and flushes it every 0.2 s, so under load one ``print``
    can arrive as two messages (the text, then its newline): the same output, split differently
    from run to run. Merging makes the saved notebook deterministic (nbval merges streams before
    comparing for the same reason).
    """
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and output.get("name") == previous.get("name")
        ):
            previous["text"] = _joined(previous.get("text", "")) + _joined(output.get("text", ""))
            continue
        merged.append(output)
    return merged


def _joined(text: Any) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def notebook_text(nb: Any) -> str:
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# =============================================================================================
# Alt text
# =============================================================================================


def _cell_text(cell: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        for mime in ("text/plain", "text/markdown", "text/html"):
            data = (out.get("data") or {}).get(mime)
            if data:
                parts.append("".join(data) if isinstance(data, list) else data)
    return "\n".join(parts)


def apply_alt_text(nb: Any, figures: Sequence[Mapping[str, Any]]) -> list[str]:
    """Put each figure's finding (alt and title from the findings JSON) on its PNG output.

    Matching: a PNG output belongs to the figure whose finding-title is printed in the same cell
    (``charts.show`` prints the title above the chart); outputs and figures left over are paired
    in order. The alt text goes into the output's metadata (``metadata["image/png"]["alt"]``),
    where the report template reads it; an alt the notebook set itself is kept. Returns warnings
    for charts that got no finding.
    """
    images: list[tuple[int, Any]] = []
    for ci, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result") and "image/png" in (
                out.get("data") or {}
            ):
                images.append((ci, out))
    assigned: dict[int, Mapping[str, Any]] = {}
    remaining = list(range(len(figures)))
    for fi in list(remaining):
        title = str(figures[fi].get("title") or "").strip()
        if not title:
            continue
        for ii, (ci, _out) in enumerate(images):
            if ii in assigned:
                continue
            if title in _cell_text(nb.cells[ci]):
                assigned[ii] = figures[fi]
                remaining.remove(fi)
                break
    free = [ii for ii in range(len(images)) if ii not in assigned]
    for ii, fi in zip(free, list(remaining)):
        assigned[ii] = figures[fi]
    warnings: list[str] = []
    for ii, (ci, out) in enumerate(images):
        meta = out.setdefault("metadata", {})
        if not isinstance(meta.get("image/png"), dict):
            meta["image/png"] = {}
        png_meta = meta["image/png"]  # re-read: NotebookNode stores a converted copy
        figure = assigned.get(ii)
        if figure is None:
            if not png_meta.get("alt"):
                warnings.append(f"chart in cell {ci} has no finding in the findings JSON")
            continue
        png_meta.setdefault("alt", str(figure.get("alt") or figure.get("title") or ""))
        if figure.get("title"):
            png_meta.setdefault("title", str(figure["title"]))
    return warnings


# =============================================================================================
# Findings
# =============================================================================================

FIGURE_KEYS = ("stem", "title", "alt", "png", "svg", "table")


def load_findings(report_dir: Path, stem: str) -> dict[str, Any]:
    """Read and check ``findings/<stem>.json`` (the contract's schema; referenced files exist)."""
    path = report_dir / "findings" / f"{stem}.json"
    if not path.is_file():
        raise ReportError(f"{stem}.ipynb wrote no findings/{stem}.json although output_dir was set")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReportError(f"findings/{stem}.json is not valid JSON: {exc}") from exc
    missing = [k for k in ("notebook", "parameters", "headline", "sentences", "figures") if k not in data]
    if missing:
        raise ReportError(f"findings/{stem}.json lacks {', '.join(missing)}")
    if not isinstance(data["figures"], list) or not isinstance(data["sentences"], dict):
        raise ReportError(f"findings/{stem}.json: 'figures' must be a list and 'sentences' an object")
    for i, fig in enumerate(data["figures"]):
        lacking = [k for k in FIGURE_KEYS if k not in fig]
        if lacking:
            raise ReportError(f"findings/{stem}.json: figure {i} lacks {', '.join(lacking)}")
        for key in ("png", "svg", "table"):
            rel = fig.get(key)
            if rel is None:
                continue
            target = (report_dir / rel).resolve()
            if report_dir.resolve() not in target.parents or not target.is_file():
                raise ReportError(f"findings/{stem}.json: figure {fig['stem']!r} names {rel!r}, "
                                  "which is not a file in the report")
    return data


# =============================================================================================
# HTML export (one exporter per process, templates compiled before the workers fork)
# =============================================================================================

_EXPORTERS: dict[str, Any] = {}


def _exporter_class() -> type:
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportHTMLExporter(HTMLExporter):
        """HTMLExporter without its BeautifulSoup pass.

        HTMLExporter re-parses every page with BeautifulSoup only to add a generic
        ``alt="No description..."`` and ``tabindex`` attributes; the report template writes the
        finding as alt text itself, and skipping the re-parse saves ~0.2 s a page.
        """

        def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any):  # type: ignore[override]
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportHTMLExporter


def exporters() -> dict[str, Any]:
    """The two HTML exporters of this process: ``narrative`` (no code) and ``full``."""
    if not _EXPORTERS:
        cls = _exporter_class()
        common = {
            "template_name": "lab",
            "template_file": NOTEBOOK_TEMPLATE,
            "extra_template_paths": [str(TEMPLATES_DIR)],
            "theme": "light",
        }
        _EXPORTERS["narrative"] = cls(
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, **common
        )
        _EXPORTERS["full"] = cls(**common)
    return _EXPORTERS


def warm_exporters() -> None:
    """Compile the templates now (in the parent), so forked workers start with them compiled."""
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# warm-up\n\ntext"),
            nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="x\n")]),
        ]
    )
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    for exporter in exporters().values():
        exporter.from_notebook_node(nb, {"metadata": {"name": "warm-up"}})


def notebook_css() -> str:
    """JupyterLab's stylesheet (light theme) as used by nbconvert's ``lab`` template."""
    exporter = exporters()["full"]
    env = exporter.environment
    parts = [env.loader.get_source(env, name)[0] for name in ("static/index.css", "static/theme-light.css")]
    return "\n".join(parts)


def export_html(nb: Any, form: str, *, stem: str, title: str, params_label: str) -> str:
    from nbformat import NotebookNode

    exporter = exporters()[form]
    export_nb = NotebookNode(nb)  # shallow: only the metadata differs
    export_nb.metadata = NotebookNode({**nb.metadata, "title": title})
    resources = {
        "metadata": {"name": title},
        "report": {
            "form": form,
            "narrative": f"{stem}.html",
            "full": f"{stem}.code.html",
            "ipynb": f"{stem}.ipynb",
            "params": params_label,
        },
    }
    html, _ = exporter.from_notebook_node(export_nb, resources)
    return html


# =============================================================================================
# Executing one notebook (in a worker process)
# =============================================================================================


@dataclass
class Job:
    """One notebook run (picklable: it crosses into a worker process)."""

    index: int
    notebook: str  # path of the source notebook
    stem: str
    mode: str  # "report": inject parameters, write HTML; "inplace": re-run the committed notebook
    cwd: str  # the kernel's working directory (the staging folder / the notebook's folder)
    values: dict[str, Any] = field(default_factory=dict)
    params_label: str = ""
    failed_dir: str | None = None
    check_only: bool = False


@dataclass
class JobResult:
    index: int
    stem: str
    ok: bool
    message: str = ""
    title: str = ""
    findings: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    failed_notebook: str | None = None
    changed: bool = False


_WORKER: dict[str, Any] = {}


def _worker_tmpdir() -> str:
    """A short folder for kernel sockets (ipc paths must stay short), made and removed by the
    parent process for the whole run: pool workers end with ``os._exit``, so they cannot clean up."""
    path = _WORKER.get("tmpdir")
    if not path:
        import tempfile

        path = tempfile.mkdtemp(prefix="lva-w-")
        _WORKER["tmpdir"] = path
    return str(path)


def _worker_init(engine: str, zygote: tuple[str, str] | None, timeout: int | None,
                 tmpdir: str | None = None) -> None:
    from analysis import runner_kernel

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    runner_kernel.set_parent_death_signal(signal.SIGKILL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    _WORKER.update(engine=engine, zygote=zygote, timeout=timeout, loop=loop, tmpdir=tmpdir)


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


async def _execute(nb: Any, cwd: str, engine: str, zygote: tuple[str, str] | None,
                   timeout: int | None, state: dict[str, Any]) -> dict[str, float]:
    """Execute ``nb`` in place in a fresh kernel; return timings. Raises nbclient's errors."""
    from nbclient import NotebookClient

    from analysis import runner_kernel

    def on_cell_start(cell: Any, cell_index: int) -> None:
        state["cell_index"] = cell_index

    timings: dict[str, float] = {}
    common = dict(
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        record_timing=False,
        allow_errors=False,
        on_cell_start=on_cell_start,
        resources={"metadata": {"path": cwd}},
        shutdown_kernel="immediate",
    )
    t0 = time.perf_counter()
    if engine == "fork":
        assert zygote is not None
        km, kc = await runner_kernel.start_forked_kernel(zygote[0], zygote[1], cwd)
        timings["kernel"] = time.perf_counter() - t0
        try:
            client = NotebookClient(nb, km=km, **common)
            client.kc = kc
            t1 = time.perf_counter()
            await client.async_execute()
            timings["execute"] = time.perf_counter() - t1
            cpu = runner_kernel.process_cpu_seconds(km.pid)
            if cpu is not None:
                timings["kernel_cpu"] = cpu
        finally:
            await runner_kernel.stop_forked_kernel(km, kc)
    else:
        from jupyter_client.manager import AsyncKernelManager

        kwargs: dict[str, Any] = {"kernel_name": KERNEL_NAME}
        if sys.platform.startswith("linux"):  # ipc: no TCP ports to race for, no plain-text warning
            kwargs.update(transport="ipc", ip=os.path.join(_worker_tmpdir(), f"k{secrets.token_hex(5)}"))
        km = AsyncKernelManager(**kwargs)
        await km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
        try:
            client = NotebookClient(nb, km=km, **common)
            await client.async_execute()
        finally:
            with contextlib.suppress(Exception):
                if client.kc is not None:
                    client.kc.stop_channels()
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)
            with contextlib.suppress(Exception):
                pending = km.cleanup_resources()
                if asyncio.iscoroutine(pending):
                    await pending
        timings["kernel+execute"] = time.perf_counter() - t0
    return timings


def _failure_message(job: Job, nb: Any, exc: BaseException, cell_index: int | None,
                     injected_at: int | None) -> str:
    where = "before the first cell"
    if cell_index is not None and 0 <= cell_index < len(nb.cells):
        cell = nb.cells[cell_index]
        if injected_at is not None and cell_index == injected_at:
            where = "in the injected-parameters cell"
        else:
            source_index = cell_index - 1 if injected_at is not None and cell_index > injected_at else cell_index
            where = f"in cell {source_index} ({_first_line(_source(cell))!r})"
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    detail = f"{ename}: {evalue}".strip().rstrip(":")
    params = f" with {job.params_label}" if job.params_label else " with its default parameters"
    message = f"{job.stem}.ipynb failed {where}{params}:\n    {detail}"
    tb = getattr(exc, "traceback", None)
    if isinstance(tb, str) and tb.strip():
        lines = [ln for ln in _ANSI.sub("", tb).splitlines() if ln.strip()]
        tail = lines[-8:]
        message += "\n    " + "\n    ".join(tail)
    return message


def _run_job(job: Job) -> JobResult:
    """Worker entry point: execute one notebook and write what it produces."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    t_start = time.perf_counter()
    cpu_start = time.process_time()
    result = JobResult(index=job.index, stem=job.stem, ok=False)
    path = Path(job.notebook)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001
        result.message = f"{path.name}: cannot read the notebook: {exc}"
        return result
    result.title = notebook_title(nb, job.stem)
    injected_at: int | None = None
    if job.mode == "report":
        inject_parameters(nb, {**job.values, OUTPUT_DIR_PARAMETER: OUTPUT_DIR_VALUE}, path.name)
        injected_at = parameters_cell_index(nb, path.name) + 1
    else:
        strip_injected(nb)
        clear_outputs(nb)
    state: dict[str, Any] = {}
    loop = _WORKER.get("loop") or asyncio.new_event_loop()
    try:
        result.timings.update(
            loop.run_until_complete(
                _execute(nb, job.cwd, _WORKER.get("engine", "spawn"), _WORKER.get("zygote"),
                         _WORKER.get("timeout"), state)
            )
        )
    except (CellExecutionError, CellTimeoutError, DeadKernelError, Exception) as exc:  # noqa: BLE001
        result.message = _failure_message(job, nb, exc, state.get("cell_index"), injected_at)
        if job.failed_dir:
            with contextlib.suppress(Exception):
                failed = Path(job.failed_dir)
                if failed.exists() and not (failed / FAILED_MARK).is_file():
                    raise FileExistsError(failed)  # not ours: write nothing into it
                failed.mkdir(parents=True, exist_ok=True)
                (failed / FAILED_MARK).touch()
                target = failed / f"{job.stem}.ipynb"
                target.write_text(notebook_text(nb), encoding="utf-8")
                result.failed_notebook = str(target)
                result.message += f"\n    executed notebook kept at {target}"
        return result
    normalize_notebook(nb)
    t_post = time.perf_counter()
    if job.mode == "inplace":
        text = notebook_text(nb)
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        result.changed = text != old
        if result.changed and not job.check_only:
            _write_text_atomic(path, text)
        result.ok = True
        result.timings["write"] = time.perf_counter() - t_post
        result.timings["total"] = time.perf_counter() - t_start
        return result
    out_dir = Path(job.cwd)
    try:
        findings = load_findings(out_dir, job.stem)
    except ReportError as exc:
        result.message = f"{exc} [{job.params_label}]"
        return result
    result.findings = findings
    result.warnings = [f"{job.stem}: {w}" for w in apply_alt_text(nb, findings["figures"])]
    (out_dir / f"{job.stem}.ipynb").write_text(notebook_text(nb), encoding="utf-8")
    t_html = time.perf_counter()
    for form, suffix in (("narrative", ".html"), ("full", ".code.html")):
        html = export_html(nb, form, stem=job.stem, title=result.title, params_label=job.params_label)
        (out_dir / f"{job.stem}{suffix}").write_text(html, encoding="utf-8")
    result.timings["html"] = time.perf_counter() - t_html
    result.timings["total"] = time.perf_counter() - t_start
    result.timings["worker_cpu"] = time.process_time() - cpu_start
    result.ok = True
    return result


# =============================================================================================
# Assembling a report (in the main process)
# =============================================================================================


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_checksums(manifest: Path | None = None) -> dict[str, dict[str, str]]:
    """``{source id: {file name: sha256}}`` from data/sources.yml ({} when it is absent)."""
    manifest = manifest if manifest is not None else paths.SOURCES_MANIFEST
    if not manifest.is_file():
        return {}
    import yaml

    data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    sources = data.get("sources", data) if isinstance(data, dict) else data
    out: dict[str, dict[str, str]] = {}
    items = sources.items() if isinstance(sources, dict) else enumerate(sources or [])
    for key, source in items:
        if not isinstance(source, dict):
            continue
        sid = str(source.get("id", key))
        files = {}
        for entry in source.get("files") or []:
            if isinstance(entry, dict) and entry.get("sha256"):
                files[str(entry.get("name", entry.get("path", "")))] = str(entry["sha256"])
        if files:
            out[sid] = dict(sorted(files.items()))
    return dict(sorted(out.items()))


def series_checksums(folder: Path | None = None) -> dict[str, str]:
    folder = folder if folder is not None else paths.SERIES_DIR
    if not folder.is_dir():
        return {}
    return {p.name: _sha256(p) for p in sorted(folder.glob("*.csv")) if p.is_file()}


def package_versions() -> dict[str, str]:
    """Python and the versions of the project's pinned dependencies (as installed)."""
    from importlib import metadata

    names: list[str] = []
    try:
        for req in metadata.requires("london-violence-analysis") or []:
            if "extra ==" in req:
                continue
            names.append(re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0])
    except metadata.PackageNotFoundError:
        names = ["pandas", "numpy", "scipy", "matplotlib", "nbclient", "nbconvert", "papermill"]
    versions = {"python": platform.python_version()}
    for name in sorted(set(names + ["ipykernel", "nbformat", "jupyter_client"]), key=str.lower):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    with contextlib.suppress(metadata.PackageNotFoundError):
        versions["london-violence-analysis"] = metadata.version("london-violence-analysis")
    return versions


def _git_commit(root: Path) -> str | None:
    """The checked-out commit, read from .git without running git."""
    head = root / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
    except OSError:
        return None
    if not ref.startswith("ref: "):
        return ref or None
    name = ref[5:]
    loose = root / ".git" / name
    with contextlib.suppress(OSError):
        return loose.read_text().strip() or None
    with contextlib.suppress(OSError):
        for line in (root / ".git" / "packed-refs").read_text().splitlines():
            if line.endswith(" " + name):
                return line.split()[0]
    return None


def canonical_command(ps: ParamSet) -> str:
    values = ps.as_dict()
    parts = ["python -m analysis report"]
    if values.get("year") is not None:
        parts.append(f"--year {values['year']}")
    parts.append(f"--area {json.dumps(values.get('area', 'London'))}")
    if values.get("base_year") is not None:
        parts.append(f"--base-year {values['base_year']}")
    for key, value in values.items():
        if key not in ("year", "area", "base_year"):
            parts.append(f"-p {key} {json.dumps(value) if isinstance(value, str) else value}")
    return " ".join(parts)


def run_record(ps: ParamSet, notebooks: Sequence[Path], *, manifest: Path | None = None,
               series_dir: Path | None = None) -> dict[str, Any]:
    """The content of run.json: everything needed to reproduce the report; no timestamps."""
    return {
        "generator": GENERATOR,
        "parameters": ps.as_dict(),
        "command": canonical_command(ps),
        "notebooks": {p.stem: {"sha256": _sha256(p)} for p in notebooks},
        "sources": source_checksums(manifest),
        "series": series_checksums(series_dir),
        "packages": package_versions(),
        "platform": f"{platform.system()}-{platform.machine()}".lower(),
        "commit": _git_commit(paths.REPO_ROOT),
    }


def _claims_table(path: Path, limit: int = 60) -> dict[str, Any] | None:
    """A compact view of claims.csv for the index: the claim and its verdict (all columns stay in
    the CSV), plus a count of each verdict."""
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {"header": [], "rows": [], "more": 0, "verdicts": []}
    header, body = rows[0], rows[1:]
    lowered = [h.strip().lower() for h in header]
    wanted = [lowered.index(name) for name in ("claim", "verdict") if name in lowered]
    columns = wanted if len(wanted) == 2 else list(range(min(4, len(header))))
    verdicts: dict[str, int] = {}
    if "verdict" in lowered:
        vi = lowered.index("verdict")
        for row in body:
            if vi < len(row):
                verdicts[row[vi]] = verdicts.get(row[vi], 0) + 1
    return {
        "header": [header[i] for i in columns],
        "rows": [[row[i] if i < len(row) else "" for i in columns] for row in body[:limit]],
        "more": max(0, len(body) - limit),
        "verdicts": sorted(verdicts.items(), key=lambda kv: (-kv[1], kv[0])),
    }


def report_title(ps: ParamSet) -> str:
    values = ps.as_dict()
    area = values.get("area") or "London"
    year = values.get("year")
    where = "London" if area == "London" else f"{area}, London"
    return f"Homicide and violence in {where}" + (f": {year}" if year is not None else "")


def write_index(report_dir: Path, ps: ParamSet, results: Sequence[JobResult]) -> Path:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    notebooks = []
    for r in sorted(results, key=lambda r: r.stem):
        findings = r.findings or {}
        notebooks.append({
            "stem": r.stem,
            "title": r.title,
            "headline": findings.get("headline", ""),
            "sentences": [
                text for text in (findings.get("sentences") or {}).values()
                if str(text).strip() not in str(findings.get("headline", ""))  # no repeats
            ],
            "figures": [
                {k: fig.get(k) for k in FIGURE_KEYS} for fig in findings.get("figures", [])
            ],
            "narrative": f"{r.stem}.html",
            "full": f"{r.stem}.code.html",
            "ipynb": f"{r.stem}.ipynb",
        })
    html = env.get_template(INDEX_TEMPLATE).render(
        title=report_title(ps),
        params_label=ps.label,
        notebooks=notebooks,
        claims=_claims_table(report_dir / "claims.csv"),
        command=canonical_command(ps),
    )
    target = report_dir / "index.html"
    target.write_text(html, encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------------
# Atomic publication (analysis.folders): a report folder is marked by its run.json
# ---------------------------------------------------------------------------------------------

#: run.json names the tool that wrote it: the marker that a folder is a report this runner may replace.
GENERATOR = "london-violence-analysis report"
FAILED_MARK = ".lva-failed"


def is_report(folder: Path) -> bool:
    """True when ``folder`` holds a report written by this runner (its run.json names the generator)."""
    try:
        record = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("generator") == GENERATOR


def check_report_folder(final: Path | str) -> Path:
    """The absolute report folder, if a report may be written there (else OutputError, one line)."""
    return folders.check_target(final, is_ours=is_report, what="report", marker_name="run.json",
                                protected=(paths.REPO_ROOT,))


def _reset_failed_dir(failed_dir: Path) -> None:
    """Remove the notebooks a previous failed run kept (only a folder this runner marked)."""
    if (failed_dir / FAILED_MARK).is_file():
        shutil.rmtree(failed_dir, ignore_errors=True)


# =============================================================================================
# Orchestration
# =============================================================================================


def _block_slow_imports() -> None:
    """jsonschema imports rfc3987_syntax (if installed) to check "iri" formats, which compiles a
    grammar at import: ~2.5 s of every nbformat/nbclient/nbconvert/papermill start-up on this
    machine. Notebook schemas never use that format, so the runner process does without it."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def default_jobs() -> int:
    return os.cpu_count() or 1


def default_engine() -> str:
    from analysis import runner_kernel

    return "fork" if runner_kernel.supported() else "spawn"


@dataclass
class Outcome:
    published: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


class _Progress:
    """tqdm bars on stderr: one per run (parameter set), one per notebook."""

    def __init__(self, runs: int, notebooks: int, enabled: bool) -> None:
        self.enabled = enabled
        self.runs = self.notebooks = None
        if enabled:
            from tqdm import tqdm

            self._tqdm = tqdm
            if runs:
                self.runs = tqdm(total=runs, desc="reports  ", unit="report", position=0,
                                 file=sys.stderr, dynamic_ncols=True, leave=True)
            self.notebooks = tqdm(total=notebooks, desc="notebooks", unit="nb", position=1 if runs else 0,
                                  file=sys.stderr, dynamic_ncols=True, leave=True)

    def write(self, text: str) -> None:
        if self.enabled:
            self._tqdm.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def notebook_done(self, label: str) -> None:
        if self.notebooks is not None:
            self.notebooks.set_postfix_str(label, refresh=False)
            self.notebooks.update(1)

    def run_done(self) -> None:
        if self.runs is not None:
            self.runs.update(1)

    def close(self) -> None:
        for bar in (self.notebooks, self.runs):
            if bar is not None:
                bar.close()


class _Pool:
    """Worker processes (plus the kernel zygote for the fork engine), torn down reliably."""

    def __init__(self, jobs: int, engine: str, preload: Iterable[str], timeout: int | None,
                 zygote: Any = None) -> None:
        from analysis import runner_kernel

        self.engine = engine
        if engine == "fork":
            self.zygote = zygote if zygote is not None else runner_kernel.Zygote(preload)
        else:
            self.zygote = None
            if zygote is not None:
                zygote.close()
        self.jobs = jobs
        self.timeout = timeout
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None
        self.tmpdir: str | None = None

    def start(self) -> concurrent.futures.ProcessPoolExecutor:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        import tempfile

        address = self.zygote.address() if self.zygote else None
        # Kernel sockets go into the zygote's folder (it removes it even when killed), else here.
        self.tmpdir = None if address else tempfile.mkdtemp(prefix="lva-w-")
        self.executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=multiprocessing.get_context(method),
            initializer=_worker_init,
            initargs=(self.engine, address, self.timeout, self.tmpdir or (address and address[1])),
        )
        return self.executor

    def close(self, *, kill: bool = False) -> None:
        if self.executor is not None:
            if kill:
                procs = list(getattr(self.executor, "_processes", {}).values())
                for proc in procs:
                    with contextlib.suppress(Exception):
                        proc.kill()
                self.executor.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    with contextlib.suppress(Exception):
                        proc.join(5)
            else:
                self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def run_reports(
    param_sets: Sequence[ParamSet],
    *,
    notebooks: Sequence[Path],
    out: str | None = None,
    jobs: int | None = None,
    engine: str | None = None,
    timeout: int | None = DEFAULT_TIMEOUT,
    progress: bool = True,
    manifest: Path | None = None,
    series_dir: Path | None = None,
    zygote: Any = None,
) -> Outcome:
    """Execute every notebook for every parameter set; publish each complete report atomically.

    ``zygote``: a :class:`analysis.runner_kernel.Zygote` started earlier (the CLI starts it before
    validating the parameters, so the preloading overlaps); it is closed at the end.
    """
    _block_slow_imports()
    started = time.perf_counter()
    if not notebooks:
        raise ReportError("no notebooks to run")
    if not param_sets:
        raise ParameterError("no parameter sets")
    raw = {p.name: _read_json_notebook(p) for p in notebooks}
    declared = {name: declared_parameters(nb, name) for name, nb in raw.items()}
    for name, decl in declared.items():
        if OUTPUT_DIR_PARAMETER not in decl:
            raise ReportError(f"{name}: its parameters cell does not declare {OUTPUT_DIR_PARAMETER!r}")
    for ps in param_sets:
        if OUTPUT_DIR_PARAMETER in ps.as_dict():
            raise ParameterError(f"{OUTPUT_DIR_PARAMETER!r} is set by the runner, not on the command line")
        check_parameters(declared, ps.as_dict(), ps.label)
    engine = engine or default_engine()
    jobs = max(1, int(jobs or default_jobs()))
    several = len(param_sets) > 1
    finals = [check_report_folder(output_folder(out, ps, several)) for ps in param_sets]
    absent = {final: not final.exists() for final in finals}
    if len(set(finals)) != len(finals):
        raise ParameterError("several parameter sets would write the same folder; use {area}/{year} in --out")

    jobs = min(jobs, len(param_sets) * len(notebooks))
    pool = _Pool(jobs, engine, imported_modules(raw.values()), timeout, zygote)  # preloading from now
    outcome = Outcome()
    progress_bars: _Progress | None = None
    stagings: dict[int, tuple[Path, folders.RunLock]] = {}
    try:
        import nbformat  # noqa: F401 - imported before the workers fork, so they inherit it
        import nbclient  # noqa: F401

        warm_exporters()
        css = notebook_css()
        jobs_list: list[Job] = []
        for si, (ps, final) in enumerate(zip(param_sets, finals)):
            final.parent.mkdir(parents=True, exist_ok=True)
            folders.clean_leftovers(final, is_ours=is_report)
            staging, lock = folders.staging_for(final)
            stagings[si] = (staging, lock)
            (staging / "assets").mkdir()
            (staging / "assets" / "notebook.css").write_text(css, encoding="utf-8")
            failed_dir = final.parent / f".{final.name}.failed"
            _reset_failed_dir(failed_dir)
            for nb_path in notebooks:
                jobs_list.append(Job(
                    index=si, notebook=str(nb_path), stem=nb_path.stem, mode="report",
                    cwd=str(staging), values=ps.as_dict(), params_label=ps.label,
                    failed_dir=str(failed_dir),
                ))
        progress_bars = _Progress(len(param_sets), len(jobs_list), progress)
        for ps, final in zip(param_sets, finals):
            progress_bars.write(f"report [{ps.label}] -> {_display_path(final)}/")
        executor = pool.start()
        pending: dict[concurrent.futures.Future[JobResult], Job] = {
            executor.submit(_run_job, job): job for job in jobs_list
        }
        per_set: dict[int, list[JobResult]] = {i: [] for i in range(len(param_sets))}
        failed_sets: set[int] = set()
        while pending:
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                if future.cancelled():
                    continue
                try:
                    res = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker died
                    res = JobResult(job.index, job.stem, False,
                                    f"{job.stem}.ipynb: the worker running it died ({exc}) [{job.params_label}]")
                outcome.results.append(res)
                progress_bars.notebook_done(f"{job.stem} [{job.params_label}]")
                outcome.warnings.extend(res.warnings)
                if not res.ok:
                    if job.index not in failed_sets:
                        failed_sets.add(job.index)
                        outcome.failures.append(res.message)
                        progress_bars.write(f"FAILED: {res.message}")
                        for other, other_job in pending.items():  # the set is lost: skip the rest
                            if other_job.index == job.index:
                                other.cancel()
                        progress_bars.run_done()
                    continue
                per_set[job.index].append(res)
                if len(per_set[job.index]) == len(notebooks):
                    ps, final, (staging, lock) = param_sets[job.index], finals[job.index], stagings[job.index]
                    write_index(staging, ps, per_set[job.index])
                    record = run_record(ps, notebooks, manifest=manifest, series_dir=series_dir)
                    (staging / "run.json").write_text(
                        json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                        encoding="utf-8")
                    stagings.pop(job.index)
                    try:
                        folders.publish(staging, final, is_ours=is_report, what="report", was_absent=absent[final])
                    except OutputError as exc:
                        folders.discard_staging(staging, lock)
                        outcome.failures.append(f"{exc} [{ps.label}]")
                        progress_bars.write(f"FAILED: {exc}")
                        progress_bars.run_done()
                        continue
                    except BaseException:
                        folders.discard_staging(staging, lock)
                        raise
                    lock.release()
                    outcome.published.append(final)
                    progress_bars.run_done()
                    progress_bars.write(f"done [{ps.label}]: {_display_path(final / 'index.html')}")
        pool.close()
    except BaseException:
        pool.close(kill=True)
        raise
    finally:
        if progress_bars is not None:
            progress_bars.close()
        for staging, lock in stagings.values():
            folders.discard_staging(staging, lock)
        pool.close(kill=True)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def rerun_notebooks(
    notebooks: Sequence[Path],
    *,
    jobs: int | None = None,
    engine: str = "spawn",
    timeout: int | None = DEFAULT_TIMEOUT,
    check: bool = False,
    progress: bool = True,
) -> Outcome:
    """Re-execute notebooks in place with their defaults; write only those whose bytes changed."""
    _block_slow_imports()
    started = time.perf_counter()
    raw = {p.name: _read_json_notebook(p) for p in notebooks}
    for name, nb in raw.items():
        parameters_cell_index(nb, name)
    jobs = max(1, min(int(jobs or default_jobs()), len(notebooks) or 1))
    pool = _Pool(jobs, engine, imported_modules(raw.values()), timeout)
    outcome = Outcome()
    bars: _Progress | None = None
    try:
        import nbformat  # noqa: F401
        import nbclient  # noqa: F401

        bars = _Progress(0, len(notebooks), progress)
        executor = pool.start()
        futures = {
            executor.submit(_run_job, Job(index=i, notebook=str(p), stem=p.stem, mode="inplace",
                                          cwd=str(p.resolve().parent), check_only=check)): p
            for i, p in enumerate(notebooks)
        }
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            try:
                res = future.result()
            except Exception as exc:  # noqa: BLE001
                res = JobResult(0, path.stem, False, f"{path.name}: the worker running it died ({exc})")
            outcome.results.append(res)
            bars.notebook_done(path.stem)
            if not res.ok:
                outcome.failures.append(res.message)
                bars.write(f"FAILED: {res.message}")
            elif check and res.changed:
                outcome.failures.append(f"{_display_path(path)} is not up to date (re-run `python -m analysis notebooks`)")
                bars.write(f"outdated: {_display_path(path)}")
            else:
                verb = ("updated" if res.changed else "unchanged") if not check else "up to date"
                bars.write(f"{verb}: {_display_path(path)}")
        pool.close()
    except BaseException:
        pool.close(kill=True)
        raise
    finally:
        if bars is not None:
            bars.close()
        pool.close(kill=True)
    outcome.seconds = time.perf_counter() - started
    return outcome


# =============================================================================================
# Command line
# =============================================================================================


class _Terminate(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the run cleans up like on Ctrl-C."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminate()


def _parse_extra(items: Sequence[Sequence[str]] | None, notebooks: Sequence[Path]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs, typed by the notebooks' declarations (never guessed)."""
    if not items:
        return {}
    declared = {p.name: declared_parameters(_read_json_notebook(p), p.name) for p in notebooks}
    extra: dict[str, Any] = {}
    for name, text in items:
        if name in ("year", "area", "base_year"):
            raise ParameterError(f"use --{name.replace('_', '-')} for {name!r}, not -p")
        if name == OUTPUT_DIR_PARAMETER:
            raise ParameterError(f"{OUTPUT_DIR_PARAMETER!r} is set by the runner; use --out")
        values = set()
        for nb_name, decl in declared.items():
            if name not in decl:
                known = ", ".join(sorted(decl))
                raise ParameterError(f"{nb_name} has no parameter {name!r} (declared: {known})")
            values.add(json.dumps(coerce_parameter_text(decl[name], text)))
        if len(values) > 1:
            raise ParameterError(f"the notebooks declare {name!r} with different types")
        extra[name] = json.loads(values.pop())
    return extra


def _notebook_list(args: argparse.Namespace) -> list[Path]:
    folder = Path(args.notebooks) if args.notebooks else paths.NOTEBOOKS_DIR
    found = find_notebooks(folder)
    if not found:
        raise ReportError(f"no notebooks matching {NOTEBOOK_PATTERN} in {folder}")
    return found


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis import runner_kernel

    _block_slow_imports()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    zygote = None
    skipped: list[str] = []
    try:
        notebooks = _notebook_list(args)
        engine = args.engine or default_engine()
        if engine == "fork":  # start preloading now, while the parameters are being checked
            zygote = runner_kernel.Zygote(imported_modules(_read_json_notebook(p) for p in notebooks))
        extra = _parse_extra(args.parameter, notebooks)
        sets = resolve_param_sets(args.year, args.area, args.base_year, extra,
                                  data_check=not args.no_data_check, skipped=skipped)
        for note in skipped:
            print(f"skipped {note}", file=sys.stderr)
        if args.out is None:
            print(f"writing to reports/<area>/<year>/ under {os.getcwd()} (change with --out)",
                  file=sys.stderr)
        outcome = run_reports(sets, notebooks=notebooks, out=args.out, jobs=args.jobs,
                              engine=engine, timeout=args.timeout,
                              progress=not args.no_progress, zygote=zygote)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        if zygote is not None:
            zygote.close()
    for path in outcome.published:
        print(_display_path(path / "index.html"))
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.timings:
        _print_timings(outcome)
    if outcome.failures:
        print(f"{len(outcome.failures)} report(s) failed; previous reports were left untouched:",
              file=sys.stderr)
        for message in outcome.failures:
            print(f"  {message}", file=sys.stderr)
    runs = len(outcome.results)
    print(f"{len(outcome.published)} report(s), {runs} notebook run(s) in {outcome.seconds:.1f} s",
          file=sys.stderr)
    return outcome.exit_code


def _print_timings(outcome: Outcome) -> None:
    keys = sorted({k for r in outcome.results for k in r.timings})
    print("timings (s): notebook  " + "  ".join(keys), file=sys.stderr)
    for r in sorted(outcome.results, key=lambda r: (r.index, r.stem)):
        cols = "  ".join(f"{r.timings.get(k, float('nan')):.2f}" for k in keys)
        print(f"  {r.stem} [{r.index}]  {cols}", file=sys.stderr)


def _cmd_notebooks(args: argparse.Namespace) -> int:
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        notebooks = [Path(p) for p in args.paths] if args.paths else _notebook_list(args)
        outcome = rerun_notebooks(notebooks, jobs=args.jobs, engine=args.engine,
                                  timeout=args.timeout, check=args.check,
                                  progress=not args.no_progress)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    for message in outcome.failures:
        print(f"error: {message}", file=sys.stderr)
    if args.timings:
        _print_timings(outcome)
    return outcome.exit_code


def _year_arg(text: str) -> str:
    if text.lower() == "all" or re.fullmatch(r"\d{4}", text):
        return text.lower()
    raise argparse.ArgumentTypeError(f"expected a year such as 2025, or 'all'; got {text!r}")


def register(commands: Any) -> None:
    """Add the ``report`` and ``notebooks`` sub-commands to ``python -m analysis``."""
    report = commands.add_parser(
        "report",
        help="run every notebook for the given parameters and build the HTML report",
        description=(
            "Execute every notebooks/[0-9][0-9]_*.ipynb for each parameter set and write, per set, "
            "the executed notebooks, an HTML page per notebook (narrative and with code), "
            "index.html, figures/, tables/, claims.csv and run.json. Default folder: "
            "reports/<area>/<year>/ under the current directory. Several years or areas run in "
            "parallel; a report is replaced only when all its notebooks succeed."
        ),
    )
    report.add_argument("--year", nargs="+", type=_year_arg, metavar="YEAR",
                        help="year(s) to report on, or 'all' (every year analysis.params offers); "
                             "default: the notebooks' own default (latest year)")
    report.add_argument("--area", nargs="+", default=None, metavar="AREA",
                        help="area(s): London or a borough (default London)")
    report.add_argument("--base-year", type=int, default=None, metavar="YEAR",
                        help="year to compare with (default: the notebooks' default)")
    report.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="any other parameter the notebooks declare; VALUE is converted to "
                             "the declared type")
    report.add_argument("--out", default=None, metavar="DIR",
                        help="output folder for one parameter set; with several, the root of "
                             "<area>/<year>/ folders; may use {area} {year} {base_year}")
    _common_run_options(report)
    report.add_argument("--no-data-check", action="store_true",
                        help="do not validate parameters against the data (analysis.params); "
                             "for notebooks that do not use it, e.g. test fixtures")
    report.set_defaults(func=_cmd_report)

    nbs = commands.add_parser(
        "notebooks",
        help="re-execute the committed notebooks in place (default parameters, deterministic)",
        description=(
            "Re-run notebooks/[0-9][0-9]_*.ipynb (or the given files) top to bottom with their "
            "default parameters, in a fresh kernel started in the notebook's folder (as nbval "
            "does), and save them normalised so that re-running gives byte-identical files."
        ),
    )
    nbs.add_argument("paths", nargs="*", metavar="NOTEBOOK", help="notebooks (default: all)")
    nbs.add_argument("--check", action="store_true",
                     help="do not write; exit 1 if any notebook would change")
    _common_run_options(nbs, engine_default="spawn")
    nbs.set_defaults(func=_cmd_notebooks)


def _common_run_options(parser: argparse.ArgumentParser, engine_default: str | None = None) -> None:
    parser.add_argument("--notebooks", default=None, metavar="DIR",
                        help="folder of the notebooks (default: the repository's notebooks/)")
    parser.add_argument("--jobs", "-j", type=int, default=default_jobs(), metavar="N",
                        help="notebooks run in parallel (default: the number of CPUs, "
                             f"{default_jobs()} here)")
    parser.add_argument("--engine", choices=("fork", "spawn"), default=engine_default,
                        help="fork: fresh kernels forked from a pre-loaded zygote (Linux); "
                             "spawn: a normally started kernel per notebook "
                             "(default: fork where supported)" if engine_default is None else
                             "fork: kernels forked from a pre-loaded zygote; spawn: normal kernels "
                             f"(default: {engine_default}, as nbval runs them)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"per-cell time limit (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--timings", action="store_true",
                        help="print where the time went, per notebook")
