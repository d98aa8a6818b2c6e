"""The committed notebooks are validated by nbval in strict mode in every plain ``pytest`` run.

The validation itself is not here: ``testpaths`` names ``notebooks`` and the repository's
conftest.py collects each ``notebooks/[0-9][0-9]_*.ipynb`` with nbval (strict: every stored
output compared), one item per cell, run in order in one kernel on one worker. These tests check
that wiring without starting a kernel: a notebook that the default run would silently skip, or
validate leniently, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"


@pytest.fixture
def wiring(request: pytest.FixtureRequest):
    """The repository's conftest.py, as pytest loaded it."""
    return request.config.pluginmanager.get_plugin(str(ROOT / "conftest.py"))


def test_the_default_run_includes_the_notebooks(pytestconfig: pytest.Config) -> None:
    assert "notebooks" in pytestconfig.getini("testpaths")
    assert pytestconfig.pluginmanager.hasplugin("nbval")


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_is_collected_by_nbval_in_strict_mode(notebook: Path, request: pytest.FixtureRequest, wiring) -> None:
    from nbval.plugin import IPyNbCell, IPyNbFile

    collectors = request.config.hook.pytest_collect_file(file_path=notebook, parent=request.session)
    nodes = [c for c in collectors if isinstance(c, IPyNbFile)]
    assert len(nodes) == 1, f"{notebook.name} is not collected by nbval once (name outside {wiring.NOTEBOOK_PATTERN}?)"
    node = nodes[0]
    cells = list(node.collect())
    code_cells = [c for c in node.nb.cells if c.cell_type == "code"]
    assert cells and all(isinstance(c, IPyNbCell) for c in cells)
    assert len(cells) == len(code_cells)
    assert node.compare_outputs  # strict: every output compared, not only run (as --nbval-lax would)
    unchecked = [c.name for c in cells if not c.options["check"] or c.options["skip"]]
    assert unchecked == [], f"{notebook.name}: cells whose outputs nbval would not compare: {unchecked}"
    assert len({wiring.scheduling_group(c.nodeid) for c in cells}) == 1  # one worker runs them in order


def test_a_notebook_is_run_whole_and_in_order_whatever_selects_or_reorders_its_cells(wiring) -> None:
    """``--lf`` (only the failed cell), ``--ff`` (failed first) or a keyword picking one cell
    would run a cell alone or out of order in a kernel whose earlier cells never ran."""
    from types import SimpleNamespace

    class IPyNbCell(SimpleNamespace):  # what the wiring recognises a notebook cell by: its type's name
        pass

    a = [IPyNbCell(path=Path("a.ipynb"), cell_num=i, name=f"a{i}") for i in range(3)]
    b = [IPyNbCell(path=Path("b.ipynb"), cell_num=i, name=f"b{i}") for i in range(2)]
    t1, t2 = SimpleNamespace(name="t1"), SimpleNamespace(name="t2")
    collected = [t1, *a, *b, t2]

    def names(items: list) -> list[str]:
        return [item.name for item in items]

    assert names(wiring.whole_notebooks(collected, [a[2]])) == ["a0", "a1", "a2"]  # --lf after a2 failed
    assert names(wiring.whole_notebooks(collected, [b[1], t1, a[2], a[0], a[1], t2, b[0]])) == [  # --ff
        "b0", "b1", "t1", "a0", "a1", "a2", "t2"]
    assert names(wiring.whole_notebooks(collected, [t1, t2])) == ["t1", "t2"]  # -m "not slow": no cell, none added
    assert names(wiring.whole_notebooks(collected, collected)) == names(collected)
