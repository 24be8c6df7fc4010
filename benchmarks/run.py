"""Run mockstudio's benchmarks: all of them, or those named.

    .venv/bin/python benchmarks/run.py [fetch create list startup memory reset
                                        engine create-flow memory-flow soak] [--rounds 5]
                                       [--duration 5] [--pin] [--ref REF]

Prints a Markdown table and writes it, with per-round figures and the environment, to
benchmarks/results/latest.md. Every server it starts runs in its own process group and is
killed when its benchmark ends (or on Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from types import FrameType

import events
import harness
import http_benchmarks
import inprocess
import live
import soak
import startup
from harness import HERE, ROOT, Outcome, Row, kill_all, log

NAMES = [
    "fetch",
    "create",
    "list",
    "startup",
    "memory",
    "reset",
    "engine",
    "create-flow",
    "memory-flow",
    "soak",
    "subscriber",
    "events",
    "events-delivery",
    "events-memory",
    "coverage",
    "dashboards",
    "subscriber-http",
    "coverage-http",
]


def _benchmarks(args: argparse.Namespace) -> dict[str, Callable[[], Outcome]]:
    config = http_benchmarks.Config(rounds=args.rounds, duration=args.duration, warmup=args.warmup)
    return {
        "fetch": lambda: http_benchmarks.fetch(config),
        "create": lambda: http_benchmarks.create(config),
        "list": lambda: http_benchmarks.list_(config),
        "startup": lambda: startup.startup(args.startup_runs),
        "memory": lambda: inprocess.memory(),
        "reset": lambda: inprocess.reset(),
        "engine": lambda: inprocess.engine(),
        "create-flow": lambda: http_benchmarks.create_flow(config),
        "memory-flow": lambda: inprocess.memory_flow(),
        "soak": lambda: soak.soak(),
        "subscriber": lambda: inprocess.subscriber(),
        "events": lambda: events.create_with_sink(config),
        "events-delivery": lambda: events.delivery(),
        "events-memory": lambda: events.memory(),
        "coverage": lambda: inprocess.coverage(),
        "dashboards": lambda: live.create_with_dashboards(config),
        "subscriber-http": lambda: http_benchmarks.create_with(
            config,
            "subscriber-http",
            "E. create execution req/s with one no-op change subscriber >= 0.97x none",
            0.97,
            "--noop-subscriber",
        ),
        "coverage-http": lambda: http_benchmarks.create_with(
            config,
            "coverage-http",
            "E. create execution req/s with flow coverage recorded >= 0.95x without",
            0.95,
            "--coverage",
        ),
    }


def table(rows: list[Row]) -> str:
    lines = [
        "| target | baseline | mockstudio | ratio | result |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = {"pass": "pass", "FAIL": "**FAIL**", "INVALID": "**INVALID**", "ERROR": "**ERROR**"}.get(
            row.verdict, row.verdict
        )
        lines.append(f"| {row.target} | {row.baseline} | {row.subject} | {row.ratio} | {verdict} |")
    return "\n".join(lines)


def _under_test(ref: str | None, commit: str | None) -> str:
    if ref is not None:
        return f"mockstudio/ as committed at {commit} (`--ref {ref}`, a git-archive snapshot)"
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "mockstudio"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"mockstudio/ working tree at {head}" + (" with uncommitted changes" if dirty else "")


def _environment(under_test: str) -> list[str]:
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools")
    )
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return [
        f"- {under_test}",
        f"- Python {platform.python_version()}; {versions}",
        f"- {(wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else 'wrk ?'}; "
        f"{os.cpu_count()} CPUs; load average at start {load}",
    ]


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=" ".join(NAMES))
    # Five: on a shared 2-core machine one round's ratio swings by 0.1 or more either way.
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per HTTP comparison")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk warm-up per server")
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument("--pin", action="store_true", help="taskset: wrk on CPU 0, servers on CPU 1")
    parser.add_argument(
        "--ref", default=None, help="benchmark mockstudio/ as committed at this git ref, not the working tree"
    )
    args = parser.parse_args()
    names = args.names or NAMES
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if args.pin:
        harness.PIN.update({"wrk": "0", "server": "1"})
    signal.signal(signal.SIGTERM, _terminate)

    command = "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    snapshot_dir = None
    commit = None
    if args.ref is not None:
        snapshot_dir = tempfile.mkdtemp(prefix="mockstudio-ref-")
        commit = harness.snapshot(args.ref, Path(snapshot_dir))
    environment = _environment(_under_test(args.ref, commit))
    started = time.monotonic()
    benchmarks = _benchmarks(args)
    outcomes: list[Outcome] = []
    try:
        for name in names:
            log(f"== {name}")
            t0 = time.monotonic()
            try:
                outcome = benchmarks[name]()
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                traceback.print_exc()
                outcome = Outcome(name, [Row(name, "—", "—", "—", "ERROR")], [f"ERROR: {exc!r}"])
            finally:
                kill_all()
            log(f"   ({time.monotonic() - t0:.0f} s)")
            outcomes.append(outcome)
    finally:
        kill_all()
        if snapshot_dir is not None:
            shutil.rmtree(snapshot_dir, ignore_errors=True)

    rows = [row for outcome in outcomes for row in outcome.rows]
    rendered = table(rows)
    print(rendered)
    elapsed = time.monotonic() - started
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# mockstudio benchmark results",
        "",
        f"`{command}` — {when}, {elapsed:.0f} s",
        "",
        *environment,
        "",
        rendered,
        "",
        "Ratios are medians of per-round ratios (baseline and mockstudio runs interleaved); "
        "HTTP figures are wrk `-t1 -c16` medians. See benchmarks/README.md for what each row measures.",
        "",
        "## Details",
    ]
    for outcome in outcomes:
        parts += ["", f"### {outcome.name}", "", "```", *outcome.details, "```"]
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text("\n".join(parts) + "\n")
    log(f"wrote {results / 'latest.md'} ({elapsed:.0f} s)")
    return 1 if any(row.verdict in ("FAIL", "INVALID", "ERROR") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
