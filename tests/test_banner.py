"""The server's startup banner, as the `mockstudio` command prints it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import DEMO_FLOW, ROOT

ACCOUNT, TOKEN = "AC00000000000000000000000000000000", "mockstudio"


def _start(state: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the server and returns it with its banner (what it printed before it answered)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}
    log = state.with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockstudio", "--port", str(port), "--state-file", str(state), "--no-access-log"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_mockstudio/health", timeout=2).status_code == 200:
                return process, log.read_text()
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    assert process.wait(timeout=15) == 0


def test_restored_executions_are_counted_in_words(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / "state.db"
    process, banner = _start(state, port)
    try:
        assert "0 executions restored" in banner, banner
        created = httpx.post(
            f"http://127.0.0.1:{port}/v2/Flows/{DEMO_FLOW}/Executions",
            data={"To": "+15551234567", "From": "+15017122661"},
            auth=(ACCOUNT, TOKEN),
            timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        _stop(process)
    process, banner = _start(state, port)
    try:
        assert "(kept across restarts; 1 execution restored)" in banner, banner
    finally:
        _stop(process)
