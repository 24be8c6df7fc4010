"""In-process measurements for targets 5 and 6, each run in a fresh interpreter by
inprocess.py (which builds the table rows):

    python benchmarks/probes.py memory-rss|memory-tracemalloc|reset [--n N] [--reps R]
                                [--flow demo|inert]

prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
import types
from typing import Any

from harness import DEMO_FLOW
from serve_populated import CLOCK_START, default_account, populate

import mockstudio
from mockstudio.app_factory import build_studio
from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.studio import Studio

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
    containers["account.executions"] = sys.getsizeof(account.executions) / n
    for label, keyed in (
        ("flow.active_by_contact (dict + key tuples)", flow.active_by_contact),
        ("account.waiting_for_reply (dict + key tuples)", getattr(account, "waiting_for_reply", {})),
    ):
        containers[label] = (sys.getsizeof(keyed) + sum(sys.getsizeof(k) for k in keyed)) / n
    # Its keys and values are the execution's To and contact SID, counted with its fields.
    containers["account.contacts (dict)"] = sys.getsizeof(account.contacts) / n
    containers["flow SortedIndex lists"] = (
        sum(
            sys.getsizeof(index._keys) + sys.getsizeof(index._items)
            for index in (flow.executions, flow.active_executions, flow.ended_executions)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["memory-rss", "memory-tracemalloc", "reset"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--flow", choices=sorted(FLOWS), default="demo")
    args = parser.parse_args()
    if args.kind == "memory-rss":
        result = probe_memory_rss(args.n, args.flow)
    elif args.kind == "memory-tracemalloc":
        result = probe_memory_tracemalloc(args.n, args.flow)
    else:
        result = probe_reset(args.n, args.reps)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
