"""Studio Events' targets (README, Benchmarks):

- `events`: create throughput (the demo flow) with one webhook sink subscribed to every Studio
  event type, delivering to a local receiver (event_receiver.py), vs the same server with no
  sink; wrk, interleaved rounds as for the other HTTP targets. Target >= 0.8x.
- `events-delivery`: events per second delivered to a local receiver, in a fresh interpreter
  (`python benchmarks/events.py delivery N PORT`): N events are queued at once on a webhook
  sink; the clock stops when the receiver has counted them all. Target >= 2,000/s.
- `events-memory`: a sink that is down (connection refused) while 40,000 executions run and
  the virtual clock moves 8 hours: the memory held by mockstudio.events (tracemalloc,
  filtered to that package) at 20,000 and at 40,000 executions, and the events dropped and
  counted. Target: bounded (at 40k <= 1.2x at 20k).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import tracemalloc
from typing import Any

from harness import DEMO_FLOW, Outcome, Row, http_request, log, run_probe, server
from http_benchmarks import Config, _throughput, demo_creates

CREATE_MINIMUM = 0.8
DELIVERY_MINIMUM = 2_000.0
MEMORY_GROWTH_LIMIT = 1.2


def create_with_sink(config: Config) -> Outcome:
    with server("receiver", "event_receiver.py") as receiver:
        url = f"http://127.0.0.1:{receiver.port}/events"
        with (
            server("no sink", "serve_populated.py", "--executions", "0") as plain,
            server("webhook sink", "serve_populated.py", "--executions", "0", "--events-webhook", url) as hooked,
        ):
            run = demo_creates(config, plain, hooked)

            outcome = _throughput(
                "events",
                f"E1. create execution req/s with one webhook sink >= {CREATE_MINIMUM}x no sink",
                CREATE_MINIMUM,
                config,
                ("no sink", plain, run),
                ("webhook sink", hooked, run),
            )
            time.sleep(1.0)
            status, payload = http_request(hooked.port, "GET", "/_mockstudio/deliveries?limit=1")
            state = json.loads(payload)["sinks"] if status == 200 else payload
        _, counted = http_request(receiver.port, "GET", "/count")
    line = f"the receiver counted {json.loads(counted)}; the sink's queue at the end: {state}"
    log("  " + line)
    outcome.details.append(line)
    return outcome


def _probe(*args: str) -> dict[str, Any]:
    return run_probe("events.py", *args, timeout=300)


def delivery(n: int = 40_000) -> Outcome:
    with server("receiver", "event_receiver.py") as receiver:
        result = _probe("delivery", str(n), str(receiver.port))
    rate = result["events_per_second"]
    line = (
        f"{n:,} events queued at once, delivered in {result['seconds']:.2f} s in {result['requests']:,} requests "
        f"({rate:,.0f} events/s)"
    )
    log("  " + line)
    verdict = "pass" if rate >= DELIVERY_MINIMUM else "FAIL"
    row = Row(f"E2. events delivered per second >= {DELIVERY_MINIMUM:,.0f}", "—", f"{rate:,.0f}/s", "—", verdict)
    return Outcome("events-delivery", [row], [line])


def memory(n: int = 40_000) -> Outcome:
    result = _probe("memory", str(n))
    half, full = result["events_bytes"]
    growth = full / half if half else float("inf")
    lines = [
        f"memory held by mockstudio.events: {half / 2**20:.1f} MiB at {n // 2:,} executions, "
        f"{full / 2**20:.1f} MiB at {n:,} ({growth:.2f}x); virtual time {result['virtual_hours']:.1f} h",
        f"events published {result['published']:,}, queued at the end {result['queued']:,}, "
        f"dropped (queue full) {result['overflow']:,}, batches given up after 4 hours {result['given_up']:,}",
    ]
    for line in lines:
        log("  " + line)
    verdict = "pass" if growth <= MEMORY_GROWTH_LIMIT and result["overflow"] > 0 else "FAIL"
    row = Row(
        f"E3. a sink down for hours: events memory bounded (at {n // 1000}k <= {MEMORY_GROWTH_LIMIT}x at {n // 2000}k)",
        f"{half / 2**20:.1f} MiB",
        f"{full / 2**20:.1f} MiB",
        f"{growth:.2f}x",
        verdict,
    )
    return Outcome("events-memory", [row], lines)


# -- the probes (fresh interpreters) ------------------------------------------------------------


def _studio(clock: Any, webhook: str, queue_limit: int) -> tuple[Any, Any]:
    from mockstudio.app_factory import build_studio
    from mockstudio.events.delivery import DeliveryConfig
    from mockstudio.events.service import Events, webhook_seeds
    from mockstudio.settings import Settings

    settings = Settings()
    studio = build_studio(settings, clock=clock)
    events = Events(
        studio,
        seeds=webhook_seeds(webhook, settings.account_sid),
        config=DeliveryConfig(queue_limit=queue_limit, log_limit=10_000),
    )
    return studio, events


async def _delivery_probe(n: int, port: int) -> dict[str, Any]:
    from mockstudio.clock import ManualClock
    from mockstudio.events.studio_events import Event

    _, events = _studio(ManualClock(1_700_000_000), f"http://127.0.0.1:{port}/events", n)
    events.start()
    (sink,) = events.streams.sinks.values()
    data = {"account_sid": sink.account_sid, "flow_sid": DEMO_FLOW, "execution_sid": "FN" + "0" * 32, "name": "x"}
    started = time.perf_counter()
    for i in range(n):
        event = Event(f"EZ{i:032x}", "com.twilio.studio.flow.step.ended", sink.account_sid, 1.7e9, "/x", data)
        events.dispatcher.enqueue(sink, event, 1)
    while events.dispatcher.queued(sink.sid):
        await asyncio.sleep(0.005)
    seconds = time.perf_counter() - started
    _, counted = http_request(port, "GET", "/count")
    received = json.loads(counted)
    await events.aclose()
    if received["events"] != n:
        raise RuntimeError(f"the receiver counted {received}, expected {n} events")
    return {"seconds": seconds, "events_per_second": n / seconds, "requests": received["requests"]}


async def _memory_probe(n: int) -> dict[str, Any]:
    from mockstudio.clock import ManualClock

    clock = ManualClock(1_700_000_000)
    # Port 9 on loopback: nothing listens, every attempt is refused at once.
    studio, events = _studio(clock, "http://127.0.0.1:9/events", 10_000)
    events.start()
    account = studio.accounts[studio.default_account_sid]
    start = clock.now()
    sizes = []
    tracemalloc.start()
    for i in range(n):
        account.create_execution(DEMO_FLOW, f"+1555{i:08d}", "+15550000000", None)
        if i % 1_000 == 999:
            clock.advance(720)  # 8 hours over 40,000 executions
            await asyncio.sleep(0.01)  # let the worker try (and fail) its batch
        if i + 1 in (n // 2, n):
            snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/mockstudio/events/*")])
            sizes.append(sum(stat.size for stat in snapshot.statistics("filename")))
    tracemalloc.stop()
    (sink,) = events.streams.sinks.values()
    result = {
        "events_bytes": sizes,
        "virtual_hours": (clock.now() - start) / 3600,
        "published": 2 * n,
        "queued": events.dispatcher.queued(sink.sid),
        "overflow": events.dispatcher.overflow(sink.sid),
        "given_up": events.dispatcher.dropped,
    }
    await events.aclose()
    return result


def main() -> None:
    kind, *args = sys.argv[1:]
    if kind == "delivery":
        result = asyncio.run(_delivery_probe(int(args[0]), int(args[1])))
    elif kind == "memory":
        result = asyncio.run(_memory_probe(int(args[0])))
    else:
        raise SystemExit(f"unknown probe {kind}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
