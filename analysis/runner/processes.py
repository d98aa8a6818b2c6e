"""Process settings shared by the runner's workers and kernels (no fork-server code here).

Imported on every platform; the fork server (``analysis.runner.forkserver``) is imported only
where kernels are forked.
"""

from __future__ import annotations

import contextlib
import os
import sys

#: Thread pools limited to one thread in every kernel the runner starts (and in the zygote, which
#: must not have threads when it forks), so forked and normally started kernels compute alike and
#: parallel notebooks do not oversubscribe the cores.
SINGLE_THREADED = {
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1",
}


def set_parent_death_signal(sig: int) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG


def os_threads() -> int:
    """Threads of this process: from /proc where there is one, else the threads Python knows of."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    import threading

    return threading.active_count()


def exit_with(pid: int) -> None:
    """End this process as soon as process ``pid`` (the runner) ends, however it ends.

    For workers whose parent is not the runner (multiprocessing's forkserver, which outlives a
    killed runner while its workers hold it open). Linux: a pidfd, immune to pid reuse; elsewhere
    nothing (workers there are the runner's own children and get the parent-death signal).
    """
    if not hasattr(os, "pidfd_open"):
        return
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # already gone
        os._exit(1)

    def watch() -> None:
        import select

        select.select([fd], [], [])
        os._exit(1)

    import threading

    threading.Thread(target=watch, name="exit-with-runner", daemon=True).start()
