"""The change feed: what a subscriber is told, in order, with what each change carries
(mockstudio/domain/changes.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from mockstudio.clock import ManualClock
from mockstudio.domain.changes import (
    Change,
    ClockMoved,
    ExecutionCreated,
    ExecutionEnded,
    ExecutionParked,
    ExecutionResumed,
    ExecutionsDeleted,
    FlowCreated,
    FlowDeleted,
    FlowUpdated,
    MessageReceived,
    MessagesCleared,
    MessageSent,
    NumberBound,
    Reset,
    StepEnded,
)
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .support import AC, CHILD_FW, CONTACT, FW, NUMBER, START, Harness, rest_flow, say, trigger, widget

ASK = rest_flow(
    "ask",
    widget("ask", "send-and-wait-for-reply", {"incomingMessage": "thanks", "timeout": None}, body="Hi?", timeout="60"),
    say("thanks", "Thanks"),
)
ASK["states"][0] = trigger(incomingRequest="ask", incomingMessage="ask")


class Recorder:
    def __init__(self, harness: Harness) -> None:
        self.changes: list[Change] = []
        self.unsubscribe = harness.studio.changes.subscribe(self.changes.append)

    def kinds(self) -> list[str]:
        return [type(change).__name__ for change in self.changes]

    def take(self) -> list[Change]:
        taken, self.changes[:] = list(self.changes), []
        return taken


async def test_a_conversation_publishes_each_change_in_order() -> None:
    h = Harness(ASK, numbers=(NUMBER,))
    seen = Recorder(h)
    execution = await h.start({"name": "Zeke"})
    assert seen.kinds() == ["ExecutionCreated", "StepEnded", "MessageSent", "ExecutionParked"]
    created, step, sent, parked = seen.take()
    assert isinstance(created, ExecutionCreated) and created.account_sid == AC
    assert created.new_contact and created.contact_sid == execution.contact_sid
    assert created.execution is execution and created.trigger == "incomingRequest"
    assert (created.flow_sid, created.flow_revision, created.contact_address, created.flow_address) == (
        FW,
        1,
        CONTACT,
        NUMBER,
    )
    assert created.started_by == execution.initiated_by and created.date == int(START)
    assert created.parent_step_sid is None
    assert isinstance(step, StepEnded)
    assert (step.account_sid, step.execution_sid, step.flow_sid, step.flow_revision) == (AC, execution.sid, FW, 1)
    assert (step.event, step.transitioned_from, step.transitioned_to, step.widget_type) == (
        "incomingRequest",
        "Trigger",
        "ask",
        "trigger",
    )
    assert step.step_sid == h.step_objects(execution)[0].sid and step.date == int(START)
    assert isinstance(sent, MessageSent) and sent.message.body == "Hi?" and sent.message.to == CONTACT
    assert isinstance(parked, ExecutionParked)
    assert parked.widget == "ask" and "incomingMessage" in parked.events and parked.due == START + 60

    h.clock.advance(5)
    (moved,) = seen.take()
    assert isinstance(moved, ClockMoved) and moved.now == START + 5 and moved.offset is None
    await h.inbound("yes")
    assert seen.kinds() == [
        "ExecutionResumed",
        "MessageReceived",
        "StepEnded",
        "MessageSent",
        "StepEnded",
        "ExecutionEnded",
    ]
    resumed, received, asked, thanked, last, ended = seen.take()
    assert isinstance(resumed, ExecutionResumed) and (resumed.widget, resumed.event) == ("ask", "incomingMessage")
    assert isinstance(received, MessageReceived) and received.message.body == "yes"
    assert isinstance(asked, StepEnded) and (asked.transitioned_from, asked.transitioned_to) == ("ask", "thanks")
    assert isinstance(thanked, MessageSent) and thanked.message.body == "Thanks"
    assert isinstance(last, StepEnded) and last.transitioned_to == "Ended" and last.widget_type == "send-message"
    assert isinstance(ended, ExecutionEnded)
    assert ended.reason == "flow end" and ended.completed and ended.date == int(START) + 5
    await h.close()


async def test_ending_and_deleting_say_why() -> None:
    h = Harness(ASK)
    seen = Recorder(h)
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    seen.take()
    h.account.update_execution(FW, first.sid, "ended")
    (ended,) = seen.take()
    assert isinstance(ended, ExecutionEnded)
    assert ended.execution is first and ended.reason == "ended through the API" and not ended.completed
    h.account.delete_execution(FW, second.sid)
    (deleted,) = seen.take()
    assert isinstance(deleted, ExecutionsDeleted)
    assert deleted.executions == (second,) and deleted.reason == "deleted"
    await h.close()


async def test_a_timeout_and_the_ended_cap() -> None:
    h = Harness(ASK)
    h.account.executions.ended_limit = 1
    seen = Recorder(h)
    first = await h.start(to="+15550000001")
    h.clock.advance(1)  # (timeouts due in the same second fire in no set order)
    await h.start(to="+15550000002")
    seen.take()
    assert await h.advance(61) == 2
    kinds = seen.kinds()
    assert kinds.count("ExecutionEnded") == 2 and "ExecutionsDeleted" in kinds
    assert kinds[0] == "ClockMoved"
    (dropped,) = [c for c in seen.changes if isinstance(c, ExecutionsDeleted)]
    assert dropped.reason == "cap" and dropped.executions == (first,)
    timeouts = [c for c in seen.changes if isinstance(c, StepEnded)]
    assert [(c.event, c.transitioned_from) for c in timeouts] == [("timeout", "ask"), ("timeout", "ask")]
    await h.close()


async def test_a_subflow_child_names_its_parent_step() -> None:
    child = rest_flow(None)
    child["states"][0] = trigger(incomingParent="done")
    child["states"].append(widget("done", "set-variables", {"next": None}, variables=[{"key": "x", "value": "1"}]))
    parent = rest_flow(
        "sub",
        widget("sub", "run-subflow", {"completed": None, "failed": None}, flow_sid=CHILD_FW, parameters=[]),
    )
    h = Harness(parent, flows={CHILD_FW: child})
    seen = Recorder(h)
    execution = await h.start()
    assert execution.status == "ended"
    (kid,) = [c for c in seen.changes if isinstance(c, ExecutionCreated) and c.flow_sid == CHILD_FW]
    assert kid.trigger == "incomingParent" and kid.started_by == execution.sid
    kid_steps = [c for c in seen.changes if isinstance(c, StepEnded) and c.flow_sid == CHILD_FW]
    assert kid_steps and all(c.parent_step_sid == kid.parent_step_sid for c in kid_steps)
    (sub,) = [c for c in seen.changes if isinstance(c, StepEnded) and c.transitioned_from == "sub"]
    assert sub.step_sid == kid.parent_step_sid and sub.event == "completed"
    await h.close()


async def test_flows_numbers_messages_reset() -> None:
    h = Harness(ASK)
    seen = Recorder(h)
    definition = '{"states": [{"name": "Trigger", "type": "trigger", "transitions": [], "properties": {}}], '
    definition += '"initial_state": "Trigger", "description": "x"}'
    flow = h.account.create_flow("new", "draft", definition)
    h.account.update_flow(flow.sid, "published")
    h.account.update_test_user(flow.sid, ["+1555"])
    h.account.bind_number("+1999", flow.sid)
    h.account.delete_flow(flow.sid)
    h.account.clear_messages()
    assert seen.kinds() == [
        "FlowCreated",
        "FlowUpdated",
        "FlowUpdated",
        "NumberBound",
        "NumberBound",
        "FlowDeleted",
        "MessagesCleared",
    ]
    created, published, users, bound, unbound, deleted, cleared = seen.take()
    assert isinstance(created, FlowCreated) and created.flow is flow and not created.seeded
    assert isinstance(published, FlowUpdated) and published.flow.revision == 2
    assert isinstance(users, FlowUpdated) and users.flow.test_users == ["+1555"]
    assert isinstance(bound, NumberBound) and (bound.number, bound.flow_sid) == ("+1999", flow.sid)
    assert isinstance(unbound, NumberBound) and unbound.flow_sid is None
    assert isinstance(deleted, FlowDeleted) and deleted.flow is flow
    assert isinstance(cleared, MessagesCleared) and cleared.account_sid == AC
    h.studio.reset(AC)
    kinds = seen.kinds()
    assert kinds[-2:] == ["Reset", "FlowCreated"]
    reset, seeded = seen.changes[-2:]
    assert isinstance(reset, Reset) and reset.account_sid == AC
    assert isinstance(seeded, FlowCreated) and seeded.seeded and seeded.flow.sid == FW
    seen.unsubscribe()
    h.studio.reset()
    assert seen.kinds() == kinds
    await h.close()


def test_a_subscriber_is_told_before_the_response_is_sent() -> None:
    """Changes are published inside the operation: by the time the HTTP response arrives,
    the subscriber has them (a state file commits there)."""
    clock = ManualClock(START)
    with MockStudioServer(Settings(), clock=clock) as server:
        told: list[Change] = []
        server.studio.changes.subscribe(told.append)
        flow = server.add_flow(ASK)
        with httpx.Client(base_url=server.base_url, auth=(server.account_sid, server.auth_token)) as http:
            created = http.post(f"/v2/Flows/{flow}/Executions", data={"To": CONTACT, "From": NUMBER})
            assert created.status_code == 201
            sid = created.json()["sid"]
            assert any(isinstance(c, ExecutionCreated) and c.execution.sid == sid for c in told)
            server.wait_until_settled(sid)
            ended = http.post(f"/v2/Flows/{flow}/Executions/{sid}", data={"Status": "ended"})
            assert ended.status_code == 200
            assert isinstance(told[-1], ExecutionEnded) and told[-1].execution.sid == sid
            moved = http.post("/_mockstudio/clock", data={"advance": "10"})
            assert moved.status_code == 200
            assert any(isinstance(c, ClockMoved) and c.now == START + 10 for c in told)


def test_drain_waits_for_runs_spawned_from_another_thread() -> None:
    """An execution created from another thread than the server's loop (a test helper)
    runs on the server's loop; `drain()` waits for it like any other run."""
    with MockStudioServer(Settings()) as server:
        flow = server.add_flow(rest_flow("a", say("a", "one", "b"), say("b", "two")))
        engine = server.studio.engine
        loop = engine.loop
        assert loop is not None
        account = server.studio.accounts[server.account_sid]
        for n in range(20):

            def create(n: int = n) -> Any:
                with server.studio.lock:
                    return account.create_execution(flow, f"+1555000{n:04d}", NUMBER, None)

            execution = create()
            asyncio.run_coroutine_threadsafe(engine.drain(), loop).result(10)
            assert execution.status == "ended", n
