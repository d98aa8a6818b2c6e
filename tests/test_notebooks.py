"""The committed notebooks pass nbval in strict mode: re-executed, every stored output is reproduced.

Each notebook is checked by its own nbval run (``pytest notebooks/<name>.ipynb``, which the
repository's conftest.py collects with nbval in strict mode), in a subprocess, so the check
works whatever runs this suite: nbval needs a notebook's cells in one kernel, in order, which a
worker of the parallel suite cannot promise. A failure prints nbval's report and keeps the
re-executed notebook in ``artifacts/nbval/``. ``pytest notebooks/`` runs the same check directly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_passes_nbval(notebook: Path) -> None:
    # The project's pytest settings apply (addopts loads analysis.runner.lean_imports: no 2.3 s
    # optional import in nbformat); one process, since nbval needs the notebook's cells in order.
    args = [str(notebook.relative_to(ROOT)), "-n", "0", "-p", "no:cacheprovider", "-q", "--color=no"]
    result = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"nbval failed for {notebook.name}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert " passed" in result.stdout and "failed" not in result.stdout
