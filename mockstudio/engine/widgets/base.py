"""The widget interface: given the widget's properties and the execution's context,
produce an Outcome (an event and outputs) or a Wait."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from ...contexts import build_context
from ..catalogue import WIDGET_TYPES
from ..definition import State
from ..limits import RenderFailed
from ..messages import Message
from ..outcomes import Outcome, Wait
from ..text import to_text

if TYPE_CHECKING:
    from ...domain.models import Execution
    from ..host import AccountHost, WidgetServices
    from ..liquid import StudioLiquid
    from ..scripts import ScriptedOutcome

__all__ = ["Renderer", "Widget", "WidgetRun", "property_renderer"]

Renderer = Callable[[dict[str, Any]], str]  # a template compiled (StudioLiquid.renderer)


class WidgetRun:
    """One run of one widget: its state, the execution, the account it runs in, and what a
    widget needs of the engine (Liquid, outbound HTTP, SIDs, the clock, the message log).
    `problems` are why something in the run did not work as written (a template that failed
    to render, a regex that timed out): the runner records them in the widget's outputs."""

    __slots__ = ("account", "engine", "execution", "problems", "script", "state")

    def __init__(self, engine: WidgetServices, account: AccountHost, execution: Execution, state: State) -> None:
        self.engine = engine
        self.account = account
        self.execution = execution
        self.state = state
        self.script: ScriptedOutcome | None = None  # an HTTP response scripted for this run
        self.problems: list[str] | None = None

    @property
    def context(self) -> dict[str, Any]:
        run = self.execution.run
        if run is None:
            return {}
        context: dict[str, Any] | None = run.context
        if context is None:
            context = run.context = build_context(self.execution, self.execution.widgets, self.execution.variables)
        return context

    @property
    def properties(self) -> dict[str, Any]:
        return self.state.properties

    def compiled(self, key: str, compile: Callable[[State, StudioLiquid], Any]) -> Any:
        """What `compile` makes of this widget's properties (key: a property's name, or
        "#..." for a widget's own plan), made on the widget's first run and kept with its
        State (one per flow revision) for later runs. It may hold renderers bound to this
        engine's Liquid environment, so it is remade for another engine's."""
        liquid = self.engine.liquid
        entry = self.state.compiled.get(key)
        if entry is None or entry[0] is not liquid:
            entry = self.state.compiled[key] = (liquid, compile(self.state, liquid))
        return entry[1]

    def prop(self, name: str, default: str = "") -> str:
        """A property rendered with Liquid (`default` when absent), compiled once (keyed by
        its name). Widgets that run in every fast flow compile all of theirs in one go."""
        return self.rendered(self.compiled(name, partial(_compile_property, name)), default)

    def rendered(self, renderer: Renderer | str | None, default: str = "") -> str:
        """What `property_renderer` made of a property, rendered; empty if it fails to render
        (the run notes why). Counts what it renders (limits.MAX_STORED_PER_EXECUTION)."""
        if renderer is None:
            return default
        if type(renderer) is str:
            return renderer
        try:
            text: str = renderer(self.context)  # type: ignore[operator]  # (not a str: see above)
        except RenderFailed as exc:
            self.note(exc.reason)
            return ""
        run = self.execution.run  # (written out: this runs for most properties of every widget)
        if run is not None:
            run.stored += len(text)
        return text

    def count(self, text: str) -> None:
        """Count what the execution renders or receives: what it stores is made of it
        (limits.MAX_STORED_PER_EXECUTION)."""
        run = self.execution.run
        if run is not None:
            run.stored += len(text)

    def note(self, problem: str) -> None:
        if self.problems is None:
            self.problems = [problem]
        elif problem not in self.problems:
            self.problems.append(problem)

    def pairs(self, name: str) -> list[tuple[str, str]]:
        value = self.state.properties.get(name)
        pairs = self.engine.liquid.render_pairs(value if isinstance(value, list) else [], self.context, self.note)
        for _, text in pairs:
            self.count(text)
        return pairs

    def now(self) -> int:
        return self.engine.seconds()

    def new_sid(self, prefix: str) -> str:
        return self.engine.sids.new(prefix)

    def start_subflow(
        self, flow_sid: str, parameters: dict[str, Any], parent_step_sid: str, revision: str
    ) -> Execution | None:
        """Run another flow of the account as this execution's child (run-subflow)."""
        return self.account.start_subflow(
            flow_sid=flow_sid,
            parent=self.execution,
            parameters=parameters,
            parent_step_sid=parent_step_sid,
            revision=revision,
        )

    def record_message(
        self, direction: str, from_: str, to: str, body: str, status: str, media_url: tuple[str, ...] = ()
    ) -> Message:
        message = Message(  # positional: one per message sent
            self.engine.sids.new("SM"),
            self.account.sid,
            direction,
            from_,
            to,
            body,
            self.execution.sid,
            self.execution.flow_sid,
            status,
            self.engine.seconds(),
            media_url,
        )
        self.engine.messages.add(message)
        return message


def _compile_property(name: str, state: State, liquid: StudioLiquid) -> Renderer | str | None:
    return property_renderer(state.properties.get(name), liquid)


def property_renderer(value: Any, liquid: StudioLiquid) -> Renderer | str | None:
    """None for an absent property, its text when it has no Liquid, else its renderer
    (WidgetRun.rendered renders either)."""
    if value is None:
        return None
    text = value if type(value) is str else to_text(value)
    return text if "{" not in text else liquid.renderer(text)


class Widget(ABC):
    type: ClassVar[str]
    # Whether an HTTP-shaped scripted outcome (status_code/body) is handed to `run`.
    takes_http_scripts: ClassVar[bool] = False

    @abstractmethod
    def run(self, turn: WidgetRun) -> Outcome | Wait | Coroutine[Any, Any, Outcome | Wait]:
        """Run the widget once. Most widgets decide at once and return their Outcome or
        Wait; those that wait for I/O (HTTP calls) are coroutines, which the runner awaits.
        (A coroutine per widget would cost a tenth of a fast flow's run time.)"""

    def takes_script(self, script: ScriptedOutcome) -> bool:
        """Whether `run` plays this scripted outcome itself (as `turn.script`); otherwise
        the runner leaves the widget on the scripted event without running it."""
        return script.is_http() and self.takes_http_scripts

    def events(self) -> tuple[str, ...]:
        return WIDGET_TYPES[self.type].events

    def resume_events(self, state: State) -> tuple[str, ...]:
        return WIDGET_TYPES[self.type].resumes_on

    def default_event(self, state: State) -> str:
        return self.events()[0]

    def resume(
        self,
        turn: WidgetRun,
        event: str,
        outputs: dict[str, Any] | None,
        payload: dict[str, Any] | None,
    ) -> Outcome:
        """Leave a parked widget on `event`; `payload` (e.g. the inbound message or the
        gathered digits) is merged into what the widget had output so far."""
        merged = dict(outputs or {})
        if payload:
            merged.update(payload)
        return Outcome(event, merged)
