"""The live dashboard's target (README, Benchmarks):

- `dashboards`: create throughput (the demo flow) on a server with three dashboards connected
  (three live streams, `GET /_mockstudio/ui/api/live`, read by a separate process as fast as
  they come), vs the same server with none; wrk, interleaved rounds as for the other HTTP
  targets. Target >= 0.9x.

`python benchmarks/live.py read PORT N` is that reader: it opens N streams, reads them until
SIGTERM, then prints what it counted as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from typing import Any

from harness import HERE, HOST, Outcome, child_cwd, clean_env, log, server
from http_benchmarks import Config, _throughput, demo_creates

DASHBOARDS = 3
CREATE_MINIMUM = 0.9
LIVE_PATH = "/_mockstudio/ui/api/live"


def create_with_dashboards(config: Config) -> Outcome:
    with (
        server("no dashboard", "serve_populated.py", "--executions", "0") as plain,
        server("dashboards", "serve_populated.py", "--executions", "0") as watched,
    ):
        run = demo_creates(config, plain, watched)
        reader = subprocess.Popen(
            [sys.executable, str(HERE / "live.py"), "read", str(watched.port), str(DASHBOARDS)],
            cwd=child_cwd(),
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            assert reader.stdout is not None
            if reader.stdout.readline().strip() != b"ready":
                raise RuntimeError("the live reader did not connect")

            outcome = _throughput(
                "dashboards",
                f"E. create execution req/s with {DASHBOARDS} dashboards connected >= {CREATE_MINIMUM}x none",
                CREATE_MINIMUM,
                config,
                ("no dashboard", plain, run),
                (f"{DASHBOARDS} dashboards", watched, run),
            )
            time.sleep(0.5)
        finally:
            reader.send_signal(signal.SIGTERM)
            out, err = reader.communicate(timeout=30)
    lines = out.decode().strip().splitlines()
    if reader.returncode != 0 or not lines:
        raise RuntimeError(f"the live reader failed: {err.decode(errors='replace')[-2000:]}")
    line = f"the reader's streams counted {lines[-1]}"
    log("  " + line)
    outcome.details.append(line)
    return outcome


# -- the reader (a separate process) ------------------------------------------------------------


async def _read(port: int, n: int) -> dict[str, Any]:
    counts = {"streams": n, "events": 0, "reloads": 0, "bytes": 0}
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def one(ready: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(f"GET {LIVE_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        await writer.drain()
        buffer = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("a live stream ended")
            counts["bytes"] += len(chunk)
            *blocks, buffer = (buffer + chunk).split(b"\n\n")
            for block in blocks:
                if b'"kind":"ready"' in block:
                    ready.set()
                elif b'"kind"' in block:
                    counts["events"] += 1
                    counts["reloads"] += b'"kind":"reload"' in block

    readies = [asyncio.Event() for _ in range(n)]
    tasks = [asyncio.create_task(one(ready)) for ready in readies]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    print("ready", flush=True)
    await stop.wait()
    for task in tasks:
        if task.done():
            task.result()  # a stream that failed: its error
        task.cancel()
    return counts


def main() -> None:
    kind, *args = sys.argv[1:]
    if kind == "read":
        print(json.dumps(asyncio.run(_read(int(args[0]), int(args[1])))), flush=True)
    else:
        raise SystemExit(f"unknown probe {kind}")


if __name__ == "__main__":
    main()
