"""The in-process bridge of mockstudio.testing: an event loop in a daemon thread, an ASGI
app's lifespan on it, and requests handed to the app on that loop without sockets. Shared by
MockStudioServer (testing.py) and InProcessHttpClient (_twilio_http.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx

__all__ = [
    "REQUEST_TIMEOUT",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "AppBridge",
    "BridgeTransport",
    "BridgedServer",
    "EventLoopThread",
    "Lifespan",
    "bridge_for",
    "running",
]

_T = TypeVar("_T")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 60.0  # an in-process request that takes longer has hung


@runtime_checkable
class BridgedServer(Protocol):
    """A started handle (MockStudioServer) whose app a bridge reaches."""

    def require_bridge(self) -> AppBridge: ...


# -- the event loop, the lifespan and the in-process bridge ------------------------------------


class EventLoopThread:
    """An asyncio event loop running in a daemon thread; other threads hand it work."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            try:
                pending = asyncio.all_tasks(self.loop)
                for task in pending:
                    task.cancel()
                if pending:
                    self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                self.loop.close()

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, coro: Coroutine[Any, Any, _T]) -> Future[_T]:
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("called from mockstudio's own event loop: this would deadlock")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        """Run `coro` on the loop and wait for its result (TimeoutError after `timeout`)."""
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"mockstudio did not answer within {timeout} s") from None

    def call(self, function: Callable[[], _T], timeout: float | None = REQUEST_TIMEOUT) -> _T:
        """Run a plain function on the loop, where it has the state to itself."""

        async def call() -> _T:
            return function()

        return self.run(call(), timeout)

    def stop(self) -> None:
        if not self.loop.is_closed() and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(STOP_TIMEOUT)


class Lifespan:
    """Drives an ASGI app's lifespan protocol, as uvicorn does at startup and shutdown (for
    a handle that runs the app without a server)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._task: asyncio.Task[None] | None = None
        self._receive: asyncio.Queue[dict[str, Any]] | None = None
        self._send: asyncio.Queue[dict[str, Any]] | None = None

    async def startup(self) -> None:
        self._receive, self._send = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.get_running_loop().create_task(self._app(scope, self._receive.get, self._send.put))
        await self._receive.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup.complete")

    async def shutdown(self) -> None:
        if self._task is None or self._receive is None or self._task.done():
            return
        await self._receive.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")
        await self._task

    async def _expect(self, wanted: str) -> None:
        assert self._task is not None and self._send is not None
        getter = asyncio.ensure_future(self._send.get())
        done, _ = await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            message = getter.result()
            if message["type"] != wanted:
                raise RuntimeError(f"mockstudio app lifespan: {message.get('message') or message['type']}")
            return
        getter.cancel()
        self._task.result()  # the app's own exception, if it raised one
        raise RuntimeError(f"mockstudio app lifespan ended before {wanted}")


class AppBridge:
    """Hands HTTP requests to an ASGI app on the event loop it runs on: no sockets, any host
    name (so the absolute `next_page_url`s the app renders come back here)."""

    def __init__(self, app: Any, loop: EventLoopThread) -> None:
        # Errors become the app's own 500 response, as over HTTP, rather than exceptions.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = loop

    def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        timeout: float | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) of the app's response."""
        return self._loop.run(self._send(method, url, headers, body), timeout or REQUEST_TIMEOUT)

    async def _send(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        request = httpx.Request(method, url, headers=list(headers), content=body)
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return response.status_code, response.headers.multi_items(), content


class BridgeTransport(httpx.BaseTransport):
    """An httpx transport over an AppBridge."""

    def __init__(self, bridge: AppBridge) -> None:
        self._bridge = bridge

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        status, headers, content = self._bridge.send(
            request.method, str(request.url), request.headers.multi_items(), request.read(), timeout
        )
        return httpx.Response(status, headers=headers, content=content, request=request)


class StandaloneApp:
    """An ASGI app that no handle runs: its own loop thread and lifespan, for
    `InProcessHttpClient(app)`."""

    def __init__(self, app: Any) -> None:
        self._loop = EventLoopThread("mockstudio-in-process")
        self._lifespan = Lifespan(app)
        self.bridge = AppBridge(app, self._loop)
        self._loop.start()
        try:
            self._loop.run(self._lifespan.startup(), START_TIMEOUT)
        except BaseException:
            self._loop.stop()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.run(self._lifespan.shutdown(), STOP_TIMEOUT)
        self._loop.stop()


# Apps a started handle runs, so an in-process client for one shares its loop (a second
# lifespan over the same state would take the engine over to another loop).
running: weakref.WeakKeyDictionary[Any, AppBridge] = weakref.WeakKeyDictionary()


def bridge_for(target: Any) -> tuple[AppBridge, Callable[[], None] | None]:
    """The bridge to `target` (a MockStudioServer, or an ASGI app), and how to close it if
    it was started for the caller."""
    if isinstance(target, BridgedServer):
        return target.require_bridge(), None
    bridge = running.get(target)
    if bridge is not None:
        return bridge, None
    if not callable(target):
        raise TypeError(f"expected a MockStudioServer or an ASGI app, not {type(target).__name__}")
    standalone = StandaloneApp(target)
    return standalone.bridge, standalone.close
