"""Papermill understands the notebooks: it parses all four parameters and injects them without a warning.

Researchers run the notebooks with Papermill directly (``papermill nb.ipynb out.ipynb -p year
2019``); Papermill's own parser must read every parameter of the ``parameters`` cell (one ``=``
a line, an annotation its pattern accepts), or it says "Unable to parse line" and "Passed unknown
parameter" and shows nothing in ``--help-notebook``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_claims_check.ipynb"


def _papermill(caplog: pytest.LogCaptureFixture, *args: str) -> str:
    """Papermill's own command (the click command behind the ``papermill`` script), run in this
    process: a new process would import papermill again (~3.5 s of CPU on the 2-core machine); a
    notebook still runs in a kernel of its own, started by Papermill as for any user. Returns what
    it printed and logged: in this process its warnings are log records, not the script's stderr."""
    from click.testing import CliRunner
    from papermill.cli import papermill

    caplog.set_level(logging.INFO, logger="papermill")
    result = CliRunner().invoke(papermill, list(args))
    log = result.output + caplog.text
    assert result.exit_code == 0, f"{log[-3000:]}\n{result.exception!r}"
    return log


def test_papermill_help_lists_all_four_parameters_with_their_help(caplog: pytest.LogCaptureFixture) -> None:
    text = _papermill(caplog, "--help-notebook", str(NOTEBOOK))
    for name in ("year", "area", "base_year", "output_dir"):
        assert f"  {name}: " in text, f"{name} missing from --help-notebook:\n{text}"
    assert "Optional[int]" in text and "London" in text and "focus year" in text
    assert "Unable to parse" not in text


@pytest.mark.slow
def test_papermill_runs_a_notebook_for_2019_without_parse_or_unknown_parameter_warnings(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out.ipynb"
    log = _papermill(caplog, str(NOTEBOOK), str(out), "-p", "year", "2019", "--no-progress-bar", "--cwd", str(tmp_path))
    assert "Executing notebook with kernel" in caplog.text  # the log is really caught
    assert "Unable to parse" not in log and "unknown parameter" not in log.lower(), log[-3000:]
    nb = json.loads(out.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "year = 2019" in "".join(injected[0]["source"])
    assert nb["metadata"]["papermill"]["parameters"] == {"year": 2019}
