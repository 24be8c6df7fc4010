"""Flow definitions for the dashboard's browser tests and its canvas benchmark."""

from __future__ import annotations

from typing import Any


def _trigger(first: str) -> dict[str, Any]:
    return {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [
            {"event": "incomingMessage"},
            {"next": first, "event": "incomingCall"},
            {"event": "incomingConversationMessage"},
            {"next": first, "event": "incomingRequest"},
            {"event": "incomingParent"},
        ],
        "properties": {},
    }


def _gather(name: str, prompt: str, split: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "gather-input-on-call",
        "transitions": [{"next": split, "event": "keypress"}, {"event": "speech"}, {"event": "timeout"}],
        "properties": {"say": prompt, "number_of_digits": 1, "timeout": 5, "stop_gather": True},
    }


def _split(name: str, input_: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "split-based-on",
        "transitions": [
            {"event": "noMatch"},
            *(
                {
                    "next": target,
                    "event": "match",
                    "conditions": [{"friendly_name": digit, "arguments": [input_], "type": "equal_to", "value": digit}],
                }
                for digit, target in targets
            ),
        ],
        "properties": {"input": input_},
    }


def _say(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "type": "say-play", "transitions": [{"event": "audioComplete"}], "properties": {"say": text}}


def ivr_definition(widgets: int = 100) -> dict[str, Any]:
    """A phone menu of exactly `widgets` widgets and no offsets (so the canvas lays it out):
    a main menu of nine departments, each with its own menu of leaf messages."""
    assert widgets >= 30
    states: list[dict[str, Any]] = [_trigger("main_menu")]
    departments = [f"department_{d}" for d in range(1, 10)]
    states.append(_gather("main_menu", "Press 1 to 9", "route_main"))
    states.append(
        _split(
            "route_main",
            "{{widgets.main_menu.Digits}}",
            [(str(d), f"{name}_menu") for d, name in enumerate(departments, 1)],
        )
    )
    leaves = widgets - len(states) - 2 * len(departments)
    per_department = [leaves // len(departments) + (1 if i < leaves % len(departments) else 0) for i in range(9)]
    for name, count in zip(departments, per_department, strict=True):
        states.append(_gather(f"{name}_menu", f"Welcome to {name}", f"route_{name}"))
        options = [(str(o), f"{name}_option_{o}") for o in range(1, count + 1)]
        states.append(_split(f"route_{name}", f"{{{{widgets.{name}_menu.Digits}}}}", options))
        states.extend(_say(target, f"You chose option {digit} of {name}") for digit, target in options)
    assert len(states) == widgets
    return {
        "description": "A generated phone menu",
        "states": states,
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }
