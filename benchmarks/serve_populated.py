"""mockstudio under the benchmarks' uvicorn settings, with executions created in-process
before it starts listening.

    python benchmarks/serve_populated.py --port P [--executions N] [--clock manual|system]
                                         [--info FILE] [--bench-routes] [--bench-flows]
                                         [--events-webhook URL] [--coverage] [--noop-subscriber]

`--clock manual` uses a ManualClock stepped 1 s per execution, so N executions span N
seconds from 2023-11-14T22:13:21Z (1_700_000_001). `--info` receives a JSON object with
the flow SID, the time span and one execution SID. `--bench-routes` adds
`POST /_bench/populate?n=N` (re-populates in-process; used to time reset over HTTP) and
`GET /_bench/stats?flow=SID` (how many of the flow's executions exist and are still active,
then, once every running flow has settled, whether each ran as flows.py expects).
`--bench-flows` loads fixtures/bench_flows.json (the five-widget and inert flows) as
fixtures, so they survive `POST /_mockstudio/reset`.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
from pathlib import Path
from typing import Any

import flows
import uvicorn
from harness import DEMO_FLOW, UVICORN_SETTINGS

import mockstudio
from mockstudio.app_factory import build_app
from mockstudio.clock import Clock, ManualClock, SystemClock
from mockstudio.settings import Settings
from mockstudio.studio import AccountState, Studio

CLOCK_START = 1_700_000_000
PARAMETERS = '{"name":"Zeke"}'
_FROM_NUMBER = 15550000000
_batches = itertools.count(1)


def populate(account: AccountState, n: int, clock: Clock, flow_sid: str = DEMO_FLOW) -> list[str]:
    """Create `n` executions through the state's own create_execution, each with a distinct
    To (one active execution per contact). A ManualClock steps 1 s per execution. Returns
    the first and last SIDs (empty list for n == 0)."""
    batch = next(_batches)
    manual = clock if isinstance(clock, ManualClock) else None
    first = last = None
    for i in range(n):
        if manual is not None:
            manual.advance(1)
        execution = account.create_execution(flow_sid, f"+1{batch:03d}{i:08d}", f"+{_FROM_NUMBER}", PARAMETERS)
        last = execution.sid
        if first is None:
            first = last
    return [] if first is None or last is None else [first, last]


def default_account(studio: Studio) -> AccountState:
    return studio.accounts[Settings().account_sid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--executions", type=int, default=0)
    parser.add_argument("--clock", choices=["manual", "system"], default="system")
    parser.add_argument("--info", type=Path, default=None)
    parser.add_argument("--bench-routes", action="store_true")
    parser.add_argument("--bench-flows", action="store_true")
    parser.add_argument("--events-webhook", default=None, help="MOCKSTUDIO_EVENTS_WEBHOOK for this server")
    parser.add_argument("--coverage", action="store_true", help="record flow coverage (MOCKSTUDIO_COVERAGE)")
    parser.add_argument("--noop-subscriber", action="store_true", help="one no-op subscriber on the change feed")
    args = parser.parse_args()

    clock: Clock = ManualClock(CLOCK_START) if args.clock == "manual" else SystemClock()
    settings = Settings(fixtures=flows.FIXTURES) if args.bench_flows else Settings()
    if args.events_webhook:
        settings = settings.model_copy(update={"events_webhook": args.events_webhook})
    if args.coverage:
        settings = settings.model_copy(update={"coverage": True})
    app = build_app(settings, clock=clock)
    studio: Studio = app.state.runtime.studio
    if args.noop_subscriber:
        studio.changes.subscribe(lambda change: None)
    start = int(clock.now())
    sids = populate(default_account(studio), args.executions, clock)
    info: dict[str, Any] = {
        "flow_sid": DEMO_FLOW,
        "executions": args.executions,
        "first_created": start + 1 if args.clock == "manual" else start,
        "last_created": int(clock.now()),
        "sids": sids,
        "mockstudio": mockstudio.__file__,
    }

    if args.bench_routes:

        async def bench_populate(n: int) -> dict[str, int]:
            populate(default_account(studio), n, clock)
            # Flows run as background tasks: let them settle, so that the next request
            # (the timed reset) does not wait behind them.
            drain = getattr(getattr(studio, "engine", None), "drain", None)
            if drain is not None:
                await drain()
            return {"created": n}

        async def bench_stats(flow: str) -> dict[str, Any]:
            # First what stands at the end of the load (nothing awaited yet), then settle.
            account = default_account(studio)
            mine = [e for e in account.executions.values() if e.flow_sid == flow]
            active = sum(1 for e in mine if e.status == "active")
            steps_then = sum(len(e.steps or ()) for e in mine)
            await studio.engine.drain()
            bad, first = flows.check_all(mine)
            return {
                "executions": len(mine),
                "active_at_end": active,
                "steps_at_end": steps_then,
                "steps": sum(len(e.steps or ()) for e in mine),
                "expected_steps": len(mine) * len(flows.EXPECTED_STEPS.get(flow, ())),
                "bad": bad,
                "first_problem": first,
            }

        app.add_api_route("/_bench/populate", bench_populate, methods=["POST"])
        app.add_api_route("/_bench/stats", bench_stats, methods=["GET"])

    if args.info is not None:
        args.info.write_text(json.dumps(info))
    # The server as `mockstudio serve` runs it: the CLI tunes the garbage collector for the
    # standalone process (older commits benchmarked with --ref may not have it).
    tune_gc = getattr(importlib.import_module("mockstudio.cli"), "tune_gc", None)
    if tune_gc is not None:
        tune_gc()
    uvicorn.run(app, port=args.port, **UVICORN_SETTINGS)


if __name__ == "__main__":
    main()
