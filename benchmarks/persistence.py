"""The cost of a state file (`--state-file`), on demand (not part of the suite):

    .venv/bin/python benchmarks/persistence.py            # both measurements
    .venv/bin/python benchmarks/persistence.py --n 5000   # more executions per round

1. In-process: `AccountState.create_execution` on the bundled demo flow (the execution runs
   to its send-and-wait-for-reply and parks: two commits, one for the create and one when it
   parks), with and without a state file, rounds interleaved; microseconds per execution
   including running the flow. The fsync of each commit dominates: see the `sync` row, the
   same loop with the file's `synchronous` lowered to NORMAL (not durable, for comparison
   only).
2. HTTP: `POST /v2/Flows/{demo}/Executions` one at a time over a keep-alive connection to a
   real `python -m mockstudio` with and without `--state-file`, median latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockstudio.app_factory import build_studio  # noqa: E402
from mockstudio.clock import ManualClock  # noqa: E402
from mockstudio.settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Settings  # noqa: E402

DEMO = "FW00000000000000000000000000000001"
NUMBER = "+15017122661"


async def _creates(state_file: Path | None, n: int, synchronous: str = "FULL") -> float:
    studio = build_studio(Settings(state_file=state_file, http_mode="off"), clock=ManualClock(1_700_000_000))
    if studio.store is not None and synchronous != "FULL":
        studio.store._db.execute(f"PRAGMA synchronous = {synchronous}")  # type: ignore[attr-defined]
    account = studio.accounts[DEFAULT_ACCOUNT_SID]
    started = time.perf_counter()
    for i in range(n):
        account.create_execution(DEMO, f"+1555{i:07d}", NUMBER, '{"name": "Zeke"}')
        if i % 100 == 99:
            await studio.engine.drain()
    await studio.engine.drain()
    elapsed = time.perf_counter() - started
    parked = sum(1 for e in account.executions.values() if e.run is not None and e.run.parked is not None)
    assert parked == n, parked
    studio.close()
    return elapsed / n * 1e6


def in_process(n: int, rounds: int) -> None:
    results: dict[str, list[float]] = {"memory": [], "state file": [], "sync": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            results["memory"].append(asyncio.run(_creates(None, n)))
            results["state file"].append(asyncio.run(_creates(Path(tmp) / f"full{r}.db", n)))
            results["sync"].append(asyncio.run(_creates(Path(tmp) / f"normal{r}.db", n, "NORMAL")))
        size = (Path(tmp) / "full0.db").stat().st_size  # closed: the WAL is checkpointed into it
    memory = statistics.median(results["memory"])
    full = statistics.median(results["state file"])
    normal = statistics.median(results["sync"])
    print(f"in-process, demo flow, create + run to parked, N={n}, median of {rounds} rounds:")
    print(f"  memory only                          {memory:8.1f} us/execution")
    print(f"  state file (synchronous=FULL)        {full:8.1f} us/execution  (+{full - memory:.1f} us, 2 commits)")
    print(f"  state file (NORMAL, not durable)     {normal:8.1f} us/execution  (fsyncs: {full - normal:.1f} us)")
    print(f"  file size after {n} executions: {size / n:.0f} B/execution")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(state_file: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "mockstudio", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    if state_file is not None:
        command += ["--state-file", str(state_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(500):
        try:
            if httpx.get(base + "/_mockstudio/health").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.02)
    raise SystemExit("server did not start")


def over_http(n: int) -> None:
    print(f"HTTP, POST /v2/Flows/{{demo}}/Executions one at a time (keep-alive), N={n}, median latency:")
    with tempfile.TemporaryDirectory() as tmp:
        for label, state_file in (("memory only", None), ("--state-file", Path(tmp) / "state.db")):
            process, base = _serve(state_file)
            try:
                with httpx.Client(base_url=base, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)) as client:
                    latencies = []
                    for i in range(n):
                        started = time.perf_counter()
                        response = client.post(
                            f"/v2/Flows/{DEMO}/Executions", data={"To": f"+1666{i:07d}", "From": NUMBER}
                        )
                        latencies.append(time.perf_counter() - started)
                        assert response.status_code == 201, response.text
            finally:
                process.terminate()
                process.wait(10)
            print(f"  {label:14} {statistics.median(latencies) * 1e6:8.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    in_process(args.n, args.rounds)
    over_http(args.n)


if __name__ == "__main__":
    main()
