"""The web dashboard in headless Chromium: how soon a 100-widget flow's canvas is painted,
and how the executions view answers when the flow has 100,000 executions.

    .venv/bin/python benchmarks/dashboard.py [--runs 9] [--executions 100000]

Needs Chromium at /usr/bin/chromium (or $MOCKSTUDIO_CHROMIUM) and Playwright (the test
extras). Figures mean something only on a quiet machine.

The server runs in a process of its own (`dashboard.py serve`, the app as `mockstudio serve`
runs it, populated in-process before it listens), as a user's does: run inside this process
it would share the GIL with Playwright's client, which is busy while a page loads, and
answer each asset up to a switch interval late.

- canvas: a fresh browser context per run opens `/_mockstudio/ui/#/flows/<the 100-widget
  IVR>` (tests/ui_flows.py, no offsets: the automatic layout runs too). The page marks
  `mockstudio:canvas-painted` in the first task after the first animation frame that
  follows the canvas being attached and fitted, i.e. once that frame has been painted.
  Reported: that mark's time from the start of navigation (HTML, scripts, the flow's JSON,
  layout, SVG and paint). Target: median < 300 ms.
- executions: the flow holds N ended executions (made in-process through
  `create_execution` before the server starts). Reported: the executions view's first
  page, a page 1,000 executions deep (by page token), a contact filter matching nothing
  (the worst case: it reads its bounded 20,000 executions), each over HTTP; and in the
  browser, navigation start to the executions table being filled."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from harness import UVICORN_SETTINGS, server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.ui_flows

from mockstudio.app_factory import build_app
from mockstudio.cli import tune_gc
from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.studio import Studio, inert_definition
from tests.ui_flows import ivr_definition

CHROMIUM = os.environ.get("MOCKSTUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
UI = "/_mockstudio/ui"


def _summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} ms, min {min(values):.1f}, max {max(values):.1f} (n={len(values)})"


def _mark(page: Any, name: str) -> float:
    page.wait_for_function(f"() => performance.getEntriesByName({name!r}).length > 0", timeout=30_000)
    value: float = page.evaluate(f"() => performance.getEntriesByName({name!r})[0].startTime")
    return value


def canvas(browser: Any, base_url: str, flow_sid: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{base_url}{UI}/#/flows/{flow_sid}")
        times.append(_mark(page, "mockstudio:canvas-painted"))
        assert page.locator(".canvas .node").count() == 100
        context.close()
    return times[1:]  # the first run warms the server's caches and the browser's


def executions_http(base_url: str, flow_sid: str, runs: int) -> dict[str, list[float]]:
    base = f"{base_url}{UI}/api/flows/{flow_sid}/executions"
    results: dict[str, list[float]] = {"first page": [], "page 1,000 deep": [], "contact filter, no match": []}
    with httpx.Client(timeout=60) as client:
        token = None
        for _ in range(20):  # 20 pages of 50
            token = client.get(base, params={"page_token": token} if token else None).json()["next_page_token"]
        for _ in range(runs):
            for label, params in (
                ("first page", None),
                ("page 1,000 deep", {"page_token": token}),
                ("contact filter, no match", {"contact": "+19999999999"}),
            ):
                started = time.perf_counter()
                response = client.get(base, params=params)
                results[label].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
    return results


def executions_page(browser: Any, base_url: str, flow_sid: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{base_url}{UI}/#/flows/{flow_sid}/executions")
        page.locator("table.executions tbody tr[data-sid]").nth(49).wait_for()
        times.append(page.evaluate("() => performance.now()"))
        context.close()
    return times[1:]


def serve(port: int, info: Path, executions: int) -> None:
    """The server process: the two flows, `executions` ended executions of the second."""
    clock = ManualClock(1_700_000_000)
    app = build_app(Settings(), clock=clock)
    studio: Studio = app.state.runtime.studio
    account = studio.accounts[studio.default_account_sid]
    ivr = account.create_flow("A 100-widget IVR", "published", json.dumps(ivr_definition(100))).sid
    many = account.create_flow("A flow with many executions", "published", json.dumps(inert_definition())).sid
    started = time.perf_counter()
    for i in range(executions):
        if i % 1000 == 0:
            clock.advance(1)
        account.create_execution(many, f"+1{i:010d}", "+15017122661", None)
    print(f"populated {executions} executions in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    info.write_text(json.dumps({"ivr": ivr, "many": many}))
    tune_gc()
    uvicorn.run(app, port=port, **UVICORN_SETTINGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", choices=["serve"], help="(the server process)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--port", type=int)
    parser.add_argument("--info", type=Path)
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.port, args.info, args.executions)
        return 0
    if not Path(CHROMIUM).is_file():
        print(f"Chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with (
        server("dashboard", "dashboard.py", "serve", "--executions", str(args.executions), ready_timeout=600) as srv,
        sync_playwright() as playwright,
    ):
        base_url = f"http://127.0.0.1:{srv.port}"
        ivr, many = srv.info["ivr"], srv.info["many"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            painted = canvas(browser, base_url, ivr, args.runs)
            print(f"canvas, 100 widgets, navigation start to painted: {_summary(painted)}")
            for label, values in executions_http(base_url, many, args.runs).items():
                print(f"executions view over HTTP, {args.executions} executions, {label}: {_summary(values)}")
            shown = executions_page(browser, base_url, many, args.runs)
            print(f"executions page in the browser, navigation start to 50 rows: {_summary(shown)}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
