"""How the runner's kernels are started, through Jupyter's own extension points.

* :class:`ForkProvisioner` is a jupyter_client **kernel provisioner** (registered under the entry
  point ``jupyter_client.kernel_provisioners``: ``lva-fork``). Instead of launching
  ``ipykernel_launcher`` as a new process, it asks the zygote (``analysis.runner.forkserver``)
  for a forked kernel; everything else (connection file, ports, environment, shutdown) is
  jupyter_client's :class:`LocalProvisioner`.
* :class:`ForkKernelManager` is the **kernel manager class** handed to papermill (which hands it
  to nbclient): an ``AsyncKernelManager`` whose kernel spec names that provisioner.
* :class:`SpawnKernelManager` starts stock kernels (``ipykernel_launcher``), the default on macOS
  and Windows and with ``--engine spawn``.
* Both use :class:`ReadyClient`, whose public ``wait_for_ready`` returns as soon as the kernel
  has answered ``kernel_info`` and IOPub has delivered a message (the stock client waits 0.2 s
  more on IOPub after every reply).

This module imports jupyter_client; the fork server itself is imported only on the fork path.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import DottedObjectName, Type, Unicode
from traitlets.config import Config

PROVISIONER_NAME = "lva-fork"


class ReadyClient(AsyncKernelClient):
    """An async kernel client that is ready when the kernel is, without fixed sleeps."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        """Return once the kernel has answered ``kernel_info`` and IOPub has delivered a message.

        A message on IOPub proves the subscription is in place, so no output of the first cell can
        be lost. A kernel may answer before that (its status messages then go nowhere): after
        50 ms without one, ``kernel_info`` is asked again, and its status messages arrive. (The
        stock client waits a fixed 0.2 s on IOPub after every reply, and 1 s between requests.)
        """
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        msg_id = self.kernel_info()
        sent = time.monotonic()
        got_reply = got_iopub = False
        while not (got_reply and got_iopub):
            if not got_reply:
                try:
                    msg = await self.shell_channel.get_msg(timeout=0.01)
                except Empty:
                    pass
                else:
                    if msg["parent_header"].get("msg_id") == msg_id:
                        got_reply = True
                        self._handle_kernel_info_reply(msg)
            if not got_iopub:
                try:
                    await self.iopub_channel.get_msg(timeout=0.01)
                except Empty:
                    pass
                else:
                    got_iopub = True
            waited = time.monotonic() - sent
            if (got_reply and not got_iopub and waited > 0.05) or (not got_reply and waited > 0.5):
                if self.parent is not None and not await self.parent.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
                msg_id = self.kernel_info()
                sent = time.monotonic()
                got_reply = False


class SpawnKernelManager(AsyncKernelManager):
    """Stock kernels (a new ``ipykernel_launcher`` process each), with the ready-when-ready client."""

    # Both traits: AsyncKernelManager gives ``client_factory`` a default of its own, so naming the
    # class in ``client_class`` alone would leave the stock client (and its fixed sleeps) in use.
    client_class = DottedObjectName("analysis.runner.kernels.ReadyClient")
    client_factory = Type(ReadyClient, klass=AsyncKernelClient, config=True)

    async def _async_interrupt_kernel(self) -> None:
        """Interrupt the kernel, except on the way to a clean shutdown.

        jupyter_client 8 interrupts every kernel before asking it to shut down; a kernel that is
        already idle (every notebook here has finished when it is shut down) then logs
        "ERROR | KeyboardInterrupt caught in kernel" to the terminal, which reads as a failure in
        a run that succeeded. The shutdown request that follows stops the kernel either way, and
        a kernel that ignores it is still killed by jupyter_client's own fallback. (Overrides the
        method jupyter_client's ``shutdown_kernel`` calls; the public ``interrupt_kernel``, which
        nbclient uses on a cell timeout, is bound to jupyter_client's own and is untouched.)
        """
        if getattr(self, "shutting_down", False):
            return
        await super()._async_interrupt_kernel()

    async def _async_finish_shutdown(self, waittime: float | None = None, pollinterval: float = 0.1,
                                     restart: bool = False) -> None:
        """Wait for the kernel to exit, checking every 10 ms rather than jupyter_client's 100 ms.

        A kernel that was asked to shut down exits within a few milliseconds; the stock interval
        made every notebook run wait ~0.1 s more. The time limits and the SIGTERM/SIGKILL fallback
        are jupyter_client's own. (Overrides the method ``shutdown_kernel`` awaits; the public
        ``finish_shutdown`` keeps its own default.)
        """
        await super()._async_finish_shutdown(waittime, pollinterval=min(pollinterval, 0.01), restart=restart)


class ForkKernelManager(SpawnKernelManager):
    """Kernels forked by the zygote listening on ``zygote_socket``, through :class:`ForkProvisioner`."""

    zygote_socket = Unicode("", config=True, help="Unix socket of the running zygote")

    @property
    def kernel_spec(self) -> Any:
        spec = super().kernel_spec
        if spec is not None and spec.metadata.get("kernel_provisioner", {}).get("provisioner_name") != PROVISIONER_NAME:
            spec.metadata = {
                **spec.metadata,
                "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": {"socket_path": self.zygote_socket}},
            }
        return spec


class ForkProvisioner(LocalProvisioner):
    """Launch the kernel by asking the zygote to fork one; the rest is LocalProvisioner's."""

    socket_path = Unicode("", config=True, help="Unix socket of the running zygote")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        from analysis.runner import forkserver

        if "-f" not in cmd:
            raise RuntimeError(f"kernel command has no connection file: {cmd}")
        at = cmd.index("-f")
        connection_file, arguments = cmd[at + 1], cmd[at + 2:]
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        loop = asyncio.get_running_loop()
        self.process = await loop.run_in_executor(
            None, lambda: forkserver.fork_kernel(self.socket_path, connection_file, cwd, env, arguments)
        )
        self.pid = self.process.pid
        self.pgid = None  # signals go through the zygote (our kernel's parent), never to a bare pid
        self.cwd = cwd
        return self.connection_info


def engine_options(engine: str, *, socket_dir: str, zygote_socket: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``papermill.execute_notebook`` that start kernels the given way.

    ``socket_dir``: a short folder for the kernels' ipc sockets (Linux; elsewhere TCP on localhost).
    """
    settings: dict[str, Any] = {}
    if sys.platform.startswith("linux"):  # ipc: no TCP ports to race for between parallel kernels
        settings.update(transport="ipc", ip=os.path.join(socket_dir, f"k{os.getpid()}-{time.monotonic_ns() % 10**9}"))
    if engine == "fork":
        if not zygote_socket:
            raise ValueError("the fork engine needs the zygote's socket")
        settings["zygote_socket"] = zygote_socket
        manager: type = ForkKernelManager
    else:
        manager = SpawnKernelManager
    config = Config({manager.__name__: settings})
    return {"kernel_manager_class": manager, "config": config}
