"""Flow definitions: parsing and Studio-like validation (error 81022,
https://www.twilio.com/docs/studio/rest-api/v2/schemas).

Validation reports every problem with a JSON-pointer-style `property_path`
(`#/states/3/transitions/0/next`), the shape Twilio's validator uses in
`details.errors[]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue import CONDITION_TYPES, WIDGET_TYPES

__all__ = ["FlowDefinition", "State", "Transition", "ValidationProblem", "parse_definition"]


@dataclass(frozen=True, slots=True)
class ValidationProblem:
    message: str
    property_path: str

    def as_dict(self) -> dict[str, str]:
        return {"message": self.message, "property_path": self.property_path}


@dataclass(frozen=True, slots=True)
class Transition:
    event: str
    next: str | None  # None (or "" in the JSON) ends the execution
    conditions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    name: str
    type: str
    transitions: tuple[Transition, ...]
    properties: dict[str, Any]
    # What widgets compile from `properties` on their first run (rendering functions for
    # its templates...), so later runs of this revision skip it: see WidgetRun.compiled.
    compiled: dict[str, tuple[object, Any]] = field(default_factory=dict, compare=False, repr=False)
    # The first transition for each event (the runner looks one up per step).
    by_event: dict[str, Transition] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_event: dict[str, Transition] = {}
        for transition in self.transitions:
            by_event.setdefault(transition.event, transition)
        object.__setattr__(self, "by_event", by_event)  # (frozen)

    def transition(self, event: str) -> Transition | None:
        return self.by_event.get(event)


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    initial_state: str
    states: dict[str, State]
    raw: dict[str, Any]


def _problem(problems: list[ValidationProblem], message: str, path: str) -> None:
    problems.append(ValidationProblem(message, path))


def parse_definition(raw: Any) -> tuple[FlowDefinition | None, list[ValidationProblem]]:
    """The parsed definition and the problems found; the definition is None when the
    problems make it unrunnable."""
    problems: list[ValidationProblem] = []
    if not isinstance(raw, dict):
        _problem(problems, "the flow definition must be a JSON object", "#")
        return None, problems
    initial = raw.get("initial_state")
    if not isinstance(initial, str) or not initial:
        _problem(problems, "initial_state is required and must be a non-empty string", "#/initial_state")
    flags = raw.get("flags")
    if flags is not None and (not isinstance(flags, dict) or "allow_concurrent_calls" not in flags):
        _problem(problems, "flags must be an object with allow_concurrent_calls", "#/flags")
    raw_states = raw.get("states")
    if not isinstance(raw_states, list) or not raw_states:
        _problem(problems, "states is required and must be a non-empty array", "#/states")
        return None, problems
    # Every name a widget has, valid or not: a transition to an invalid widget is not also
    # reported as a transition to a missing one (its own problems say what is wrong).
    named = {s["name"] for s in raw_states if isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"]}
    # Widgets something leads to. One nothing leads to never runs, and Studio publishes it
    # without its required properties (a real export has a split with no `input` and no
    # transition to it): only reached widgets must have them.
    reached = {initial} | {
        t.get("next")
        for s in raw_states
        if isinstance(s, dict) and isinstance(s.get("transitions"), list)
        for t in s["transitions"]
        if isinstance(t, dict)
    }
    states: dict[str, State] = {}
    for index, raw_state in enumerate(raw_states):
        state = _parse_state(raw_state, f"#/states/{index}", problems, reached)
        if state is None:
            continue
        if state.name in states:
            _problem(problems, f"widget name {state.name!r} is not unique", f"#/states/{index}/name")
            continue
        states[state.name] = state
    for index, raw_state in enumerate(raw_states):
        if not isinstance(raw_state, dict):
            continue
        for t_index, transition in enumerate(raw_state.get("transitions") or []):
            target = transition.get("next") if isinstance(transition, dict) else None
            if isinstance(target, str) and target and target not in named:
                _problem(
                    problems,
                    f"transition to {target!r}, which is not a widget of this flow",
                    f"#/states/{index}/transitions/{t_index}/next",
                )
    if isinstance(initial, str) and initial and initial not in named:
        _problem(problems, f"initial_state {initial!r} is not a widget of this flow", "#/initial_state")
    triggers = [s for s in raw_states if isinstance(s, dict) and s.get("type") == "trigger"]
    if len(triggers) != 1:
        _problem(problems, f"a flow needs exactly one trigger widget, found {len(triggers)}", "#/states")
    if problems:
        return None, problems
    assert isinstance(initial, str)
    return FlowDefinition(initial, states, raw), problems


def _parse_state(raw: Any, path: str, problems: list[ValidationProblem], reached: set[Any]) -> State | None:
    if not isinstance(raw, dict):
        _problem(problems, "a widget must be a JSON object", path)
        return None
    name, kind = raw.get("name"), raw.get("type")
    ok = True
    if not isinstance(name, str) or not name:
        _problem(problems, "name is required and must be a non-empty string", f"{path}/name")
        ok = False
    widget_type = WIDGET_TYPES.get(kind) if isinstance(kind, str) else None
    if widget_type is None:
        _problem(problems, f"unknown widget type {kind!r}", f"{path}/type")
        ok = False
    properties = raw.get("properties", {})
    if not isinstance(properties, dict):
        _problem(problems, "properties must be an object", f"{path}/properties")
        properties, ok = {}, False
    raw_transitions = raw.get("transitions", [])
    if not isinstance(raw_transitions, list):
        _problem(problems, "transitions must be an array", f"{path}/transitions")
        raw_transitions, ok = [], False
    transitions = []
    for index, item in enumerate(raw_transitions):
        t_path = f"{path}/transitions/{index}"
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            _problem(problems, "a transition needs a string event", t_path)
            ok = False
            continue
        event = item["event"]
        if widget_type is not None and event not in widget_type.events:
            _problem(problems, f"event {event!r} is not an event of a {widget_type.name} widget", f"{t_path}/event")
            ok = False
        target = item.get("next")
        if target is not None and not isinstance(target, str):
            _problem(problems, "next must be a string", f"{t_path}/next")
            ok = False
            continue
        conditions = item.get("conditions", [])
        if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
            _problem(problems, "conditions must be an array of objects", f"{t_path}/conditions")
            ok = False
            conditions = []
        for c_index, condition in enumerate(conditions):
            for key in ("type", "value", "arguments", "friendly_name"):
                if key not in condition:
                    _problem(problems, f"a condition needs {key}", f"{t_path}/conditions/{c_index}/{key}")
                    ok = False
            condition_type = condition.get("type")
            if "type" in condition and condition_type not in CONDITION_TYPES:
                _problem(
                    problems,
                    f"unknown condition type {condition_type!r} (one of {', '.join(CONDITION_TYPES)})",
                    f"{t_path}/conditions/{c_index}/type",
                )
                ok = False
        transitions.append(Transition(event, target or None, tuple(conditions)))
    if widget_type is not None and isinstance(raw.get("properties", {}), dict) and name in reached:
        for required in widget_type.required:
            if required not in properties:
                _problem(
                    problems,
                    f"property {required!r} is required for a {widget_type.name} widget",
                    f"{path}/properties/{required}",
                )
                ok = False
    if not ok:
        return None
    assert isinstance(name, str) and isinstance(kind, str)
    return State(name, kind, tuple(transitions), properties)
