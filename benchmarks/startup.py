"""Target 4: process start to the first 200 from the health route.

`python -m mockstudio --port P` (GET /_mockstudio/health) against `python -c` running
uvicorn.run on a bare FastAPI app (GET /health), both with uvicorn.run's defaults as the
CLI uses them. Runs alternate between the two (order swapped each round) after one
discarded warm-up run each (bytecode caches, page cache).
"""

from __future__ import annotations

import http.client
import sys
import time

from baseline_app import STARTUP_SCRIPT
from harness import HOST, Outcome, Row, free_port, kill_group, log, median, spawn

POLL_INTERVAL = 0.002
TIMEOUT = 15.0


def time_to_healthy(argv: list[str], path: str) -> float:
    """Seconds from spawning `argv` to the first 200 on `path`."""
    start = time.perf_counter()
    process = spawn(argv)
    port = int(argv[-1])
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv} exited with status {process.returncode}")
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            try:
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    return time.perf_counter() - start
            except OSError:
                pass
            finally:
                conn.close()
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"{argv} not healthy after {TIMEOUT}s")
            time.sleep(POLL_INTERVAL)
    finally:
        kill_group(process)


def _mock() -> float:
    return time_to_healthy([sys.executable, "-m", "mockstudio", "--port", str(free_port())], "/_mockstudio/health")


def _bare() -> float:
    return time_to_healthy([sys.executable, "-c", STARTUP_SCRIPT, str(free_port())], "/health")


def startup(runs: int = 7) -> Outcome:
    _bare(), _mock()  # warm-up, discarded
    bare: list[float] = []
    mock: list[float] = []
    for i in range(runs):
        order = ((bare, _bare), (mock, _mock)) if i % 2 == 0 else ((mock, _mock), (bare, _bare))
        for results, measure in order:
            results.append(measure())
    details = [
        "bare FastAPI ms: " + ", ".join(f"{1000 * t:.0f}" for t in bare),
        "mockstudio ms:   " + ", ".join(f"{1000 * t:.0f}" for t in mock),
    ]
    for line in details:
        log("  " + line)
    ratios = [m / b for b, m in zip(bare, mock, strict=True)]
    ratio = median(ratios)
    details.append(f"per-run ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
    mock_ms, bare_ms = 1000 * median(mock), 1000 * median(bare)
    rows = [
        Row(
            "4a. startup to first healthy response < 1 s",
            "—",
            f"{mock_ms:.0f} ms",
            "—",
            "pass" if mock_ms < 1000 else "FAIL",
        ),
        Row(
            "4b. startup <= 1.5x bare FastAPI + uvicorn.run",
            f"{bare_ms:.0f} ms",
            f"{mock_ms:.0f} ms",
            f"{ratio:.2f}x",
            "pass" if ratio <= 1.5 else "FAIL",
        ),
    ]
    return Outcome("startup", rows, details)
