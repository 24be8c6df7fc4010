"""Targets 5 (memory per stored execution) and 6 (reset time). The measurements run in
fresh interpreters (probes.py); this module turns them into table rows."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from typing import Any

from harness import HERE, HOST, Outcome, Row, child_cwd, clean_env, log, median, server

MEMORY_LIMIT = 2.5 * 1024  # bytes: 2.5 KiB


def _probe(kind: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(HERE / "probes.py"), kind, *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=child_cwd(),
        env=clean_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} probe failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def memory(n: int = 100_000, traced_n: int = 20_000) -> Outcome:
    rows: list[Row] = []
    details: list[str] = []
    for flow, label in (
        ("demo", "bundled demo flow (parks in send-and-wait-for-reply)"),
        ("inert", "inert flow (trigger leads nowhere: 1 step, ends)"),
    ):
        rss = _probe("memory-rss", "--n", str(n), "--flow", flow)
        traced = _probe("memory-tracemalloc", "--n", str(traced_n), "--flow", flow)
        per = rss["bytes_per_execution"]
        lines = [
            f"[{flow}] mockstudio imported from {rss['mockstudio']}",
            f"[{flow}] RSS before {rss['rss_before'] / 2**20:.1f} MiB, after {n:,} executions "
            f"{rss['rss_after'] / 2**20:.1f} MiB -> {per:,.0f} B/execution",
            f"[{flow}] tracemalloc (over {traced_n:,} executions): {traced['bytes_per_execution']:,.0f} B/execution",
            f"[{flow}] create_execution in-process: {rss['create_us_per_execution']:.1f} us each; "
            f"a full gc.collect() with {n:,} stored: {rss['full_gc_ms']:.0f} ms "
            f"({rss['gc_tracked_objects']:,} GC-tracked objects)",
            f"[{flow}] one execution's own objects by field (B, sys.getsizeof, shared objects excluded): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in rss["breakdown"]["fields"].items())
            + f"; sum {sum(rss['breakdown']['fields'].values()):,.0f}",
            f"[{flow}] containers per execution (B): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in rss["breakdown"]["containers"].items())
            + f"; sum {sum(rss['breakdown']['containers'].values()):,.0f}",
            f"[{flow}] tracemalloc top allocation sites (B per execution): "
            + "; ".join(f"{t['where']} {t['per_execution']:,.0f}" for t in traced["top"]),
        ]
        for line in lines:
            log("  " + line)
        details += lines
        primary = flow == "demo"
        rows.append(
            Row(
                f"5. RSS per stored execution at {n // 1000}k, {label}"
                + (f" <= 2.5 KiB ({MEMORY_LIMIT:,.0f} B)" if primary else " (info)"),
                "—",
                f"{per:,.0f} B (tracemalloc at {traced_n // 1000}k: {traced['bytes_per_execution']:,.0f} B)",
                "—",
                ("pass" if per <= MEMORY_LIMIT else "FAIL") if primary else "info",
            )
        )
    return Outcome("memory", rows, details)


def _http_reset_times(n: int, reps: int) -> tuple[list[float], list[float]]:
    with server("mockstudio", "serve_populated.py", "--bench-routes") as mock:
        conn = http.client.HTTPConnection(HOST, mock.port, timeout=60)
        try:

            def post(path: str) -> float:
                start = time.perf_counter()
                conn.request("POST", path)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - start
                if response.status != 200:
                    raise RuntimeError(f"POST {path} answered {response.status}: {body[:300]!r}")
                return elapsed

            full: list[float] = []
            empty: list[float] = []
            for rep in range(reps + 1):  # the first repetition is a discarded warm-up
                for count, results in ((n, full), (0, empty)):
                    post(f"/_bench/populate?n={count}")
                    elapsed = post("/_mockstudio/reset")
                    if rep > 0:
                        results.append(elapsed)
            return full, empty
        finally:
            conn.close()


def reset(n: int = 10_000, reps: int = 9, http_reps: int = 5) -> Outcome:
    result = _probe("reset", "--n", str(n), "--reps", str(reps))
    full_ms = [1000 * t for t in result["full_s"]]
    empty_ms = [1000 * t for t in result["empty_s"]]
    http_full, http_empty = _http_reset_times(n, http_reps)
    http_full_ms = [1000 * t for t in http_full]
    http_empty_ms = [1000 * t for t in http_empty]
    details = [
        f"mockstudio imported from {result['mockstudio']}",
        f"studio.reset() with {n:,} executions, ms: " + ", ".join(f"{t:.2f}" for t in full_ms),
        "studio.reset() with none, ms: " + ", ".join(f"{t:.3f}" for t in empty_ms),
        f"HTTP POST /_mockstudio/reset with {n:,}, ms: " + ", ".join(f"{t:.2f}" for t in http_full_ms),
        "HTTP POST /_mockstudio/reset with none, ms: " + ", ".join(f"{t:.2f}" for t in http_empty_ms),
    ]
    for line in details:
        log("  " + line)
    mid = median(full_ms)
    rows = [
        Row(
            f"6. studio.reset() with {n // 1000}k executions < 5 ms (median of {reps})",
            f"{median(empty_ms):.3f} ms (empty)",
            f"{mid:.2f} ms",
            "—",
            "pass" if mid < 5 else "FAIL",
        ),
        Row(
            f"6. POST /_mockstudio/reset round trip, {n // 1000}k executions (median of {http_reps}) (info)",
            f"{median(http_empty_ms):.2f} ms (empty)",
            f"{median(http_full_ms):.2f} ms",
            "—",
            "info",
        ),
    ]
    return Outcome("reset", rows, details)
