"""Shared fixtures: where the reference raw files are, and throw-away copies of that tree.

The raw files live outside the repository, at ``../shared/data/raw`` (see data/README.md). Tests
that need them are skipped with a clear message when that folder is absent, except in CI
(``CI=true``), where a missing folder is a failure: CI must run the rebuild.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_RAW = REPO_ROOT.parent / "shared" / "data" / "raw"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def shared_raw_dir() -> Path:
    """``../shared/data/raw``; skip when absent, but fail when running in CI."""
    if not (SHARED_RAW / "homicide").is_dir():
        message = (
            f"reference raw data not found at {SHARED_RAW} (expected ../shared/data/raw next to the repository; "
            "see data/README.md)"
        )
        if _in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return SHARED_RAW


@pytest.fixture
def raw_tree(shared_raw_dir: Path, tmp_path: Path) -> Callable[..., Path]:
    """Factory: a writable copy of the raw tree under tmp_path, made of symlinks to the real files.

    ``raw_tree({"homicide/x.csv": b"..."})`` writes those files as real files (replacing the
    symlink of the same name, or adding a new file); every other file stays a symlink.
    """

    def make(replace: dict[str | Path, bytes] | None = None, *, name: str = "raw") -> Path:
        root = tmp_path / name
        for source in sorted(shared_raw_dir.rglob("*")):
            if source.is_file():
                target = root / source.relative_to(shared_raw_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(source)
        for rel, data in (replace or {}).items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            target.write_bytes(data)
        return root

    return make



_PARSED: dict[tuple, object] = {}


@pytest.fixture
def reuse_unchanged_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed for tests of failing builds: parse each *unchanged* victims, population,
    recorded-crime and ONS rates file once per test process, not once per build (see
    :func:`reuse_parses`)."""
    reuse_parses(monkeypatch)


def _fresh(value: object, path: Path) -> object:
    """A cached parse as if just made from ``path``: nothing shared with the cache (frames copied,
    other fields deep-copied), and a release names this path."""
    if dataclasses.is_dataclass(value) and hasattr(value, "frame") and hasattr(value, "path"):
        fields = {f.name: copy.deepcopy(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in ("frame", "path")}
        return dataclasses.replace(value, path=type(value.path)(path), frame=value.frame.copy(), **fields)
    return value.copy() if hasattr(value, "copy") else copy.deepcopy(value)


def reuse_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route the build's victims, population, recorded-crime and ONS rates parsers through a cache
    for this test process (module-scoped fixtures call it inside ``pytest.MonkeyPatch.context()``).

    The cache key is the file's real path (symlinks resolve to ../shared), size and mtime, so a
    corrupted or added file written into a test's tree is always parsed afresh; only successful
    parses are kept (a failure is raised again at every build), and a release found in the cache
    names the path it was asked for. Everything else (the CLI, finding the files, the workforce
    parser, validation of the combined series, writing) runs for real in every test. The contract
    test that rebuilds the committed series (test_data_build) never uses it.
    """
    import analysis.data.build as build_module
    import analysis.data.parse_homicide as parse_homicide
    import analysis.data.parse_recorded_crime as parse_recorded_crime

    def cached(name: str, parse: Callable[..., object]) -> Callable[..., object]:
        def wrapper(path: Path, *args: object, **kwargs: object) -> object:
            real = Path(path).resolve()
            stat = real.stat()
            key = (name, str(real), stat.st_size, stat.st_mtime_ns, repr(args), repr(sorted(kwargs.items())))
            if key not in _PARSED:
                _PARSED[key] = parse(path, *args, **kwargs)
            return _fresh(_PARSED[key], path)

        return wrapper

    for name in ("parse_nomis_region", "parse_nomis_local_authorities", "parse_ons_mye2", "london_boroughs", "parse_ons_rates"):
        monkeypatch.setattr(build_module, name, cached(name, getattr(build_module, name)))
    # Releases are parsed by find_victim_releases and find_crime_releases, which look their parser
    # up through these module names.
    monkeypatch.setattr(parse_homicide, "parse_victims", cached("parse_victims", parse_homicide.parse_victims))
    monkeypatch.setattr(parse_recorded_crime, "parse_recorded_crime", cached("parse_recorded_crime", parse_recorded_crime.parse_recorded_crime))


# A sample of the real report's parameter sets, built once per test session: the latest whole
# year, the partial year the offence records reach (January-June 2026), a borough's latest whole
# year (on the offence records), and a borough year with small counts on the victim records.
REAL_REPORT_SAMPLE: tuple[tuple[str, str], ...] = (
    ("London", "2025"),
    ("London", "2026"),
    ("Hackney", "2025"),
    ("Sutton", "2010"),
)


@pytest.fixture(scope="session")
def real_reports(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """``{(area, year): report folder}`` for REAL_REPORT_SAMPLE, built by the report runner on the real notebooks.

    One runner call with every parameter set, run in parallel, each written to ``<out>/<area>/<year>``.
    """
    from analysis.runner import report

    base = tmp_path_factory.mktemp("real_reports")
    sets = [ps for area, year in REAL_REPORT_SAMPLE for ps in report.resolve_param_sets([year], [area])]
    outcome = report.run_reports(sets, notebooks=report.find_notebooks(), out=str(base), jobs=2, progress=False)
    assert outcome.failures == [], outcome.failures
    # Where kernels can be forked, these reports must come from the warmed zygote (tests compare
    # them with a plain cold run): a silent fall-back to normally started kernels is a failure.
    assert outcome.engine == report.default_engine() and outcome.warnings == [], (outcome.engine, outcome.warnings)
    folders = {(area, year): base / area / year for area, year in REAL_REPORT_SAMPLE}
    for key, folder in folders.items():
        assert folder in outcome.published, f"no report folder for {key} in {outcome.published}"
    return folders


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        pass  # keep pytest's output clean


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port, in a thread); yield its base URL.

    Loopback only: no test touches the internet.
    """
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
