"""Fresh Jupyter kernels in milliseconds: a fork server ("zygote") for ipykernel.

Starting a Python kernel the usual way costs a new interpreter, ipykernel's imports and then the
notebook's own imports (pandas, matplotlib, scipy: several seconds on a small machine), and every
notebook run pays it again. The zygote pays it once: it is a single-threaded process that imports
ipykernel and the modules the notebooks import, then waits. For each kernel it ``fork()``s; the
child is a brand-new process (its own empty namespace, module state exactly as after import, no
history) that only has to open its sockets and build the IPython shell. Nothing the notebook does
can leak into the next notebook, because every notebook gets its own forked process, which exits
afterwards; the zygote itself never runs notebook code.

Equivalence with a normally started kernel matters (the report must show the same outputs as
``jupyter``/``nbval``): the child sets ``sys.argv``, the working directory, ``JPY_PARENT_PID`` and
``MPLBACKEND`` as ``ipykernel_launcher`` would, reseeds the random generators and only then runs
``IPKernelApp.initialize()``. Modules whose import *activates* something in a running IPython
(``matplotlib_inline.backend_inline`` registers its post-execute hook when first imported) are
never preloaded. ``tests/test_report.py`` runs the fixture notebooks both ways and compares
every output byte for byte.

Linux only (fork + ``prctl(PR_SET_PDEATHSIG)``); elsewhere the runner uses ordinary kernels.

Protocol: the zygote listens on a Unix socket; a request is one JSON line
``{"connection_file": ..., "cwd": ...}``, the answer one JSON line ``{"pid": ...}`` (or
``{"error": ...}``). Closing the zygote's stdin (or the death of its parent) shuts it down, and
kernels die with the zygote.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
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
import uuid
from collections.abc import Iterable
from typing import Any

#: Modules never imported in the zygote, whatever the notebooks import (see module docstring).
NEVER_PRELOAD = ("matplotlib_inline", "ipykernel_launcher", "IPython.core.pylabtools")

#: Always preloaded: what every kernel imports anyway, including what ``IPKernelApp.initialize()``
#: imports lazily (the debugger alone is ~0.15 s), so a forked kernel only opens sockets.
BASE_PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.display",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "pdb",
    "pydoc",
    "sqlite3",
    "tornado.gen",
    "tornado.locks",
    "tornado.queues",
)

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def supported() -> bool:
    """True where kernels can be forked (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG


# --------------------------------------------------------------------------------------------
# The zygote (server side)
# --------------------------------------------------------------------------------------------


def _preload(modules: Iterable[str]) -> None:
    for name in modules:
        if any(name == bad or name.startswith(bad + ".") for bad in NEVER_PRELOAD):
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - the notebook will raise it properly itself
            continue


def _reap(*_: Any) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kernel_child(request: dict[str, Any], zygote_pid: int, closing: list[Any]) -> None:
    """Runs in the forked child: become a kernel. Never returns."""
    code = 1
    try:
        for obj in closing:
            with contextlib.suppress(Exception):
                obj.close()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        set_parent_death_signal(signal.SIGKILL)
        if os.getppid() != zygote_pid:  # the zygote died between fork and prctl
            os._exit(1)
        os.setsid()  # own process group, like jupyter_client's kernels: kill(-pid) reaches children
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # The zygote's stdout is a pipe its parent reads only until "ready". A kernel prints its
        # connection info there at start-up: inherited, those lines would fill the pipe after a
        # few hundred kernels and every later kernel would block in initialize(). What a
        # notebook prints goes to IOPub, not to this file descriptor.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.update(request.get("env") or {})
        os.environ["JPY_PARENT_PID"] = str(zygote_pid)
        # A fresh interpreter seeds its generators from the OS; a fork would share the parent's.
        import random

        random.seed()
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            with contextlib.suppress(Exception):
                numpy.random.seed()
        import ipykernel_launcher  # noqa: F401 - only for its path, as sys.argv[0]

        sys.argv = [ipykernel_launcher.__file__, "-f", request["connection_file"]]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["-f", request["connection_file"], *request.get("extra_arguments", [])])
        app.start()
        code = 0
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(0)  # run serve()'s clean-up (SIGTERM also comes from PR_SET_PDEATHSIG)


def serve(socket_path: str, preload: list[str]) -> int:
    """Run the zygote: listen, preload, then fork a kernel per request until stdin closes.

    The socket is bound *before* preloading: clients may connect at once and simply wait in the
    backlog until the imports are done. On the way out (stdin closed, SIGTERM, or the parent's
    death) it kills its kernels and removes its socket folder.
    """
    children: set[int] = set()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    set_parent_death_signal(signal.SIGTERM)
    try:
        return _serve(socket_path, preload, children)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for pid in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        folder = os.path.dirname(socket_path)
        if os.path.basename(folder).startswith("lva-k-"):
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(socket_path)


def _serve(socket_path: str, preload: list[str], children: set[int]) -> int:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(128)
    # Same start-up conditions as ipykernel_launcher: no cwd on sys.path while importing.
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    # pydevd (imported by ipykernel's debugger) warns about frozen modules at import; a normal
    # kernel prints that to the terminal, not to the notebook. Keep the zygote's stderr clean.
    quiet = "PYDEVD_DISABLE_FILE_VALIDATION" not in os.environ
    if quiet:
        os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    _preload([*BASE_PRELOAD, *preload])
    if quiet:
        del os.environ["PYDEVD_DISABLE_FILE_VALIDATION"]
    import gc

    gc.collect()
    gc.freeze()  # keep the preloaded heap shared between kernels (copy-on-write)
    if os.environ.get("LVA_DEBUG"):
        threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else -1
        print(f"zygote: {len(sys.modules)} modules, {threads} OS threads", file=sys.stderr, flush=True)

    signal.signal(signal.SIGCHLD, _reap)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, "accept")
    stdin = sys.stdin.buffer
    sel.register(stdin, selectors.EVENT_READ, "stdin")
    sys.stdout.write("ready\n")  # for Zygote.wait_ready()
    sys.stdout.flush()
    zygote_pid = os.getpid()
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                if not os.read(stdin.fileno(), 4096):
                    return 0
                continue
            conn, _addr = server.accept()
            with conn:
                data = _recv_line(conn)
                try:
                    request = json.loads(data)
                except ValueError as exc:
                    conn.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
                    continue
                pid = os.fork()
                if pid == 0:
                    _kernel_child(request, zygote_pid, [conn, server, sel])
                children.add(pid)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


# --------------------------------------------------------------------------------------------
# Client side: start the zygote, ask it for kernels
# --------------------------------------------------------------------------------------------


class Zygote:
    """Handle on a running zygote process (start it early: preloading takes a few seconds)."""

    def __init__(self, preload: Iterable[str] = (), *, env: dict[str, str] | None = None) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="lva-k-")
        self.socket_path = os.path.join(self.tmpdir, "zygote.sock")
        self.preload = sorted(set(preload))
        cmd = [sys.executable, "-m", "analysis.runner_kernel", self.socket_path, *self.preload]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._ready = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        if self._ready:
            return
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kernel zygote exited with code {self.proc.returncode}")
            if sel.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
                line = self.proc.stdout.readline()
                if line.strip() == b"ready":
                    self._ready = True
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("kernel zygote did not become ready")

    def address(self) -> tuple[str, str]:
        """What a worker process needs to talk to the zygote: (socket path, temp dir)."""
        return self.socket_path, self.tmpdir

    def close(self) -> None:
        """Stop the zygote (and with it any kernel still running); safe to call twice."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            # Idle, it exits at once and kills its kernels' process groups; still preloading, it
            # would only notice later, so terminate it (its kernels die with it: PDEATHSIG).
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


def request_kernel(
    socket_path: str, connection_file: str, cwd: str, *, connect_timeout: float = 60.0, **extra: Any
) -> int:
    """Ask the zygote at ``socket_path`` to fork a kernel; return its pid.

    The zygote may still be starting (its socket not bound yet): retry the connection briefly.
    """
    deadline = time.monotonic() + connect_timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        while True:
            try:
                conn.connect(socket_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kernel zygote not listening on {socket_path}") from None
                time.sleep(0.02)
        conn.sendall(json.dumps({"connection_file": connection_file, "cwd": cwd, **extra}).encode() + b"\n")
        data = _recv_line(conn)
    answer = json.loads(data or b"{}")
    if "pid" not in answer:
        raise RuntimeError(f"kernel zygote refused: {answer.get('error', 'no answer')}")
    return int(answer["pid"])


def _recv_line(conn: socket.socket) -> bytes:
    """Read from ``conn`` up to and including a newline (or until the peer closes)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie awaiting its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the zygote) still answers kill(0): check its state.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except OSError:
        return False


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process ``pid`` (Linux /proc), else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class ForkedKernel:
    """Minimal kernel-manager stand-in for nbclient (``has_kernel``, ``is_alive``, interrupt, stop).

    nbclient only needs these when it is handed an already-started kernel and client.
    """

    def __init__(self, pid: int, connection_file: str, ipc_prefix: str | None) -> None:
        self.pid = pid
        self.connection_file = connection_file
        self.ipc_prefix = ipc_prefix
        self.has_kernel = True
        self.kernel_name = "python3"
        self.kernel_id = f"forked-{pid}"

    def is_alive(self) -> bool:
        return pid_alive(self.pid)

    def interrupt_kernel(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)

    # nbclient calls these only when it is interrupted by a signal while running a cell.
    def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        self.kill()

    def cleanup_resources(self, restart: bool = False) -> None:
        self.cleanup_files()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while pid_alive(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def cleanup_files(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.connection_file)
        if self.ipc_prefix:
            for i in range(1, 20):
                with contextlib.suppress(OSError):
                    os.unlink(f"{self.ipc_prefix}-{i}")


def _new_connection_file(tmpdir: str) -> tuple[str, str | None]:
    from jupyter_client.connect import write_connection_file

    name = uuid.uuid4().hex[:12]
    fname = os.path.join(tmpdir, f"kernel-{name}.json")
    if sys.platform.startswith("linux"):
        prefix = os.path.join(tmpdir, f"k{name}")
        write_connection_file(fname, ip=prefix, transport="ipc", key=uuid.uuid4().hex.encode())
        return fname, prefix
    write_connection_file(fname, ip="127.0.0.1", transport="tcp", key=uuid.uuid4().hex.encode())
    return fname, None


class _ForkedKernelClientBase:
    kernel_pid: int = 0

    def is_alive(self) -> bool:  # nbclient polls this while a cell runs
        return pid_alive(self.kernel_pid)

    async def _async_is_alive(self) -> bool:
        return pid_alive(self.kernel_pid)


def _client_class() -> type:
    from jupyter_client.asynchronous import AsyncKernelClient

    return type("ForkedKernelClient", (_ForkedKernelClientBase, AsyncKernelClient), {})


def _ForkedKernelClient() -> Any:  # noqa: N802 - a factory standing in for the class
    global _CLIENT_CLASS, _CONTEXT
    if _CLIENT_CLASS is None:
        import zmq
        import zmq.asyncio

        _CLIENT_CLASS = _client_class()
        # The client connects while the forked kernel is still binding its sockets; zmq then
        # retries after RECONNECT_IVL (100 ms by default). Retry sooner.
        _CONTEXT = zmq.asyncio.Context()
        _CONTEXT.setsockopt(zmq.RECONNECT_IVL, 5)
    return _CLIENT_CLASS(context=_CONTEXT)


_CLIENT_CLASS: type | None = None
_CONTEXT: Any = None


async def _wait_for_ready(kc: Any, km: ForkedKernel, timeout: float) -> None:
    """Like ``KernelClient.wait_for_ready`` without its fixed 0.2 s sleeps.

    Ready means: a ``kernel_info_reply`` arrived on the shell channel *and* the kernel's
    ``idle`` status for that request arrived on IOPub (so the subscription is live and no
    output of the first cell can be lost).
    """
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        msg_id = kc.kernel_info()
        reply_deadline = time.monotonic() + 0.5
        got_reply = got_idle = False
        while time.monotonic() < reply_deadline and not (got_reply and got_idle):
            if not got_reply:
                try:
                    msg = await kc.shell_channel.get_msg(timeout=0.02)
                except Empty:
                    pass
                else:
                    if msg["parent_header"].get("msg_id") == msg_id:
                        got_reply = True
                        kc._handle_kernel_info_reply(msg)
            try:
                msg = await kc.iopub_channel.get_msg(timeout=0.02)
            except Empty:
                continue
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                got_idle = True
        if got_reply and got_idle:
            return
        if not km.is_alive():
            raise RuntimeError("forked kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"forked kernel did not answer within {timeout:.0f} s")


async def start_forked_kernel(
    socket_path: str, tmpdir: str, cwd: str, *, startup_timeout: float = 60.0
) -> tuple[ForkedKernel, Any]:
    """Fork a kernel from the zygote and return (manager stand-in, ready AsyncKernelClient)."""
    connection_file, prefix = _new_connection_file(tmpdir)
    pid = await asyncio.get_running_loop().run_in_executor(
        None,
        lambda: request_kernel(
            socket_path,
            connection_file,
            cwd,
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        ),
    )
    km = ForkedKernel(pid, connection_file, prefix)
    kc = _ForkedKernelClient()
    kc.kernel_pid = pid
    kc.load_connection_file(connection_file)
    kc.start_channels(hb=False)
    try:
        await _wait_for_ready(kc, km, startup_timeout)
    except BaseException:
        kc.stop_channels()
        km.kill()
        km.cleanup_files()
        raise
    kc.allow_stdin = False
    return km, kc


async def stop_forked_kernel(km: ForkedKernel, kc: Any, *, timeout: float = 3.0) -> None:
    """Ask the kernel to shut down, wait briefly, then make sure it is gone."""
    with contextlib.suppress(Exception):
        kc.shutdown()
    with contextlib.suppress(Exception):
        kc.stop_channels()
    loop = asyncio.get_running_loop()
    gone = await loop.run_in_executor(None, km.wait, timeout)
    if not gone:
        km.kill()
        await loop.run_in_executor(None, km.wait, timeout)
    km.cleanup_files()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m analysis.runner_kernel SOCKET [MODULE ...]", file=sys.stderr)
        return 2
    return serve(args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
