"""Imported by the process the runner's workers are forked from (multiprocessing's forkserver).

Importing papermill, nbclient and nbconvert and compiling the page templates once there means
every worker starts with them ready (a first HTML export alone costs ~1.8 s). The fork happens
from that clean, single-threaded process, never from the runner's own.
"""

from __future__ import annotations

import analysis.runner.lean_imports  # noqa: F401  # first, before nbformat: ~2.3 s less at start-up

import nbclient  # noqa: F401
import papermill  # noqa: F401

from analysis.runner import execute, export, kernels  # noqa: F401

export.warm()
