"""The executions index: the one owner of every structure that finds an account's
executions. No other module adds to or removes from them; everything else reads them through
the methods here."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from .models import ACTIVE, BY_KEY, ENDED, KEY_SHIFT, Execution
from .paging import Page, PageRequest, SortedIndex

__all__ = ["ExecutionIndex", "FlowExecutions", "excess"]


class FlowExecutions:
    """One flow's executions: all, and by status, in creation order (for paging), and the
    contact's active execution (Studio's one-active-execution-per-contact rule)."""

    __slots__ = ("active", "all", "by_contact", "ended")

    def __init__(self) -> None:
        self.all: SortedIndex[Execution] = SortedIndex(BY_KEY)
        self.active: SortedIndex[Execution] = SortedIndex(BY_KEY)
        self.ended: SortedIndex[Execution] = SortedIndex(BY_KEY)
        # (contact address, flow address) -> the active execution that holds the contact
        self.by_contact: dict[tuple[str, str], Execution] = {}


_NO_EXECUTIONS = FlowExecutions()


class ExecutionIndex:
    """An account's executions: by SID; per flow, all and by status, and by contact; ended
    ones in the order they ended (for the ended-execution cap); and those waiting for the
    contact's reply, by (contact, flow address)."""

    __slots__ = ("_by_flow", "_by_sid", "_ended_order", "_waiting", "ended_limit")

    def __init__(self, ended_limit: int) -> None:
        self.ended_limit = ended_limit
        self._by_sid: dict[str, Execution] = {}
        self._by_flow: dict[str, FlowExecutions] = {}
        self._ended_order: dict[str, Execution] = {}
        self._waiting: dict[tuple[str, str], Execution] = {}

    # -- reading -----------------------------------------------------------------------------

    def get(self, sid: str) -> Execution | None:
        return self._by_sid.get(sid)

    def __getitem__(self, sid: str) -> Execution:
        return self._by_sid[sid]

    def __iter__(self) -> Iterator[str]:
        """The SIDs (as a dict's keys)."""
        return iter(self._by_sid)

    def __len__(self) -> int:
        return len(self._by_sid)

    def __contains__(self, sid: object) -> bool:
        return sid in self._by_sid

    def values(self) -> Any:
        """Every execution, in no particular order (a view: do not change the index while
        iterating)."""
        return self._by_sid.values()

    def is_live(self, execution: Execution) -> bool:
        """Still in the index (not deleted, dropped by the cap, or orphaned by a reset)."""
        return self._by_sid.get(execution.sid) is execution

    def of_flow(self, flow_sid: str) -> FlowExecutions:
        """A flow's executions (read only)."""
        return self._by_flow.get(flow_sid, _NO_EXECUTIONS)

    def counts(self, flow_sid: str) -> dict[str, int]:
        """How many executions a flow has: all, active, ended."""
        flow = self.of_flow(flow_sid)
        return {"all": len(flow.all), "active": len(flow.active), "ended": len(flow.ended)}

    def active_for_contact(self, flow_sid: str, addresses: tuple[str, str]) -> Execution | None:
        flow = self._by_flow.get(flow_sid)
        return None if flow is None else flow.by_contact.get(addresses)

    def holds_contact(self, execution: Execution) -> bool:
        flow = self._by_flow.get(execution.flow_sid)
        return flow is not None and flow.by_contact.get(execution.addresses) is execution

    def waiting_for_reply(self, addresses: tuple[str, str]) -> Execution | None:
        """The execution parked waiting for this (contact, flow address)'s reply."""
        return self._waiting.get(addresses)

    def waiting(self) -> dict[tuple[str, str], Execution]:
        """A copy of the waiting-for-reply index."""
        return dict(self._waiting)

    def ended_in_order(self) -> list[Execution]:
        """Ended executions, first ended first."""
        return list(self._ended_order.values())

    def page(
        self,
        flow_sid: str,
        status: str | None,
        request: PageRequest,
        date_from: int | None,
        date_to: int | None,
        filters: str,
    ) -> Page[Execution]:
        flow = self.of_flow(flow_sid)
        index = flow.all
        if status == ACTIVE:
            index = flow.active
        elif status == ENDED:
            index = flow.ended
        return index.page(
            request,
            key_from=None if date_from is None else date_from << KEY_SHIFT,
            key_to=None if date_to is None else date_to << KEY_SHIFT,
            filters=filters,
        )

    # -- changing ----------------------------------------------------------------------------

    def _flow(self, flow_sid: str) -> FlowExecutions:
        flow = self._by_flow.get(flow_sid)
        if flow is None:
            flow = self._by_flow[flow_sid] = FlowExecutions()
        return flow

    def add(self, execution: Execution, *, exclusive: bool = True) -> None:
        """A new active execution; `exclusive`: it holds its contact (one active execution
        per contact and flow)."""
        self._by_sid[execution.sid] = execution
        flow = self._by_flow.get(execution.flow_sid)  # (create_execution's path: _flow written out)
        if flow is None:
            flow = self._by_flow[execution.flow_sid] = FlowExecutions()
        key = execution.key
        flow.all.add(key, execution)
        flow.active.add(key, execution)
        if exclusive:
            flow.by_contact[execution.addresses] = execution

    def end(self, execution: Execution) -> list[Execution]:
        """Move an execution (already marked ended) from active to ended, freeing its
        contact; returns the executions the ended-execution cap then dropped."""
        flow = self._flow(execution.flow_sid)
        flow.active.remove(execution.key)
        flow.ended.add(execution.key, execution)
        contact = execution.addresses
        if flow.by_contact.get(contact) is execution:
            del flow.by_contact[contact]
        if self._waiting.get(contact) is execution:
            del self._waiting[contact]
        self._ended_order[execution.sid] = execution
        if len(self._ended_order) > self.ended_limit:
            return self.drop_oldest()
        return []

    def remove(self, execution: Execution) -> None:
        """Forget one execution (deleted), whatever its status."""
        sid = execution.sid
        if self._by_sid.get(sid) is not execution:
            return
        del self._by_sid[sid]
        self._ended_order.pop(sid, None)
        flow = self._flow(execution.flow_sid)
        flow.all.remove(execution.key)
        (flow.active if execution.status == ACTIVE else flow.ended).remove(execution.key)
        contact = execution.addresses
        if flow.by_contact.get(contact) is execution:
            del flow.by_contact[contact]
        self.unwait(execution)
        execution.steps = None

    def remove_flow(self, flow_sid: str) -> list[Execution]:
        """Forget every execution of a flow (deleted with it); returns them, newest first."""
        flow = self._by_flow.pop(flow_sid, None)
        if flow is None:
            return []
        removed = list(flow.all.newest_first())
        for execution in removed:
            del self._by_sid[execution.sid]
            self._ended_order.pop(execution.sid, None)
            self.unwait(execution)
            execution.steps = None
        return removed

    def drop_oldest(self) -> list[Execution]:
        """The ended-execution cap: drop the executions that ended first, with their steps,
        so that at most the limit remain; active executions are never dropped. Dropped in
        batches of 1% of the limit (the count then stays between 99% and 100% of it), so each
        index is rewritten once per batch: O(1) amortised per ended execution."""
        count = excess(self._ended_order, self.ended_limit)
        if count <= 0:
            return []
        dropped = list(itertools.islice(self._ended_order.values(), count))
        self._ended_order = dict(itertools.islice(self._ended_order.items(), count, None))
        by_flow: dict[str, list[int]] = {}
        for execution in dropped:
            by_flow.setdefault(execution.flow_sid, []).append(execution.key)
            if self._by_sid.get(execution.sid) is execution:
                del self._by_sid[execution.sid]
            execution.steps = None
        for flow_sid, keys in by_flow.items():
            flow = self._by_flow.get(flow_sid)
            if flow is not None:
                flow.all.remove_many(keys)
                flow.ended.remove_many(keys)
        return dropped

    def wait(self, execution: Execution) -> None:
        """The execution is parked waiting for its contact's reply."""
        self._waiting[execution.addresses] = execution

    def unwait(self, execution: Execution) -> None:
        key = execution.addresses
        if self._waiting.get(key) is execution:
            del self._waiting[key]

    def restore(self, executions: list[tuple[Execution, bool]]) -> None:
        """Executions read back from a state file, with whether each held its contact; ended
        ones are taken to have ended in the order of their last update."""
        ended: list[Execution] = []
        for execution, holds_contact in sorted(executions, key=lambda item: item[0].key):
            self._by_sid[execution.sid] = execution
            flow = self._flow(execution.flow_sid)
            flow.all.add(execution.key, execution)
            if execution.status == ACTIVE:
                flow.active.add(execution.key, execution)
                if holds_contact:
                    flow.by_contact[execution.addresses] = execution
            else:
                flow.ended.add(execution.key, execution)
                ended.append(execution)
        ended.sort(key=lambda e: (e.date_updated or 0, e.key))
        self._ended_order.update((e.sid, e) for e in ended)


def excess(store: dict[str, Any], limit: int) -> int:
    """How many of the oldest entries a capped store over its limit drops: down to 99% of
    the limit (exactly to it for limits under 100), so the store is rewritten once per 1% of
    the limit rather than once per entry."""
    return len(store) - limit + limit // 100 if len(store) > limit else 0
