"""Fresh Jupyter kernels in milliseconds: a fork server ("zygote") for ipykernel (Linux only).

Starting a Python kernel the usual way costs a new interpreter, ipykernel's imports and then the
notebook's own imports (pandas, matplotlib, scipy: several seconds on a small machine), and every
notebook run pays it again. The zygote pays it once: a process that imports ipykernel and the
modules the notebooks import, then waits. For each kernel it ``fork()``s; the child is a new
process (its own empty namespace, module state exactly as after import, no history) that only
has to open its sockets and build the IPython shell. Every notebook gets its own forked process,
which exits afterwards; the zygote itself never runs notebook code. Besides imports it runs the
warm-ups it is given (``module:function``): package code that reads the committed data files into
caches keyed by each file's size and modification time, so a kernel reads a file again only if it
has changed, and otherwise finds it parsed.

The runner reaches it through a jupyter_client kernel provisioner (``analysis.runner.kernels``):
papermill and nbclient start, signal and stop these kernels as they would any other.

Safety rules, each enforced here:

* **Nothing forks after threads have started.** The zygote is started with the BLAS and OpenMP
  thread pools limited to one thread (numpy would otherwise start them at import), and before
  answering "ready" it counts its own threads; more than one and it answers "unsafe" instead, and
  the runner falls back to normally started kernels.
* **Only processes that are provably ours are signalled.** A kernel is signalled only by the
  zygote, its parent, and only while it has not been reaped (until then its process id cannot be
  reused); the id is dropped the moment the zygote reaps it. Each kernel is tied to the
  connection of the client that asked for it: the zygote reports the kernel's exit on it, takes
  signal requests only from it, and kills the kernel if that client goes away.
* Kernels die with the zygote (``PR_SET_PDEATHSIG``), and the zygote with its parent.

Protocol (one JSON object a line, on a Unix socket): the client sends
``{"connection_file", "cwd", "env", "arguments"}``; the zygote answers ``{"pid": N}`` (or
``{"error": ...}``), then later ``{"exit": status}`` when the kernel has exited and been reaped.
The client may send ``{"signal": S}`` at any time before that.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from typing import Any

from analysis.runner.processes import (
    SINGLE_THREADED,
    os_threads,
    set_parent_death_signal,
)

#: Modules never imported in the zygote, whatever the notebooks import: importing them
#: *activates* something in a running IPython (matplotlib_inline registers a post-execute hook).
NEVER_PRELOAD = ("matplotlib_inline", "ipykernel_launcher", "IPython.core.pylabtools")

#: Always preloaded: what every kernel imports anyway, including what ``IPKernelApp.initialize()``
#: imports lazily (the debugger alone is ~0.15 s), so a forked kernel only opens sockets, and
#: psutil, which ipykernel imports at shutdown to find the kernel's children (~20 ms a kernel).
BASE_PRELOAD = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
    "IPython.display", "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
    "IPython.extensions.storemagic", "pdb", "pydoc", "sqlite3", "tornado.gen", "tornado.locks",
    "tornado.queues", "psutil",
)

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def supported() -> bool:
    """True where kernels can be forked safely (Linux: fork and ``PR_SET_PDEATHSIG``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


# --------------------------------------------------------------------------------------------
# The zygote (server side)
# --------------------------------------------------------------------------------------------


def _preload(modules: Iterable[str]) -> None:
    """Import each module; an entry ``module:function`` imports the module, then calls the
    function with no arguments (a warm-up, run after every import: e.g. filling caches of data
    files that are keyed by the files' stamps, so a forked kernel starts with them read)."""
    names = list(modules)
    warmups = [name for name in names if ":" in name]
    for name in [n for n in names if ":" not in n] + warmups:
        module, _, function = name.partition(":")
        if any(module == bad or module.startswith(bad + ".") for bad in NEVER_PRELOAD):
            continue
        with contextlib.suppress(BaseException):  # the notebook will raise it properly itself
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()


def _kernel_child(request: dict[str, Any], zygote_pid: int, closing: list[Any]) -> None:
    """Runs in the forked child: become a kernel. Never returns."""
    code = 1
    try:
        for obj in closing:
            with contextlib.suppress(Exception):
                obj.close()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        set_parent_death_signal(signal.SIGKILL)
        if os.getppid() != zygote_pid:  # the zygote died between fork and prctl
            os._exit(1)
        os.setsid()  # own process group, like jupyter_client's kernels
        for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY)):
            # stdout: the zygote's is a pipe nobody reads after start-up; what a notebook prints
            # goes to IOPub, not to this file descriptor.
            null = os.open(os.devnull, mode)
            os.dup2(null, fd)
            os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.update(SINGLE_THREADED)
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        import random  # a fresh interpreter seeds its generators from the OS; a fork would share them

        random.seed()
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            with contextlib.suppress(Exception):
                numpy.random.seed()
        import ipykernel_launcher  # only for its path, as sys.argv[0]

        sys.argv = [ipykernel_launcher.__file__, "-f", request["connection_file"], *request.get("arguments", [])]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        app.start()
        code = 0
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


class _Server:
    """The zygote's event loop: accept requests, fork kernels, relay signals, report exits."""

    def __init__(self, server: socket.socket) -> None:
        self.server = server
        self.sel = selectors.DefaultSelector()
        self.children: dict[int, socket.socket] = {}  # un-reaped kernel pid -> its client connection
        self.buffers: dict[socket.socket, bytes] = {}
        self.pid = os.getpid()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd does the work
        self.sel.register(server, selectors.EVENT_READ, "accept")
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.sel.register(sys.stdin.buffer, selectors.EVENT_READ, "stdin")

    def run(self) -> int:
        while True:
            for key, _ in self.sel.select():
                if key.data == "stdin":
                    if not os.read(sys.stdin.fileno(), 4096):
                        return 0
                elif key.data == "wake":
                    with contextlib.suppress(OSError):
                        while os.read(self.wake_r, 4096):
                            pass
                    self.reap()
                elif key.data == "accept":
                    conn, _ = self.server.accept()
                    self.buffers[conn] = b""
                    self.sel.register(conn, selectors.EVENT_READ, "client")
                else:
                    self.client(key.fileobj)  # type: ignore[arg-type]

    def client(self, conn: socket.socket) -> None:
        try:
            chunk = conn.recv(65536)
        except OSError:
            chunk = b""
        pid = next((p for p, c in self.children.items() if c is conn), None)
        if not chunk:  # the client went away: its kernel goes too
            self.sel.unregister(conn)
            self.buffers.pop(conn, None)
            if pid is not None:
                self.signal(pid, signal.SIGKILL)
            else:
                conn.close()
            return
        self.buffers[conn] += chunk
        while b"\n" in self.buffers[conn]:
            line, self.buffers[conn] = self.buffers[conn].split(b"\n", 1)
            try:
                request = json.loads(line)
            except ValueError as exc:
                _send(conn, {"error": str(exc)})
                continue
            if "signal" in request:
                if pid is not None:
                    self.signal(pid, int(request["signal"]))
            elif pid is None:
                self.fork(conn, request)

    def fork(self, conn: socket.socket, request: dict[str, Any]) -> None:
        threads = os_threads()
        if threads > 1:
            _send(conn, {"error": f"the zygote has {threads} threads; refusing to fork"})
            return
        child = os.fork()
        if child == 0:
            for fd in (self.wake_r, self.wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _kernel_child(request, self.pid, [self.server, self.sel, *self.buffers])
        self.children[child] = conn
        _send(conn, {"pid": child})

    def signal(self, pid: int, signum: int) -> None:
        """Signal the process group of kernel ``pid``: only while it is our un-reaped child."""
        if pid in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signum)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)  # pruned the moment it is reaped
            if conn is not None:
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                with contextlib.suppress(KeyError, ValueError):
                    self.sel.unregister(conn)
                self.buffers.pop(conn, None)
                conn.close()

    def close(self) -> None:
        for pid in list(self.children):
            self.signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.children and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.01)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(0)  # run serve()'s clean-up (SIGTERM also comes from PR_SET_PDEATHSIG)


def serve(socket_path: str, preload: list[str]) -> int:
    """Run the zygote: listen, preload, then fork a kernel per request until stdin closes.

    The socket is bound before preloading, so clients may connect at once and wait in the
    backlog. On the way out (stdin closed, SIGTERM, or the parent's death) it kills the kernels it
    has not reaped and removes its socket folder.
    """
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    set_parent_death_signal(signal.SIGTERM)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(128)
    loop: _Server | None = None
    try:
        if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher: no cwd on sys.path
            del sys.path[0]
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # pydevd's import-time warning
        _preload([*BASE_PRELOAD, *preload])
        import gc

        gc.collect()
        gc.freeze()  # keep the preloaded heap shared between kernels (copy-on-write)
        threads = os_threads()
        if threads > 1:
            print(f"unsafe: {threads} threads after preloading", flush=True)
            return 1
        loop = _Server(server)
        print("ready", flush=True)
        return loop.run()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if loop is not None:
            loop.close()
        server.close()
        folder = os.path.dirname(socket_path)
        if os.path.basename(folder).startswith("lva-k-"):
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Client side: start the zygote, ask it for kernels
# --------------------------------------------------------------------------------------------


class ZygoteError(RuntimeError):
    """The zygote could not start, or refused to fork (the runner then uses normal kernels)."""


class Zygote:
    """Handle on a zygote process (start it early: preloading takes a few seconds)."""

    def __init__(self, preload: Iterable[str] = ()) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="lva-k-")
        self.socket_path = os.path.join(self.tmpdir, "zygote.sock")
        self.preload = sorted(set(preload))
        env = {**os.environ, **SINGLE_THREADED}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "analysis.runner.forkserver", self.socket_path, *self.preload],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )
        self._ready = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the zygote has preloaded; ZygoteError if it failed or is unsafe."""
        if self._ready:
            return
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while True:
            if sel.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
                line = self.proc.stdout.readline().decode(errors="replace").strip()
                if line == "ready":
                    self._ready = True
                    return
                if line or self.proc.poll() is not None:
                    raise ZygoteError(line or f"kernel zygote exited with code {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise ZygoteError("kernel zygote did not become ready")

    def close(self) -> None:
        """Stop the zygote (and with it any kernel still running); safe to call twice."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            for stop in (None, self.proc.terminate, self.proc.kill):
                if stop is not None:
                    stop()
                try:
                    self.proc.wait(timeout=0.5 if stop is None else 5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        with contextlib.suppress(Exception):
            assert self.proc.stdout is not None
            self.proc.stdout.close()
        import shutil

        shutil.rmtree(self.tmpdir, ignore_errors=True)


class ForkedKernel:
    """A kernel forked by the zygote, with the part of ``subprocess.Popen``'s interface that a
    kernel provisioner uses: ``pid``, ``poll()``, ``wait()``, ``send_signal()``, ``kill()``,
    ``terminate()``. Its exit and every signal travel over its own connection to the zygote."""

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int, pending: bytes = b"") -> None:
        self.conn = conn
        self.pid = pid
        self.returncode: int | None = None
        self._buffer = pending

    def _read(self, timeout: float | None) -> None:
        if self.returncode is not None:
            return
        if b"\n" in self._buffer:
            self._consume()
            return
        self.conn.settimeout(timeout)
        try:
            chunk = self.conn.recv(4096)
        except (BlockingIOError, TimeoutError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the zygote is gone; so are its kernels (PR_SET_PDEATHSIG)
            self.returncode = -signal.SIGKILL
            return
        self._buffer += chunk
        self._consume()

    def _consume(self) -> None:
        while b"\n" in self._buffer and self.returncode is None:
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line or b"{}")
            if "exit" in message:
                self.returncode = int(message["exit"])
                self.conn.close()
                return

    def poll(self) -> int | None:
        self._read(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            self._read(left)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(OSError):
                self.conn.sendall(json.dumps({"signal": int(signum)}).encode() + b"\n")

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def fork_kernel(socket_path: str, connection_file: str, cwd: str, env: dict[str, str], arguments: list[str],
                *, connect_timeout: float = 120.0) -> ForkedKernel:
    """Ask the zygote at ``socket_path`` for a kernel; return its handle (ZygoteError if refused).

    The zygote may still be preloading: the connection waits in its backlog until it is ready.
    """
    deadline = time.monotonic() + connect_timeout
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            conn.connect(socket_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                conn.close()
                raise ZygoteError(f"kernel zygote not listening on {socket_path}") from None
            time.sleep(0.02)
    request = {"connection_file": connection_file, "cwd": cwd, "env": env, "arguments": arguments}
    conn.sendall(json.dumps(request).encode() + b"\n")
    conn.settimeout(connect_timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    first, _, rest = data.partition(b"\n")
    answer = json.loads(first or b"{}")
    if "pid" not in answer:
        conn.close()
        raise ZygoteError(f"kernel zygote refused: {answer.get('error', 'no answer')}")
    return ForkedKernel(conn, int(answer["pid"]), rest)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m analysis.runner.forkserver SOCKET [MODULE | MODULE:FUNCTION ...]", file=sys.stderr)
        return 2
    return serve(args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
