"""A mockstudio server in a background thread, for tests (pytest or unittest).

with MockStudioServer() as server:
    client = twilio.rest.Client(server.account_sid, server.auth_token)
    client.studio.base_url = server.base_url
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from .api import create_app
from .app_factory import app_options, build_studio
from .clock import Clock, ManualClock
from .settings import Settings
from .sids import SidFactory
from .studio import Studio

__all__ = ["MockStudioServer"]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class MockStudioServer:
    """Runs uvicorn on a free loopback port. `clock` defaults to a ManualClock so tests can
    move time; pass `settings` for fixtures and other options."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        sid_factory: SidFactory | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.settings = settings or Settings()
        self.clock = clock if clock is not None else ManualClock()
        self.studio: Studio = build_studio(self.settings, clock=self.clock, sid_factory=sid_factory)
        self.app = create_app(self.studio, **app_options(self.settings))
        self.host = host
        self.port = _free_port(host)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host=host, port=self.port, log_level="warning", access_log=False)
        )
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def account_sid(self) -> str:
        return self.settings.account_sid

    @property
    def auth_token(self) -> str:
        return self.settings.auth_token

    def start(self) -> MockStudioServer:
        self._thread = threading.Thread(target=self._server.run, name="mockstudio", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("mockstudio server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def reset(self) -> None:
        with self.studio.lock:
            self.studio.reset()
        self.app.state.runtime.reset()  # the journal, fault rules, rate-limit windows, cached credentials

    def __enter__(self) -> MockStudioServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
