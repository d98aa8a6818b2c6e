"""nbformat without its one slow optional import, for the runner's processes and the test suite.

jsonschema imports ``rfc3987_syntax`` (when installed) to check "iri" string formats, and that
package compiles a Lark grammar at import: ~2.3 s of every process that imports nbformat on a
small machine (papermill, nbclient, nbconvert, nbval). Notebook schemas never use that format.
Importing this module marks the package as absent, unless jsonschema is already loaded (then
nothing changes). It is also a pytest plugin, loaded before the installed ones (``addopts``:
``-p analysis.runner.lean_imports``), so the suite's processes start without it too.
"""

from __future__ import annotations

import sys

SLOW_OPTIONAL = "rfc3987_syntax"


def skip_slow_optional_imports() -> bool:
    """Mark the slow optional package as absent for this process; True if it was done now."""
    if "jsonschema" in sys.modules or SLOW_OPTIONAL in sys.modules:
        return False
    sys.modules[SLOW_OPTIONAL] = None  # type: ignore[assignment]  # an import of it raises ImportError
    return True


skip_slow_optional_imports()
