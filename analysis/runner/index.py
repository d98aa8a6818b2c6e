"""What the report adds around the notebooks: ``run.json`` (how to reproduce it) and ``index.html``.

``run.json`` records the parameters, the command, the checksums of the notebooks, sources and
series, the package versions and the commit: everything needed to reproduce the report, and no
timestamps. It also names the tool that wrote it (:data:`GENERATOR`), which marks the folder as a
report the runner may replace (``analysis.core.folders``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import platform
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.core import paths
from analysis.runner import index_view

TEMPLATES_DIR = Path(__file__).resolve().with_name("templates")
INDEX_TEMPLATE = "report_index.html.j2"
#: run.json names the tool that wrote it: the marker that a folder is a report this runner may replace.
GENERATOR = "london-violence-analysis report"


def is_report(folder: Path) -> bool:
    """True when ``folder`` holds a report written by this runner (its run.json names the generator)."""
    try:
        record = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("generator") == GENERATOR


def canonical_command(parameters: Mapping[str, Any]) -> str:
    """The command line that rebuilds a report with these parameters."""
    parts = ["python -m analysis report"]
    if parameters.get("year") is not None:
        parts.append(f"--year {parameters['year']}")
    parts.append(f"--area {json.dumps(parameters.get('area', 'London'))}")
    if parameters.get("base_year") is not None:
        parts.append(f"--base-year {parameters['base_year']}")
    return " ".join(parts)


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
    from analysis.data.manifest import parse_yaml

    data = parse_yaml(manifest.read_text(encoding="utf-8")) or {}
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
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """What :func:`package_versions` returns, read once per process (~60 ms of package
    metadata; a sweep writes a run record per report)."""
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
    return tuple(versions.items())


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


def run_record(parameters: Mapping[str, Any], notebooks: Sequence[Path], *, manifest: Path | None = None,
               series_dir: Path | None = None) -> dict[str, Any]:
    """The content of run.json: everything needed to reproduce the report; no timestamps."""
    return {
        "generator": GENERATOR,
        "parameters": dict(parameters),
        "command": canonical_command(parameters),
        "notebooks": {p.stem: {"sha256": _sha256(p)} for p in notebooks},
        "sources": source_checksums(manifest),
        "series": series_checksums(series_dir),
        "packages": package_versions(),
        "platform": f"{platform.system()}-{platform.machine()}".lower(),
        "commit": _git_commit(paths.REPO_ROOT),
    }


def write_run_record(report_dir: Path, record: Mapping[str, Any]) -> Path:
    target = report_dir / "run.json"
    target.write_text(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def report_title(parameters: Mapping[str, Any]) -> str:
    area = parameters.get("area") or "London"
    year = parameters.get("year")
    where = "London" if area == "London" else f"{area}, London"
    return f"Homicide and violence in {where}" + (f": {year}" if year is not None else "")


def report_kicker(parameters: Mapping[str, Any]) -> str:
    """The line above the title: what kind of page this is and what it compares."""
    base = parameters.get("base_year")
    return "An open, reproducible analysis" + (f" \u00b7 compared with {base}" if base is not None else "")


@functools.cache
def _index_template() -> Any:
    """The index page's template, compiled once per process (autoescaped, strict about undefined names)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(INDEX_TEMPLATE)


def write_index(report_dir: Path, parameters: Mapping[str, Any], label: str, results: Sequence[Any]) -> Path:
    """Write ``index.html``: one entry per notebook from its findings (results carry stem, title,
    findings), in notebook order, and the claims table from ``claims.csv`` in the section of the
    notebook that checks the claims (its own section when no notebook does)."""
    ordered = sorted(results, key=lambda r: r.stem)
    notebooks = [index_view.notebook_entry(r.stem, r.title, r.findings) for r in ordered]
    home = index_view.claims_home([nb["stem"] for nb in notebooks])
    claims = index_view.claims_view(report_dir / "claims.csv", page=f"{home}.html" if home else None)
    html = _index_template().render(
        title=report_title(parameters),
        kicker=report_kicker(parameters),
        params_label=label,
        notebooks=notebooks,
        claims=claims,
        claims_home=home,
        command=canonical_command(parameters),
    )
    target = report_dir / "index.html"
    target.write_text(html, encoding="utf-8")
    return target
