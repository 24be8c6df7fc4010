"""Step records: SIDs made on first read from the execution SID and the step's sort key
(models.Step.sid), well-formed, stable and unique; pre-allocated ones kept."""

from __future__ import annotations

from mockstudio.sids import is_sid

from .support import Harness, rest_flow, say, widget


def _flow() -> dict[str, object]:
    return rest_flow(
        "set",
        widget("set", "set-variables", {"next": "hello"}, variables=[{"key": "n", "value": "1"}]),
        say("hello", "Hi"),
    )


async def test_step_sids_are_well_formed_stable_and_unique() -> None:
    h = Harness(_flow())
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    steps = h.step_objects(first) + h.step_objects(second)
    assert len(steps) == 6
    sids = [step.sid for step in steps]
    assert all(is_sid(sid, "FT") for sid in sids)
    assert len(set(sids)) == len(sids)
    assert [step.sid for step in steps] == sids  # the same on every read
    assert first.find_step(sids[1]) is steps[1]


async def test_a_fresh_studio_derives_the_same_sids_for_the_same_steps() -> None:
    # Derived from (execution SID, key), not drawn from a generator: with seeded SIDs and
    # the virtual clock, a test run is reproducible down to the step SIDs.
    runs = []
    for _ in range(2):
        h = Harness(_flow())
        execution = await h.start()
        runs.append([step.sid for step in h.step_objects(execution)])
    assert runs[0] == runs[1]
