"""The flow runner: executes a flow definition widget by widget (studio-flows.md §6.4).

An execution starts at the trigger with its trigger event and runs in the background
(the create call has already answered `active`, as Studio does). Each transition taken
records one Step; a widget that waits (send-and-wait-for-reply, gather, ...) parks the
execution until it is resumed (an inbound message, a timeout of the virtual clock, or a
control-plane event). Limits are Studio's: 1,000 steps, the same widget 10 times in a
row, 30 days active.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import sids
from ..models import ACTIVE, BY_KEY, Execution, Step
from ..paging import SortedIndex
from .definition import FlowDefinition, State, parse_definition
from .http import OutboundHttp
from .messages import MessageLog
from .outcomes import Outcome, Wait
from .scripts import ScriptBook, ScriptedOutcome
from .widgets import WIDGETS, WidgetRun

if TYPE_CHECKING:
    from ..studio import AccountState, Studio
    from .liquid import StudioLiquid

__all__ = ["Engine", "EngineConfig", "Parked", "RunState"]

log = logging.getLogger("mockstudio.engine")

MAX_STEPS = 1000
MAX_REPEATS = 10
MAX_ACTIVE_SECONDS = 30 * 24 * 3600
_EXPIRE = "__expired__"


@dataclass(slots=True)
class EngineConfig:
    # Event taken by simulated widgets (voice, Flex, ...) by type; default: their first event.
    default_events: dict[str, str] = field(default_factory=dict)
    message_limit: int = 10_000
    script_limit: int = 1_000  # scripted widgets kept, all accounts together (oldest dropped)


@dataclass(slots=True, eq=False)
class Parked:
    """Where a waiting execution is parked. The object itself is its timer's token: a
    timer fires only if the execution is still parked on this very Parked."""

    execution: Execution
    state: State
    outputs: dict[str, Any] | None
    due: float | None
    timeout_event: str
    step_sid: str | None = None  # pre-allocated (run-subflow: its children name it as parent)

    def __lt__(self, other: Parked) -> bool:
        return id(self) < id(other)  # any total order: it only breaks ties of equal due times


@dataclass(slots=True)
class RunState:
    definition: FlowDefinition
    # The full context widgets render with: built when first needed after a change, and
    # dropped while the execution is parked (parked executions can be many; it is cheap
    # to rebuild from the execution's layers).
    context: dict[str, Any] | None
    parked: Parked | None = None
    running: bool = True
    step_count: int = 0
    last_widget: str | None = None
    repeats: int = 0
    parent_step_sid: str | None = None  # for subflow children: the parent's step
    on_end: Any = None  # callback(execution, completed) when it stops (subflow parents)
    pending_step_sid: str | None = None


class Engine:
    def __init__(self, studio: Studio, config: EngineConfig | None = None, http: OutboundHttp | None = None) -> None:
        self.studio = studio
        self.config = config or EngineConfig()
        self._liquid: StudioLiquid | None = None
        self.http = http or OutboundHttp()
        self.messages = MessageLog(self.config.message_limit)
        self.scripts = ScriptBook(self.config.script_limit)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._private_loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: list[tuple[float, Parked]] = []
        self._changed: asyncio.Condition | None = None
        self._definitions: dict[int, FlowDefinition] = {}

    @property
    def liquid(self) -> StudioLiquid:
        """Created on first use: python-liquid takes a tenth of a second to import, which
        a server that only stores executions need not pay at startup."""
        if self._liquid is None:
            from .liquid import StudioLiquid

            self._liquid = StudioLiquid(self.studio.clock.now)
        return self._liquid

    # -- scheduling ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None and self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(coro, self.loop)
            return
        if loop is None:
            # No event loop at all (plain scripts, in-process use): run to settlement now
            # on a private loop, kept for reuse because creating one per call is slow.
            if self._private_loop is None:
                self._private_loop = asyncio.new_event_loop()
            private = self._private_loop
            private.run_until_complete(coro)
            # ...including what it spawned (a run-subflow's child, the parent it resumes).
            while pending := [t for t in self._tasks if t.get_loop() is private]:
                private.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until no execution is running (all ended or parked)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _notify(self) -> None:
        condition = self._changed
        if condition is None:
            return

        async def notify() -> None:
            async with condition:
                condition.notify_all()

        with contextlib.suppress(RuntimeError):  # no loop: nobody can be waiting
            asyncio.get_running_loop().create_task(notify())

    async def wait_settled(self, execution: Execution, timeout: float) -> bool:
        """True once the execution is ended or parked; False if `timeout` passes first."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        condition = self._changed

        def settled() -> bool:
            run = execution.run
            return execution.status != ACTIVE or run is None or not run.running

        async with condition:
            try:
                await asyncio.wait_for(condition.wait_for(settled), timeout)
            except TimeoutError:
                return settled()
        return True

    def definition_for(self, raw: dict[str, Any]) -> FlowDefinition | None:
        """Parsed once per definition object (one per flow revision)."""
        key = id(raw)
        parsed = self._definitions.get(key)
        if parsed is None or parsed.raw is not raw:
            parsed, _ = parse_definition(raw)
            if parsed is None:
                return None
            self._definitions[key] = parsed
        return parsed

    # -- entry points ----------------------------------------------------------------------

    def start(
        self,
        account: AccountState,
        execution: Execution,
        definition: FlowDefinition,
        event: str,
        *,
        parent_step_sid: str | None = None,
        on_end: Any = None,
    ) -> None:
        """Begin running `execution` from its trigger; returns at once."""
        execution.run = RunState(definition, None, parent_step_sid=parent_step_sid, on_end=on_end)
        trigger = definition.states[definition.initial_state]
        self._spawn(self._advance(account, execution, trigger, Outcome(event)))

    def resume(self, account: AccountState, execution: Execution, event: str, payload: dict[str, Any] | None) -> bool:
        """Resume a parked execution with one of its widget's events; False if it is not
        parked (or the widget does not take that event)."""
        run: RunState | None = execution.run
        if execution.status != ACTIVE or run is None or run.parked is None:
            return False
        parked = run.parked
        widget = WIDGETS[parked.state.type]
        if event != _EXPIRE and event not in widget.resume_events(parked.state):
            return False
        run.parked = None
        run.running = True
        account.forget_waiting(execution)
        if event == _EXPIRE:
            self.finish(account, execution, "expired after 30 days active")
            return True
        turn = self._turn(account, execution, parked.state)
        outcome = widget.resume(turn, event, parked.outputs, payload)
        self._spawn(self._advance(account, execution, parked.state, outcome, step_sid=parked.step_sid))
        return True

    def stop(self, account: AccountState, execution: Execution, *, completed: bool = False) -> None:
        """Stop running the execution (it ended, or was ended or deleted through the API).
        A subflow's parent is resumed: `completed` when the child reached its flow's end,
        `failed` otherwise."""
        run: RunState | None = execution.run
        if run is not None:
            run.parked = None
            run.running = False
        account.forget_waiting(execution)
        execution.run = None
        self._notify()
        if run is not None and run.on_end is not None:
            on_end, run.on_end = run.on_end, None
            on_end(execution, completed)

    # -- time ------------------------------------------------------------------------------

    def fire_due_timers(self) -> int:
        """Resume every parked execution whose timeout is due on the clock; returns how
        many fired."""
        now = self.studio.clock.now()
        fired = 0
        while self._timers and self._timers[0][0] <= now:
            _, parked = heapq.heappop(self._timers)
            execution = parked.execution
            run: RunState | None = execution.run
            if run is None or run.parked is not parked:
                continue  # resumed, ended or deleted since
            account = self.studio.accounts.get(execution.account_sid)
            if account is None or account.executions.get(execution.sid) is not execution:
                continue
            if self.resume(account, execution, run.parked.timeout_event, None):
                fired += 1
        return fired

    def clear(self, account_sid: str | None = None) -> list[Any]:
        """Forget timers, scripts and messages (all, or one account's); returns what was
        dropped wholesale so the caller can free it off the request path."""
        retired: list[Any] = []
        if account_sid is None:
            retired = [self._timers, self.messages]
            self._timers = []
            self.messages = MessageLog(self.config.message_limit)
            self.scripts.clear()
        else:
            self._timers = [t for t in self._timers if t[1].execution.account_sid != account_sid]
            heapq.heapify(self._timers)
            self.scripts.clear(account_sid)
            self.messages.clear(account_sid)
        self._definitions.clear()
        return retired

    # -- the loop --------------------------------------------------------------------------

    def _turn(self, account: AccountState, execution: Execution, state: State) -> WidgetRun:
        return WidgetRun(self, account, execution, state)

    async def _advance(
        self,
        account: AccountState,
        execution: Execution,
        state: State,
        outcome: Outcome,
        step_sid: str | None = None,
    ) -> None:
        try:
            await self._run(account, execution, state, outcome, step_sid)
        except Exception:  # a bug in a widget must not take the server down
            log.exception("Execution %s failed in widget %s", execution.sid, state.name)
            if execution.status == ACTIVE and account.executions.get(execution.sid) is execution:
                self.finish(account, execution, "internal error")
        finally:
            self._notify()

    async def _run(
        self,
        account: AccountState,
        execution: Execution,
        state: State,
        outcome: Outcome,
        step_sid: str | None,
    ) -> None:
        run: RunState | None = execution.run
        while run is not None and execution.status == ACTIVE:
            if outcome.outputs is not None or outcome.variables:
                _write_outputs(execution, run, state.name, outcome.outputs, outcome.variables)
            transition = outcome.transition if outcome.transition is not None else state.transition(outcome.event)
            target = transition.next if transition is not None else None
            self._record_step(execution, run, state, outcome.event, target, step_sid)
            step_sid = None
            if target is None or target not in run.definition.states:
                self.finish(account, execution, "flow end", completed=True)
                return
            if run.step_count >= MAX_STEPS:
                self.finish(account, execution, f"limit of {MAX_STEPS} steps")
                return
            run.repeats = run.repeats + 1 if run.last_widget == target else 1
            run.last_widget = target
            if run.repeats >= MAX_REPEATS:
                self.finish(account, execution, f"widget {target} ran {MAX_REPEATS} times in a row")
                return
            state = run.definition.states[target]
            result = await self._run_widget(account, execution, state)
            if execution.run is not run or execution.status != ACTIVE:
                return  # ended, deleted or reset while the widget ran
            if isinstance(result, Wait):
                self._park(account, execution, run, state, result)
                return
            outcome = result

    async def _run_widget(self, account: AccountState, execution: Execution, state: State) -> Outcome | Wait:
        widget = WIDGETS[state.type]
        turn = self._turn(account, execution, state)
        script = self.scripts.take(account.sid, execution.flow_sid, state.name)
        if script is not None:
            if script.delay:
                await asyncio.sleep(min(script.delay, 30.0))
            if not widget.takes_script(script):
                return _scripted_outcome(script, widget.default_event(state))
            turn.script = script
        return await widget.run(turn)

    def _park(self, account: AccountState, execution: Execution, run: RunState, state: State, wait: Wait) -> None:
        now = self.studio.clock.now()
        expires = execution.date_created + MAX_ACTIVE_SECONDS
        due: float = expires
        event = _EXPIRE
        if wait.timeout is not None and now + wait.timeout < expires:
            due, event = now + wait.timeout, wait.timeout_event
        run.parked = parked = Parked(execution, state, wait.outputs, due, event, run.pending_step_sid)
        run.context = None
        run.pending_step_sid = None
        run.running = False
        heapq.heappush(self._timers, (due, parked))
        if "incomingMessage" in WIDGETS[state.type].resume_events(state):
            account.remember_waiting(execution)

    def _record_step(
        self,
        execution: Execution,
        run: RunState,
        state: State,
        event: str,
        target: str | None,
        step_sid: str | None,
    ) -> None:
        now = int(self.studio.clock.now())
        account = self.studio.accounts[execution.account_sid]
        step = Step(
            sid=step_sid or self.studio.sids.new(sids.STEP),
            execution_sid=execution.sid,
            name=event,
            transitioned_from=state.name,
            transitioned_to=target or "Ended",
            type=state.type,
            parent_step_sid=run.parent_step_sid,
            widgets=execution.widgets,
            variables=execution.variables,
            date_created=now,
            date_updated=None,
            key=account.next_key(now),
        )
        if execution.steps is None:
            execution.steps = SortedIndex(BY_KEY)
        execution.steps.add(step.key, step)
        run.step_count += 1
        execution.date_updated = now

    def finish(self, account: AccountState, execution: Execution, reason: str, *, completed: bool = False) -> None:
        log.debug("Execution %s ended: %s", execution.sid, reason)
        if execution.status == ACTIVE:
            account.end_execution(execution)
        self.stop(account, execution, completed=completed)


def _write_outputs(
    execution: Execution,
    run: RunState,
    name: str,
    outputs: dict[str, Any] | None,
    variables: dict[str, Any] | None,
) -> None:
    """Write a widget's outputs and variables as new layers ("variables get set at the end
    of a Step"); the old layers stay untouched for the steps that reference them."""
    if outputs is not None:
        execution.widgets = {**(execution.widgets or {}), name: outputs}
    if variables:
        execution.variables = {**(execution.variables or {}), **variables}
    run.context = None


def _scripted_outcome(script: ScriptedOutcome, default_event: str) -> Outcome:
    return Outcome(script.event or default_event, script.outputs if script.outputs is not None else {})
