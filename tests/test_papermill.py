"""Papermill understands the notebooks: it parses all four parameters and injects them without a warning.

Researchers run the notebooks with Papermill directly (``papermill nb.ipynb out.ipynb -p year
2019``); Papermill's own parser must read every parameter of the ``parameters`` cell (one ``=``
a line, an annotation its pattern accepts), or it says "Unable to parse line" and "Passed unknown
parameter" and shows nothing in ``--help-notebook``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOK = ROOT / "notebooks" / "04_claims_check.ipynb"


def _papermill(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([str(BIN / "papermill"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_papermill_help_lists_all_four_parameters_with_their_help(caplog: pytest.LogCaptureFixture) -> None:
    # Papermill's own command (the click command behind the ``papermill`` script), run in this
    # process: ``--help-notebook`` starts no kernel, and a new process would import papermill
    # again (~3.5 s of CPU on the 2-core machine); the run below goes through the real script.
    from click.testing import CliRunner
    from papermill.cli import papermill

    result = CliRunner().invoke(papermill, ["--help-notebook", str(NOTEBOOK)])
    assert result.exit_code == 0, result.output
    text = result.output
    for name in ("year", "area", "base_year", "output_dir"):
        assert f"  {name}: " in text, f"{name} missing from --help-notebook:\n{text}"
    assert "Optional[int]" in text and "London" in text and "focus year" in text
    # In this process Papermill's parse warnings are log records, not the script's stderr.
    assert "Unable to parse" not in text + caplog.text


@pytest.mark.slow
def test_papermill_runs_a_notebook_for_2019_without_parse_or_unknown_parameter_warnings(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    result = _papermill(str(NOTEBOOK), str(out), "-p", "year", "2019", "--no-progress-bar", cwd=tmp_path)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "Unable to parse" not in log and "unknown parameter" not in log.lower(), log[-3000:]
    nb = json.loads(out.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "year = 2019" in "".join(injected[0]["source"])
    assert nb["metadata"]["papermill"]["parameters"] == {"year": 2019}
