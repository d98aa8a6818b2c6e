"""nbval in strict mode really guards the numbers: it fails when an analysis function changes.

A fixture notebook (with its stored outputs) is copied to a temporary folder together with the
repository's conftest.py and tests/nbval_sanitize.cfg, and ``pytest --nbval`` runs on it in a
subprocess: once unchanged (it must pass), once with a patched module first on ``sys.path`` (a
``sitecustomize`` that shifts the slope ``statistics.linear_regression`` returns, the "analysis
function" behind the fixture's trend chart). The chart's printed finding then differs from the
stored one, so nbval must fail, name the cell, and keep the re-executed notebook under
``artifacts/nbval/`` with its path in the output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # runs nbval on a notebook

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "01_fixture_trend.ipynb"

PATCH = '''"""Test patch: the trend's slope is off by +0.5 (an analysis function that changed)."""
import statistics

_original = statistics.linear_regression


def linear_regression(*args, **kwargs):
    fit = _original(*args, **kwargs)
    return type(fit)(fit.slope + 0.5, fit.intercept)


statistics.linear_regression = linear_regression
'''


def _nbval(folder: Path, *, patched: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIXTURE_", "PYTEST_"))}
    env.pop("PYTHONPATH", None)
    if patched:
        env["PYTHONPATH"] = str(folder / "patch")  # the kernel inherits it: sitecustomize runs there
    # `-p analysis.runner.lean_imports`, as the project's own settings do: nbformat without its
    # 2.3 s optional import (the copied folder has no pyproject.toml, so it is named here).
    args = ["--nbval", "notebooks", "--rootdir", str(folder), "--nbval-sanitize-with",
            "nbval_sanitize.cfg", "-p", "analysis.runner.lean_imports", "-p", "no:cacheprovider", "-q", "--color=no"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=180,
    )


@pytest.fixture()
def copied(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    shutil.copy(FIXTURE, tmp_path / "notebooks" / FIXTURE.name)
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", tmp_path / "nbval_sanitize.cfg")
    (tmp_path / "patch").mkdir()
    (tmp_path / "patch" / "sitecustomize.py").write_text(PATCH)
    return tmp_path


def _stdout_of(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("output_type") == "stream")


def test_nbval_passes_on_the_unchanged_notebook(copied: Path):
    proc = _nbval(copied, patched=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout and "failed" not in proc.stdout
    assert not (copied / "artifacts" / "nbval" / FIXTURE.name).exists()


def test_nbval_fails_when_an_analysis_function_changes_a_figure(copied: Path):
    proc = _nbval(copied, patched=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Cell outputs differ" in out
    assert "- trend: -2.38 a year" in out or "+ trend: -2.38 a year" in out  # the changed finding
    artifact = copied / "artifacts" / "nbval" / FIXTURE.name
    assert f"kept at {artifact}" in out  # printed with the failure
    assert f"{FIXTURE.name}: {artifact}" in out  # and listed in the summary (read from the failed reports)
    rerun = nbformat.read(artifact, as_version=4)
    committed = nbformat.read(FIXTURE, as_version=4)
    assert "trend: -2.38 a year" in _stdout_of(rerun)
    assert "trend: -2.88 a year" in _stdout_of(committed)
    assert len(rerun.cells) == len(committed.cells)
    nbformat.validate(rerun)
