"""Targets 1-3 and `create-flow`: throughput and latency over HTTP, driven by wrk.

Every comparison runs both servers side by side (each in its own process, same uvicorn
settings), warms each up, then alternates wrk runs between them for a few rounds (order
swapped every round: A B, B A, A B, ...) so drift and neighbours' noise hit both alike.
The ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flows
from harness import (
    AUTH_HEADER,
    DEMO_FLOW,
    Outcome,
    Row,
    Server,
    WrkResult,
    describe,
    http_request,
    log,
    median,
    server,
    wrk,
)


@dataclass
class Config:
    rounds: int = 5
    duration: float = 5.0
    warmup: float = 2.0
    connections: int = 16


Runner = Callable[[Server, float], WrkResult]

DEMO_CREATE_PATH = f"/v2/Flows/{DEMO_FLOW}/Executions"
DEMO_CREATE_BODY = b"To=%2B19990000000&From=%2B15550000000&Parameters=%7B%22name%22%3A%22Zeke%22%7D"


def reset(srv: Server) -> None:
    """Back to the fixtures alone, so rounds are alike (the state, and with it the garbage
    collector's work, grows by ~15k executions per run)."""
    status, payload = http_request(srv.port, "POST", "/_mockstudio/reset")
    if status != 200:
        raise RuntimeError(f"reset answered {status}: {payload[:300]!r}")


def demo_creates(config: Config, *servers: Server) -> Runner:
    """Check that each of `servers` creates an execution of the demo flow, and return the
    runner of the create benchmarks: a reset, then wrk creating executions of it."""
    for srv in servers:
        _check(srv, "POST", DEMO_CREATE_PATH, 201, DEMO_CREATE_BODY)

    def run(srv: Server, duration: float) -> WrkResult:
        reset(srv)
        return wrk(srv, DEMO_CREATE_PATH, create=True, expected=201, duration=duration, connections=config.connections)

    return run


def _interleave(
    config: Config, a: tuple[str, Server, Runner], b: tuple[str, Server, Runner]
) -> tuple[list[WrkResult], list[WrkResult], list[str]]:
    details: list[str] = []
    for label, srv, run in (a, b):
        log(f"  warm-up {label}")
        run(srv, config.warmup)
    results_a: list[WrkResult] = []
    results_b: list[WrkResult] = []
    for round_no in range(config.rounds):
        order = (a, b) if round_no % 2 == 0 else (b, a)
        for label, srv, run in order:
            result = run(srv, config.duration)
            (results_a if label == a[0] else results_b).append(result)
            line = f"round {round_no + 1} {label:<10} {describe(result)}"
            log("  " + line)
            details.append(line)
    return results_a, results_b, details


def _check(srv: Server, method: str, path: str, expected: int, body: bytes | None = None) -> bytes:
    headers = {"Authorization": AUTH_HEADER}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    status, payload = http_request(srv.port, method, path, body, headers)
    if status != expected:
        raise RuntimeError(f"{srv.name}: {method} {path} answered {status}, not {expected}: {payload[:300]!r}")
    return payload


def _validity(results: list[WrkResult]) -> str | None:
    bad = [r for r in results if not r.valid]
    if not bad:
        return None
    return f"{sum(r.errors for r in bad)} errors, {sum(r.unexpected for r in bad)} unexpected statuses"


def _throughput(
    name: str,
    target: str,
    minimum: float,
    config: Config,
    baseline: tuple[str, Server, Runner],
    subject: tuple[str, Server, Runner],
) -> Outcome:
    base_results, subj_results, details = _interleave(config, baseline, subject)
    ratios = [s.rps / b.rps for b, s in zip(base_results, subj_results, strict=True)]
    ratio = median(ratios)
    invalid = _validity(base_results + subj_results)
    verdict = "INVALID" if invalid else ("pass" if ratio >= minimum else "FAIL")
    details.append(f"per-round ratios: {', '.join(f'{r:.3f}' for r in ratios)}")
    details.append(
        "server CPU us/request (median): baseline "
        f"{median([r.server_cpu_us_per_req for r in base_results]):.0f}, mockstudio "
        f"{median([r.server_cpu_us_per_req for r in subj_results]):.0f}"
    )
    if invalid:
        details.append(f"INVALID: {invalid}")
    row = Row(
        target=target,
        baseline=f"{median([r.rps for r in base_results]):,.0f} req/s",
        subject=f"{median([r.rps for r in subj_results]):,.0f} req/s",
        ratio=f"{ratio:.2f}x",
        verdict=verdict,
    )
    return Outcome(name, [row], details)


def fetch(config: Config) -> Outcome:
    with (
        server("baseline", "baseline_app.py", "fetch") as base,
        server("mockstudio", "serve_populated.py", "--executions", "100") as mock,
    ):
        path = f"/v2/Flows/{DEMO_FLOW}/Executions/{mock.info['sids'][0]}"
        _check(base, "GET", path, 200)
        _check(mock, "GET", path, 200)

        def run(srv: Server, duration: float) -> WrkResult:
            return wrk(srv, path, duration=duration, connections=config.connections)

        return _throughput(
            "fetch",
            "1. fetch execution req/s >= 1.0x bare FastAPI GET",
            1.0,
            config,
            ("baseline", base, run),
            ("mockstudio", mock, run),
        )


def create(config: Config) -> Outcome:
    with (
        server("baseline", "baseline_app.py", "form") as base,
        server("mockstudio", "serve_populated.py", "--executions", "0") as mock,
    ):
        _check(base, "POST", DEMO_CREATE_PATH, 200, DEMO_CREATE_BODY)
        run_mock = demo_creates(config, mock)

        def run_base(srv: Server, duration: float) -> WrkResult:
            return wrk(
                srv, DEMO_CREATE_PATH, create=True, expected=200, duration=duration, connections=config.connections
            )

        return _throughput(
            "create",
            "2. create execution req/s >= 0.8x bare FastAPI Form(...) POST",
            0.8,
            config,
            ("baseline", base, run_base),
            ("mockstudio", mock, run_mock),
        )


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _list_path(info: dict[str, Any]) -> str:
    """A date window covering the middle 90% of the server's executions."""
    first, last = info["first_created"], info["last_created"]
    span = last - first
    start, end = first + span // 20, last - span // 20
    query = f"DateCreatedFrom={_iso(start)}&DateCreatedTo={_iso(end)}&PageSize=50"
    return f"/v2/Flows/{DEMO_FLOW}/Executions?{query}"


def list_(config: Config, small: int = 1_000, large: int = 100_000) -> Outcome:
    with (
        server(f"{small:,}", "serve_populated.py", "--executions", str(small), "--clock", "manual") as few,
        server(
            f"{large:,}",
            "serve_populated.py",
            "--executions",
            str(large),
            "--clock",
            "manual",
            ready_timeout=120,
        ) as many,
    ):
        paths = {few.name: _list_path(few.info), many.name: _list_path(many.info)}
        for srv in (few, many):
            payload = _check(srv, "GET", paths[srv.name], 200)
            if payload.count(b'"sid":"FN') != 50:
                raise RuntimeError(f"{srv.name}: the filtered page does not hold 50 executions")

        def run(srv: Server, duration: float) -> WrkResult:
            return wrk(srv, paths[srv.name], duration=duration, connections=config.connections)

        small_results, large_results, details = _interleave(config, (few.name, few, run), (many.name, many, run))
    details.insert(0, f"paths: {paths[few.name]} | {paths[many.name]}")
    invalid = _validity(small_results + large_results)
    rows = []
    for label, attr in (("p50", "p50_ms"), ("p99", "p99_ms")):
        ratios = [getattr(b, attr) / getattr(a, attr) for a, b in zip(small_results, large_results, strict=True)]
        ratio = median(ratios)
        details.append(f"{label} per-round ratios: {', '.join(f'{r:.3f}' for r in ratios)}")
        rows.append(
            Row(
                target=f"3. list 50 w/ date filter, {label} latency at 100k <= 1.5x at 1k (wrk -c{config.connections})",
                baseline=f"{median([getattr(r, attr) for r in small_results]):.2f} ms (1k)",
                subject=f"{median([getattr(r, attr) for r in large_results]):.2f} ms (100k)",
                ratio=f"{ratio:.2f}x",
                verdict="INVALID" if invalid else ("pass" if ratio <= 1.5 else "FAIL"),
            )
        )
    rps_ratio = median([b.rps / a.rps for a, b in zip(small_results, large_results, strict=True)])
    details.append(
        f"req/s: 1k {median([r.rps for r in small_results]):,.0f}, 100k "
        f"{median([r.rps for r in large_results]):,.0f} (ratio {rps_ratio:.2f}x)"
    )
    if invalid:
        details.append(f"INVALID: {invalid}")
    return Outcome("list", rows, details)


# create-flow: a run is invalid if more than this share of its executions had not ended
# when wrk stopped (their flows would have run after the measurement).
BACKLOG_LIMIT = 0.01
CREATE_FLOW_MINIMUM = 0.7


def create_flow(config: Config) -> Outcome:
    """Create throughput with the five-widget flow vs the inert flow, both servers the same
    build and settings (serve_populated.py --bench-flows: both flows are fixtures), reset
    before every run. After every run, /_bench/stats reports how many of the run's
    executions were still active when wrk stopped, then settles them and checks each ended
    with the flow's steps and outputs (flows.py)."""
    stats: list[tuple[str, dict[str, Any], WrkResult]] = []
    with (
        server("inert", "serve_populated.py", "--executions", "0", "--bench-flows", "--bench-routes") as inert,
        server("five-widget", "serve_populated.py", "--executions", "0", "--bench-flows", "--bench-routes") as five,
    ):
        paths = {inert.name: f"/v2/Flows/{flows.INERT}/Executions", five.name: f"/v2/Flows/{flows.FIVE}/Executions"}
        for srv, sid in ((inert, flows.INERT), (five, flows.FIVE)):
            _check(srv, "POST", paths[srv.name], 201, DEMO_CREATE_BODY)
            settled = json.loads(_check(srv, "GET", f"/_bench/stats?flow={sid}", 200))
            if settled["bad"] or settled["executions"] != 1:
                raise RuntimeError(f"{srv.name}: the check execution did not run as expected: {settled}")

        def run(srv: Server, duration: float) -> WrkResult:
            reset(srv)
            result = wrk(
                srv, paths[srv.name], create=True, expected=201, duration=duration, connections=config.connections
            )
            sid = flows.FIVE if srv is five else flows.INERT
            stats.append((srv.name, json.loads(_check(srv, "GET", f"/_bench/stats?flow={sid}", 200)), result))
            return result

        outcome = _throughput(
            "create-flow",
            f"B. create execution req/s, five-widget flow >= {CREATE_FLOW_MINIMUM}x inert flow",
            CREATE_FLOW_MINIMUM,
            config,
            ("inert", inert, run),
            ("five-widget", five, run),
        )
    problems = []
    lines = []
    for index, (name, st, result) in enumerate(stats):
        label = "warm-up" if index < 2 else "run"
        backlog = st["active_at_end"] / st["executions"] if st["executions"] else 1.0
        line = (
            f"{label} {name:<11} created {st['executions']:,} (wrk counted {result.requests:,}); "
            f"not yet ended when wrk stopped {st['active_at_end']:,} ({100 * backlog:.2f}%); "
            f"steps then {st['steps_at_end']:,}, after settling {st['steps']:,} of {st['expected_steps']:,} expected; "
            f"executions not as expected {st['bad']}"
        )
        lines.append(line)
        if st["bad"] or st["steps"] != st["expected_steps"]:
            problems.append(f"{name}: {st['bad']} executions did not run as expected, e.g. {st['first_problem']}")
        if st["executions"] < result.requests:
            problems.append(f"{name}: wrk counted {result.requests} creates, the server holds {st['executions']}")
        if backlog > BACKLOG_LIMIT:
            problems.append(f"{name}: {100 * backlog:.1f}% of the flows had not run when wrk stopped")
    for line in lines:
        log("  " + line)
    outcome.details += lines
    if problems:
        outcome.details += [f"INVALID: {p}" for p in problems]
        for row in outcome.rows:
            row.verdict = "INVALID"
    return outcome


def create_with(config: Config, name: str, target: str, minimum: float, *flags: str) -> Outcome:
    """Create throughput (the demo flow) on a server started with `flags` against the same
    server without them: what a watcher of the change feed costs an app creating executions."""
    with (
        server("plain", "serve_populated.py", "--executions", "0") as plain,
        server("with", "serve_populated.py", "--executions", "0", *flags) as subject,
    ):
        run = demo_creates(config, plain, subject)
        return _throughput(name, target, minimum, config, ("plain", plain, run), (" ".join(flags), subject, run))
