"""Damaged state files and failed writes, with real server processes over HTTP: a file that
is refused at startup is left byte for byte as it was (with its -wal and -shm), and a
commit that fails after startup undoes its operation, answers Twilio's 500 and shows in
health."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import DEMO_FLOW
from .helpers import free_port
from .test_persistence import NUMBER, Server, _start_fails, flow_definition, say, trigger, widget

resource: Any = None
if sys.platform == "linux":
    import resource


def _fingerprint(path: Path) -> dict[str, str | None]:
    """The file and its companions, byte for byte (None: absent), and what else the
    directory holds (a check must leave nothing behind)."""
    out: dict[str, str | None] = {}
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        file = path.parent / name
        out[name] = hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None
    out["directory"] = ",".join(sorted(p.name for p in path.parent.iterdir()))
    return out


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.kill()


def _start(servers: list[Server], path: Path) -> Server:
    server = Server(path, free_port())
    servers.append(server)
    return server


def _create(server: Server, to: str) -> Any:
    return server.http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": to, "From": NUMBER})


def _fill(server: Server, count: int, first: int = 0) -> list[str]:
    """Executions enough to spread the file over many pages; each parks waiting."""
    sids = []
    for index in range(first, first + count):
        response = _create(server, f"+1555{index:07d}")
        assert response.status_code == 201, response.text
        sids.append(response.json()["sid"])
    for sid in sids:
        server.settle(sid)
    return sids


def _listed(server: Server) -> list[str]:
    response = server.http.get(f"/v2/Flows/{DEMO_FLOW}/Executions", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    return [e["sid"] for e in response.json()["executions"]]


def _assert_refused_untouched(path: Path) -> str:
    before = _fingerprint(path)
    result = _start_fails(path)
    assert result.returncode == 2, result.stderr
    assert str(path) in result.stderr, result.stderr
    assert "left as it is" in result.stderr or "left as they are" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _fingerprint(path) == before
    return result.stderr


def _stop(server: Server) -> None:
    """A clean shutdown: the WAL is written into the file and removed."""
    server.http.close()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0


@pytest.mark.parametrize("keep", [0.5, 0], ids=["half", "nothing"])
def test_kill_9_then_a_truncated_file_is_refused_and_left_byte_for_byte(
    started: list[Server], tmp_path: Path, keep: float
) -> None:
    path = tmp_path / "state.db"
    _fill(_start(started, path), 60)
    _stop(started[-1])  # the main file now holds those executions...
    server = _start(started, path)
    _fill(server, 5, first=60)
    server.kill()  # ...and, after kill -9, the WAL the last commits
    assert Path(f"{path}-wal").stat().st_size > 0
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(int(size * keep))
    _assert_refused_untouched(path)
    _assert_refused_untouched(path)  # and again: nothing the first refusal did changed it


def test_a_page_of_garbage_in_a_clean_file_is_refused_and_left_byte_for_byte(
    started: list[Server], tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    server = _start(started, path)
    _fill(server, 60)
    _stop(server)
    assert not Path(f"{path}-wal").exists()
    with path.open("r+b") as file:
        file.seek(4096)
        file.write(os.urandom(4096))
    stderr = _assert_refused_untouched(path)
    assert "corrupt" in stderr or "not a SQLite database" in stderr


def test_a_corrupt_page_with_a_wal_present_is_refused_and_left_byte_for_byte(
    started: list[Server], tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    _fill(_start(started, path), 60)
    _stop(started[-1])
    server = _start(started, path)
    _fill(server, 5, first=60)
    server.kill()
    with path.open("r+b") as file:
        file.seek(2 * 4096)
        file.write(b"\xff" * 4096)
    _assert_refused_untouched(path)


def test_a_valid_file_loads_with_its_wal_and_leaves_nothing_behind(started: list[Server], tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    server = _start(started, path)
    sids = _fill(server, 5)
    server.kill()
    assert Path(f"{path}-wal").stat().st_size > 0  # (what follows is read from it)
    server = _start(started, path)
    assert sorted(_listed(server)) == sorted(sids)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db", "state.db-wal"]  # no check copy left
    assert server.http.get("/_mockstudio/health").json()["state_file"] == "ok"


# -- a commit that fails after startup -----------------------------------------------------------


def _limit_file_size(server: Server, limit: int | None) -> None:
    """What a full disk does to the server's writes: past `limit` bytes a write fails
    (EFBIG; Python ignores SIGXFSZ). None lifts the limit."""
    hard = resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)[1]
    resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (hard if limit is None else limit, hard))


TWILIO_500 = {
    "code": 20500,
    "message": "An internal server error has occurred",
    "more_info": "https://www.twilio.com/docs/errors/20500",
    "status": 500,
}


@pytest.mark.skipif(sys.platform != "linux", reason="needs prlimit (Linux) to make the server's writes fail")
def test_a_failed_commit_undoes_the_operation_and_shows_in_health(started: list[Server], tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    server = _start(started, path)
    http = server.http
    kept = _fill(server, 2)
    health = http.get("/_mockstudio/health")
    assert health.status_code == 200 and health.json()["state_file"] == "ok"
    clock_before = http.get("/_mockstudio/clock").json()["epoch"]

    # A new file's WAL only grows (no checkpoint before 1000 pages): every commit from now
    # on writes past its current end, and fails.
    _limit_file_size(server, Path(f"{path}-wal").stat().st_size)
    for _ in range(3):  # the same contact, again and again: 500 each time, never 409
        response = _create(server, "+15557770000")
        assert response.status_code == 500
        assert response.json() == TWILIO_500
    assert sorted(_listed(server)) == sorted(kept)  # nothing was created
    failed = http.post("/_mockstudio/clock", data={"advance": "86400"})
    assert failed.status_code == 500 and failed.json() == TWILIO_500
    assert abs(http.get("/_mockstudio/clock").json()["epoch"] - clock_before) < 60  # not moved
    ended = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{kept[0]}", data={"Status": "ended"})
    assert ended.status_code == 500
    assert http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{kept[0]}").json()["status"] == "active"
    health = http.get("/_mockstudio/health")
    assert health.status_code == 503
    assert health.json()["status"] == "failing" and health.json()["state_file"] == "failing"
    assert "restore a backup" in health.json()["problem"]
    # Reads still answer, and the waiting executions still wait where they were.
    assert server.settle(kept[1])["waiting_on"] == "greet"

    # Once writes work again, so does the operation, and health is ok again.
    _limit_file_size(server, None)
    response = _create(server, "+15557770000")
    assert response.status_code == 201, response.text
    created = response.json()["sid"]
    server.settle(created)
    assert http.get("/_mockstudio/health").status_code == 200
    assert sorted(_listed(server)) == sorted([*kept, created])

    # The log said what happened and what to do.
    server.http.close()
    server.process.send_signal(signal.SIGKILL)
    log = server.process.communicate(timeout=10)[1].decode()
    assert f"Could not write the state file {path}" in log and "restore a backup" in log

    # The file agrees: after kill -9, exactly what was acknowledged.
    server = _start(started, path)
    assert sorted(_listed(server)) == sorted([*kept, created])
    assert server.settle(kept[0])["status"] == "active"
    assert abs(server.http.get("/_mockstudio/clock").json()["epoch"] - clock_before) < 60


def test_a_file_damaged_while_the_server_runs_makes_it_refuse_changes(started: list[Server], tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    kept = _fill(_start(started, path), 30)
    _stop(started[-1])
    server = _start(started, path)  # checked and loaded intact; the writing connection has read little of it
    http = server.http
    with path.open("r+b") as file:  # then something overwrites most of it
        file.seek(4096)
        file.write(b"\xff" * (path.stat().st_size - 4096))
    clock_before = http.get("/_mockstudio/clock").json()["epoch"]

    # The commit reads damaged pages and fails; so does reading the state back.
    response = _create(server, "+15558880000")
    assert response.status_code == 500 and response.json() == TWILIO_500
    health = http.get("/_mockstudio/health")
    assert health.status_code == 503 and health.json()["state_file"] == "read-only"
    listed = _listed(server)
    assert set(kept) <= set(listed)

    # From now on every change is refused before it touches the state; reads still answer.
    for attempt in (
        lambda: _create(server, "+15558880001"),
        lambda: http.post("/_mockstudio/clock", data={"advance": "86400"}),
        lambda: http.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{kept[0]}", data={"Status": "ended"}),
        lambda: http.delete(f"/v2/Flows/{DEMO_FLOW}/Executions/{kept[1]}"),
    ):
        refused = attempt()
        assert refused.status_code == 500 and refused.json() == TWILIO_500
    assert _listed(server) == listed
    assert abs(http.get("/_mockstudio/clock").json()["epoch"] - clock_before) < 60
    assert http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{kept[0]}").json()["status"] == "active"
    server.http.close()
    server.process.send_signal(signal.SIGKILL)
    log = server.process.communicate(timeout=10)[1].decode()
    assert "could not be read back" in log and "every change is refused" in log


def test_a_second_server_on_a_file_in_use_is_refused_and_the_first_carries_on(
    started: list[Server], tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    _fill(_start(started, path), 3)
    _stop(started[-1])
    first = _start(started, path)
    _fill(first, 2, first=3)
    result = _start_fails(path)
    assert result.returncode == 2
    assert "locked by another process" in result.stderr, result.stderr
    assert len(_fill(first, 1, first=5)) == 1
    assert first.http.get("/_mockstudio/health").json()["state_file"] == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db", "state.db-wal"]


@pytest.mark.skipif(sys.platform != "linux", reason="needs prlimit (Linux) to make the server's writes fail")
def test_a_background_commit_that_fails_takes_the_same_path(started: list[Server], tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    server = _start(started, path)
    http = server.http
    definition = flow_definition(
        trigger(incomingRequest="ask"),
        widget("ask", "send-and-wait-for-reply", {"incomingMessage": None, "timeout": "late"}, body="?", timeout="1"),
        say("late", "too late"),
    )
    created = http.post(
        "/v2/Flows", data={"FriendlyName": "Quick", "Status": "published", "Definition": json.dumps(definition)}
    )
    assert created.status_code == 201, created.text
    flow = created.json()["sid"]
    response = http.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15559990000", "From": NUMBER})
    assert response.status_code == 201, response.text
    sid = response.json()["sid"]
    assert server.settle(sid)["waiting_on"] == "ask"

    # The timeout falls due while writes fail: the timer's run is undone, again at each tick.
    _limit_file_size(server, Path(f"{path}-wal").stat().st_size)
    deadline = time.monotonic() + 20
    while http.get("/_mockstudio/health").status_code != 503:
        assert time.monotonic() < deadline, "the timeout did not fire"
        time.sleep(0.1)
    time.sleep(0.6)  # a few ticks more: it fires, and is undone, again
    state = server.settle(sid)
    assert state["status"] == "active" and state["waiting_on"] == "ask"
    steps = http.get(f"/v2/Flows/{flow}/Executions/{sid}/Steps").json()["steps"]
    assert [s["transitioned_to"] for s in steps] == ["ask"]

    # Writes work again: the timeout fires, the run goes on and is kept.
    _limit_file_size(server, None)
    deadline = time.monotonic() + 20
    while http.get(f"/v2/Flows/{flow}/Executions/{sid}").json()["status"] != "ended":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert http.get("/_mockstudio/health").status_code == 200
    server.http.close()
    server.process.send_signal(signal.SIGKILL)
    log = server.process.communicate(timeout=10)[1].decode()
    # The full message once; then (the timeout firing again at each tick) a line per failure.
    assert log.count("Could not write the state file") == 1
    server = _start(started, path)
    assert server.http.get(f"/v2/Flows/{flow}/Executions/{sid}").json()["status"] == "ended"
    messages = server.http.get("/_mockstudio/messages", params={"contact": "+15559990000"}).json()["messages"]
    assert [m["body"] for m in messages] == ["?", "too late"]
