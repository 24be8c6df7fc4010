"""The executions index (mockstudio/domain/indexes.py): every structure that finds an
account's executions kept consistent by its five operations."""

from __future__ import annotations

from mockstudio.domain.indexes import ExecutionIndex
from mockstudio.domain.models import ACTIVE, ENDED, KEY_SHIFT, Execution
from mockstudio.domain.paging import PageRequest

FLOW_A = "FW" + "a" * 32
FLOW_B = "FW" + "b" * 32
NUMBER = "+15550000000"


def execution(n: int, flow_sid: str = FLOW_A, contact: str | None = None) -> Execution:
    return Execution(
        sid=f"FN{n:032x}",
        account_sid="AC" + "0" * 32,
        flow_sid=flow_sid,
        contact_sid=f"FC{n:032x}",
        addresses=(contact or f"+1555{n:07d}", NUMBER),
        parameters=None,
        status=ACTIVE,
        flow_version=1,
        initiator=None,
        date_created=1_700_000_000 + n,
        date_updated=None,
        key=((1_700_000_000 + n) << KEY_SHIFT) | n,
    )


def end(index: ExecutionIndex, e: Execution) -> list[Execution]:
    e.status = ENDED
    return index.end(e)


def sids(page_items: list[Execution]) -> list[str]:
    return [e.sid for e in page_items]


def listed(index: ExecutionIndex, flow_sid: str, status: str | None = None) -> list[str]:
    return sids(index.page(flow_sid, status, PageRequest(), None, None, flow_sid).items)


def test_add_end_remove_keep_every_structure_consistent() -> None:
    index = ExecutionIndex(ended_limit=100)
    a, b, c = execution(1), execution(2), execution(3, FLOW_B)
    for e in (a, b, c):
        index.add(e)
    index.wait(a)
    assert len(index) == 3 and index[a.sid] is a and index.get("FN") is None
    assert listed(index, FLOW_A) == [b.sid, a.sid] and listed(index, FLOW_A, ACTIVE) == [b.sid, a.sid]
    assert index.active_for_contact(FLOW_A, a.addresses) is a and index.holds_contact(a)
    assert index.waiting_for_reply(a.addresses) is a

    assert end(index, a) == []
    assert listed(index, FLOW_A, ACTIVE) == [b.sid] and listed(index, FLOW_A, ENDED) == [a.sid]
    assert index.active_for_contact(FLOW_A, a.addresses) is None and not index.holds_contact(a)
    assert index.waiting_for_reply(a.addresses) is None
    assert index.ended_in_order() == [a]

    index.remove(b)
    assert b.sid not in index and listed(index, FLOW_A) == [a.sid] and listed(index, FLOW_A, ACTIVE) == []
    index.remove(b)  # twice: nothing more
    assert len(index) == 2

    removed = index.remove_flow(FLOW_A)
    assert removed == [a] and index.ended_in_order() == [] and listed(index, FLOW_A) == []
    assert list(index) == [c.sid] and index.is_live(c) and not index.is_live(a)


def test_a_second_execution_of_a_contact_does_not_take_the_first_ones_place() -> None:
    index = ExecutionIndex(ended_limit=100)
    first, second = execution(1, contact="+1"), execution(2, contact="+1")
    index.add(first)
    index.add(second, exclusive=False)  # (a concurrent call, a subflow's child)
    assert index.active_for_contact(FLOW_A, first.addresses) is first
    end(index, second)
    assert index.active_for_contact(FLOW_A, first.addresses) is first


def test_the_ended_cap_drops_the_first_ended_in_batches() -> None:
    index = ExecutionIndex(ended_limit=200)
    executions = [execution(n) for n in range(205)]
    for e in executions:
        index.add(e)
    dropped: list[Execution] = []
    for e in reversed(executions):  # the newest end first
        dropped += end(index, e)
    # Each time over 200: down to 99% of the limit (198), the first ended first: at the
    # 201st end and again at the 204th.
    assert dropped == list(reversed(executions))[:6]
    assert len(index.ended_in_order()) == 199 and len(index) == 199
    assert all(e.sid not in index and e.steps is None for e in dropped)
    assert executions[0].sid in index and index.ended_in_order()[-1] is executions[0]


def test_restore_rebuilds_the_indexes_from_executions() -> None:
    index = ExecutionIndex(ended_limit=100)
    active, holder, ended = execution(1), execution(2), execution(3)
    ended.status, ended.date_updated = ENDED, 1_700_000_010
    index.restore([(ended, False), (holder, True), (active, False)])
    assert listed(index, FLOW_A) == [ended.sid, holder.sid, active.sid]
    assert listed(index, FLOW_A, ACTIVE) == [holder.sid, active.sid]
    assert index.holds_contact(holder) and not index.holds_contact(active)
    assert index.ended_in_order() == [ended]
