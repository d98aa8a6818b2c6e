"""Imported by the process the runner's workers are forked from (multiprocessing's forkserver).

Importing papermill, nbclient and nbconvert and compiling the page templates once there means
every worker starts with them ready (a first HTML export alone costs ~1.8 s). The fork happens
from that clean, single-threaded process, never from the runner's own.
"""

from __future__ import annotations

import sys

# jsonschema imports rfc3987_syntax (if installed) to check "iri" formats, which compiles a grammar
# at import: ~2.5 s of every nbformat start-up on a small machine. Notebook schemas never use that
# format, so the runner's processes do without it.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbclient  # noqa: E402,F401
import papermill  # noqa: E402,F401

from analysis.runner import execute, export, kernels  # noqa: E402,F401

export.warm()
