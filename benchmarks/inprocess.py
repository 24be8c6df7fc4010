"""Targets 5 (memory per stored execution) and 6 (reset time), and the flow engine's
`engine` (executions/s in-process) and `memory-flow` (memory per finished execution and per
step). The measurements run in fresh interpreters (probes.py); this module turns them into
table rows."""

from __future__ import annotations

import http.client
import time
from typing import Any

from harness import HOST, Outcome, Row, log, median, run_probe, server

MEMORY_LIMIT = 2.5 * 1024  # bytes: 2.5 KiB
ENGINE_MINIMUM = 1000.0  # executions/s, create through ended, five-widget flow
# A step's context must cost well below one full copy of the context: at most this share
# of the full context serialized (the same data as Python objects is several times larger).
STEP_CONTEXT_MAX_SHARE = 0.5


def _probe(kind: str, *args: str) -> dict[str, Any]:
    return run_probe("probes.py", kind, *args)


def _breakdown_lines(flow: str, rss: dict[str, Any], traced: dict[str, Any]) -> list[str]:
    """Where one execution's bytes go: its objects by field, its share of containers, and
    tracemalloc's top allocation sites (memory and memory-flow alike)."""
    breakdown = rss["breakdown"]
    return [
        f"[{flow}] one execution's own objects by field (B, sys.getsizeof, shared objects excluded): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in breakdown["fields"].items())
        + f"; sum {sum(breakdown['fields'].values()):,.0f}",
        f"[{flow}] containers per execution (B): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in breakdown["containers"].items())
        + f"; sum {sum(breakdown['containers'].values()):,.0f}",
        f"[{flow}] tracemalloc top allocation sites (B per execution): "
        + "; ".join(f"{t['where']} {t['per_execution']:,.0f}" for t in traced["top"]),
    ]


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
            *_breakdown_lines(flow, rss, traced),
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


def engine(n: int = 5_000, rounds: int = 5) -> Outcome:
    result = _probe("engine", "--n", str(n), "--rounds", str(rounds))
    runs = result["rounds"]
    details = [f"mockstudio imported from {result['mockstudio']}; {result['loop']}; gc enabled: {result['python_gc']}"]
    for r in runs:
        line = (
            f"round {r['round']} {r['flow']:<6} {r['per_second']:8,.0f} executions/s "
            f"({1e6 * r['seconds'] / r['n']:6.1f} us each: create {1e6 * r['create_s'] / r['n']:5.1f} + "
            f"run to ended {1e6 * r['drain_s'] / r['n']:6.1f})  steps {r['steps']:,}/{r['expected_steps']:,}  "
            f"messages {r['messages']:,}"
            + (f"  INVALID: {r['bad']} bad, e.g. {r['first_problem']}" if r["bad"] else "")
        )
        log("  " + line)
        details.append(line)
    five = [r for r in runs if r["flow"] == "five"]
    inert = [r for r in runs if r["flow"] == "inert"]
    ratios = [f["per_second"] / i["per_second"] for f, i in zip(five, inert, strict=True)]
    details.append(f"per-round five/inert ratios: {', '.join(f'{x:.3f}' for x in ratios)}")
    invalid = [r for r in runs if r["bad"] or r["steps"] != r["expected_steps"]]
    five_rate = median([r["per_second"] for r in five])
    inert_rate = median([r["per_second"] for r in inert])
    if invalid:
        details.append(f"INVALID: {len(invalid)} round(s) with executions that did not end as expected")
    rows = [
        Row(
            f"A. engine: five-widget flow (6 steps), create -> ended in-process >= {ENGINE_MINIMUM:,.0f} "
            f"executions/s (N={n:,}, median of {rounds})",
            "—",
            f"{five_rate:,.0f} exec/s ({1e6 / five_rate:.0f} us each)",
            "—",
            "INVALID" if invalid else ("pass" if five_rate >= ENGINE_MINIMUM else "FAIL"),
        ),
        Row(
            f"A. engine: inert flow (1 step), create -> ended in-process (N={n:,}, median of {rounds}) (info)",
            "—",
            f"{inert_rate:,.0f} exec/s ({1e6 / inert_rate:.0f} us each)",
            f"{median(ratios):.2f}x (five/inert)",
            "INVALID" if invalid else "info",
        ),
    ]
    return Outcome("engine", rows, details)


def subscriber(n: int = 5_000, rounds: int = 7) -> Outcome:
    """Create -> ended throughput of the five-widget flow with one no-op change subscriber,
    against none, in the same interpreter (interleaved rounds, median of per-round ratios)."""
    result = _probe("subscriber", "--n", str(n), "--rounds", str(rounds))
    runs = result["rounds"]
    details = [f"mockstudio imported from {result['mockstudio']}"]
    for r in runs:
        line = (
            f"round {r['round']} subscribers={r['subscribers']} {r['per_second']:8,.0f} executions/s"
            f"  changes seen {r['changes_seen']:,}"
            + (f"  INVALID: {r['bad']} bad, e.g. {r['first_problem']}" if r["bad"] else "")
        )
        log("  " + line)
        details.append(line)
    none = [r for r in runs if r["subscribers"] == 0]
    one = [r for r in runs if r["subscribers"] == 1]
    ratios = [b["per_second"] / a["per_second"] for a, b in zip(none, one, strict=True)]
    details.append(f"per-round one/none ratios: {', '.join(f'{x:.3f}' for x in ratios)}")
    invalid = [r for r in runs if r["bad"] or r["steps"] != r["expected_steps"]]
    invalid += [r for r in one if r["changes_seen"] == 0]  # the subscriber must have been told
    ratio = median(ratios)
    rows = [
        Row(
            f"E. change feed, engine alone (info; the target is subscriber-http): create -> ended with one "
            f"no-op subscriber / none (five-widget flow, N={n:,}, median of {rounds})",
            f"{median([r['per_second'] for r in none]):,.0f} exec/s",
            f"{median([r['per_second'] for r in one]):,.0f} exec/s",
            f"{ratio:.3f}x",
            "INVALID" if invalid else "info",
        )
    ]
    return Outcome("subscriber", rows, details)


def coverage(n: int = 5_000, rounds: int = 7) -> Outcome:
    """Create -> ended throughput of the five-widget flow with flow coverage recorded (a
    CoverageRecorder on the change feed, as `--coverage` attaches it), against without, in the
    same interpreter (interleaved rounds, median of per-round ratios)."""
    result = _probe("coverage", "--n", str(n), "--rounds", str(rounds))
    runs = result["rounds"]
    details = [f"mockstudio imported from {result['mockstudio']}"]
    for r in runs:
        line = (
            f"round {r['round']} coverage={'on ' if r['coverage'] else 'off'} {r['per_second']:8,.0f} executions/s"
            f"  steps recorded {r['steps_recorded']:,}"
            + (f"  INVALID: {r['bad']} bad, e.g. {r['first_problem']}" if r["bad"] else "")
        )
        log("  " + line)
        details.append(line)
    off = [r for r in runs if not r["coverage"]]
    on = [r for r in runs if r["coverage"]]
    ratios = [b["per_second"] / a["per_second"] for a, b in zip(off, on, strict=True)]
    details.append(f"per-round on/off ratios: {', '.join(f'{x:.3f}' for x in ratios)}")
    invalid = [r for r in runs if r["bad"] or r["steps"] != r["expected_steps"]]
    # The recorder must have counted every step of the round (warm-up included).
    invalid += [r for r in on if r["steps_recorded"] < r["expected_steps"]]
    ratio = median(ratios)
    rows = [
        Row(
            f"E. flow coverage, engine alone (info; the target is coverage-http): create -> ended with "
            f"coverage recorded / without (five-widget flow, N={n:,}, median of {rounds})",
            f"{median([r['per_second'] for r in off]):,.0f} exec/s",
            f"{median([r['per_second'] for r in on]):,.0f} exec/s",
            f"{ratio:.3f}x",
            "INVALID" if invalid else "info",
        )
    ]
    return Outcome("coverage", rows, details)


def memory_flow(n: int = 10_000) -> Outcome:
    five = _probe("memory-flow-rss", "--n", str(n), "--flow", "five")
    five_traced = _probe("memory-flow-tracemalloc", "--n", str(n), "--flow", "five")
    inert = _probe("memory-flow-rss", "--n", str(n), "--flow", "inert")
    inert_traced = _probe("memory-flow-tracemalloc", "--n", str(n), "--flow", "inert")
    details: list[str] = []
    for rss, traced in ((five, five_traced), (inert, inert_traced)):
        flow = rss["flow"]
        lines = [
            f"[{flow}] mockstudio imported from {rss['mockstudio']}",
            f"[{flow}] RSS before {rss['rss_before'] / 2**20:.1f} MiB, after {n:,} finished executions "
            f"{rss['rss_after'] / 2**20:.1f} MiB -> {rss['bytes_per_execution']:,.0f} B/execution; "
            f"tracemalloc (another fresh interpreter): {traced['bytes_per_execution']:,.0f} B/execution; "
            f"{rss['us_per_execution']:.0f} us per execution (batches of 100, drained)",
            *_breakdown_lines(flow, rss, traced),
        ]
        for result in (rss, traced):
            if result["bad"]:
                lines.append(
                    f"[{flow}] INVALID: {result['bad']} executions did not end as expected: {result['first_problem']}"
                )
        details += lines
    steps = five["steps"]
    count = steps["steps"]
    per_step_context = steps["context_bytes"] / count
    per_step_record = steps["step_record_bytes"] / count
    per_step = per_step_context + per_step_record
    share = count * per_step / steps["own_bytes"]
    layering = (steps["context_bytes"] - steps["final_layer_data"]) / count
    marginal_rss = (five["bytes_per_execution"] - inert["bytes_per_execution"]) / (count - 1)
    marginal_traced = (five_traced["bytes_per_execution"] - inert_traced["bytes_per_execution"]) / (count - 1)
    full_json = steps["full_context_json"]
    full_memory = steps["full_context_memory"]
    ratio = per_step_context / full_json
    lines = [
        f"[five] steps: {count}; widget layers per step: {steps['widget_layers']}",
        f"[five] per step (sys.getsizeof): record {per_step_record:,.0f} B (Step object, SID, key, date, "
        f"index slot) + context {per_step_context:,.0f} B = {per_step:,.0f} B; {count} steps = "
        f"{count * per_step:,.0f} B = {100 * share:.0f}% of the execution's own {steps['own_bytes']:,} B",
        f"[five] context bytes added by each step: {steps['context_by_step']} (sum {steps['context_bytes']:,}); "
        f"the final context's own data {steps['final_layer_data']:,} B, so layering costs "
        f"{layering:,.0f} B/step beyond the data the widgets wrote",
        f"[five] one full context (build_context(execution, widgets, variables)): {full_json:,} B serialized "
        f"(orjson), {full_memory:,} B as Python objects; a copy per step would cost "
        f"{steps['copy_per_step_memory']:,.0f} B/step on average; per-step context / full context: "
        f"{ratio:.2f}x serialized, {per_step_context / full_memory:.2f}x as objects",
        f"[five] steps reuse the previous step's layer values by identity (no copies): "
        f"{steps['layers_shared_by_identity']}",
        f"marginal cost of a step, five-widget vs inert ({count} vs 1 steps): RSS {marginal_rss:,.0f} B/step, "
        f"tracemalloc {marginal_traced:,.0f} B/step (includes the widgets' outputs and the message log's share)",
    ]
    details += lines
    for line in details:
        log("  " + line)
    invalid = any(r["bad"] for r in (five, five_traced, inert, inert_traced))
    shares = steps["layers_shared_by_identity"] and ratio <= STEP_CONTEXT_MAX_SHARE
    rows = [
        Row(
            f"C. RSS per finished execution at {n // 1000}k, five-widget flow ({count} steps + contexts) (info)",
            f"{inert['bytes_per_execution']:,.0f} B (inert, 1 step)",
            f"{five['bytes_per_execution']:,.0f} B (tracemalloc {five_traced['bytes_per_execution']:,.0f} B)",
            "—",
            "INVALID" if invalid else "info",
        ),
        Row(
            "C. per step of it (info)",
            f"RSS marginal vs inert: {marginal_rss:,.0f} B/step",
            f"{per_step:,.0f} B/step (record {per_step_record:,.0f} + context {per_step_context:,.0f}); "
            f"{100 * share:.0f}% of the execution",
            "—",
            "INVALID" if invalid else "info",
        ),
        Row(
            f"C. step contexts share layers, no copies: context B/step <= {STEP_CONTEXT_MAX_SHARE}x one full "
            "context serialized",
            f"{full_json:,} B (full context, JSON)",
            f"{per_step_context:,.0f} B/step",
            f"{ratio:.2f}x",
            "INVALID" if invalid else ("pass" if shares else "FAIL"),
        ),
    ]
    return Outcome("memory-flow", rows, details)
