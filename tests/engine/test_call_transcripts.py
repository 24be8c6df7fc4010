"""The call transcripts' bounds, in-process: the oldest calls of an account are dropped
first, and a reset forgets them."""

from __future__ import annotations

from mockstudio.domain.models import ENDED
from mockstudio.engine.runner import EngineConfig

from .support import AC, CONTACT, NUMBER, Harness, definition, trigger, widget


def _flow() -> dict[str, object]:
    return definition(
        trigger(incomingCall="hello"),
        widget("hello", "say-play", {"audioComplete": None}, say="Hello {{trigger.call.From}}"),
    )


async def test_the_oldest_calls_are_dropped_first() -> None:
    harness = Harness(_flow(), numbers=(NUMBER,), engine_config=EngineConfig(call_limit=2))
    placed = []
    for n in range(3):
        execution, action, sid = harness.account.receive_call(f"+1555000000{n}", NUMBER)
        await harness.engine.drain()
        assert (action, execution.status) == ("started", ENDED)
        placed.append(sid)
    calls = harness.engine.calls
    assert [c.sid for c in calls.list(AC)] == placed[1:]
    assert calls.get(AC, placed[0]) is None
    newest = calls.get(AC, placed[2])
    assert newest is not None
    assert [(line.kind, line.fields) for line in newest.lines] == [
        ("say", {"text": "Hello +15550000002"}),
        ("hangup", {"by": "flow"}),
    ]
    assert [c.sid for c in calls.list(AC, contact="+15550000001")] == [placed[1]]
    await harness.close()


async def test_a_reset_forgets_the_calls() -> None:
    harness = Harness(_flow(), numbers=(NUMBER,))
    _, _, sid = harness.account.receive_call(CONTACT, NUMBER)
    await harness.engine.drain()
    assert harness.engine.calls.get(AC, sid) is not None
    harness.studio.reset(AC)
    assert harness.engine.calls.get(AC, sid) is None
    await harness.close()
