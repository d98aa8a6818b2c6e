"""What the runner's kernel zygote loads before forking a kernel per notebook.

:func:`kernel_preload` lists it: the modules the notebooks' code cells import, every module the
project's own modules among them import (followed through the package with ``ast``, nothing
imported here), the data warm-up :data:`DATA_WARMUP` (``analysis.stories.warmup``), which
reads the committed series into their stamp-keyed caches, and the chart warm-up
:data:`CHART_WARMUP` (``analysis.present.warmup``), which draws one throw-away chart and table.
A function-level import (statsmodels for the trend fit: ~0.3 s), a first read of a data file or a
process's first chart would otherwise be paid again in every kernel.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from pathlib import Path

#: The zygote's warm-ups (``module:function``): the committed series and cited tables read into their
#: caches; one chart drawn and one table written, so that fonts, text metrics and the table styler's
#: templates are loaded before the fork rather than in every kernel.
DATA_WARMUP = "analysis.stories.warmup:warm"
CHART_WARMUP = "analysis.present.warmup:warm"
PACKAGE = "analysis"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: The runner's own modules never run in a kernel.
RUNNER = "analysis.runner"


def kernel_preload(notebooks: Iterable[Path]) -> set[str]:
    """Module names (and ``module:function`` warm-ups) for the zygote to load for these notebooks."""
    names: set[str] = set()
    for path in notebooks:
        for cell in json.loads(Path(path).read_text(encoding="utf-8")).get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            source = "".join(cell.get("source", ""))
            source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                names |= _imports(ast.parse(source), package="")
            except SyntaxError:
                continue
    names |= _package_imports(names)
    if any(n == "matplotlib" or n.startswith(("matplotlib.", PACKAGE)) for n in names):
        names.add("matplotlib.pyplot")  # the figures are shown through pyplot's inline backend
    if any(n.startswith(f"{PACKAGE}.stories") for n in names):
        names.add(DATA_WARMUP)
    if any(n.startswith(f"{PACKAGE}.present") for n in names):
        names.add(CHART_WARMUP)
    return names


def _imports(tree: ast.AST, package: str) -> set[str]:
    """Absolute names of the modules (and ``module.name`` for ``from`` imports) ``tree`` imports,
    anywhere in it; relative imports are resolved against ``package``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if not package:
                    continue
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def _package_imports(names: set[str]) -> set[str]:
    """Every module that the project's modules among ``names`` import, at the top or inside a
    function, followed through the project's modules; never the runner's own."""
    found: set[str] = set()
    todo = sorted(n for n in names if n == PACKAGE or n.startswith(f"{PACKAGE}."))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name.startswith(RUNNER):
            continue
        seen.add(name)
        source = _source_file(name)
        if source is None:
            continue  # "module.name" of a from-import that is not a module
        package = name if source.name == "__init__.py" else name.rpartition(".")[0]
        for module in _imports(ast.parse(source.read_text(encoding="utf-8")), package):
            if module.startswith(RUNNER):
                continue
            found.add(module)
            if module.startswith(f"{PACKAGE}.") and module not in seen:
                todo.append(module)
    return found


def _source_file(name: str) -> Path | None:
    """The file of one of the project's modules, found from its name alone: importing it (or
    ``importlib.util.find_spec``, which imports its parent packages) would load pandas and
    matplotlib into the runner before the zygote even starts."""
    parts = name.split(".")
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None
