"""The package's shape, kept by tests: layers that import only downwards, and modules of a readable size.

Layers, lowest first (docs/architecture.md):

    core     errors, paths, safe folder replacement, Markdown escaping, dates   (standard library)
    data     parsers, checks, schemas, the build, fetch, access to the series
    stories  parameters, statistics, the sentence layer, one module per topic   (numbers and words)
    present  house style, figure frame, saving and showing figures, the Page   (what a reader sees)
    runner   command line, papermill execution, kernels, HTML pages, the report index

A module may import from its own layer and the layers below; the check reads every ``import``
with ``ast``, including imports inside functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "analysis"
LAYERS = ("core", "data", "stories", "present", "runner")
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(module: str) -> int | None:
    """Index of a module's layer (``analysis.data.build`` -> 1); None for the package's top level."""
    parts = module.split(".")
    if parts[0] != "analysis" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("analysis")]


def test_every_module_belongs_to_a_layer() -> None:
    stray = [p.relative_to(ROOT).as_posix() for p in _modules()
             if p.parent != PACKAGE and p.relative_to(PACKAGE).parts[0] not in LAYERS]
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert stray == [] and top == ["__init__.py", "__main__.py"], (stray, top)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_each_layer_imports_only_from_the_layers_below(path: Path) -> None:
    own = _layer("analysis." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    if own is None:
        return  # analysis/__init__.py and __main__.py sit above every layer
    upward = [f"line {line}: {name}" for line, name in _imports(path)
              if (_layer(name) or 0) > own]
    assert upward == [], f"{path.relative_to(ROOT)} ({LAYERS[own]}) imports from a higher layer: {upward}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_is_longer_than_the_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it (limit {MAX_LINES})"


def test_checking_parameters_needs_no_pandas() -> None:
    """The command line refuses a bad year or area before importing anything heavy."""
    code = (
        "import sys\n"
        "from analysis.stories import params\n"
        "params.validate_parameters(2025, 'London')\n"
        "from analysis.runner import cli, report\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'matplotlib', 'scipy', 'papermill', 'nbconvert', 'pandera') if m in sys.modules)\n"
        "assert heavy == [], heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_the_fork_server_is_imported_only_where_kernels_are_forked() -> None:
    """On macOS and Windows the runner uses stock kernels without importing the fork code."""
    code = (
        "import sys\n"
        "from analysis.runner import cli, execute, kernels, report\n"
        "assert 'analysis.runner.forkserver' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
