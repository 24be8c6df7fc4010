"""`mockstudio validate` and `mockstudio run`: the commands as subprocesses, and the
driving function (mockstudio.runflow) in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mockstudio.cli import main as cli_main
from mockstudio.runflow import (
    DEFAULT_CONTACT,
    DEFAULT_FLOW_ADDRESS,
    RUN_FLOW_SID,
    TRIGGERS,
    FlowBundle,
    FlowFileError,
    RunError,
    VoiceInput,
    WidgetEvent,
    _duration,
    choose_trigger,
    load_flow_file,
    run_flow,
    validate_file,
)

from .conftest import ROOT, SHARED_REFERENCE
from .helpers import free_port

DEMO = ROOT / "fixtures" / "definitions" / "appointment-reminder.json"
REAL_FLOWS = SHARED_REFERENCE / "flows"
TO, FROM = "+15551234567", "+15017122661"
START = 1_700_000_000.0


def mockstudio(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockstudio", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def real_flows(prefix: str = "") -> list[Path]:
    return sorted(REAL_FLOWS.glob(f"{prefix}*.json")) if REAL_FLOWS.is_dir() else []


def trigger(request_next: str | None) -> dict[str, Any]:
    return {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [{"event": "incomingMessage"}, {"event": "incomingRequest", "next": request_next}],
        "properties": {},
    }


def flow(*states: dict[str, Any]) -> dict[str, Any]:
    flags = {"allow_concurrent_calls": True}
    return {"description": "test", "states": list(states), "initial_state": "Trigger", "flags": flags}


def send(name: str, body: str, next_: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": "send-message",
        "transitions": [{"event": "sent", "next": next_}],
        "properties": {"body": body},
    }


def ask(name: str, body: str, reply: str | None, timeout: str | None, seconds: int = 600) -> dict[str, Any]:
    return {
        "name": name,
        "type": "send-and-wait-for-reply",
        "transitions": [{"event": "incomingMessage", "next": reply}, {"event": "timeout", "next": timeout}],
        "properties": {"body": body, "timeout": str(seconds)},
    }


GREETING = flow(trigger("hello"), send("hello", "Hello {{flow.data.name}}"))
# Asks twice; answers are echoed, silence is reported.
SURVEY = flow(
    trigger("q1"),
    ask("q1", "First?", "q2", "silent"),
    ask("q2", "You said {{widgets.q1.inbound.Body}}. Second?", "thanks", "silent", 3600),
    send("thanks", "Thanks: {{widgets.q1.inbound.Body}}/{{widgets.q2.inbound.Body}}"),
    send("silent", "No answer"),
)
GATHER = flow(
    trigger("menu"),
    {
        "name": "menu",
        "type": "gather-input-on-call",
        "transitions": [
            {"event": "keypress", "next": "pressed"},
            {"event": "speech"},
            {"event": "timeout", "next": "nothing"},
        ],
        "properties": {"timeout": 5},
    },
    send("pressed", "You pressed {{widgets.menu.Digits}}"),
    send("nothing", "Nothing pressed"),
)
BROKEN = flow(trigger("x"), send("a", "hi"))


def write(tmp_path: Path, name: str, value: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def path_of(result: Any) -> list[tuple[str, str, str]]:
    return [(step.event, step.from_, step.to) for step in result.steps]


# -- validate ----------------------------------------------------------------------------------


def test_validate_valid_flow(tmp_path: Path) -> None:
    path = write(tmp_path, "greeting.json", GREETING)
    done = mockstudio("validate", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: valid\n"


def test_validate_reports_each_problem_with_its_pointer(tmp_path: Path) -> None:
    wired = trigger("x")
    wired["transitions"][0]["next"] = "a"  # (a widget nothing leads to need not have its properties)
    bad = flow(
        wired,
        {"name": "a", "type": "send-message", "transitions": [{"event": "bogus"}], "properties": {}},
    )
    path = write(tmp_path, "bad.json", bad)
    done = mockstudio("validate", path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert f"{path}: #/states/0/transitions/1/next: transition to 'x', which is not a widget of this flow" in lines
    assert f"{path}: #/states/1/transitions/0/event: event 'bogus' is not an event of a send-message widget" in lines
    assert f"{path}: #/states/1/properties/body: property 'body' is required for a send-message widget" in lines
    assert len(lines) == 3


def test_validate_several_files_unreadable_and_invalid_json(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", GREETING)
    garbled = tmp_path / "garbled.json"
    garbled.write_text('{"states": [', encoding="utf-8")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    missing = tmp_path / "missing.json"
    array = write(tmp_path, "array.json", [1, 2])
    done = mockstudio("validate", good, garbled, binary, missing, array)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{good}: valid",
        f"{garbled}: not valid JSON: Expecting value: line 1 column 13 (char 12)",
        f"{binary}: cannot read: not UTF-8 text",
        f"{missing}: cannot read: No such file or directory",
        f"{array}: #: the flow definition must be a JSON object",
    ]


def test_validate_fixture_document_checks_each_flow(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    write(tmp_path / "defs", "survey.json", SURVEY)
    write(tmp_path / "defs", "broken.json", BROKEN)
    good = write(
        tmp_path,
        "good.json",
        {
            "flows": [
                {"sid": "FW" + "1" * 32, "friendly_name": "greeting", "definition": GREETING},
                {"sid": "FW" + "2" * 32, "friendly_name": "survey", "definition_file": "defs/survey.json"},
            ]
        },
    )
    bad = write(
        tmp_path,
        "bad.json",
        {
            "flows": [
                {"sid": "FW" + "1" * 32, "friendly_name": "broken inline", "definition": BROKEN},
                {"sid": "FW" + "2" * 32, "friendly_name": "broken file", "definition_file": "defs/broken.json"},
                {"sid": "FWnope", "friendly_name": "missing", "definition_file": "defs/none.json"},
            ]
        },
    )
    done = mockstudio("validate", good, bad)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{good}: valid (fixture file, 2 flows)",
        f"{bad}: #/flows/2/sid: String should match pattern '^FW[0-9a-fA-F]{{32}}$'",
        f"{bad}: #/flows/0/definition/states/0/transitions/1/next: "
        "transition to 'x', which is not a widget of this flow",
        f"{tmp_path / 'defs' / 'broken.json'}: #/states/0/transitions/1/next: "
        "transition to 'x', which is not a widget of this flow",
        f"{bad}: #/flows/2/definition_file: {tmp_path / 'defs' / 'none.json'}: cannot read: No such file or directory",
    ]


def test_validate_project_fixtures() -> None:
    files = [ROOT / "fixtures" / "example.json", *sorted((ROOT / "fixtures" / "definitions").glob("*.json"))]
    done = mockstudio("validate", *files)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[0] == f"{files[0]}: valid (fixture file, 2 flows)"


@pytest.mark.skipif(len(real_flows()) != 11, reason="the 11 real flows in ../shared/reference/flows are absent")
def test_validate_the_eleven_real_flows() -> None:
    files = real_flows()
    done = mockstudio("validate", *files)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [f"{path}: valid" for path in files]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(tmp_path, "greeting.json", GREETING))
    assert mockstudio("validate").returncode == 2  # once as a real process; argparse's exit is the same in-process
    for argv in (
        ["run", path, "--trigger", "sms"],
        ["run", path, "--press", "one"],
        ["run", path, "--say", " "],
        ["run", path, "--to", TO, "--from", FROM, "--param", "novalue"],
        ["run", path, "--to", TO, "--from", FROM, "--parameters", "[1]"],
        ["run", path, "--to", TO, "--from", FROM, "--advance", "soon"],
        ["run", path, "--to", TO, "--from", FROM, "--advance", "-5"],
        ["run", path, "--to", TO, "--from", FROM, "--http", "maybe"],
        ["run", path, "--to", TO, "--from", FROM, "--event", "menu"],
        ["run", path, "--to", TO, "--from", FROM, "--event", "menu=keypress:[1]"],
    ):
        with pytest.raises(SystemExit) as info:
            cli_main(argv)
        assert info.value.code == 2, argv
    assert cli_main(["run", path, "--to", TO, "--from", FROM, "--event", "nowhere=keypress"]) == 2
    assert "the flow has no widget 'nowhere'" in capsys.readouterr().err


def test_serve_and_help_still_parse() -> None:
    done = mockstudio("--help")
    assert done.returncode == 0
    assert "validate" in done.stdout and "run" in done.stdout and "serve" in done.stdout
    assert mockstudio("serve", "--help").returncode == 0
    bad_port = mockstudio("serve", "--port", "99999")
    assert bad_port.returncode == 2
    assert "cannot start" in bad_port.stderr


def test_the_commands_do_not_import_a_web_framework() -> None:
    code = (
        "import sys, mockstudio.cli, mockstudio.runflow; "
        "print(any(m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_the_collector_is_off_only_while_the_server_loads() -> None:
    # `python -m mockstudio` turns the cyclic collector off for startup (__main__.py); the
    # server turns it back on once loaded, with what was loaded frozen; the other commands at once.
    validate = (
        "import gc, sys; from mockstudio.__main__ import run; "
        f"sys.argv = ['mockstudio', 'validate', {str(DEMO)!r}]; code = run(); print(gc.isenabled(), code)"
    )
    done = subprocess.run([sys.executable, "-c", validate], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.split()[-2:] == ["True", "0"], done.stderr
    serve = (
        "import gc, os, sys, threading, time, urllib.request\n"
        "from mockstudio.__main__ import run\n"
        "port = sys.argv[1]\n"
        "def watch():\n"
        "    for _ in range(600):\n"
        "        try:\n"
        "            urllib.request.urlopen(f'http://127.0.0.1:{port}/_mockstudio/health', timeout=1)\n"
        "        except OSError:\n"
        "            time.sleep(0.05)\n"
        "            continue\n"
        "        print('collector', gc.isenabled(), gc.get_freeze_count() > 0, flush=True)\n"
        "        os._exit(0)\n"
        "    os._exit(1)\n"
        "threading.Thread(target=watch, daemon=True).start()\n"
        "sys.argv = ['mockstudio', '--port', port]\n"
        "run()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", serve, str(free_port())], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert "collector True True" in done.stdout, done.stdout + done.stderr


# -- run (subprocess) --------------------------------------------------------------------------

DEMO_ARGS = ("--to", TO, "--from", FROM, "--param", "name=Zeke", "--param", "date=Monday", "--param", "time=10:00")


def test_run_demo_with_a_reply() -> None:
    done = mockstudio("run", DEMO, *DEMO_ARGS, "--reply", "C")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    path = out.split("Path:\n")[1].split("\n\n")[0].splitlines()
    assert [" ".join(line.split()) for line in path] == [
        "incomingRequest Trigger -> remember_time",
        "next remember_time -> ask",
        "incomingMessage ask -> route_reply",
        "match route_reply -> confirmed",
        "sent confirmed -> Ended",
    ]
    messages = out.split("Messages:\n")[1].split("\n\n")[0].splitlines()
    assert messages == [
        f"  outbound  {FROM} -> {TO}: Hi Zeke, your appointment is on Monday at 10:00. "
        "Reply C to confirm or X to cancel.",
        f"  inbound   {TO} -> {FROM}: C",
        f"  outbound  {FROM} -> {TO}: Confirmed. See you on Monday at 10:00.",
    ]
    context = json.loads(out.split("Context:\n")[1].split("\n\nStatus:")[0])
    assert context["flow"]["data"] == {"name": "Zeke", "date": "Monday", "time": "10:00"}
    assert context["flow"]["variables"] == {"when": "Monday at 10:00", "attempts": 1}
    assert context["widgets"]["ask"]["inbound"]["Body"] == "C"
    assert out.rstrip().endswith("Status: ended")


def test_run_demo_times_out_without_a_reply() -> None:
    done = mockstudio("run", DEMO, *DEMO_ARGS)
    assert done.returncode == 0, done.stderr
    assert "timeout          ask -> no_answer   (+1d)" in done.stdout
    assert f"outbound  {FROM} -> {TO}: We did not hear back; we will call you to confirm.   (+1d)" in done.stdout
    assert done.stdout.rstrip().endswith("Status: ended")


def test_run_left_waiting_exits_3() -> None:
    done = mockstudio("run", DEMO, *DEMO_ARGS, "--advance", "1h", "--advance", "2h")
    assert done.returncode == 3, done.stderr
    assert (
        "Status: active, waiting on ask (send-and-wait-for-reply) for incomingMessage, timeout, deliveryFailure; "
        "its timeout fires in 21h"
    ) in done.stdout


def test_run_json_output() -> None:
    done = mockstudio("run", DEMO, *DEMO_ARGS, "--reply", "x", "--reply", "unused", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert {"steps", "messages", "context", "status"} <= set(document)
    assert document["status"] == "ended"
    assert document["flow_sid"] == RUN_FLOW_SID
    assert [(s["event"], s["from"], s["to"]) for s in document["steps"]][-2:] == [
        ("match", "route_reply", "cancelled"),
        ("sent", "cancelled", "Ended"),
    ]
    assert [(m["direction"], m["body"]) for m in document["messages"]][1:] == [
        ("inbound", "x"),
        ("outbound", "Your appointment has been cancelled."),
    ]
    assert document["context"]["widgets"]["ask"]["inbound"]["Body"] == "x"
    assert document["waiting"] is None
    assert document["notes"] == ["unused --reply: 'unused'"]


def test_run_invalid_or_unreadable_flow_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", BROKEN)
    done = mockstudio("run", path, "--to", TO, "--from", FROM)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{path}: #/states/0/transitions/1/next: transition to 'x', which is not a widget of this flow"
    ]
    missing = mockstudio("run", tmp_path / "missing.json", "--to", TO, "--from", FROM)
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr


def test_run_gather_with_an_event(tmp_path: Path) -> None:
    path = write(tmp_path, "gather.json", GATHER)
    done = mockstudio("run", path, "--to", TO, "--from", FROM, "--event", 'menu=keypress:{"Digits": "7"}')
    assert done.returncode == 0, done.stderr
    assert f"outbound  {FROM} -> {TO}: You pressed 7" in done.stdout


@pytest.mark.skipif(not real_flows("rest-api"), reason="the real flows in ../shared/reference/flows are absent")
@pytest.mark.parametrize(
    "path", real_flows("rest-api"), ids=lambda p: p.name.split("__")[0] + "__" + p.name.split("__")[1]
)
def test_real_rest_flows_run_offline(path: Path) -> None:
    done = mockstudio("run", path, "--to", TO, "--from", FROM, "--http", "off", "--param", "name=Zeke")
    assert done.returncode in (0, 3), done.stderr
    path_lines = done.stdout.split("Path:\n")[1].split("\n\n")[0].splitlines()
    assert path_lines and "incomingRequest" in path_lines[0] and " -> " in path_lines[0]
    assert done.stderr == ""


# -- the driving function, in-process ----------------------------------------------------------


def run(definition: dict[str, Any], **kwargs: Any) -> Any:
    kwargs.setdefault("http_mode", "off")
    return run_flow(FlowBundle.from_definition(definition), to=TO, from_=FROM, start=START, **kwargs)


def test_replies_are_delivered_in_order() -> None:
    result = run(SURVEY, replies=["yes", "no"])
    assert result.ended and result.status == "ended"
    assert path_of(result) == [
        ("incomingRequest", "Trigger", "q1"),
        ("incomingMessage", "q1", "q2"),
        ("incomingMessage", "q2", "thanks"),
        ("sent", "thanks", "Ended"),
    ]
    assert [(m.direction, m.body) for m in result.messages] == [
        ("outbound", "First?"),
        ("inbound", "yes"),
        ("outbound", "You said yes. Second?"),
        ("inbound", "no"),
        ("outbound", "Thanks: yes/no"),
    ]
    assert all(step.elapsed == 0 for step in result.steps)


def test_a_wait_without_a_reply_times_out_on_the_clock() -> None:
    result = run(SURVEY, replies=["yes"])
    assert path_of(result)[-2:] == [("timeout", "q2", "silent"), ("sent", "silent", "Ended")]
    assert result.steps[-1].elapsed == 3600
    assert "inbound" not in result.context["widgets"]["q2"]


def test_advances_are_used_in_order_and_then_it_stops() -> None:
    result = run(SURVEY, advances=[300, 300, 100])
    assert path_of(result) == [
        ("incomingRequest", "Trigger", "q1"),
        ("timeout", "q1", "silent"),
        ("sent", "silent", "Ended"),
    ]
    assert result.steps[1].elapsed == 600
    assert result.notes == ["unused --advance: 1m40s"]
    waiting = run(SURVEY, advances=[60])
    assert not waiting.ended and waiting.status == "active"
    assert waiting.waiting is not None
    assert (waiting.waiting.widget, waiting.waiting.timeout_event, waiting.waiting.due_in) == ("q1", "timeout", 540)


def test_parameters_reach_flow_data() -> None:
    result = run(GREETING, parameters={"name": "Zeke", "n": 1})
    assert result.context["flow"]["data"] == {"name": "Zeke", "n": 1}
    assert result.context["trigger"]["request"]["parameters"] == {"name": "Zeke", "n": 1}
    assert [m.body for m in result.messages] == ["Hello Zeke"]


def test_cli_param_values_are_json_when_they_parse(tmp_path: Path) -> None:
    path = write(tmp_path, "greeting.json", GREETING)
    done = mockstudio(
        "run", path, "--to", TO, "--from", FROM, "--json",
        "--parameters", '{"name": "Ann", "keep": true}',
        "--param", "name=Zeke", "--param", "n=1", "--param", 'obj={"a": [1]}', "--param", "t=10:00",
        "--param", "e=", "--param", "nan=NaN",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["context"]["flow"]["data"]
    assert data == {"name": "Zeke", "keep": True, "n": 1, "obj": {"a": [1]}, "t": "10:00", "e": "", "nan": "NaN"}


def test_simulated_widget_waits_then_times_out_or_takes_an_event() -> None:
    silent = run(GATHER)
    assert path_of(silent)[1:] == [("timeout", "menu", "nothing"), ("sent", "nothing", "Ended")]
    assert silent.steps[1].elapsed == 5
    pressed = run(GATHER, events=[WidgetEvent("menu", "keypress", {"Digits": "3"})])
    assert path_of(pressed)[1] == ("keypress", "menu", "pressed")
    assert pressed.context["widgets"]["menu"]["Digits"] == "3"


def test_bad_events_are_refused_before_running() -> None:
    with pytest.raises(RunError, match="never waits"):
        run(GREETING, events=[WidgetEvent("hello", "sent")])
    with pytest.raises(RunError, match="takes keypress, speech, timeout"):
        run(GATHER, events=[WidgetEvent("menu", "answered")])


def test_an_execution_that_ends_at_once() -> None:
    result = run(flow(trigger(None)))
    assert result.ended
    assert path_of(result) == [("incomingRequest", "Trigger", "Ended")]
    assert result.messages == []


def test_fixture_document_runs_a_chosen_flow_with_its_subflow(tmp_path: Path) -> None:
    child_sid, parent_sid = "FW" + "c" * 32, "FW" + "a" * 32
    child = flow(
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingParent", "next": "ask_child"}],
            "properties": {},
        },
        ask("ask_child", "Child asks {{trigger.parent.parameters.who}}", "keep", None),
        {
            "name": "keep",
            "type": "set-variables",
            "transitions": [{"event": "next"}],
            "properties": {"variables": [{"key": "answer", "value": "{{widgets.ask_child.inbound.Body}}"}]},
        },
    )
    parent = flow(
        trigger("sub"),
        {
            "name": "sub",
            "type": "run-subflow",
            "transitions": [{"event": "completed", "next": "done"}, {"event": "failed"}],
            "properties": {"flow_sid": child_sid, "parameters": [{"key": "who", "value": "{{flow.data.name}}"}]},
        },
        send("done", "Child said {{widgets.sub.answer}}"),
    )
    path = write(
        tmp_path,
        "fixture.json",
        {
            "flows": [
                {"sid": parent_sid, "friendly_name": "parent", "definition": parent},
                {"sid": child_sid, "friendly_name": "child", "definition": child},
            ]
        },
    )
    with pytest.raises(FlowFileError, match="choose one with --flow"):
        load_flow_file(path)
    bundle = load_flow_file(path, "parent")
    assert bundle.flow_sid == parent_sid
    result = run_flow(bundle, to=TO, from_=FROM, parameters={"name": "Zeke"}, replies=["42"], http_mode="off")
    assert result.ended
    assert [m.body for m in result.messages] == ["Child asks Zeke", "42", "Child said 42"]
    child_steps = [s for s in result.steps if s.flow_sid == child_sid]
    assert [(s.event, s.from_, s.to) for s in child_steps] == [
        ("incomingParent", "Trigger", "ask_child"),
        ("incomingMessage", "ask_child", "keep"),
        ("next", "keep", "Ended"),
    ]
    assert path_of(result)[-2:] == [("completed", "sub", "done"), ("sent", "done", "Ended")]
    with pytest.raises(FlowFileError, match="no single flow is 'nobody'"):
        load_flow_file(path, "nobody")
    with pytest.raises(FlowFileError, match="--flow only applies to fixture files"):
        load_flow_file(write(tmp_path, "bare.json", GREETING), "parent")


def test_validate_file_in_process(tmp_path: Path) -> None:
    report = validate_file(write(tmp_path, "greeting.json", GREETING))
    assert report.valid and report.flows == 1
    report = validate_file(write(tmp_path, "broken.json", BROKEN))
    assert not report.valid
    assert [(p.pointer, p.message) for p in report.problems] == [
        ("#/states/0/transitions/1/next", "transition to 'x', which is not a widget of this flow")
    ]


def test_durations_read_naturally() -> None:
    assert [_duration(s) for s in (0, 5, 90, 3600, 85800, 86400, 90061)] == [
        "0s",
        "5s",
        "1m30s",
        "1h",
        "23h50m",
        "1d",
        "1d1h1m1s",
    ]


# -- triggers other than REST ------------------------------------------------------------------


def inbound_trigger(**wired: str) -> dict[str, Any]:
    """A trigger listing every event as an export does; `message=`, `call=`, ... wire them."""
    events = {"message": "incomingMessage", "call": "incomingCall", "conversation": "incomingConversationMessage"}
    transitions = [{"event": event, **({"next": wired[k]} if k in wired else {})} for k, event in events.items()]
    transitions += [{"event": "incomingRequest", **({"next": wired["rest"]} if "rest" in wired else {})}]
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": {}}


def gather(name: str, pressed: str, spoken: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "gather-input-on-call",
        "transitions": [
            {"event": "keypress", "next": pressed},
            {"event": "speech", "next": spoken},
            {"event": "timeout"},
        ],
        "properties": {"timeout": 5, "say": "Press 1 or say billing"},
    }


# An SMS bot: echoes the first message, asks once more.
SMS_BOT = flow(
    inbound_trigger(message="echo", conversation="echo"),
    send("echo", "You said {{trigger.message.Body}}{{trigger.conversation.Body}}", "ask"),
    ask("ask", "Anything else?", "bye", None),
    send("bye", "Got {{widgets.ask.inbound.Body}} in {{widgets.ask.inbound.ConversationSid}}"),
)
# An IVR: two menus, one answered by keys, the next by speech.
IVR = flow(
    inbound_trigger(call="menu"),
    gather("menu", "second", "second"),
    gather("second", "keys", "spoken"),
    send("keys", "keys {{widgets.menu.Digits}} then {{widgets.second.Digits}}"),
    send("spoken", "keys {{widgets.menu.Digits}} then said {{widgets.second.SpeechResult}}"),
)


def test_the_default_trigger_is_rest_when_wired_else_the_first_wired_event() -> None:
    assert choose_trigger(FlowBundle.from_definition(GREETING)).name == "rest"
    sms = choose_trigger(FlowBundle.from_definition(SMS_BOT))
    assert (sms.name, sms.event, sms.leads_to, sms.wired) == (
        "message",
        "incomingMessage",
        "echo",
        ("message", "conversation"),
    )
    assert "REST trigger leads nowhere" in sms.reason
    both = flow(inbound_trigger(call="hello", rest="hello"), send("hello", "hi"))
    assert choose_trigger(FlowBundle.from_definition(both)).name == "rest"
    chosen = choose_trigger(FlowBundle.from_definition(both), "call")
    assert (chosen.name, chosen.reason) == ("call", "chosen with --trigger")
    nothing = choose_trigger(FlowBundle.from_definition(flow(inbound_trigger())))
    assert (nothing.name, nothing.leads_to, nothing.wired) == ("rest", None, ())


def test_a_message_starts_the_flow_and_replies_follow() -> None:
    result = run(SMS_BOT, body="hello", replies=["no"])
    assert result.trigger is not None and result.trigger.event == "incomingMessage"
    assert path_of(result)[0] == ("incomingMessage", "Trigger", "echo")
    assert [(m.direction, m.from_, m.to, m.body) for m in result.messages] == [
        ("inbound", TO, FROM, "hello"),
        ("outbound", FROM, TO, "You said hello"),
        ("outbound", FROM, TO, "Anything else?"),
        ("inbound", TO, FROM, "no"),
        ("outbound", FROM, TO, "Got no in "),
    ]
    assert result.context["trigger"]["message"]["Body"] == "hello"
    assert result.ended and result.notes == []


def test_a_conversation_keeps_its_sid_through_the_replies() -> None:
    result = run(SMS_BOT, trigger="conversation", body="hello", replies=["no"])
    conversation = result.context["trigger"]["conversation"]["ConversationSid"]
    assert conversation.startswith("CH")
    assert result.messages[-1].body == f"Got no in {conversation}"


def test_presses_and_speech_answer_the_gathers_in_order() -> None:
    pressed = run(IVR, voice=[VoiceInput("keypress", "1"), VoiceInput("keypress", "42")])
    assert pressed.trigger is not None and pressed.trigger.name == "call"
    assert [m.body for m in pressed.messages] == ["keys 1 then 42"]
    spoken = run(IVR, voice=[VoiceInput("keypress", "1"), VoiceInput("speech", "billing")])
    assert [m.body for m in spoken.messages] == ["keys 1 then said billing"]
    assert path_of(spoken)[2] == ("speech", "second", "spoken")
    # Nothing pressed: the gather times out; an input nobody asked for is reported.
    extra = run(SMS_BOT, body="hi", replies=["no"], voice=[VoiceInput("keypress", "9")])
    assert extra.notes == ["unused: --press 9"]


def test_a_trigger_that_leads_nowhere_is_said_plainly() -> None:
    result = run(SMS_BOT, trigger="rest", parameters={"x": 1})
    assert path_of(result) == [("incomingRequest", "Trigger", "Ended")]
    assert result.notes == [
        "the trigger's incomingRequest leads to no widget, so the execution ends at once; "
        "wired: --trigger message, --trigger conversation"
    ]
    params = run(SMS_BOT, body="x", parameters={"x": 1}, replies=["y"])
    assert "--param/--parameters are the REST trigger's flow.data: not used by this trigger" in params.notes


def test_cli_runs_an_ivr_from_a_call_with_default_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "ivr.json", IVR)
    done = mockstudio("run", path, "--press", "1", "--say", "billing")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Flow {RUN_FLOW_SID} (a bare definition")
    assert lines[1] == "Trigger: incomingCall (--trigger call, the first trigger event wired to a widget; " \
        "the REST trigger leads nowhere)"  # fmt: skip
    assert f"outbound  {FROM} -> {TO}: keys 1 then said billing" in done.stdout
    bad = mockstudio("run", path, "--press", "1x")
    assert bad.returncode == 2 and "expected keys 0-9, * and #" in bad.stderr


def test_cli_message_trigger_and_a_trigger_leading_nowhere(tmp_path: Path) -> None:
    path = write(tmp_path, "bot.json", SMS_BOT)
    done = mockstudio("run", path, "--body", "hello", "--reply", "no", "--to", "+15550001111")
    assert done.returncode == 0, done.stderr
    assert "inbound   +15550001111 -> +15017122661: hello" in done.stdout
    nowhere = mockstudio("run", path, "--trigger", "rest")
    assert nowhere.returncode == 0, nowhere.stderr
    assert "Note: the trigger's incomingRequest leads to no widget" in nowhere.stdout


def test_cli_names_a_fixture_flow_by_its_sid_and_name() -> None:
    done = mockstudio(
        "run", "fixtures/example.json", "--flow", "Appointment reminder", "--param", "name=Zeke", "--reply", "C"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Flow FW10000000000000000000000000000001 (Appointment reminder), execution FN")
    report = json.loads(mockstudio("run", "fixtures/example.json", "--flow", "Appointment reminder", "--json").stdout)
    assert (report["flow_sid"], report["flow_name"], report["trigger"]) == (
        "FW10000000000000000000000000000001",
        "Appointment reminder",
        "incomingRequest",
    )


def test_the_cli_agrees_with_runflow() -> None:
    from mockstudio import cli

    assert tuple(TRIGGERS) == cli._TRIGGERS
    assert (cli._CONTACT, cli._FLOW_ADDRESS) == (DEFAULT_CONTACT, DEFAULT_FLOW_ADDRESS)


@pytest.mark.skipif(not real_flows(), reason="the real flows in ../shared/reference/flows are absent")
@pytest.mark.parametrize("path", real_flows(), ids=lambda p: p.name.split("__")[0])
def test_real_flows_start_where_they_are_wired(path: Path) -> None:
    # Most real flows start from a message, call or conversation: by default they run.
    done = mockstudio("run", path, "--http", "off", "--body", "hi", "--press", "1")
    assert done.returncode in (0, 3), done.stderr
    first = done.stdout.split("Path:\n")[1].splitlines()[0]
    if path.name.startswith("subflow-child"):  # only incomingParent: nothing to start it from here
        assert first.endswith("Trigger -> Ended") and "no trigger event is wired" in done.stdout
    else:
        assert not first.endswith("-> Ended"), done.stdout


@pytest.mark.parametrize(
    ("args", "last_step"),
    [
        (["--trigger", "call", "--press", "1"], "sent             pay_link -> Ended"),
        (["--trigger", "call", "--say", "support"], "callComplete     to_agent -> Ended"),
        (["--body", "hi", "--reply", "billing"], "sent             pay_link -> Ended"),
    ],
)
def test_the_support_line_fixture_runs_as_the_readme_shows(args: list[str], last_step: str) -> None:
    done = mockstudio("run", "fixtures/definitions/support-line.json", *args)
    assert done.returncode == 0, done.stderr
    path = done.stdout.split("Path:\n")[1].split("\n\n")[0].splitlines()
    assert path[-1].split() == last_step.split()
