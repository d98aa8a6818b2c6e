"""Repository-wide pytest wiring: nbval for the notebooks, and how tests share the parallel workers.

* ``pytest`` (its ``testpaths`` name ``notebooks``) and ``pytest notebooks/`` validate
  ``notebooks/[0-9][0-9]_*.ipynb`` with nbval in *strict* mode (every output compared, as
  ``--nbval`` does, never ``--nbval-lax``); only those notebooks, not the fixtures under
  tests/fixtures/. Each notebook's cells are one item each, run in order in one kernel.
* The suite runs on parallel workers (pytest-xdist); :func:`scheduling_group` decides what must share a
  worker: a module's tests (its fixtures are built once), a notebook's cells (one kernel runs
  them in order), the tests of the session's real reports.
* The sanitising rules live in one file, ``tests/nbval_sanitize.cfg`` (used unless
  ``--nbval-sanitize-with`` names another); it explains why it holds no rules.
* When a notebook fails, the re-executed notebook (nbval's outputs in place of the stored ones)
  is written to ``artifacts/nbval/<name>.ipynb``; the failure report and the summary print its
  path, so a person can open it next to the committed one (or diff them with nbdime).
"""

from __future__ import annotations

import copy
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"

# The fixture notebooks are inputs of tests/test_report.py, not notebooks to validate here.
collect_ignore_glob = ["tests/fixtures/*"]


def _nbval_active(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("nbval")


def pytest_configure(config: pytest.Config) -> None:
    if _nbval_active(config) and getattr(config.option, "nbval_sanitize_with", None) is None:
        if SANITIZE_FILE.is_file() and not getattr(config.option, "sanitize_with", None):
            config.option.nbval_sanitize_with = str(SANITIZE_FILE)
    config._nbval_artifacts = {}  # type: ignore[attr-defined]
    config.pluginmanager.register(WholeNotebooks(), "whole-notebooks")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """Collect the project's notebooks with nbval (strict) even without ``--nbval``: in the default
    run (``testpaths`` names ``notebooks``) and in ``pytest notebooks/``."""
    opt = parent.config.option
    if getattr(opt, "nbval", False) or getattr(opt, "nbval_lax", False):
        return None  # nbval's own hook collects them
    if (
        _nbval_active(parent.config)
        and file_path.suffix == ".ipynb"
        and file_path.parent == NOTEBOOKS_DIR
        and fnmatch.fnmatch(file_path.name, NOTEBOOK_PATTERN)
    ):
        from nbval.plugin import IPyNbFile

        return IPyNbFile.from_parent(parent, path=file_path)
    return None


# --- test distribution: what must share a worker ---------------------------------------------

#: Modules whose tests share a session fixture, so they must run on one worker (the real reports).
SHARED_GROUPS = {"test_real_report.py": "real_reports", "test_browser.py": "real_reports"}
#: Modules of independent, slow tests, spread one test at a time.
SPREAD = {"test_sentences.py"}


def scheduling_group(nodeid: str) -> str:
    """The unit the parallel suite schedules together: by default a test module (so a module's
    fixtures are built once) or a notebook (nbval runs its cells in order in one kernel), a named
    group for modules sharing a session fixture, or the test itself for independent slow tests."""
    module = nodeid.split("::", 1)[0]
    name = module.rsplit("/", 1)[-1]
    if name in SPREAD:
        return nodeid
    return SHARED_GROUPS.get(name, module)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Schedule tests to workers by :func:`scheduling_group` (xdist's scope scheduling, own scopes)."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scheduling_group(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A notebook validated directly (``pytest notebooks/``) is slow."""
    for item in items:
        if type(item).__name__ == "IPyNbCell":
            item.add_marker(pytest.mark.slow)


def whole_notebooks(collected: list, selected: list) -> list:
    """``selected`` with every notebook that has any cell in it present whole and in cell order.

    A notebook's cells share one kernel and build on each other, so a cell cannot be checked on
    its own: ``--lf`` (only the failed cell), ``--ff`` (failed cells first) or ``-k "Cell 3"``
    would otherwise run cells out of order or alone and fail with a misleading NameError. The
    notebook's cells take the place of its first selected cell; other items keep their order.
    """
    def notebook(item: object) -> str | None:
        return str(item.path) if type(item).__name__ == "IPyNbCell" else None  # type: ignore[attr-defined]

    cells: dict[str, list] = {}
    for item in collected:
        key = notebook(item)
        if key is not None:
            cells.setdefault(key, []).append(item)
    out, placed = [], set()
    for item in selected:
        key = notebook(item)
        if key is None:
            out.append(item)
        elif key not in placed:
            placed.add(key)
            out.extend(sorted(cells.get(key, [item]), key=lambda cell: cell.cell_num))
    return out


class WholeNotebooks:
    """Plugin: applies :func:`whole_notebooks` after every other plugin has selected and reordered
    the items (the outermost wrapper: registered after the last-failed plugin, so it runs last)."""

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]):
        collected = list(items)
        result = yield
        items[:] = whole_notebooks(collected, items)
        return result


# --- keep the re-executed notebook of a failing nbval run ---------------------------------------


class _Rerun:
    """What nbval produced for one notebook: outputs per code cell, and whether anything failed."""

    def __init__(self, source_nb) -> None:
        self.nb = source_nb
        self.outputs: dict[int, list] = {}
        self.failed = False


def _artifact_path(config: pytest.Config, notebook: Path) -> Path:
    return config.rootpath / "artifacts" / "nbval" / notebook.name


def _write_rerun(path: Path, rerun: _Rerun) -> None:
    import nbformat

    nb = copy.deepcopy(rerun.nb)
    code_index = 0
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = rerun.outputs.get(code_index)
        if outputs is None:
            cell.outputs, cell.execution_count = [], None  # not run (skipped, or after a crash)
        else:
            count += 1
            cell.execution_count = count
            cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs]
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = count
                if out.get("output_type") in ("display_data", "execute_result"):
                    out.setdefault("metadata", {})
        code_index += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


#: The title and opening of the section a failing cell's report gets, naming the kept notebook.
RERUN_SECTION = "nbval re-executed notebook"
KEPT_AT = "kept at "


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if type(item).__name__ != "IPyNbCell" or call.when != "call":
        return
    report = outcome.get_result()
    notebook = Path(str(item.path))
    store = item.config._nbval_artifacts  # type: ignore[attr-defined]
    rerun = store.get(notebook)
    if rerun is None:
        rerun = store[notebook] = _Rerun(item.parent.nb)
    if item.test_outputs is not None:
        rerun.outputs[item.cell_num] = list(item.test_outputs)
    if report.failed:
        rerun.failed = True
    if rerun.failed:
        path = _artifact_path(item.config, notebook)
        try:
            _write_rerun(path, rerun)
        except Exception as exc:  # noqa: BLE001 - never hide the real failure
            report.sections.append((RERUN_SECTION, f"could not be written: {exc}"))
        else:
            if report.failed:
                report.sections.append((RERUN_SECTION, f"{KEPT_AT}{path}"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    store = getattr(session.config, "_nbval_artifacts", {})
    for notebook, rerun in store.items():
        if not rerun.failed:  # passed this time: drop a stale artifact from an earlier failure
            _artifact_path(session.config, notebook).unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """List the kept re-executed notebooks, read from the failed reports' sections (so it works
    when the cells ran on parallel workers, where the artifacts were written)."""
    kept = {}
    for report in terminalreporter.stats.get("failed", []):
        for title, content in getattr(report, "sections", []):
            if title == RERUN_SECTION and content.startswith(KEPT_AT):
                path = content[len(KEPT_AT):]
                kept.setdefault(path, Path(path).name)
    if kept:
        terminalreporter.section("nbval: re-executed notebooks")
        for path, name in kept.items():
            terminalreporter.write_line(f"{name}: {path}")
