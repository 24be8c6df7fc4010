"""The state file (mockstudio/persistence/): the store round trip in-process (state written,
reopened, identical: indexes, steps sharing their context layers, run state), executions
interrupted mid-run, timers, reset, caps; a real server killed with SIGKILL and restarted;
files that must stop startup and stay untouched."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockstudio.app_factory import build_studio
from mockstudio.clock import Clock, ManualClock, VirtualClock
from mockstudio.domain.models import ACTIVE, ENDED, Execution
from mockstudio.engine.messages import Message
from mockstudio.engine.scripts import Script, ScriptedOutcome
from mockstudio.persistence import APPLICATION_ID, SCHEMA_VERSION, StateFileError, open_store
from mockstudio.settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Settings
from mockstudio.sids import RandomSids
from mockstudio.studio import AccountState, Studio

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, ROOT, TEST_FIXTURES, TEST_FLOW
from .helpers import free_port

START = 1_700_000_000.0
NUMBER = "+15017122661"  # the flows' own address (From of REST executions)
INBOUND = "+15550009999"  # bound to the API-created flow for inbound messages
REPLY = "{{widgets.ask.inbound.Body}}"


def trigger(**events: str) -> dict[str, Any]:
    names = ("incomingMessage", "incomingCall", "incomingConversationMessage", "incomingRequest", "incomingParent")
    return {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [{"event": name, **({"next": events[name]} if name in events else {})} for name in names],
        "properties": {"offset": {"x": 0, "y": 0}},
    }


def widget(name: str, kind: str, transitions: dict[str, str | None], **properties: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "transitions": [{"event": e, **({"next": n} if n else {})} for e, n in transitions.items()],
        "properties": {"offset": {"x": 0, "y": 0}, **properties},
    }


def flow_definition(*states: dict[str, Any]) -> dict[str, Any]:
    return {"description": "persistence test", "states": list(states), "initial_state": "Trigger", "flags": None}


def say(name: str, body: str, next_: str | None = None) -> dict[str, Any]:
    return widget(name, "send-message", {"sent": next_, "failed": None}, body=body)


# Asks, remembers the answer in flow.variables, says it back: several steps sharing layers.
ASK_FLOW = flow_definition(
    trigger(incomingRequest="ask", incomingMessage="ask"),
    widget(
        "ask",
        "send-and-wait-for-reply",
        {"incomingMessage": "remember", "timeout": None, "deliveryFailure": None},
        body="What is your name, {{flow.data.title | default: 'friend'}}?",
        timeout="600",
    ),
    widget(
        "remember",
        "set-variables",
        {"next": "echo"},
        variables=[{"key": "answer", "value": REPLY}],
    ),
    say("echo", "You said {{flow.variables.answer}}"),
)
ASK_FLOW["flags"] = {"allow_concurrent_calls": True}

# An HTTP call (scripted to hang, to crash the server while it waits), then a message per branch.
HTTP_FLOW = flow_definition(
    trigger(incomingRequest="prepare"),
    widget("prepare", "set-variables", {"next": "call"}, variables=[{"key": "step", "value": "one"}]),
    widget("call", "make-http-request", {"success": "ok", "failed": "nope"}, method="GET", url="http://mock.invalid/"),
    say("ok", "it worked"),
    say("nope", "it failed after {{flow.variables.step}}"),
)
HTTP_FLOW["flags"] = {"allow_concurrent_calls": True}


def settings_for(path: Path, **overrides: Any) -> Settings:
    return Settings(state_file=path, fixtures=TEST_FIXTURES, http_mode="off", **overrides)


def open_studio(path: Path, clock: Clock | None = None, **overrides: Any) -> Studio:
    return build_studio(settings_for(path, **overrides), clock=clock or ManualClock(START), sid_factory=RandomSids())


def account_of(studio: Studio, sid: str = DEFAULT_ACCOUNT_SID) -> AccountState:
    return studio.accounts[sid]


def crash(studio: Studio) -> None:
    """What kill -9 leaves: the file as last committed (nothing pending is written) and
    its lock released."""
    assert studio.store is not None
    studio.store.close(discard=True)


def chronological(execution: Execution) -> list[Any]:
    return list(reversed(list(execution.steps.newest_first()))) if execution.steps is not None else []


def snapshot(studio: Studio) -> dict[str, Any]:
    """Everything observable of the state, including the indexes and which steps share
    their context layers."""
    out: dict[str, Any] = {}
    for account in studio.accounts.values():
        flows = []
        for flow in account.flow_index.newest_first():
            executions = []
            index = account.executions.of_flow(flow.sid)
            for execution in index.all.newest_first():
                steps = chronological(execution)
                layers = [id(layer) for step in steps for layer in (step.widgets, step.variables)]
                run = execution.run
                parked = run.parked if run is not None else None
                executions.append(
                    {
                        "sid": execution.sid,
                        "status": execution.status,
                        "contact": (execution.contact_sid, execution.addresses),
                        "data": (execution.parameters, execution.trigger, execution.initiator),
                        "version": execution.flow_version,
                        "dates": (execution.date_created, execution.date_updated, execution.key),
                        "layers": (execution.widgets, execution.variables),
                        "steps": [
                            (
                                s.sid,
                                s.name,
                                s.transitioned_from,
                                s.transitioned_to,
                                s.type,
                                s.parent_step_sid,
                                s.widgets,
                                s.variables,
                                s.date_created,
                                s.key,
                            )
                            for s in steps
                        ],
                        # which layer objects are shared: each id as the index of its first use
                        "sharing": [layers.index(i) for i in layers],
                        "parked": None
                        if parked is None
                        else (parked.state.name, parked.outputs, parked.due, parked.timeout_event, parked.step_sid),
                        "run": None if run is None else (run.step_count, run.last_widget, run.repeats),
                    }
                )
            flows.append(
                {
                    "sid": flow.sid,
                    "fields": (flow.friendly_name, flow.status, flow.revision, flow.commit_message, flow.valid),
                    "dates": (flow.date_created, flow.date_updated, flow.key),
                    "definition": flow.definition,
                    "test_users": flow.test_users,
                    "revisions": [
                        (r.revision, r.friendly_name, r.status, r.commit_message, r.definition, r.date_created)
                        for r in flow.history
                    ],
                    "executions": executions,
                    "active": [e.sid for e in index.active.newest_first()],
                    "ended": [e.sid for e in index.ended.newest_first()],
                    "by_contact": {k: e.sid for k, e in index.by_contact.items()},
                }
            )
        out[account.sid] = {
            "flows": flows,
            "numbers": account.numbers,
            "contacts": account.contacts,
            "waiting": {k: e.sid for k, e in account.executions.waiting().items()},
            "messages": studio.engine.messages.list(account.sid),
        }
    return out


def populate(studio: Studio) -> dict[str, str]:
    """Flows, revisions and test users through the API; a waiting execution, an ended one,
    a deleted one, a bound number, an inbound message starting an execution and its reply
    (several steps), messages. Runs on the caller's event loop; returns SIDs by role."""
    account = account_of(studio)
    flow = account.create_flow("Ask", "draft", json.dumps(ASK_FLOW), "first")
    account.update_flow(flow.sid, "published", commit_message="publish")
    account.update_test_user(flow.sid, ["+15550000001", "+15550000002"])
    waiting = account.create_execution(DEMO_FLOW, "+15550000010", NUMBER, '{"name": "Zeke"}')
    ended = account.create_execution(DEMO_FLOW, "+15550000011", NUMBER, None)
    deleted = account.create_execution(DEMO_FLOW, "+15550000012", NUMBER, None)
    account.bind_number(INBOUND, flow.sid)
    return {"flow": flow.sid, "waiting": waiting.sid, "ended": ended.sid, "deleted": deleted.sid}


async def populate_and_settle(studio: Studio) -> dict[str, str]:
    sids = populate(studio)
    account = account_of(studio)
    engine = studio.engine
    await engine.drain()
    account.update_execution(DEMO_FLOW, sids["ended"], "ended")
    account.delete_execution(DEMO_FLOW, sids["deleted"])
    started, action, _ = account.receive_message("+15550000020", INBOUND, "hi")
    assert action == "started"
    await engine.drain()
    account.receive_message("+15550000020", INBOUND, "Ada")  # resumes: remember, echo, end
    second, _, _ = account.receive_message("+15550000021", INBOUND, "hello")  # left waiting
    await engine.drain()
    assert started.status == ENDED and second.status == ACTIVE
    sids.update(answered=started.sid, asking=second.sid)
    return sids


# -- in-process: the store round trip --------------------------------------------------------


def test_everything_comes_back_identical(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def before() -> tuple[dict[str, Any], dict[str, str]]:
        studio = open_studio(path)
        sids = await populate_and_settle(studio)
        shot = snapshot(studio)
        crash(studio)  # not even a clean close: every change was committed when it was made
        return shot, sids

    shot, sids = asyncio.run(before())
    studio = open_studio(path)
    assert snapshot(studio) == shot
    account = account_of(studio)
    assert sids["deleted"] not in account.executions
    answered = account.executions[sids["answered"]]
    assert answered.variables == {"answer": "Ada"}
    steps = chronological(answered)
    # steps share their layers as the engine made them (no copies after a restart either)
    assert steps[-1].widgets is answered.widgets and steps[-1].variables is answered.variables
    assert steps[-2].variables is steps[-1].variables  # echo wrote outputs, not variables
    shared = [id(layer) for step in steps for layer in (step.widgets, step.variables) if layer is not None]
    assert len(set(shared)) < len(shared)  # (the snapshot compared which ones)
    # new sort keys keep increasing: a new execution is the newest
    latest = account.create_execution(TEST_FLOW, "+15550000030", NUMBER, None)
    assert latest.key > max(e.key for e in account.executions.values() if e is not latest)
    flow = account.create_flow("Later", "published", json.dumps(ASK_FLOW))
    assert next(account.flow_index.newest_first()) is flow
    studio.close()


def test_waiting_execution_resumes_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def before() -> str:
        studio = open_studio(path)
        account = account_of(studio)
        execution = account.create_execution(DEMO_FLOW, "+15550000040", NUMBER, '{"name": "Zeke"}')
        await studio.engine.drain()
        crash(studio)
        return execution.sid

    sid = asyncio.run(before())

    async def after() -> None:
        studio = open_studio(path)
        account = account_of(studio)
        execution = account.executions[sid]
        assert execution.run is not None and execution.run.parked is not None
        assert account.executions.waiting_for_reply(("+15550000040", NUMBER)) is execution
        with pytest.raises(Exception, match="already active"):
            account.create_execution(DEMO_FLOW, "+15550000040", NUMBER, None)
        _, action, _ = account.receive_message("+15550000040", NUMBER, "yes")
        assert action == "resumed"
        await studio.engine.drain()
        assert execution.status == ENDED
        assert [s.transitioned_from for s in chronological(execution)] == ["Trigger", "greet", "check_reply", "confirm"]
        bodies = [m.body for m in studio.engine.messages.list(account.sid, execution_sid=sid)]
        assert bodies[-1] == "Thanks Zeke, we will call you back."
        studio.close()

    asyncio.run(after())


def test_create_acknowledged_before_the_flow_ran_is_kept_and_runs(tmp_path: Path) -> None:
    """create_execution returned (the 201 would be sent) and the server died before the
    flow's first step: the execution is in the file and runs from its trigger after."""
    path = tmp_path / "state.db"

    async def before() -> str:
        studio = open_studio(path)
        execution = account_of(studio).create_execution(DEMO_FLOW, "+15550000045", NUMBER, '{"name": "Zeke"}')
        crash(studio)  # the engine task has not run yet
        return execution.sid

    sid = asyncio.run(before())

    async def after() -> None:
        studio = open_studio(path)
        account = account_of(studio)
        execution = account.executions[sid]
        assert execution.status == ACTIVE and execution.steps is None and execution.parameters == {"name": "Zeke"}
        studio.engine.fire_due_timers()
        await studio.engine.drain()
        assert execution.run is not None and execution.run.parked is not None
        assert [s.transitioned_to for s in chronological(execution)] == ["greet"]
        assert account.executions.waiting_for_reply(("+15550000045", NUMBER)) is execution
        studio.close()

    asyncio.run(after())


def test_reply_acknowledged_before_the_crash_is_not_lost(tmp_path: Path) -> None:
    """The reply was answered `resumed` but the server died before the flow ran on: the
    restart runs that resume."""
    path = tmp_path / "state.db"

    async def before() -> str:
        studio = open_studio(path)
        account = account_of(studio)
        execution = account.create_execution(DEMO_FLOW, "+15550000050", NUMBER, '{"name": "Zeke"}')
        await studio.engine.drain()
        _, action, _ = account.receive_message("+15550000050", NUMBER, "yes")
        assert action == "resumed"
        crash(studio)  # before the engine task ran
        return execution.sid

    sid = asyncio.run(before())

    async def after() -> None:
        studio = open_studio(path)
        account = account_of(studio)
        execution = account.executions[sid]
        assert execution.status == ACTIVE and execution.run is not None and execution.run.parked is None
        studio.engine.fire_due_timers()  # the first tick continues interrupted executions
        await studio.engine.drain()
        assert execution.status == ENDED
        assert (execution.widgets or {})["greet"]["inbound"]["Body"] == "yes"
        assert [s.transitioned_to for s in chronological(execution)] == ["greet", "check_reply", "confirm", "Ended"]
        studio.close()

    asyncio.run(after())


def test_execution_interrupted_in_a_widget_runs_that_widget_again(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def before() -> tuple[str, list[str]]:
        studio = open_studio(path)
        account = account_of(studio)
        flow = account.create_flow("HTTP", "published", json.dumps(HTTP_FLOW))
        hang = ScriptedOutcome(status_code=200, body="late", delay=30.0)
        studio.engine.scripts.add(Script(account.sid, "call", flow.sid, [hang]))
        execution = account.create_execution(flow.sid, "+15550000060", NUMBER, None)
        for _ in range(100):  # until it waits on the HTTP call (no timing involved)
            await asyncio.sleep(0)
            if execution.steps is not None and len(execution.steps) == 2:
                break
        steps = [s.sid for s in chronological(execution)]
        assert len(steps) == 2  # Trigger -> prepare, prepare -> call: committed as the call suspended
        crash(studio)
        return execution.sid, steps

    sid, steps = asyncio.run(before())

    async def after() -> None:
        studio = open_studio(path)
        account = account_of(studio)
        execution = account.executions[sid]
        assert execution.status == ACTIVE
        studio.engine.fire_due_timers()
        await studio.engine.drain()
        assert execution.status == ENDED
        chain = chronological(execution)
        assert [s.sid for s in chain[:2]] == steps  # the steps before the crash are kept as they were
        assert [(s.transitioned_from, s.name) for s in chain[2:]] == [("call", "failed"), ("nope", "sent")]
        assert studio.engine.messages.list(account.sid, execution_sid=sid)[-1].body == "it failed after one"
        studio.close()

    asyncio.run(after())


def test_subflow_parent_and_child_carry_on_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def before() -> tuple[str, str]:
        studio = open_studio(path)
        account = account_of(studio)
        child_definition = flow_definition(
            trigger(incomingParent="ask"),
            widget("ask", "send-and-wait-for-reply", {"incomingMessage": "keep", "timeout": None}, body="Name?"),
            widget("keep", "set-variables", {"next": None}, variables=[{"key": "name", "value": REPLY}]),
        )
        child_definition["flags"] = {"allow_concurrent_calls": True}
        child = account.create_flow("Child", "published", json.dumps(child_definition))
        parent_definition = flow_definition(
            trigger(incomingRequest="sub"),
            widget("sub", "run-subflow", {"completed": "done", "failed": None}, flow_sid=child.sid),
            say("done", "Hello {{widgets.sub.name}}"),
        )
        parent_definition["flags"] = {"allow_concurrent_calls": True}
        parent_flow = account.create_flow("Parent", "published", json.dumps(parent_definition))
        parent = account.create_execution(parent_flow.sid, "+15550000070", NUMBER, None)
        await studio.engine.drain()
        kids = [e for e in account.executions.values() if e.initiator == parent.sid]
        assert len(kids) == 1 and kids[0].status == ACTIVE
        crash(studio)
        return parent.sid, kids[0].sid

    parent_sid, child_sid = asyncio.run(before())

    async def after() -> None:
        studio = open_studio(path)
        account = account_of(studio)
        _, action, _ = account.receive_message("+15550000070", NUMBER, "Ada")
        assert action == "resumed"
        await studio.engine.drain()
        parent, child = account.executions[parent_sid], account.executions[child_sid]
        assert child.status == ENDED and parent.status == ENDED
        assert studio.engine.messages.list(account.sid, execution_sid=parent_sid)[-1].body == "Hello Ada"
        child_steps = chronological(child)
        parent_step = next(s for s in chronological(parent) if s.transitioned_from == "sub")
        assert {s.parent_step_sid for s in child_steps} == {parent_step.sid}
        studio.close()

    asyncio.run(after())


def test_timeout_due_while_down_fires_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def before() -> str:
        studio = open_studio(path)
        execution = account_of(studio).create_execution(DEMO_FLOW, "+15550000080", NUMBER, None)
        await studio.engine.drain()
        studio.close()
        return execution.sid

    sid = asyncio.run(before())

    async def after() -> None:
        studio = open_studio(path, clock=ManualClock(START + 2 * 3600))  # the 1 h timeout passed meanwhile
        assert studio.engine.fire_due_timers() == 1
        await studio.engine.drain()
        execution = account_of(studio).executions[sid]
        assert execution.status == ENDED
        assert chronological(execution)[-1].name == "timeout"
        studio.close()

    asyncio.run(after())


def test_reset_clears_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def before() -> None:
        studio = open_studio(path)
        await populate_and_settle(studio)
        other = account_of(studio, OTHER_ACCOUNT)
        other.create_execution(OTHER_FLOW, "+15550000090", NUMBER, None)
        await studio.engine.drain()
        studio.reset(DEFAULT_ACCOUNT_SID)  # one account
        studio.close()

    asyncio.run(before())
    studio = open_studio(path)
    account, other = account_of(studio), account_of(studio, OTHER_ACCOUNT)
    assert not account.executions and not account.numbers and not studio.engine.messages.list(account.sid)
    assert set(account.flows) == {DEMO_FLOW, TEST_FLOW}
    assert len(other.executions) == 1
    studio.reset()  # everything
    studio.close()
    studio = open_studio(path)
    assert not account_of(studio, OTHER_ACCOUNT).executions
    studio.close()


def test_fixture_flows_keep_their_identity_and_stay_deleted(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    studio = open_studio(path)
    account = account_of(studio)
    identity = {sid: (f.date_created, f.key) for sid, f in account.flows.items()}
    account.delete_flow(TEST_FLOW)
    studio.close()

    studio = open_studio(path, clock=ManualClock(START + 500))
    account = account_of(studio)
    assert TEST_FLOW not in account.flows  # a fixture flow deleted through the API stays deleted
    assert (account.flows[DEMO_FLOW].date_created, account.flows[DEMO_FLOW].key) == identity[DEMO_FLOW]
    studio.reset()  # ...until a reset reloads the fixtures
    assert TEST_FLOW in account_of(studio).flows
    studio.close()
    studio = open_studio(path)
    assert TEST_FLOW in account_of(studio).flows
    studio.close()


def test_fixture_flow_changed_through_the_api_keeps_its_revisions(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    studio = open_studio(path)
    account = account_of(studio)
    account.update_flow(TEST_FLOW, "published", friendly_name="Renamed", commit_message="v2")
    before = snapshot(studio)
    studio.close()
    studio = open_studio(path)
    assert snapshot(studio) == before
    assert account_of(studio).flows[TEST_FLOW].revision == 2
    studio.close()


def test_virtual_clock_offset_survives(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    clock = VirtualClock()
    studio = open_studio(path, clock=clock)
    clock.advance(10 * 86400)
    studio.close()
    restarted = VirtualClock()
    studio = open_studio(path, clock=restarted)
    assert restarted.offset == pytest.approx(10 * 86400, abs=60)
    studio.close()


def test_message_log_stays_capped_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    studio = open_studio(path, message_limit=20)
    for n in range(200):
        studio.engine.messages.add(
            Message(f"SM{n:032x}", DEFAULT_ACCOUNT_SID, "inbound", "+1", "+2", f"m{n}", None, None, "received", n)
        )
    studio.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] <= 20 + 16
    studio = open_studio(path, message_limit=20)
    assert [m.body for m in studio.engine.messages.list(DEFAULT_ACCOUNT_SID)] == [f"m{n}" for n in range(180, 200)]
    studio.engine.messages.clear(DEFAULT_ACCOUNT_SID)
    studio.close()
    studio = open_studio(path, message_limit=20)
    assert studio.engine.messages.list(DEFAULT_ACCOUNT_SID) == []
    studio.close()


def test_executions_dropped_by_the_ended_cap_leave_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    studio = open_studio(path, ended_execution_limit=5)
    account = account_of(studio)
    for n in range(20):
        execution = account.create_execution(TEST_FLOW, f"+1555000{n:04d}", NUMBER, None)
        account.update_execution(TEST_FLOW, execution.sid, "ended")
    kept = set(account.executions)
    studio.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM executions").fetchone()[0] == len(kept) <= 5
    studio = open_studio(path, ended_execution_limit=5)
    assert set(account_of(studio).executions) == kept
    studio.close()


def test_accept_any_flow_autocreated_flows_persist(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    auto = "FW" + "a" * 32
    studio = open_studio(path, accept_any_flow=True)
    execution = account_of(studio).create_execution(auto, "+15550000100", NUMBER, None)
    studio.close()
    studio = open_studio(path)  # even without the option now
    assert account_of(studio).executions[execution.sid].flow_sid == auto
    studio.close()


def test_without_a_state_file_there_is_no_store(tmp_path: Path) -> None:
    studio = build_studio(Settings(fixtures=TEST_FIXTURES), clock=ManualClock(START))
    assert studio.store is None
    studio.close()
    assert list(tmp_path.iterdir()) == []


# -- files that must stop startup (in-process) -------------------------------------------------


def test_unusable_files_are_refused_and_left_alone(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, " * 200)
    with pytest.raises(StateFileError, match="not a SQLite database"):
        open_store(garbage)
    assert garbage.read_bytes() == b"this is not a database, " * 200

    foreign = tmp_path / "foreign.db"
    with closing(sqlite3.connect(foreign)) as db:
        db.execute("CREATE TABLE t (x)")
    content = foreign.read_bytes()
    with pytest.raises(StateFileError, match="not a mockstudio state file"):
        open_store(foreign)
    assert foreign.read_bytes() == content

    with pytest.raises(StateFileError, match="is not a regular file"):
        open_store(tmp_path)
    with pytest.raises(StateFileError, match="does not exist"):
        open_store(tmp_path / "missing" / "state.db")


def test_a_file_without_permission_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.db"
    open_store(path).close()
    content = path.read_bytes()
    # (chmod cannot be relied on: root may read anything; this is what os.access then says)
    monkeypatch.setattr("mockstudio.persistence.schema.os.access", lambda p, mode: Path(p) != path)
    with pytest.raises(StateFileError, match="check its permissions"):
        open_store(path)
    assert path.read_bytes() == content


def test_an_empty_file_becomes_a_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    open_store(path).close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_second_server_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = open_store(path)
    try:
        with pytest.raises(StateFileError, match="locked by another process"):
            open_store(path)
    finally:
        store.close()
    open_store(path).close()


# -- a real server, killed with SIGKILL --------------------------------------------------------


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}


def _command(path: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mockstudio",
        "--port",
        str(port),
        "--state-file",
        str(path),
        "--fixtures",
        str(TEST_FIXTURES),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


class Server:
    def __init__(self, path: Path, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            _command(path, port), cwd=ROOT, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.http = httpx.Client(base_url=self.base_url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.process.communicate()[1].decode()}")
            try:
                if self.http.get("/_mockstudio/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        self.http.close()
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=10)

    def settle(self, sid: str) -> dict[str, Any]:
        response = self.http.get(f"/_mockstudio/executions/{sid}/settled", params={"timeout": 10})
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        assert state["settled"], state
        return state


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def servers(state_path: Path, port: int) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.kill()


def _observe(server: Server, sids: dict[str, str]) -> dict[str, Any]:
    """What clients see: every list, fetch, step, context, message and number."""
    http = server.http
    out: dict[str, Any] = {}

    def get(path: str, **params: Any) -> Any:
        response = http.get(path, params=params)
        return response.status_code, response.json()

    out["flows"] = get("/v2/Flows", PageSize=50)
    for flow in (DEMO_FLOW, TEST_FLOW, sids["flow"]):
        out[f"flow {flow}"] = get(f"/v2/Flows/{flow}")
        out[f"revisions {flow}"] = get(f"/v2/Flows/{flow}/Revisions")
        out[f"test users {flow}"] = get(f"/v2/Flows/{flow}/TestUsers")
        for status in (None, "active", "ended"):
            params = {"Status": status} if status else {}
            status_code, page = get(f"/v2/Flows/{flow}/Executions", PageSize=1, **params)
            pages = [page]
            while page.get("meta", {}).get("next_page_url"):  # paging follows the same order
                page = http.get(page["meta"]["next_page_url"]).json()
                pages.append(page)
            out[f"executions {flow} {status}"] = (status_code, pages)
            for execution in (e for page in pages for e in page.get("executions", [])):
                sid = execution["sid"]
                out[f"execution {sid}"] = get(f"/v2/Flows/{flow}/Executions/{sid}")
                out[f"context {sid}"] = get(f"/v2/Flows/{flow}/Executions/{sid}/Context")
                status_code, steps = get(f"/v2/Flows/{flow}/Executions/{sid}/Steps")
                out[f"steps {sid}"] = (status_code, steps)
                for step in steps["steps"]:
                    base = f"/v2/Flows/{flow}/Executions/{sid}/Steps/{step['sid']}"
                    out[f"step {step['sid']}"] = (get(base), get(base + "/Context"))
    out["deleted"] = get(f"/v2/Flows/{DEMO_FLOW}/Executions/{sids['deleted']}")
    out["messages"] = get("/_mockstudio/messages")
    out["numbers"] = get("/_mockstudio/numbers")
    return out


def test_kill_9_loses_nothing_acknowledged(servers: list[Server], state_path: Path, port: int) -> None:
    server = Server(state_path, port)
    servers.append(server)
    http = server.http
    created = http.post(
        "/v2/Flows",
        data={"FriendlyName": "Ask", "Status": "published", "Definition": json.dumps(ASK_FLOW)},
    )
    assert created.status_code == 201, created.text
    flow = created.json()["sid"]
    assert http.post(f"/v2/Flows/{flow}", data={"Status": "published", "CommitMessage": "again"}).status_code == 200
    assert http.post(f"/v2/Flows/{flow}/TestUsers", data={"TestUsers": ["+15550000001"]}).status_code == 200
    assert http.delete(f"/v2/Flows/{TEST_FLOW}").status_code == 204  # a fixture flow

    def execution(to: str, **extra: str) -> str:
        response = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": to, "From": NUMBER, **extra})
        assert response.status_code == 201, response.text
        sid: str = response.json()["sid"]
        server.settle(sid)
        return sid

    waiting = execution("+15550000010", Parameters='{"name": "Zeke"}')
    ended = execution("+15550000011")
    deleted = execution("+15550000012")
    assert http.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{ended}", data={"Status": "ended"}).status_code == 200
    assert http.delete(f"/v2/Flows/{DEMO_FLOW}/Executions/{deleted}").status_code == 204
    assert http.post("/_mockstudio/numbers", data={"Number": INBOUND, "FlowSid": flow}).status_code == 200
    started = http.post("/_mockstudio/messages", data={"From": "+15550000020", "To": INBOUND, "Body": "hi"}).json()
    server.settle(started["execution_sid"])
    http.post("/_mockstudio/messages", data={"From": "+15550000020", "To": INBOUND, "Body": "Ada"})
    server.settle(started["execution_sid"])
    assert server.settle(waiting)["waiting_on"] == "greet"
    sids = {"flow": flow, "deleted": deleted}
    before = _observe(server, sids)

    server.kill()  # SIGKILL: no shutdown, no final commit
    server = Server(state_path, port)
    servers.append(server)
    http = server.http
    assert _observe(server, sids) == before
    assert before["deleted"][0] == 404 and before[f"flow {TEST_FLOW}"][0] == 404

    # The one-active-execution rule still holds for the waiting contact...
    again = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "+15550000010", "From": NUMBER})
    assert again.status_code == 409 and waiting in again.json()["message"]
    # ...and the contact's reply resumes it to the end.
    reply = http.post("/_mockstudio/messages", data={"From": "+15550000010", "To": NUMBER, "Body": "yes"})
    assert reply.json()["action"] == "resumed"
    assert server.settle(waiting)["status"] == "ended"
    steps = http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{waiting}/Steps").json()["steps"]
    assert [s["transitioned_from"] for s in reversed(steps)] == ["Trigger", "greet", "check_reply", "confirm"]
    messages = http.get("/_mockstudio/messages", params={"contact": "+15550000010"}).json()["messages"]
    assert messages[-1]["body"] == "Thanks Zeke, we will call you back."
    # New executions sort after the restored ones.
    newest = execution("+15550000013")
    listed = [e["sid"] for e in http.get(f"/v2/Flows/{DEMO_FLOW}/Executions").json()["executions"]]
    earlier = [e["sid"] for page in before[f"executions {DEMO_FLOW} None"][1] for e in page["executions"]]
    assert listed == [newest, *earlier] and set(earlier) == {waiting, ended}

    # Reset clears the file too.
    assert http.post("/_mockstudio/reset").status_code == 200
    server.kill()
    server = Server(state_path, port)
    servers.append(server)
    assert server.http.get(f"/v2/Flows/{DEMO_FLOW}/Executions").json()["executions"] == []
    assert server.http.get(f"/v2/Flows/{TEST_FLOW}").status_code == 200
    assert server.http.get(f"/v2/Flows/{flow}").status_code == 404


def _start_fails(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(path, free_port()), cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=60
    )


def test_corrupt_file_stops_startup_and_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    garbage = os.urandom(64 * 1024)
    path.write_bytes(garbage)
    result = _start_fails(path)
    assert result.returncode == 2
    assert str(path) in result.stderr and "not a SQLite database" in result.stderr
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]  # no -wal or -shm either


def test_unknown_schema_version_stops_startup(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 99")
        db.execute("CREATE TABLE later (x)")
    content = path.read_bytes()
    result = _start_fails(path)
    assert result.returncode == 2
    assert str(path) in result.stderr and "schema version 99" in result.stderr
    assert path.read_bytes() == content
