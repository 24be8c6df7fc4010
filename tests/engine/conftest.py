"""The engine tests: `async def` tests run in a fresh event loop each (asyncio.run), so the
engine's background tasks live on that loop and `await engine.drain()` settles them."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest

from .webapp import WebApp


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(function(**arguments))
    return True


@pytest.fixture(scope="session")
def web_server() -> Iterator[WebApp]:
    app = WebApp().start()
    yield app
    app.stop()


@pytest.fixture
def web(web_server: WebApp) -> WebApp:
    """The real HTTP server the HTTP widgets call, with its request log cleared."""
    with web_server.lock:
        web_server.requests.clear()
        web_server.streamed = 0
    web_server.release.clear()
    return web_server
