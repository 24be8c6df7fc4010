"""Per-request cost of mockstudio's ASGI app against the baselines, without sockets, and
profiles of where mockstudio's time goes. A diagnosis tool for failing targets; run.py
does not use it.

    python benchmarks/profile_app.py fetch|create|list [--n 20000] [--profile cprofile|pyinstrument]

Calls each app directly with ASGI scopes equivalent to the wrk requests (uvicorn and the
HTTP parser are left out, so the ratio here is harsher than over HTTP), on uvloop.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from baseline_app import fetch_app, form_app
from harness import AUTH_HEADER, DEMO_FLOW
from serve_populated import CLOCK_START, default_account, populate

from mockstudio.app_factory import build_app
from mockstudio.clock import ManualClock, SystemClock
from mockstudio.settings import Settings

App = Callable[..., Awaitable[None]]
FORM = "To=%2B1{n:011d}&From=%2B15550000000&Parameters=%7B%22name%22%3A%22Zeke%22%7D"


def _scope(method: str, path: str, query: str = "", body: bool = False) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8080"), (b"authorization", AUTH_HEADER.encode())]
    if body:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def _call(app: App, scope: dict[str, Any], body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _loop(app: App, make: Callable[[int], tuple[dict[str, Any], bytes]], n: int, expected: int) -> float:
    for i in range(200):  # warm-up
        await _call(app, *make(-1 - i))
    await _settle()
    gc.collect()
    start = time.perf_counter()
    for i in range(n):
        status = await _call(app, *make(i))
        if status != expected:
            raise RuntimeError(f"status {status}, expected {expected}")
    await _settle()
    return (time.perf_counter() - start) / n


async def _settle() -> None:
    """Let background work (flows started by creates) finish: the server pays for it too."""
    current = asyncio.current_task()
    while True:
        others = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not others:
            return
        await asyncio.gather(*others, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=["fetch", "create", "list"])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument"], default=None)
    parser.add_argument("--executions", type=int, default=100_000, help="stored executions for list")
    args = parser.parse_args()

    if args.target == "list":
        clock: Any = ManualClock(CLOCK_START)
        mock = build_app(Settings(), clock=clock)
        populate(default_account(mock.state.runtime.studio), args.executions, clock)
    else:
        mock = build_app(Settings(), clock=SystemClock())
    studio = mock.state.runtime.studio
    base: App | None = None
    path = f"/v2/Flows/{DEMO_FLOW}/Executions"
    if args.target == "fetch":
        sid = populate(default_account(studio), 100, studio.clock)[0]
        path += f"/{sid}"
        base = fetch_app()

        def make(i: int) -> tuple[dict[str, Any], bytes]:
            return _scope("GET", path), b""

        expected = {"base": 200, "mock": 200}
    elif args.target == "create":
        base = form_app()

        def make(i: int) -> tuple[dict[str, Any], bytes]:
            return _scope("POST", path, body=True), FORM.format(n=i + 1_000_000).encode()

        expected = {"base": 200, "mock": 201}
    else:
        first, last = CLOCK_START + 1, CLOCK_START + args.executions
        span = last - first
        q = (
            f"DateCreatedFrom={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(first + span // 20))}"
            f"&DateCreatedTo={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(last - span // 20))}&PageSize=50"
        )

        def make(i: int) -> tuple[dict[str, Any], bytes]:
            return _scope("GET", path, q), b""

        expected = {"mock": 200}

    async def run() -> None:
        if base is not None:
            per_base = await _loop(base, make, args.n, expected["base"])
            print(f"baseline   {1e6 * per_base:7.1f} us/request")
        if args.target == "create":
            # distinct To numbers for the measured run
            def make_mock(i: int) -> tuple[dict[str, Any], bytes]:
                return make(i + 10_000_000)
        else:
            make_mock = make
        if args.profile == "cprofile":
            profiler = cProfile.Profile()
            profiler.enable()
            per_mock = await _loop(mock, make_mock, args.n, expected["mock"])
            profiler.disable()
            print(f"mockstudio {1e6 * per_mock:7.1f} us/request (under cProfile)")
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(45)
        elif args.profile == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            per_mock = await _loop(mock, make_mock, args.n, expected["mock"])
            profiler.stop()
            print(f"mockstudio {1e6 * per_mock:7.1f} us/request (under pyinstrument)")
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            per_mock = await _loop(mock, make_mock, args.n, expected["mock"])
            print(f"mockstudio {1e6 * per_mock:7.1f} us/request")
            if base is not None:
                print(f"ratio (baseline cost / mockstudio cost) {per_base / per_mock:.2f}")

    uvloop.run(run())


if __name__ == "__main__":
    main()
