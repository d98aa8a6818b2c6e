"""Replacing a folder the tools wrote, and never one they did not.

Both the report runner (``reports/<area>/<year>/``) and the data build (``data/series/``) write a
whole folder at a time: everything goes into a hidden staging folder beside the target, which is
then swapped in with one ``rename`` (on Linux an atomic exchange, so the target is always either
the old or the new folder, complete). What the swap moves out is deleted only when it carries the
tool's own marker; anything else is refused up front, so a mistyped ``--out`` can never delete a
user's files.

* :func:`check_target` refuses, with one line, a target that is dangerous to replace (the file
  system root, the home folder, the repository, the current folder or any folder containing it)
  or that already holds files without the marker.
* :class:`RunLock` marks a staging folder as belonging to a live run (an advisory lock on a file
  inside it, released by the operating system when the run dies, however it dies), so
  :func:`clean_leftovers` removes only what killed runs left behind, on every platform.
* :func:`publish` swaps the staging folder in and removes the previous folder only if it is ours.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from analysis.core.errors import OutputError, shorten

#: The file every staging folder holds while its run is alive (the lock) and as proof of origin.
STAGING_MARK = ".lva-staging"

Marker = Callable[[Path], bool]


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_target(
    target: str | Path,
    *,
    is_ours: Marker,
    what: str,
    marker_name: str,
    protected: tuple[Path, ...] = (),
) -> Path:
    """Return ``target`` as an absolute path if it may be replaced by a new ``what``; else OutputError.

    Refused: an empty path; the file system root, the home folder, any of ``protected`` (e.g.
    the repository) and any folder that contains the current directory; a path that is a file;
    and an existing folder that is not empty and for which ``is_ours`` is False (it holds files
    the tool did not write). An absent or empty folder, or one ``is_ours`` accepts, is fine.
    """
    text = str(target)
    if not text.strip():
        raise OutputError(f"the output folder for the {what} is empty; name a folder, e.g. reports/London/2025")
    path = _resolved(Path(text))
    shown = shorten(text)
    cwd = _resolved(Path.cwd())
    home = _resolved(Path.home())
    if path == Path(path.anchor):
        raise OutputError(f"refusing to write the {what} to {shown}: that is the root of the file system")
    if path == home:
        raise OutputError(f"refusing to write the {what} to {shown}: that is your home folder")
    for folder in protected:
        if path == _resolved(folder):
            raise OutputError(f"refusing to write the {what} to {shown}: that is the project's own folder")
    if _is_within(cwd, path):
        raise OutputError(
            f"refusing to write the {what} to {shown}: it is the current folder or contains it; "
            "name a new folder for it"
        )
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise OutputError(f"refusing to write the {what} to {shown}: it exists and is not a folder")
    if path.is_dir():
        try:
            empty = not any(path.iterdir())
        except OSError as exc:
            raise OutputError(f"cannot read {shown}: {exc.strerror or exc}") from None
        if not empty and not is_ours(path):
            raise OutputError(
                f"refusing to replace {shown}: it holds files that are not a {what} written by this "
                f"tool (no {marker_name}); choose a new or empty folder"
            )
    return path


# ---------------------------------------------------------------------------------------------
# Liveness of a run: an advisory lock on a file in its staging folder
# ---------------------------------------------------------------------------------------------


class RunLock:
    """An exclusive advisory lock on ``folder/.lva-staging``, held while the run lives.

    The operating system drops the lock when the process (and every child that inherited the
    descriptor) exits, including on SIGKILL, so :func:`is_locked` tells a live run from a dead
    one without reading ``/proc`` or trusting process ids.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / STAGING_MARK
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise OutputError(f"{self.path.parent} is in use by another run")
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def is_locked(folder: Path) -> bool:
    """True while a live run holds the lock of staging ``folder`` (False if there is no lock file)."""
    path = Path(folder) / STAGING_MARK
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Staging, publishing and cleaning up
# ---------------------------------------------------------------------------------------------


def staging_for(final: Path) -> tuple[Path, RunLock]:
    """Create and lock a new hidden staging folder beside ``final``: ``.<name>.tmp-<pid>-<random>``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}"
    staging.mkdir()
    lock = RunLock(staging)
    lock.acquire()
    return staging, lock


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, getattr(errno, "EOPNOTSUPP", errno.EINVAL)):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _remove_ours(folder: Path, is_ours: Marker) -> None:
    if is_ours(folder):
        shutil.rmtree(folder, ignore_errors=True)


def publish(staging: Path, final: Path, *, is_ours: Marker, what: str, was_absent: bool = False) -> None:
    """Put ``staging`` in place of ``final``; the previous ``final`` is removed only if ``is_ours``.

    ``final`` must have passed :func:`check_target`; it is checked again here, right before the
    swap, and swapped back if what came out is not ours. ``was_absent``: ``final`` did not exist
    when the run started, so a ``final`` that exists now was written by another run meanwhile:
    the first run wins and this one gets an OutputError saying so.
    """
    lock_file = staging / STAGING_MARK
    if was_absent and final.is_dir() and any(final.iterdir()):
        raise OutputError(
            f"another run wrote {shorten(str(final))} while this one was running; this run's {what} was not published"
        )
    if not final.exists() and not final.is_symlink():
        with contextlib.suppress(OSError):
            lock_file.unlink()
        try:
            os.rename(staging, final)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR, errno.ENOTDIR):
                raise OutputError(
                    f"another run wrote {shorten(str(final))} at the same time; this run's {what} was not published"
                ) from None
            raise
        return
    if final.is_dir() and any(final.iterdir()) and not is_ours(final):
        raise OutputError(f"refusing to replace {shorten(str(final))}: it no longer holds a {what} written by this tool")
    with contextlib.suppress(OSError):
        lock_file.unlink()
    if _exchange(staging, final):
        if any(staging.iterdir()) and not is_ours(staging):  # changed between the check and the swap
            _exchange(staging, final)
            raise OutputError(f"refusing to replace {shorten(str(final))}: its content changed while the {what} was built")
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous folder
        return
    old = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(3)}")
    os.rename(final, old)
    try:
        os.rename(staging, final)
    except OSError:
        os.rename(old, final)
        raise
    if any(old.iterdir()) and not is_ours(old):
        return  # never delete what we did not write; it stays beside the new folder
    shutil.rmtree(old, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]{6}")


def clean_leftovers(final: Path, *, is_ours: Marker) -> list[Path]:
    """Remove what killed runs left beside ``final``; restore a folder caught mid-swap. Returns what went.

    A staging folder is removed only when it carries the staging mark and no live run holds its
    lock; an ``.old-`` folder (the previous version, moved aside during a non-atomic swap) is
    moved back when ``final`` is missing, else removed if it is ours.
    """
    removed: list[Path] = []
    parent = final.parent
    if not parent.is_dir():
        return removed
    for entry in sorted(parent.iterdir()):
        match = _LEFTOVER.fullmatch(entry.name)
        if not match or match.group("name") != final.name or not entry.is_dir():
            continue
        if match.group("kind") == "tmp":
            if not (entry / STAGING_MARK).is_file() or is_locked(entry):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif not final.exists():
            os.rename(entry, final)
        elif is_ours(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def discard_staging(staging: Path, lock: RunLock | None = None) -> None:
    """Remove a staging folder this run created (after a failure or interruption)."""
    if lock is not None:
        lock.release()
    if (staging / STAGING_MARK).is_file() or staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
