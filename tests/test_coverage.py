"""Flow coverage on a live server (coverage on), driven as users drive it: flows created and
executions started through the REST API, contacts' replies as inbound messages, timeouts by
moving the clock; read through `GET /_mockstudio/coverage` and the test handle's record; the
static HTML report checked for escaping and self-containment (and in a real browser when
chromium is installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockstudio.clock import ManualClock
from mockstudio.coverage import build_report, coverage_html, summary_lines
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, ROOT, TEST_FIXTURES, TEST_FLOW
from .engine.support import condition, say, settle, split, widget
from .helpers import assert_twilio_error

START = 1_700_000_000
NUMBER = "+15005550100"

SURVEY = {
    "description": "yes or no",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        widget(
            "Trigger",
            "trigger",
            {"incomingMessage": "ask", "incomingCall": None, "incomingRequest": "ask", "incomingParent": None},
        ),
        widget(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": "route", "timeout": None, "deliveryFailure": None},
            body="Yes or no?",
            timeout="3600",
        ),
        split(
            "route",
            "{{widgets.ask.inbound.Body}}",
            [
                ("yes_reply", [condition("equal_to", "yes", "{{widgets.ask.inbound.Body}}")]),
                ("no_reply", [condition("equal_to", "no", "{{widgets.ask.inbound.Body}}")]),
            ],
            no_match="sorry",
        ),
        say("yes_reply", "Great"),
        say("no_reply", "Pity"),
        say("sorry", "Sorry?"),
    ],
}
ALL_TRANSITIONS = [
    "Trigger.incomingMessage",
    "Trigger.incomingRequest",
    "ask.incomingMessage",
    "ask.timeout",
    "ask.deliveryFailure",
    "route.noMatch",
    "route.match->yes_reply",
    "route.match->no_reply",
    "yes_reply.sent",
    "yes_reply.failed",
    "no_reply.sent",
    "no_reply.failed",
    "sorry.sent",
    "sorry.failed",
]


@pytest.fixture(scope="module")
def covered() -> Iterator[MockStudioServer]:
    settings = Settings(fixtures=TEST_FIXTURES, coverage=True)
    with MockStudioServer(settings, clock=ManualClock(START)) as server:
        yield server


@pytest.fixture
def mock(covered: MockStudioServer) -> MockStudioServer:
    covered.reset()
    return covered


@pytest.fixture
def api(mock: MockStudioServer) -> Iterator[httpx.Client]:
    with mock.httpx_client(in_process=False) as client:
        yield client


def create_flow(api: httpx.Client, definition: dict[str, Any], name: str = "Survey") -> str:
    response = api.post(
        "/v2/Flows", data={"FriendlyName": name, "Status": "published", "Definition": json.dumps(definition)}
    )
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    return sid


def start(api: httpx.Client, flow_sid: str, contact: str) -> str:
    response = api.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": contact, "From": NUMBER})
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    settle(api, sid)
    return sid


def reply(api: httpx.Client, contact: str, body: str) -> dict[str, Any]:
    response = api.post("/_mockstudio/messages", data={"From": contact, "To": NUMBER, "Body": body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    settle(api, result["execution_sid"])
    return result


def coverage(api: httpx.Client, **params: str) -> dict[str, Any]:
    response = api.get("/_mockstudio/coverage", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def flow_entry(body: dict[str, Any], flow_sid: str) -> dict[str, Any]:
    found = [flow for flow in body["flows"] if flow["flow_sid"] == flow_sid]
    assert len(found) == 1, body
    return found[0]


def taken(flow: dict[str, Any]) -> dict[str, int]:
    return {t["label"]: t["taken"] for t in flow["transitions"]}


def entered(flow: dict[str, Any]) -> dict[str, int]:
    return {w["name"]: w["entered"] for w in flow["widgets"]}


def run_survey(api: httpx.Client) -> str:
    """Three executions: REST + "yes", an inbound message + "maybe", REST + a timeout."""
    flow = create_flow(api, SURVEY)
    api.post("/_mockstudio/numbers", data={"Number": NUMBER, "FlowSid": flow}).raise_for_status()
    start(api, flow, "+15550001001")
    assert reply(api, "+15550001001", "yes")["action"] == "resumed"
    started = reply(api, "+15550001002", "hello")  # no execution waits: the message starts one
    assert started["action"] == "started"
    assert reply(api, "+15550001002", "maybe")["action"] == "resumed"
    start(api, flow, "+15550001003")
    api.post("/_mockstudio/clock", data={"advance": "3601"}).raise_for_status()
    return flow


def test_counts_widgets_entered_and_transitions_taken(api: httpx.Client) -> None:
    flow_sid = run_survey(api)
    flow = flow_entry(coverage(api), flow_sid)
    assert flow["friendly_name"] == "Survey"
    assert flow["executions"] == 3
    assert entered(flow) == {"Trigger": 3, "ask": 3, "route": 2, "yes_reply": 1, "no_reply": 0, "sorry": 1}
    # Every transition of the definition, in its order; the trigger's unwired events are not
    # counted; the two `match` transitions of the split are told apart by where they lead.
    assert list(taken(flow)) == ALL_TRANSITIONS
    assert {label: count for label, count in taken(flow).items() if count} == {
        "Trigger.incomingMessage": 1,
        "Trigger.incomingRequest": 2,
        "ask.incomingMessage": 2,
        "ask.timeout": 1,
        "route.noMatch": 1,
        "route.match->yes_reply": 1,
        "yes_reply.sent": 1,
        "sorry.sent": 1,
    }
    assert flow["never_taken"] == [
        "ask.deliveryFailure",
        "route.match->no_reply",
        "yes_reply.failed",
        "no_reply.sent",
        "no_reply.failed",
        "sorry.failed",
    ]
    assert flow["summary"] == {
        "widgets_entered": 5,
        "widgets_total": 6,
        "widget_percent": 83.33,
        "transitions_taken": 8,
        "transitions_total": 14,
        "transition_percent": 57.14,
    }
    by_label = {t["label"]: t for t in flow["transitions"]}
    assert by_label["ask.timeout"] == {
        "widget": "ask",
        "event": "timeout",
        "next": None,
        "label": "ask.timeout",
        "taken": 1,
    }
    assert by_label["route.match->no_reply"]["next"] == "no_reply"
    assert {w["name"]: w["type"] for w in flow["widgets"]}["route"] == "split-based-on"


def test_the_endpoint_lists_every_flow_and_filters(api: httpx.Client, mock: MockStudioServer) -> None:
    body = coverage(api)
    assert set(body) == {"summary", "flows"}
    listed = {(f["account_sid"], f["flow_sid"]) for f in body["flows"]}
    # The fixtures' flows (both accounts) and the bundled demo flow, not yet run.
    assert listed == {
        (mock.account_sid, DEMO_FLOW),
        (mock.account_sid, TEST_FLOW),
        (OTHER_ACCOUNT, OTHER_FLOW),
    }
    for flow in body["flows"]:
        assert set(flow) == {
            "account_sid",
            "flow_sid",
            "friendly_name",
            "revision",
            "executions",
            "summary",
            "widgets",
            "transitions",
            "never_taken",
        }
        assert flow["executions"] == 0 and flow["summary"]["transitions_taken"] == 0
    totals = body["summary"]
    assert totals["transitions_total"] == sum(f["summary"]["transitions_total"] for f in body["flows"])
    assert [f["flow_sid"] for f in coverage(api, account_sid=OTHER_ACCOUNT)["flows"]] == [OTHER_FLOW]
    assert [f["flow_sid"] for f in coverage(api, flow_sid=DEMO_FLOW)["flows"]] == [DEMO_FLOW]
    assert coverage(api, flow_sid="FW" + "9" * 32) == {
        "summary": {
            "widgets_entered": 0,
            "widgets_total": 0,
            "widget_percent": 100.0,
            "transitions_taken": 0,
            "transitions_total": 0,
            "transition_percent": 100.0,
        },
        "flows": [],
    }


def test_the_demo_flow_through_the_twilio_sdk(mock: MockStudioServer, api: httpx.Client) -> None:
    client = mock.client()
    execution = client.studio.v2.flows(DEMO_FLOW).executions.create(to="+15550002001", from_="+15005550006")
    mock.wait_until_settled(execution.sid)
    mock.send_message(from_="+15550002001", to="+15005550006", body="yes")
    flow = flow_entry(coverage(api, flow_sid=DEMO_FLOW), DEMO_FLOW)
    assert flow["never_taken"] == ["greet.timeout", "greet.deliveryFailure", "check_reply.noMatch", "confirm.failed"]
    assert (flow["summary"]["widgets_entered"], flow["summary"]["transitions_taken"]) == (4, 4)
    assert flow["summary"]["transitions_total"] == 8


def test_a_reset_clears_the_endpoint_not_the_whole_run(api: httpx.Client, mock: MockStudioServer) -> None:
    flow_sid = run_survey(api)
    before = flow_entry(coverage(api), flow_sid)
    assert api.post("/_mockstudio/reset").status_code == 200
    after = coverage(api)
    assert flow_sid not in {f["flow_sid"] for f in after["flows"]}  # the test's flow is gone with the reset
    assert all(f["executions"] == 0 for f in after["flows"])
    assert after["summary"]["transitions_taken"] == 0
    # The run's record (what the pytest plugin reports) keeps it, and adds what follows.
    whole = build_report(mock.coverage_record(whole_run=True))
    survey = next(f for f in whole.flows if f.flow_sid == flow_sid)
    assert {t.label: t.taken for t in survey.transitions} == taken(before)

    def demo_runs() -> int:  # over the module's server's life (earlier tests' runs included)
        return next(
            f for f in build_report(mock.coverage_record(whole_run=True)).flows if f.flow_sid == DEMO_FLOW
        ).executions

    earlier = demo_runs()
    start(api, DEMO_FLOW, "+15550003001")
    assert api.post("/_mockstudio/reset").status_code == 200
    start(api, DEMO_FLOW, "+15550003001")
    assert demo_runs() == earlier + 2
    assert next(f for f in build_report(mock.coverage_record()).flows if f.flow_sid == DEMO_FLOW).executions == 1


def test_one_account_reset_keeps_the_others(api: httpx.Client, mock: MockStudioServer) -> None:
    start(api, DEMO_FLOW, "+15550004001")
    with httpx.Client(base_url=mock.base_url, auth=(OTHER_ACCOUNT, "othertoken")) as other:
        response = other.post(f"/v2/Flows/{OTHER_FLOW}/Executions", data={"To": "+15550004002", "From": NUMBER})
        assert response.status_code == 201
        settle(other, response.json()["sid"])
    assert api.post("/_mockstudio/reset", params={"account_sid": OTHER_ACCOUNT}).status_code == 200
    body = coverage(api)
    assert flow_entry(body, DEMO_FLOW)["executions"] == 1
    assert flow_entry(body, OTHER_FLOW)["executions"] == 0


def test_counted_against_the_latest_definition(api: httpx.Client, mock: MockStudioServer) -> None:
    flow_sid = run_survey(api)
    # A new revision without the `no` branch and with a new widget.
    states = [s for s in SURVEY["states"] if s["name"] != "no_reply"]  # type: ignore[attr-defined]
    route = next(s for s in states if s["name"] == "route")
    route = {**route, "transitions": [t for t in route["transitions"] if t.get("next") != "no_reply"]}
    states = [route if s["name"] == "route" else s for s in states]
    states.append(say("extra", "New"))
    response = api.post(
        f"/v2/Flows/{flow_sid}",
        data={"Status": "published", "Definition": json.dumps({**SURVEY, "states": states}), "FriendlyName": "v2"},
    )
    assert response.status_code == 200, response.text
    flow = flow_entry(coverage(api), flow_sid)
    assert flow["friendly_name"] == "v2" and flow["revision"] == 2
    assert "no_reply" not in entered(flow) and entered(flow)["extra"] == 0
    assert "route.match->no_reply" not in taken(flow)
    assert taken(flow)["route.match"] == 1  # one `match` left: no longer qualified by its target
    assert (flow["summary"]["widgets_total"], flow["summary"]["transitions_total"]) == (6, 13)


def test_a_deleted_flow_leaves_the_endpoint_not_the_run(api: httpx.Client, mock: MockStudioServer) -> None:
    flow_sid = run_survey(api)
    assert api.delete(f"/v2/Flows/{flow_sid}").status_code == 204
    assert flow_sid not in {f["flow_sid"] for f in coverage(api)["flows"]}
    survey = next(f for f in build_report(mock.coverage_record(whole_run=True)).flows if f.flow_sid == flow_sid)
    assert survey.executions == 3 and survey.transitions_taken == 8


def test_off_by_default(http: httpx.Client, live: MockStudioServer) -> None:
    assert_twilio_error(
        http.get("/_mockstudio/coverage"),
        404,
        20404,
        "Flow coverage is not recorded by this server: start it with --coverage (MOCKSTUDIO_COVERAGE=true)",
    )
    with pytest.raises(RuntimeError, match="coverage is off"):
        live.coverage_record()
    assert live.studio.changes.subscribers == []  # nothing subscribed: no cost


def test_summary_lines(api: httpx.Client, mock: MockStudioServer) -> None:
    flow_sid = run_survey(api)
    record = mock.coverage_record()
    record.flows = {key: shape for key, shape in record.flows.items() if key[1] == flow_sid}
    assert summary_lines(build_report(record)) == [
        "Survey   5/6 widgets   8/14 transitions   57%   never taken: ask.deliveryFailure, "
        "route.match->no_reply, yes_reply.failed, no_reply.sent, no_reply.failed, sorry.failed",
        "TOTAL    5/6 widgets   8/14 transitions   57%",
    ]


# -- the static HTML report -----------------------------------------------------------------

HOSTILE = "<img src=x onerror=alert(1)>"


def test_html_escapes_and_fetches_nothing(api: httpx.Client, mock: MockStudioServer, tmp_path: Path) -> None:
    flow_sid = create_flow(api, SURVEY, name=HOSTILE)
    start(api, flow_sid, "+15550005001")
    page = coverage_html(build_report(mock.coverage_record()), title=f"run {HOSTILE}")
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # Self-contained: no external stylesheet, script, image or font; the only URL is SVG's namespace.
    assert not re.search(r"<(link|img|iframe|object)\b|<script\s+src|@import|url\((?!#)", page)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    # One SVG canvas per flow; the survey's transitions drawn solid (taken) or dashed (never).
    assert page.count("<svg") == len(build_report(mock.coverage_record()).flows)
    survey_svg = page[page.index(f"{flow_sid}") :]
    survey_svg = survey_svg[survey_svg.index("<svg") : survey_svg.index("</svg>")]
    assert survey_svg.count('class="transition taken"') == 1  # Trigger.incomingRequest, then it waits
    assert survey_svg.count('class="transition never-taken"') == 13
    assert survey_svg.count('class="widget entered"') == 2 and survey_svg.count('class="widget never-entered"') == 4
    path = tmp_path / "coverage.html"
    path.write_text(page, encoding="utf-8")
    dom = _browser_dom(path)
    if dom is not None:  # chromium rendered it from file://: the name is text, not an element
        assert "<img" not in dom and "&lt;img src=x onerror=alert(1)&gt;" in dom
        assert dom.count("<svg") == page.count("<svg")


def test_html_layout_without_offsets(mock: MockStudioServer, api: httpx.Client) -> None:
    states = [{k: v for k, v in s.items() if k != "properties"} | {"properties": {}} for s in SURVEY["states"]]  # type: ignore[attr-defined]
    for state in states:
        original = next(s for s in SURVEY["states"] if s["name"] == state["name"])  # type: ignore[attr-defined]
        state["properties"] = {k: v for k, v in original["properties"].items() if k != "offset"}
    flow_sid = create_flow(api, {**SURVEY, "states": states}, name="No offsets")
    record = mock.coverage_record()
    record.flows = {key: shape for key, shape in record.flows.items() if key[1] == flow_sid}
    page = coverage_html(build_report(record))
    rects = re.findall(r'<rect x="(-?\d+)" y="(-?\d+)"', page)
    assert len(rects) == 6 and len(set(rects)) == 6  # a layered layout: no two widgets on one spot
    layers = sorted({int(y) for _, y in rects})
    assert len(layers) == 4  # Trigger; ask; route; the three replies


def _browser_dom(path: Path) -> str | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout if result.returncode == 0 and result.stdout else None


# -- the standalone server ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_standalone_server_records_with_coverage_on(tmp_path: Path, how: str) -> None:
    """`mockstudio --coverage` (or MOCKSTUDIO_COVERAGE=true): the banner says so and the
    endpoint counts a REST execution of the demo flow."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}
    command = [sys.executable, "-m", "mockstudio", "--port", str(port), "--no-access-log"]
    if how == "flag":
        command.append("--coverage")
    else:
        env["MOCKSTUDIO_COVERAGE"] = "true"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/_mockstudio/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        assert "--coverage: flow coverage at GET /_mockstudio/coverage" in log.read_text()
        with httpx.Client(base_url=base, auth=("AC" + "0" * 32, "mockstudio"), timeout=10) as client:
            created = client.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "+15550006001", "From": NUMBER})
            assert created.status_code == 201, created.text
            settle(client, created.json()["sid"])
            flow = flow_entry(coverage(client), DEMO_FLOW)
        assert flow["executions"] == 1
        assert {label for label, count in taken(flow).items() if count} == {"Trigger.incomingRequest"}
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0
