"""In-process measurements for targets 5 and 6 and the flow-engine benchmarks, each run in
a fresh interpreter by inprocess.py (which builds the table rows):

    python benchmarks/probes.py memory-rss|memory-tracemalloc|reset [--n N] [--reps R]
                                [--flow demo|inert]
    python benchmarks/probes.py engine|subscriber|coverage [--n N] [--rounds R]
    python benchmarks/probes.py memory-flow-rss|memory-flow-tracemalloc [--n N] [--flow five|inert]

prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import sys
import time
import tracemalloc
import types
from typing import Any

import flows
import orjson
from harness import ACCOUNT_SID, AUTH_TOKEN, DEMO_FLOW
from serve_populated import CLOCK_START, PARAMETERS, default_account, populate

import mockstudio
from mockstudio.app_factory import build_studio
from mockstudio.clock import ManualClock
from mockstudio.contexts import build_context
from mockstudio.coverage import CoverageRecorder
from mockstudio.domain.models import Execution
from mockstudio.settings import Settings
from mockstudio.sids import RandomSids
from mockstudio.studio import AccountSeed, AccountState, Studio

# A well-formed, unknown Flow SID: with accept_any_flow it becomes the inert flow (its
# trigger leads nowhere, so each execution records one step and ends at once).
INERT_FLOW = "FW" + "ab" * 16
FLOWS = {"demo": DEMO_FLOW, "inert": INERT_FLOW}


def _rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _fresh() -> tuple[Studio, ManualClock]:
    clock = ManualClock(CLOCK_START)
    return build_studio(Settings(accept_any_flow=True), clock=clock), clock


def _reachable(obj: Any, seen: set[int], stop: set[int]) -> int:
    """Bytes of the objects reachable from `obj` that are in neither `seen` nor `stop`
    (adds them to `seen`). Classes, modules and functions are not followed."""
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen or id(o) in stop or isinstance(o, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        stack.extend(gc.get_referents(o))
    return total


def _breakdown(studio: Studio, flow_sid: str) -> dict[str, dict[str, float]]:
    """Where one stored execution's bytes are (sys.getsizeof, so allocator overhead is not
    included): objects reachable from each of its fields but not from another execution
    (so the flow definition and other shared objects do not count), and each per-account or
    per-flow container's size divided by the number of executions."""
    account = default_account(studio)
    flow = account.flows[flow_sid]
    mine = [e for e in account.executions.values() if e.flow_sid == flow_sid]
    a, b = mine[len(mine) // 2], mine[len(mine) // 2 + 1]
    shared: set[int] = {id(account), id(studio)}
    _reachable(b, shared, set())
    seen: set[int] = set()
    fields: dict[str, float] = {"(the Execution object)": sys.getsizeof(a)}
    seen.add(id(a))

    def walk(obj: Any, prefix: str, depth: int) -> None:
        for name in getattr(type(obj), "__slots__", ()):
            if not hasattr(obj, name):
                continue
            value = getattr(obj, name)
            if depth < 2 and hasattr(type(value), "__slots__") and type(value).__module__.startswith("mockstudio"):
                if id(value) not in seen and id(value) not in shared:
                    seen.add(id(value))
                    fields[f"{prefix}{name} ({type(value).__name__} object)"] = sys.getsizeof(value)
                    walk(value, f"{prefix}{name}.", depth + 1)
                continue
            fields[prefix + name] = _reachable(value, seen, shared)

    walk(a, "", 0)
    n = len(mine)
    containers: dict[str, float] = {}
    # (the index's dict by SID, measured as a copy of the same size)
    containers["executions by SID (dict)"] = sys.getsizeof(dict.fromkeys(account.executions)) / n
    index = account.executions.of_flow(flow.sid)
    for label, keyed in (
        ("executions by contact (dict + key tuples)", index.by_contact),
        ("executions waiting for a reply (dict + key tuples)", account.executions.waiting()),
    ):
        containers[label] = (sys.getsizeof(keyed) + sum(sys.getsizeof(k) for k in keyed)) / n
    # Its keys and values are the execution's To and contact SID, counted with its fields.
    containers["account.contacts (dict)"] = sys.getsizeof(account.contacts) / n
    containers["flow SortedIndex lists"] = (
        sum(
            sys.getsizeof(index._keys) + sys.getsizeof(index._items) for index in (index.all, index.active, index.ended)
        )
        / n
    )
    engine = getattr(studio, "engine", None)
    if engine is not None:
        timers = getattr(engine, "_timers", [])
        containers["engine timer heap (list + entries)"] = (
            sys.getsizeof(timers) + sum(sys.getsizeof(t) + sys.getsizeof(t[0]) for t in timers)
        ) / n
        messages = getattr(getattr(engine, "messages", None), "_messages", {})
        kept = sum(len(log) for log in messages.values())
        containers[f"engine message log ({kept:,} kept)"] = (
            sum(_reachable(log, set(), shared) for log in messages.values()) / n
        )
    return {
        "fields": {k: round(v, 1) for k, v in fields.items() if v},
        "containers": {k: round(v, 1) for k, v in containers.items()},
    }


def probe_memory_rss(n: int, flow: str) -> dict[str, Any]:
    studio, clock = _fresh()
    account = default_account(studio)
    flow_sid = FLOWS[flow]
    populate(account, 10, clock, flow_sid)  # warm the code path (and create the inert flow)
    before = _rss()
    start = time.perf_counter()
    populate(account, n, clock, flow_sid)
    elapsed = time.perf_counter() - start
    gc_start = time.perf_counter()
    gc.collect()  # a full collection: how long the cyclic GC pauses with this state
    full_gc = time.perf_counter() - gc_start
    after = _rss()
    return {
        "mockstudio": mockstudio.__file__,
        "flow": flow,
        "n": n,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_execution": (after - before) / n,
        "create_us_per_execution": 1e6 * elapsed / n,
        "full_gc_ms": 1000 * full_gc,
        "gc_tracked_objects": len(gc.get_objects()),
        "breakdown": _breakdown(studio, flow_sid),
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/benchmarks/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    if "/mockstudio/" in filename:
        return "mockstudio/" + filename.rsplit("/mockstudio/", 1)[1]
    return os.path.basename(filename)


def probe_memory_tracemalloc(n: int, flow: str) -> dict[str, Any]:
    studio, clock = _fresh()
    account = default_account(studio)
    flow_sid = FLOWS[flow]
    populate(account, 10, clock, flow_sid)
    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    populate(account, n, clock, flow_sid)
    gc.collect()
    after = tracemalloc.take_snapshot()
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    top = after.compare_to(before, "lineno")[:12]
    total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return {
        "flow": flow,
        "n": n,
        "bytes_per_execution": total / n,
        "traced_now": current,
        "top": [
            {
                "where": f"{_short(stat.traceback[0].filename)}:{stat.traceback[0].lineno}",
                "per_execution": stat.size_diff / n,
            }
            for stat in top
        ],
    }


def probe_reset(n: int, reps: int) -> dict[str, Any]:
    studio, clock = _fresh()
    full: list[float] = []
    empty: list[float] = []
    for rep in range(reps + 1):  # the first repetition is a discarded warm-up
        for count, results in ((n, full), (0, empty)):
            populate(default_account(studio), count, clock)
            gc.collect()
            start = time.perf_counter()
            studio.reset()
            elapsed = time.perf_counter() - start
            if rep > 0:
                results.append(elapsed)
    return {"mockstudio": mockstudio.__file__, "n": n, "reps": reps, "full_s": full, "empty_s": empty}


# -- the flow engine: engine, memory-flow ---------------------------------------------------------

_runs = itertools.count(1)  # a prefix per batch of creates, so every To is distinct


def _engine_studio() -> tuple[Studio, AccountState, ManualClock]:
    """A Studio as the engine benchmarks build it: ManualClock, random SIDs, one account,
    the benchmark flows (fixtures/bench_flows.json) as FlowSeeds."""
    clock = ManualClock(CLOCK_START)
    studio = Studio(
        clock=clock,
        sid_factory=RandomSids(),
        accounts=[AccountSeed(ACCOUNT_SID, AUTH_TOKEN)],
        flows=flows.flow_seeds(ACCOUNT_SID),
    )
    return studio, studio.accounts[ACCOUNT_SID], clock


def _create(account: AccountState, flow_sid: str, n: int, clock: ManualClock | None = None) -> list[Execution]:
    """`n` executions with distinct To numbers (the engine runs them once the caller awaits)."""
    prefix = next(_runs)
    created = []
    for i in range(n):
        if clock is not None:
            clock.advance(1)
        created.append(account.create_execution(flow_sid, f"+1{prefix:04d}{i:08d}", "+15550000000", PARAMETERS))
    return created


async def _engine_round(kind: str, n: int, warmup: int, subscribers: int = 0, coverage: bool = False) -> dict[str, Any]:
    """A fresh Studio; `warmup` executions run and drained; then N created and drained, timed.
    `subscribers`: that many no-op subscribers of the change feed; `coverage`: a flow
    coverage recorder subscribed, as `--coverage` does."""
    flow_sid = flows.FLOWS[kind]
    studio, account, _ = _engine_studio()
    seen = [0]

    def no_op(change: object) -> None:
        seen[0] += 1

    for _ in range(subscribers):
        studio.changes.subscribe(no_op)
    recorder = CoverageRecorder() if coverage else None
    if recorder is not None:
        recorder.attach(studio)
    warm = _create(account, flow_sid, warmup)
    await studio.engine.drain()
    gc.collect()  # also frees the previous round's Studio, outside the timing
    start = time.perf_counter()
    executions = _create(account, flow_sid, n)
    created = time.perf_counter()
    await studio.engine.drain()
    end = time.perf_counter()
    bad, first = flows.check_all(warm + executions)
    per_execution = len(flows.EXPECTED_STEPS[flow_sid])
    messages = len(studio.engine.messages.list(account.sid))
    # Two sends per five-widget execution; the log keeps the newest message_limit per account.
    expected_messages = min(2 * (warmup + n), studio.engine.config.message_limit) if kind == "five" else 0
    if messages != expected_messages:
        bad += 1
        first = first or f"{messages} messages logged, expected {expected_messages}"
    return {
        "flow": kind,
        "n": n,
        "seconds": end - start,
        "create_s": created - start,
        "drain_s": end - created,
        "per_second": n / (end - start),
        "steps": sum(len(e.steps or ()) for e in executions),
        "expected_steps": n * per_execution,
        "messages": messages,
        "bad": bad,
        "first_problem": first,
        "changes_seen": seen[0],
        # Steps the recorder counted (it must have been told of every one).
        "steps_recorded": sum(recorder.since_reset().steps.values()) if recorder is not None else 0,
    }


def probe_subscriber(n: int, rounds: int, warmup: int = 200) -> dict[str, Any]:
    """The five-widget flow's create -> ended throughput with one no-op change subscriber
    and with none, interleaved rounds (after one discarded round of each)."""

    async def main() -> list[dict[str, Any]]:
        for subscribers in (0, 1):
            await _engine_round("five", n // 4, warmup, subscribers)
        results = []
        for r in range(rounds):
            for subscribers in (0, 1) if r % 2 == 0 else (1, 0):
                result = await _engine_round("five", n, warmup, subscribers)
                result["round"] = r + 1
                result["subscribers"] = subscribers
                results.append(result)
        return results

    return {"mockstudio": mockstudio.__file__, "rounds": asyncio.run(main())}


def probe_coverage(n: int, rounds: int, warmup: int = 200) -> dict[str, Any]:
    """The five-widget flow's create -> ended throughput with flow coverage recorded and
    without, interleaved rounds (after one discarded round of each)."""

    async def main() -> list[dict[str, Any]]:
        for coverage in (False, True):
            await _engine_round("five", n // 4, warmup, coverage=coverage)
        results = []
        for r in range(rounds):
            for coverage in (False, True) if r % 2 == 0 else (True, False):
                result = await _engine_round("five", n, warmup, coverage=coverage)
                result["round"] = r + 1
                result["coverage"] = coverage
                results.append(result)
        return results

    return {"mockstudio": mockstudio.__file__, "rounds": asyncio.run(main())}


def probe_engine(n: int, rounds: int, warmup: int = 200) -> dict[str, Any]:
    """Interleaved rounds (five inert, inert five, ...) after one discarded round of each,
    all inside one asyncio event loop."""

    async def main() -> list[dict[str, Any]]:
        for kind in ("five", "inert"):  # discarded: imports (python-liquid), first-run costs
            await _engine_round(kind, n // 4, warmup)
        results = []
        for r in range(rounds):
            for kind in ("five", "inert") if r % 2 == 0 else ("inert", "five"):
                result = await _engine_round(kind, n, warmup)
                result["round"] = r + 1
                results.append(result)
        return results

    results = asyncio.run(main())
    return {
        "mockstudio": mockstudio.__file__,
        "loop": "asyncio (default event loop)",
        "python_gc": gc.isenabled(),
        "rounds": results,
    }


async def _run_batches(studio: Studio, account: AccountState, clock: ManualClock, flow_sid: str, n: int) -> None:
    """Create `n` executions 100 at a time, draining after each batch (few coroutines alive
    at once, so the reading is what finished executions keep, not a transient peak). The
    clock moves 1 s per execution. Keeps no references to them."""
    for start in range(0, n, 100):
        _create(account, flow_sid, min(100, n - start), clock)
        await studio.engine.drain()


def _layers_shared(earlier: Any, later: Any) -> bool:
    """Whether the later step's context layers reuse the earlier step's values (the very
    objects: a copy would be equal, not identical), except what the later step's widget
    wrote (its own outputs, and the variables a set-variables widget set)."""
    written = (later.widgets or {}).get(later.transitioned_from)
    rewritten = set(written) if isinstance(written, dict) else set()
    for mine, theirs, skip in (
        (earlier.widgets, later.widgets, {later.transitioned_from}),
        (earlier.variables, later.variables, rewritten),
    ):
        for key, value in (mine or {}).items():
            if key not in skip and (theirs is None or theirs.get(key) is not value):
                return False
    return True


def _step_breakdown(studio: Studio, account: AccountState, flow_sid: str) -> dict[str, Any]:
    """One finished execution's own bytes (sys.getsizeof; objects also reachable from
    another execution, such as widget names and event strings, are excluded), split into
    its step contexts (the widgets/variables layers its steps reference, counted at the
    step that introduced them), its step records (Step objects, their SIDs/keys/dates and
    the per-execution step index) and the rest of the execution; against the size of one
    full context."""
    mine = [e for e in account.executions.values() if e.flow_sid == flow_sid]
    a, b = mine[len(mine) // 2], mine[len(mine) // 2 + 1]
    shared: set[int] = {id(account), id(studio)}
    _reachable(b, shared, set())
    seen: set[int] = set()
    steps = list(a.steps.newest_first())[::-1] if a.steps is not None else []
    context_by_step = []
    for step in steps:
        added = 0
        for layer in (step.widgets, step.variables):
            if layer is not None:
                added += _reachable(layer, seen, shared)
        context_by_step.append(added)
    records = _reachable(a.steps, seen, shared) if a.steps is not None else 0
    rest = _reachable(a, seen, shared)
    # The data the final context holds, once: what any scheme must store at least.
    final_data = sum(_reachable(layer, set(), shared) for layer in (a.widgets, a.variables) if layer is not None)
    full = build_context(a, a.widgets, a.variables)
    step_contexts = [build_context(a, s.widgets, s.variables) for s in steps]
    shared_layers = all(_layers_shared(s, t) for s, t in itertools.pairwise(steps))
    return {
        "steps": len(steps),
        "context_by_step": context_by_step,
        "context_bytes": sum(context_by_step),
        "final_layer_data": final_data,
        "step_record_bytes": records,
        "rest_bytes": rest,
        "own_bytes": sum(context_by_step) + records + rest,
        "full_context_json": len(orjson.dumps(full)),
        "full_context_memory": _reachable(full, set(), set()),
        # If every step stored a copy of its full context as objects: the mean per step.
        "copy_per_step_memory": sum(_reachable(c, set(), set()) for c in step_contexts) / max(1, len(steps)),
        "layers_shared_by_identity": shared_layers,
        "widget_layers": [sorted(s.widgets or {}) for s in steps],
    }


def probe_memory_flow_rss(n: int, flow: str) -> dict[str, Any]:
    flow_sid = flows.FLOWS[flow]
    studio, account, clock = _engine_studio()

    async def main() -> dict[str, Any]:
        await _run_batches(studio, account, clock, flow_sid, 10)  # warm the code paths
        before = _rss()
        start = time.perf_counter()
        await _run_batches(studio, account, clock, flow_sid, n)
        elapsed = time.perf_counter() - start
        after = _rss()
        return {"rss_before": before, "rss_after": after, "us_per_execution": 1e6 * elapsed / n}

    result = asyncio.run(main())
    bad, first = flows.check_all([e for e in account.executions.values() if e.flow_sid == flow_sid])
    return {
        "mockstudio": mockstudio.__file__,
        "flow": flow,
        "n": n,
        **result,
        "bytes_per_execution": (result["rss_after"] - result["rss_before"]) / n,
        "executions": len(account.executions),
        "bad": bad,
        "first_problem": first,
        "steps": _step_breakdown(studio, account, flow_sid),
        "breakdown": _breakdown(studio, flow_sid),
    }


def probe_memory_flow_tracemalloc(n: int, flow: str) -> dict[str, Any]:
    flow_sid = flows.FLOWS[flow]
    studio, account, clock = _engine_studio()

    async def main() -> dict[str, Any]:
        await _run_batches(studio, account, clock, flow_sid, 10)
        gc.collect()
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
        await _run_batches(studio, account, clock, flow_sid, n)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        top = after.compare_to(before, "lineno")[:12]
        return {
            "bytes_per_execution": total / n,
            "top": [
                {
                    "where": f"{_short(stat.traceback[0].filename)}:{stat.traceback[0].lineno}",
                    "per_execution": stat.size_diff / n,
                }
                for stat in top
            ],
        }

    result = asyncio.run(main())
    bad, first = flows.check_all([e for e in account.executions.values() if e.flow_sid == flow_sid])
    return {"flow": flow, "n": n, **result, "bad": bad, "first_problem": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "kind",
        choices=[
            "memory-rss",
            "memory-tracemalloc",
            "reset",
            "engine",
            "subscriber",
            "coverage",
            "memory-flow-rss",
            "memory-flow-tracemalloc",
        ],
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flow", choices=sorted({*FLOWS, *flows.FLOWS}), default=None)
    args = parser.parse_args()
    if args.kind == "engine":
        result = probe_engine(args.n, args.rounds)
    elif args.kind == "subscriber":
        result = probe_subscriber(args.n, args.rounds)
    elif args.kind == "coverage":
        result = probe_coverage(args.n, args.rounds)
    elif args.kind.startswith("memory-flow"):
        probe = probe_memory_flow_rss if args.kind == "memory-flow-rss" else probe_memory_flow_tracemalloc
        result = probe(args.n, args.flow or "five")
    elif args.flow not in (None, *FLOWS):
        parser.error(f"--flow {args.flow} is for memory-flow-*")
    elif args.kind == "memory-rss":
        result = probe_memory_rss(args.n, args.flow or "demo")
    elif args.kind == "memory-tracemalloc":
        result = probe_memory_tracemalloc(args.n, args.flow or "demo")
    else:
        result = probe_reset(args.n, args.reps)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
