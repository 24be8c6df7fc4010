"""Shared machinery for the benchmarks: server processes, wrk, CPU accounting, medians.

Standard library only, so the server scripts (baseline_app.py, serve_populated.py) can
import it for the one uvicorn configuration every HTTP benchmark shares.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"  # loopback only

# The one uvicorn configuration both the baselines and mockstudio run under.
UVICORN_SETTINGS: dict[str, Any] = {
    "host": HOST,
    "workers": 1,
    "http": "httptools",
    "loop": "uvloop",
    "access_log": False,
    "log_level": "warning",
}

# mockstudio's defaults (settings.py, bundled/demo.json).
ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "mockstudio"
DEMO_FLOW = "FW00000000000000000000000000000001"
AUTH_HEADER = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

# Optional CPU pinning (run.py --pin): wrk on one core, servers on the other.
PIN: dict[str, str] = {}

# run.py --ref: a directory holding a `git archive` snapshot of mockstudio/, imported by
# every child process instead of the working tree (PYTHONPATH and cwd point at it).
SOURCE: dict[str, Path] = {}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """The environment without MOCKSTUDIO_* variables (the CLI rejects unknown ones), with
    PYTHONPATH pointing at the snapshot under test if there is one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}
    if "dir" in SOURCE:
        env["PYTHONPATH"] = str(SOURCE["dir"])
    return env


def child_cwd() -> Path:
    """Where children run: `python -m`/`-c` put the cwd first on sys.path, so with a
    snapshot it must be the snapshot, not the repository."""
    return SOURCE.get("dir", ROOT)


def run_probe(script: str, *args: str, timeout: float = 240) -> dict[str, Any]:
    """`python benchmarks/<script> <args>` in a fresh interpreter: the JSON object it
    prints on its last line."""
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=child_cwd(),
        env=clean_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} {args[0]} probe failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def snapshot(ref: str, into: Path) -> str:
    """Extract mockstudio/ at `ref` into `into`; returns the resolved commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "mockstudio"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    SOURCE["dir"] = into
    return commit


def _pinned(role: str, argv: list[str]) -> list[str]:
    cpu = PIN.get(role)
    if cpu is not None and shutil.which("taskset"):
        return ["taskset", "-c", cpu, *argv]
    return argv


# -- server processes -------------------------------------------------------------------------

_live: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


def spawn(argv: list[str], *, role: str = "server", stderr_path: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a process in its own session (so its whole group can be killed)."""
    stderr: Any = subprocess.DEVNULL
    if stderr_path is not None:
        stderr = stderr_path.open("wb")
    try:
        process = subprocess.Popen(
            _pinned(role, argv),
            cwd=child_cwd(),
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    finally:
        if stderr_path is not None:
            stderr.close()
    _live[process.pid] = process
    return process


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers."""
    _live.pop(process.pid, None)
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def kill_all() -> None:
    for process in list(_live.values()):
        kill_group(process)


def wait_for_port(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with status {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} not listening after {timeout}s") from None
            time.sleep(0.02)


@contextlib.contextmanager
def server(name: str, script: str, *args: str, ready_timeout: float = 30.0) -> Iterator[Server]:
    """Run `python benchmarks/<script> ... --port P --info FILE` until the block ends."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mockstudio-bench-") as tmp:
        info_path = Path(tmp) / "info.json"
        stderr_path = Path(tmp) / "stderr.log"
        argv = [sys.executable, str(HERE / script), *args, "--port", str(port), "--info", str(info_path)]
        process = spawn(argv, stderr_path=stderr_path)
        try:
            try:
                wait_for_port(process, port, ready_timeout)
            except RuntimeError:
                log(stderr_path.read_text(errors="replace")[-2000:])
                raise
            info = json.loads(info_path.read_text()) if info_path.exists() else {}
            yield Server(name, port, process, info)
        finally:
            kill_group(process)


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- wrk --------------------------------------------------------------------------------------

_LUA_COMMON = r"""
expected_status = %(expected)d
unexpected = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status ~= expected_status then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("unexpected") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %%.0f, "duration_us": %%.0f, "bytes": %%.0f, "connect": %%.0f, '
    .. '"read": %%.0f, "write": %%.0f, "status": %%.0f, "timeout": %%.0f, "unexpected": %%.0f, '
    .. '"p50_us": %%.0f, "p90_us": %%.0f, "p99_us": %%.0f, "mean_us": %%.1f, "max_us": %%.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, bad, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""

_LUA_STATIC = r"""
wrk.method = "%(method)s"
wrk.headers["Authorization"] = "%(auth)s"
"""

# A distinct To per request: run id (distinct per wrk invocation) + thread id + counter.
_LUA_CREATE = r"""
counter = 0
local headers = {
  ["Authorization"] = "%(auth)s",
  ["Content-Type"] = "application/x-www-form-urlencoded",
}

function request()
  counter = counter + 1
  local body = string.format(
    "To=%%%%2B1%(run)03d%%d%%07d&From=%%%%2B15550000000&Parameters=%%%%7B%%%%22name%%%%22%%%%3A%%%%22Zeke%%%%22%%%%7D",
    tid, counter)
  return wrk.format("POST", "%(path)s", headers, body)
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    errors: int  # socket errors + HTTP status >= 400 as wrk counts them
    unexpected: int  # responses whose status was not the expected one
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    server_cpu_pct: float  # server process CPU over the run (100 = one core)
    server_cpu_us_per_req: float
    wrk_cpu_pct: float  # the load generator's CPU (near 100 would mean wrk is the bottleneck)

    @property
    def valid(self) -> bool:
        return self.errors == 0 and self.unexpected == 0 and self.requests > 0


_run_counter = 0


def wrk(
    server: Server,
    path: str,
    *,
    method: str = "GET",
    create: bool = False,
    expected: int = 200,
    duration: float = 5.0,
    connections: int = 16,
    threads: int = 1,
) -> WrkResult:
    """One wrk run; `create` makes every request a POST with a never-used To."""
    global _run_counter
    _run_counter += 1
    params = {"expected": expected, "auth": AUTH_HEADER, "method": method, "path": path, "run": _run_counter}
    script = _LUA_COMMON % params + ((_LUA_CREATE if create else _LUA_STATIC) % params)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="mockstudio-bench-", delete=False) as f:
        f.write(script)
        script_path = f.name
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        script_path,
        server.url(path),
    ]
    try:
        cpu_before = process_cpu_seconds(server.pid)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            _pinned("wrk", argv),
            capture_output=True,
            text=True,
            timeout=duration + 30,
            check=False,
            start_new_session=True,
        )
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_after = process_cpu_seconds(server.pid)
    finally:
        os.unlink(script_path)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-1000:]} {done.stderr[-1000:]}")
    data = json.loads(line[len("BENCHJSON ") :])
    seconds = data["duration_us"] / 1e6
    requests = int(data["requests"])
    errors = sum(int(data[k]) for k in ("connect", "read", "write", "status", "timeout"))
    server_cpu = cpu_after - cpu_before
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    return WrkResult(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds if seconds else 0.0,
        errors=errors,
        unexpected=int(data["unexpected"]),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
        server_cpu_pct=100 * server_cpu / seconds if seconds else 0.0,
        server_cpu_us_per_req=1e6 * server_cpu / requests if requests else 0.0,
        wrk_cpu_pct=100 * wrk_cpu / seconds if seconds else 0.0,
    )


def describe(result: WrkResult) -> str:
    flag = "" if result.valid else f"  INVALID: {result.errors} errors, {result.unexpected} unexpected"
    return (
        f"{result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
        f"server CPU {result.server_cpu_pct:4.0f}% ({result.server_cpu_us_per_req:5.0f} us/req)  "
        f"wrk CPU {result.wrk_cpu_pct:3.0f}%  n={result.requests}{flag}"
    )


# -- results ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    target: str
    baseline: str
    subject: str
    ratio: str
    verdict: str  # "pass", "FAIL", "INVALID" or "info"


@dataclass
class Outcome:
    name: str
    rows: list[Row]
    details: list[str]  # per-round figures, for the Markdown file
