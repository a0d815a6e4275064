"""Running the sandbox: in the foreground (the CLI) or on a background thread (tests, bench)."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass

from aiohttp import web

from .accounts import Account
from .app import create_app
from .contract import DEFAULT_NAMESPACE, SERVICE_PATH
from .faults import FaultPlan
from .handle import SandboxHandle

# Hundreds of clients connect at once in the bench and the chaos run: a short accept queue
# would make some of them wait for a SYN retry (a second or more).
BACKLOG = 1024


def serve(
    *,
    host: str,
    port: int,
    account: Account,
    plan: FaultPlan,
    namespace: str = DEFAULT_NAMESPACE,
) -> None:
    """Serve until interrupted."""
    app = create_app(account=account, plan=plan, namespace=namespace)
    print(
        f"InfinitePay sandbox on http://{host}:{port}{SERVICE_PATH} (WSDL at ?wsdl), "
        f"namespace {namespace}",
        flush=True,
    )
    web.run_app(app, host=host, port=port, backlog=BACKLOG, print=None, shutdown_timeout=1)


@dataclass
class RunningSandbox:
    """A sandbox on its own thread and event loop; `handle` controls and inspects it."""

    handle: SandboxHandle
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _runner: web.AppRunner

    @property
    def url(self) -> str:
        return self.handle.url

    def stop(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self.handle.close()

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        # Calls still held by a "timeout" fault: end them rather than leave them pending.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def start_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    account: Account | None = None,
    plan: FaultPlan | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> RunningSandbox:
    """Start a sandbox on a background thread (port 0: a free port) and return once it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(
        create_app(account=account, plan=plan, namespace=namespace),
        shutdown_timeout=0.5,
        access_log=None,
    )

    async def start() -> None:
        await runner.setup()
        await web.SockSite(runner, sock, backlog=BACKLOG).start()

    loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, name="infinitepay-sandbox", daemon=True)
    thread.start()
    bound_host, bound_port = sock.getsockname()[:2]
    handle = SandboxHandle(f"http://{bound_host}:{bound_port}")
    return RunningSandbox(handle=handle, _loop=loop, _thread=thread, _runner=runner)
