"""The flow runner: executes a flow definition widget by widget
(https://www.twilio.com/docs/studio/user-guide).

An execution starts at the trigger with its trigger event and runs in the background
(the create call has already answered `active`, as Studio does). Each transition taken
records one Step; a widget that waits (send-and-wait-for-reply, gather, ...) parks the
execution until it is resumed (an inbound message, a timeout of the virtual clock, or a
control-plane event). Limits are Studio's: 1,000 steps, the same widget 10 times in a
row, 30 days active; and the mock's own (limits.py): what an execution may render, and
how long it may hold the event loop before letting other work run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from ..clock import Clock
from ..domain.changes import (
    ENDED_AT_FLOW_END,
    ChangeFeed,
    ExecutionParked,
    ExecutionResumed,
    StepEnded,
    batched,
    committing,
)
from ..domain.models import ACTIVE, BY_KEY, Execution, Step
from ..domain.paging import SortedIndex
from ..sids import SidFactory
from .config import EngineConfig
from .definition import FlowDefinition, State, parse_definition
from .host import AccountHost
from .http import OutboundHttp
from .limits import MAX_STORED_PER_EXECUTION, TIME_SLICE
from .messages import MessageLog
from .outcomes import Outcome, Wait
from .scripts import ScriptBook, ScriptedOutcome
from .transcripts import CallLog
from .widgets import WIDGETS, Widget, WidgetRun

if TYPE_CHECKING:
    from .liquid import StudioLiquid

__all__ = ["Engine", "EngineConfig", "Parked", "RunRecord", "RunState", "Waiting"]

log = logging.getLogger("mockstudio.engine")

MAX_STEPS = 1000
MAX_REPEATS = 10
MAX_ACTIVE_SECONDS = 30 * 24 * 3600
_EXPIRE = "__expired__"
_TIMERS_COMPACT_MIN = 1024
_DECIDED = (Outcome, Wait)  # what a synchronous widget returns (a tuple: `A | B` is built per call)


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


@dataclass(frozen=True, slots=True)
class Waiting:
    """What a parked execution waits on: its widget, the events that resume it, and when its
    timeout (or, with `timeout_event` None, its 30-day expiry) falls due on the clock."""

    execution_sid: str
    widget: str
    widget_type: str
    events: tuple[str, ...]
    timeout_event: str | None
    due: float | None


@dataclass(slots=True)
class RunState:
    definition: FlowDefinition
    # The full context widgets render with: built when first needed after a change, and
    # dropped while the execution is parked (parked executions can be many; it is cheap
    # to rebuild from the execution's layers).
    context: dict[str, Any] | None
    parked: Parked | None = None
    step_count: int = 0
    last_widget: str | None = None
    repeats: int = 0
    parent_step_sid: str | None = None  # for subflow children: the parent's step
    on_end: Any = None  # callback(execution, completed) when it stops (subflow parents)
    pending_step_sid: str | None = None
    # The child a run-subflow waits on: the parent is settled only when the child is.
    child: Execution | None = None
    stored: int = 0  # characters rendered or received (limits.MAX_STORED_PER_EXECUTION)

    @property
    def running(self) -> bool:
        """Running until parked (a slot less per waiting execution: they can be many)."""
        return self.parked is None


@dataclass(slots=True)
class _Interrupted:
    """An execution a restart found mid-run, to continue at the first timer tick (when the
    server's event loop runs): from `state` with `outcome`, or by running `state` again
    (outcome None); or to end, with `problem`, if it cannot continue."""

    account: AccountHost
    execution: Execution
    state: State | None
    outcome: Outcome | None
    step_sid: str | None = None
    problem: str | None = None


RunRecord = dict[str, Any]  # a run state as plain JSON (see Engine.run_record)


class Engine:
    """Runs executions. It knows the domain only through `AccountHost` (the account an
    execution runs in) and the functions it is given: `host_of` finds an account by SID (for
    timers), `seconds` is the clock's current second (shared with the domain, see
    Studio.seconds)."""

    def __init__(
        self,
        *,
        clock: Clock,
        sids: SidFactory,
        seconds: Callable[[], int],
        changes: ChangeFeed,
        host_of: Callable[[str], AccountHost | None],
        config: EngineConfig | None = None,
        http: OutboundHttp | None = None,
    ) -> None:
        self.clock = clock
        self.sids = sids
        self.seconds = seconds
        self.changes = changes
        self.host_of = host_of
        self.config = config or EngineConfig()
        self._liquid: StudioLiquid | None = None
        self.http = http or OutboundHttp()
        self.messages = MessageLog(self.config.message_limit, changes)
        self.scripts = ScriptBook(self.config.script_limit)
        self.calls = CallLog(self.config.call_limit)  # call transcripts (transcripts.py)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._private_loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Runs spawned from another thread onto `loop` (drain waits for them too).
        self._foreign: set[concurrent.futures.Future[None]] = set()
        self._timers: list[tuple[float, Parked]] = []
        self._timers_compact_at = _TIMERS_COMPACT_MIN  # see _compact_timers
        self._changed: asyncio.Condition | None = None
        self._settle_waiters = 0  # wait_settled calls in progress
        self._definitions: dict[int, FlowDefinition] = {}
        # Executions a restart found mid-run (restore_run), continued at the first tick.
        self._interrupted: list[_Interrupted] = []

    @property
    def liquid(self) -> StudioLiquid:
        """Created on first use: python-liquid takes a tenth of a second to import, which
        a server that only stores executions need not pay at startup."""
        if self._liquid is None:
            from .liquid import StudioLiquid

            self._liquid = StudioLiquid(self.clock.now)
        return self._liquid

    # -- scheduling ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None and self.loop is not None and self.loop.is_running():
            # From another thread (a test helper, the CLI): run on the server's loop, as a
            # task `drain()` waits for like any other.
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
            self._foreign.add(future)
            future.add_done_callback(self._foreign.discard)
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
        """Wait until no execution is running (all ended or parked), including runs spawned
        from other threads."""
        while self._tasks or self._foreign:
            foreign = [asyncio.wrap_future(future) for future in list(self._foreign)]
            await asyncio.gather(*list(self._tasks), *foreign, return_exceptions=True)

    def _notify(self) -> None:
        condition = self._changed
        if condition is None or not self._settle_waiters:  # (a task per notice: only when awaited)
            return

        async def notify() -> None:
            async with condition:
                condition.notify_all()

        with contextlib.suppress(RuntimeError):  # no loop: nobody can be waiting
            asyncio.get_running_loop().create_task(notify())

    async def wait_settled(self, execution: Execution, timeout: float) -> bool:
        """True once the execution is ended or parked, and so is every execution it waits on
        (a run-subflow's child); False if `timeout` passes first."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        condition = self._changed

        def settled() -> bool:
            return _settled(execution)

        self._settle_waiters += 1
        try:
            async with condition:
                try:
                    await asyncio.wait_for(condition.wait_for(settled), timeout)
                except TimeoutError:
                    return settled()
            return True
        finally:
            self._settle_waiters -= 1

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
        account: AccountHost,
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

    @batched
    def resume(self, account: AccountHost, execution: Execution, event: str, payload: dict[str, Any] | None) -> bool:
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
        run.child = None
        account.waiting_for_reply(execution, False)
        if event == _EXPIRE:
            self.finish(account, execution, "expired after 30 days active")
            return True
        turn = WidgetRun(self, account, execution, parked.state)
        outcome = widget.resume(turn, event, parked.outputs, payload)
        changes = self.changes
        if changes.subscribers:
            changes.publish(
                ExecutionResumed(
                    account.sid,
                    execution,
                    parked.state.name,
                    outcome.event,
                    outcome.outputs,
                    outcome.variables,
                    parked.step_sid,
                )
            )
        self._spawn(self._advance(account, execution, parked.state, outcome, step_sid=parked.step_sid))
        return True

    def stop(self, account: AccountHost, execution: Execution, *, completed: bool = False) -> None:
        """Stop running the execution without ending it (it is being deleted). A subflow's
        parent is resumed: `completed` when the child reached its flow's end, `failed`
        otherwise."""
        self._halt(account, execution, None, completed)

    def finish(self, account: AccountHost, execution: Execution, reason: str, *, completed: bool = False) -> None:
        """End the execution (if active) and stop running it: the one call that ends an
        execution, whoever ends it (its flow's end, a limit, the API)."""
        log.debug("Execution %s ended: %s", execution.sid, reason)
        self._halt(account, execution, reason if execution.status == ACTIVE else None, completed)

    def _halt(self, account: AccountHost, execution: Execution, reason: str | None, completed: bool) -> None:
        run: RunState | None = execution.run
        if run is not None and run.parked is not None:  # (only a parked execution waits for a reply)
            run.parked = None
            account.waiting_for_reply(execution, False)
        execution.run = None
        self.calls.execution_stopped(execution, self.seconds)  # a call's flow ended: it hangs up
        if reason is not None:
            account.mark_ended(execution, reason)
        self._notify()
        if run is not None and run.on_end is not None:
            on_end, run.on_end = run.on_end, None
            on_end(execution, completed)

    # -- time ------------------------------------------------------------------------------

    @batched
    def _compact_timers(self) -> None:
        """Drop the timers of executions no longer parked where they were (resumed, ended,
        deleted). `fire_due_timers` would skip them when due, but until then (the widget's
        timeout, up to 30 days of virtual time) each holds its execution in memory, even one
        dropped by the ended-execution cap. Runs when the heap has doubled since it last ran,
        so it costs O(1) amortised per timer."""
        live = [t for t in self._timers if (run := t[1].execution.run) is not None and run.parked is t[1]]
        heapq.heapify(live)
        self._timers = live
        self._timers_compact_at = max(_TIMERS_COMPACT_MIN, 2 * len(live))

    def fire_due_timers(self) -> int:
        """Resume every parked execution whose timeout is due on the clock; returns how
        many fired. (First, continue executions a restart found mid-run.)"""
        if self._interrupted:
            self.resume_interrupted()
        now = self.clock.now()
        fired = 0
        while self._timers and self._timers[0][0] <= now:
            _, parked = heapq.heappop(self._timers)
            execution = parked.execution
            run: RunState | None = execution.run
            if run is None or run.parked is not parked:
                continue  # resumed, ended or deleted since
            account = self.host_of(execution.account_sid)
            if account is None or not account.is_live(execution):
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
            self.messages = MessageLog(self.config.message_limit, self.changes)
            self.scripts.clear()
            self.calls.clear()  # call transcripts
            self._interrupted.clear()
        else:
            self._timers = [t for t in self._timers if t[1].execution.account_sid != account_sid]
            heapq.heapify(self._timers)
            self.scripts.clear(account_sid)
            self.messages.clear(account_sid)
            self.calls.clear(account_sid)  # call transcripts
            self._interrupted = [i for i in self._interrupted if i.account.sid != account_sid]
        self._definitions.clear()
        return retired

    def child_of(self, execution: Execution) -> Execution | None:
        """The subflow child a parked run-subflow waits on, if any."""
        run: RunState | None = execution.run
        return run.child if run is not None else None

    def waiting(self, execution: Execution) -> Waiting | None:
        """What a parked execution waits on; None if it is not parked (running or stopped)."""
        run: RunState | None = execution.run
        parked = run.parked if run is not None else None
        if parked is None or execution.status != ACTIVE:
            return None
        state = parked.state
        events = tuple(WIDGETS[state.type].resume_events(state))
        timeout_event = parked.timeout_event if parked.timeout_event in events else None
        return Waiting(execution.sid, state.name, state.type, events, timeout_event, parked.due)

    # -- run state as data (the state file) --------------------------------------------------

    def run_record(self, execution: Execution) -> RunRecord | None:
        """The execution's run state as plain JSON, None once it has stopped: its counters
        and where it is parked. (A resume not yet run is the `ExecutionResumed` change's
        to keep: `restore_run` takes it back as `"resume"`.)"""
        run: RunState | None = execution.run
        if run is None:
            return None
        record: dict[str, Any] = {"steps": run.step_count, "last": run.last_widget, "repeats": run.repeats}
        if run.parent_step_sid is not None:
            record["parent_step"] = run.parent_step_sid
        parked = run.parked
        if parked is not None:
            record["parked"] = [parked.state.name, parked.outputs, parked.due, parked.timeout_event, parked.step_sid]
        return record

    def restore_run(
        self,
        account: AccountHost,
        execution: Execution,
        definition: FlowDefinition,
        record: dict[str, Any],
        *,
        last_target: str | None,
        trigger_event: str,
        on_end: Any = None,
    ) -> None:
        """Rebuild an active execution's run state from its `run_record` after a restart.
        Parked: parked again on its widget, its timer re-armed (a timeout that fell due
        while the server was down fires at the first tick) and, if it waits for a reply,
        listening for the contact's. Resumed but not yet run: that resume runs. Otherwise
        it was running a widget when the server died (its last step's `transitioned_to`,
        or the trigger if it has no step): that widget runs again from the start."""
        run = RunState(
            definition,
            None,
            step_count=int(record.get("steps", 0)),
            last_widget=record.get("last"),
            repeats=int(record.get("repeats", 0)),
            parent_step_sid=record.get("parent_step"),
            on_end=on_end,
        )
        execution.run = run
        parked = record.get("parked")
        if parked is not None:
            name, outputs, due, timeout_event, step_sid = parked
            state = definition.states.get(name)
            if state is not None:
                run.parked = entry = Parked(execution, state, outputs, due, timeout_event, step_sid)
                heapq.heappush(self._timers, (due, entry))
                if "incomingMessage" in WIDGETS[state.type].resume_events(state):
                    account.waiting_for_reply(execution, True)
                return
        outcome: Outcome | None = None
        step_sid = None
        if parked is not None:
            name = parked[0]
        elif (resume := record.get("resume")) is not None:
            name, event, outputs, variables, step_sid = resume
            outcome = Outcome(event, outputs, variables)
        elif last_target is not None:
            name = last_target
        else:
            name, outcome = definition.initial_state, Outcome(trigger_event)
        state = definition.states.get(name)
        problem = None if state is not None else f"its flow revision no longer has widget {name!r}"
        self._interrupted.append(_Interrupted(account, execution, state, outcome, step_sid, problem))

    def resume_interrupted(self) -> None:
        """Continue (or end) the executions `restore_run` queued; called by the first timer
        tick, on the server's event loop."""
        interrupted, self._interrupted = self._interrupted, []
        for item in interrupted:
            account, execution = item.account, item.execution
            if execution.run is None or not account.is_live(execution):
                continue
            if item.state is None:
                log.warning("Execution %s cannot continue after the restart: %s", execution.sid, item.problem)
                self.finish(account, execution, item.problem or "cannot continue")
                continue
            log.info("Execution %s continues after the restart at widget %s", execution.sid, item.state.name)
            self._spawn(self._advance(account, execution, item.state, item.outcome, item.step_sid))

    # -- the loop --------------------------------------------------------------------------

    async def _advance(
        self,
        account: AccountHost,
        execution: Execution,
        state: State,
        outcome: Outcome | None,
        step_sid: str | None = None,
    ) -> None:
        # With a transactional subscriber (the state file), what this run changes is one
        # transaction, committed when it parks or ends, and whenever a widget suspends (see
        # changes.committing).
        changes = self.changes
        held = bool(changes.transactions)
        if held:
            changes.hold()
        try:
            await self._run(account, execution, state, outcome, step_sid)
        except Exception:  # a bug in a widget must not take the server down
            log.exception("Execution %s failed in widget %s", execution.sid, state.name)
            if execution.status == ACTIVE and account.is_live(execution):
                self.finish(account, execution, "internal error")
        finally:
            if held:
                try:
                    changes.release()
                except Exception:
                    log.exception("Execution %s: its progress could not be written to the state file", execution.sid)
            self._notify()

    async def _run(
        self,
        account: AccountHost,
        execution: Execution,
        state: State,
        outcome: Outcome | None,
        step_sid: str | None,
    ) -> None:
        run: RunState | None = execution.run
        if run is None:
            return
        result: Outcome | Wait | Awaitable[Outcome | Wait]
        turn = WidgetRun(self, account, execution, state)  # one for the widgets this loop runs, in turn
        if outcome is None:  # a restart found it running `state`: again
            result = self._run_widget(turn, state)
            if not isinstance(result, _DECIDED):
                result = await result
            if turn.problems is not None:
                result = _noting(turn, result)
            if execution.run is not run or execution.status != ACTIVE:
                return
            if isinstance(result, Wait):
                self._park(account, execution, run, state, result)
                return
            outcome = result
        states = run.definition.states
        seconds = self.seconds
        changes = self.changes
        subscribers = changes.subscribers  # (the list itself: subscribing later is seen too)
        # The time of the steps: read again after each await (a synchronous stretch of
        # widgets takes microseconds, and steps are dated to the second).
        now = seconds()
        clock = time.perf_counter
        slice_end = clock() + TIME_SLICE
        # This loop runs once per step of every execution: the step record and the widget
        # call are written out here rather than in helpers (a call each per step is a
        # tenth of a fast flow's run time), see _run_widget for the general case.
        while execution.status == ACTIVE:
            if outcome.outputs is not None or outcome.variables:
                _write_outputs(execution, run, state.name, outcome.outputs, outcome.variables)
            transition = outcome.transition if outcome.transition is not None else state.by_event.get(outcome.event)
            target = transition.next if transition is not None else None
            # The step. Its key (date, then the account's sequence) also orders it among
            # other executions' steps (a subflow's, in `mockstudio run`).
            step = Step(  # positional
                step_sid,  # None: derived when first read (Step.sid)
                execution.sid,
                outcome.event,  # name
                state.name,  # transitioned_from
                target or "Ended",  # transitioned_to
                state.type,
                run.parent_step_sid,
                execution.widgets,
                execution.variables,
                now,  # date_created
                None,  # date_updated
                account.next_key(now),
            )
            steps = execution.steps
            if steps is None:
                steps = execution.steps = SortedIndex(BY_KEY)
            steps.add(step.key, step)
            run.step_count += 1
            execution.date_updated = now
            if subscribers:  # the feed's publish, written out (once per step)
                change = StepEnded(account.sid, execution, step)
                for subscriber in subscribers:
                    subscriber(change)
            step_sid = None
            if target is None or target not in states:
                self.finish(account, execution, ENDED_AT_FLOW_END, completed=True)
                return
            if run.step_count >= MAX_STEPS or run.stored > MAX_STORED_PER_EXECUTION:
                if run.step_count >= MAX_STEPS:
                    self.finish(account, execution, f"limit of {MAX_STEPS} steps")
                else:
                    limit = f"limit of {MAX_STORED_PER_EXECUTION} characters rendered or received"
                    self.finish(account, execution, limit)
                return
            if clock() > slice_end:
                # A long synchronous stretch: let requests and other executions run (what
                # it changed so far is committed first, as when a widget waits for I/O).
                pause = asyncio.sleep(0)
                await (committing(changes, pause) if changes.transactions else pause)
                if execution.run is not run or execution.status != ACTIVE:
                    return
                slice_end = clock() + TIME_SLICE
                now = seconds()
            if run.last_widget == target:
                run.repeats += 1
                if run.repeats >= MAX_REPEATS:
                    self.finish(account, execution, f"widget {target} ran {MAX_REPEATS} times in a row")
                    return
            else:
                run.repeats = 1
                run.last_widget = target
            state = states[target]
            if self.scripts.entries:
                result = self._run_widget(turn, state)
            else:  # _run_widget's common case, written out
                turn.state = state
                turn.script = None
                result = WIDGETS[state.type].run(turn)
                if changes.transactions and not isinstance(result, _DECIDED):
                    result = committing(changes, result)
            if type(result) is not Outcome:
                if not isinstance(result, _DECIDED):  # it waits for I/O: other requests run meanwhile
                    result = await result
                    now = seconds()
                    slice_end = clock() + TIME_SLICE
                if turn.problems is not None:
                    result = _noting(turn, result)
                if isinstance(result, Wait):
                    if execution.run is run and execution.status == ACTIVE:
                        self._park(account, execution, run, state, result)
                    return
            elif turn.problems is not None:
                result = _noting(turn, result)
            if execution.run is not run:
                return  # ended, deleted or reset while the widget ran (the loop checks the status)
            outcome = result

    def _run_widget(self, turn: WidgetRun, state: State) -> Outcome | Wait | Awaitable[Outcome | Wait]:
        """The widget's Outcome or Wait; an awaitable for a widget that waits for I/O (or a
        scripted delay). Synchronous widgets run without a coroutine: a fast flow is mostly
        such widgets, and a coroutine each would cost a tenth of its run time. `turn` is
        the loop's, pointed at this widget."""
        turn.state = state
        turn.script = None
        widget = WIDGETS[state.type]
        if self.scripts.entries:
            script = self.scripts.take(turn.account.sid, turn.execution.flow_sid, state.name)
            if script is not None:
                return self._run_scripted(widget, turn, script)
        result = widget.run(turn)
        if type(result) is Outcome or isinstance(result, _DECIDED):
            return result
        changes = self.changes
        return committing(changes, result) if changes.transactions else result

    async def _run_scripted(self, widget: Widget, turn: WidgetRun, script: ScriptedOutcome) -> Outcome | Wait:
        changes = self.changes
        if script.delay:
            delay = asyncio.sleep(min(script.delay, 30.0))
            await (committing(changes, delay) if changes.transactions else delay)
        if not widget.takes_script(script):
            return _scripted_outcome(script, widget.default_event(turn.state))
        turn.script = script
        result = widget.run(turn)
        if isinstance(result, _DECIDED):
            return result
        return await (committing(changes, result) if changes.transactions else result)

    def _park(self, account: AccountHost, execution: Execution, run: RunState, state: State, wait: Wait) -> None:
        now = self.clock.now()
        expires = execution.date_created + MAX_ACTIVE_SECONDS
        due: float = expires
        event = _EXPIRE
        if wait.timeout is not None and now + wait.timeout < expires:
            due, event = now + wait.timeout, wait.timeout_event
        run.parked = parked = Parked(execution, state, wait.outputs, due, event, run.pending_step_sid)
        run.context = None
        run.pending_step_sid = None
        heapq.heappush(self._timers, (due, parked))
        if len(self._timers) > self._timers_compact_at:
            self._compact_timers()
        events = WIDGETS[state.type].resume_events(state)
        if "incomingMessage" in events:
            account.waiting_for_reply(execution, True)
        changes = self.changes
        if changes.subscribers:
            changes.publish(ExecutionParked(account.sid, execution, state.name, events, due))


def _settled(execution: Execution) -> bool:
    """Ended, or parked on something outside the engine (a reply, a timer, an event), and
    not on a subflow whose child still runs."""
    while True:
        run = execution.run
        if execution.status != ACTIVE or run is None:
            return True
        parked = run.parked
        if parked is None:
            return False
        child = run.child
        if child is None or parked.state.type != "run-subflow":
            return True
        execution = child


def _write_outputs(
    execution: Execution,
    run: RunState,
    name: str,
    outputs: dict[str, Any] | None,
    variables: dict[str, Any] | None,
) -> None:
    """Write a widget's outputs and variables as new layers ("variables get set at the end
    of a Step"); the old layers stay untouched for the steps that reference them."""
    context = run.context  # private to this run: updated in place rather than rebuilt
    if outputs is not None:
        execution.widgets = {**(execution.widgets or {}), name: outputs}
        if context is not None:
            context["widgets"] = execution.widgets
    if variables:
        execution.variables = {**(execution.variables or {}), **variables}
        if context is not None:
            context["flow"]["variables"] = execution.variables


@overload
def _noting(turn: WidgetRun, result: Outcome) -> Outcome: ...
@overload
def _noting(turn: WidgetRun, result: Outcome | Wait) -> Outcome | Wait: ...
def _noting(turn: WidgetRun, result: Outcome | Wait) -> Outcome | Wait:
    """`result` with the run's problems in its outputs, as `mockstudio_problems` (so the step's
    context says why a template rendered empty or a condition did not match)."""
    problems, turn.problems = turn.problems, None
    outputs = {**(result.outputs or {}), "mockstudio_problems": problems}
    if isinstance(result, Wait):
        return Wait(result.timeout, result.timeout_event, outputs)
    return Outcome(result.event, outputs, result.variables, result.transition)


def _scripted_outcome(script: ScriptedOutcome, default_event: str) -> Outcome:
    return Outcome(script.event or default_event, script.outputs if script.outputs is not None else {})
