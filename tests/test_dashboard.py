"""The web dashboard in a real browser: the system's Chromium driven by Playwright, against
a live server, walking the dashboard as a person would. Every test fails on any
JavaScript error or console error it did not expect.

Screenshots go to $MOCKSTUDIO_SCREENSHOTS (docs/ holds two taken this way), else to a
temporary directory. Skipped, with the reason, when Chromium or Playwright is missing."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.sids import SeededSids
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, TEST_FIXTURES, TEST_FLOW
from .ui_flows import ivr_definition

CHROMIUM = os.environ.get("MOCKSTUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)

Page = Any  # playwright.sync_api.Page (its stubs are not part of our typed packages)
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_BODY = "</script><script>alert(1)</script>"
CONTACT = "+15555550100"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[MockStudioServer]:
    settings = Settings(fixtures=TEST_FIXTURES)
    with MockStudioServer(settings, clock=ManualClock(1_700_000_000), sid_factory=SeededSids(11)) as srv:
        yield srv


@pytest.fixture
def live(server: MockStudioServer) -> MockStudioServer:
    assert isinstance(server.clock, ManualClock)
    server.reset()
    server.clock.set(1_700_000_000)
    return server


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("MOCKSTUDIO_SCREENSHOTS")
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        return Path(configured)
    return tmp_path_factory.mktemp("screenshots")


class Console:
    """What the page reported: console errors, uncaught exceptions and dialogs (alert())."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.expected: list[str] = []  # substrings of console errors a test provokes on purpose
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(x in e for x in self.expected)]


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Page, Console]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    console = Console(opened)
    yield opened, console
    context.close()
    assert console.unexpected() == [], console.errors
    assert console.dialogs == []


def _api(server: MockStudioServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=(server.account_sid, server.auth_token), timeout=10)


def _start(server: MockStudioServer, flow_sid: str, to: str = CONTACT, **parameters: str) -> str:
    with _api(server) as api:
        fields = {"To": to, "From": "+15017122661"}
        if parameters:
            fields["Parameters"] = json.dumps(parameters)
        response = api.post(f"/v2/Flows/{flow_sid}/Executions", data=fields)
        assert response.status_code == 201, response.text
        sid: str = response.json()["sid"]
        assert api.get(f"/_mockstudio/executions/{sid}/settled").json()["settled"]
        return sid


def test_the_demo_walk(live: MockStudioServer, page: tuple[Page, Console], shots: Path) -> None:
    """Open the dashboard, open the bundled flow, start an execution, see the outbound
    bubble, reply "yes", see the path highlighted and the flow end."""
    p, console = page
    p.goto(live.base_url + "/")
    assert p.url.endswith("/_mockstudio/ui/#/flows") or p.url.endswith("/_mockstudio/ui/")
    row = p.locator(f"tr[data-sid='{DEMO_FLOW}']")
    assert row.locator("a.flow-name").inner_text() == "mockstudio demo: greet and ask"
    assert row.locator(".badge").first.inner_text() == "published"
    p.screenshot(path=str(shots / "dashboard-flows.png"))

    row.locator("a.flow-name").click()
    nodes = p.locator(".canvas .node")
    nodes.first.wait_for()
    assert nodes.count() == 4
    assert p.locator(".node[data-name='greet']").get_attribute("data-type") == "send-and-wait-for-reply"
    # At the exported offsets.
    offsets = {n.get_attribute("data-name"): n.get_attribute("transform") for n in nodes.all()}
    assert offsets == {
        f: f"translate(0,{y})" for f, y in (("Trigger", 0), ("greet", 200), ("check_reply", 400), ("confirm", 600))
    }
    labels = p.locator(".edge .label text").all_text_contents()
    assert sorted(labels) == ["incomingMessage", "incomingRequest", "match"]
    p.locator(".node[data-name='check_reply']").click()
    assert p.locator(".canvas-side .widget-name").inner_text() == "check_reply"
    assert "{{widgets.greet.inbound.Body}}" in p.locator(".canvas-side pre").inner_text()
    p.screenshot(path=str(shots / "dashboard-canvas.png"))

    # Start an execution: bad JSON is refused with a clear message, in the page.
    p.get_by_role("link", name="Start an execution").click()
    p.locator("textarea[name=Parameters]").fill('{"name": "Ada",}')
    p.get_by_role("button", name="Start execution").click()
    error = p.locator(".start-form .error")
    error.wait_for()
    assert error.inner_text().startswith("Parameters is not valid JSON")
    p.locator("textarea[name=Parameters]").fill('{"name": "Ada"}')
    p.get_by_role("button", name="Start execution").click()

    bubble = p.locator(".bubble.outbound").first
    bubble.wait_for()
    assert bubble.inner_text().startswith("Hi Ada! Would you like a callback?")
    assert p.locator(".execution-status").inner_text() == "active"
    assert p.locator(".node.current").get_attribute("data-name") == "greet"

    p.locator("input[name=reply]").fill("yes")
    p.get_by_role("button", name="Send").click()
    p.locator(".execution-status .badge.ended").wait_for()
    assert p.locator(".bubble.inbound").inner_text().startswith("yes")
    assert p.locator(".bubble.outbound").nth(1).inner_text().startswith("Thanks Ada, we will call you back.")
    # The path: every widget entered once, the three transitions taken, nothing current.
    visited = {n.get_attribute("data-name"): n.get_attribute("data-count") for n in p.locator(".node.visited").all()}
    assert visited == {"Trigger": "1", "greet": "1", "check_reply": "1", "confirm": "1"}
    taken = [e.get_attribute("data-event") for e in p.locator(".edge.taken").all()]
    assert sorted(taken) == ["incomingMessage", "incomingRequest", "match"]
    assert p.locator(".node.current").count() == 0
    steps = p.locator("tr.step")
    assert [steps.nth(i).locator(".step-event").inner_text() for i in range(steps.count())] == [
        "incomingRequest",
        "incomingMessage",
        "match",
        "sent",
    ]
    p.set_viewport_size({"width": 1440, "height": 1300})  # the whole execution page in one picture
    p.locator(".canvas-tools button", has_text="Fit").click()
    p.screenshot(path=str(shots / "dashboard-execution.png"))
    p.set_viewport_size({"width": 1440, "height": 900})
    # A step's context opens on demand, as JSON text.
    steps.nth(1).click()
    context = p.locator("tr.detail:not([hidden]) pre")
    context.wait_for()
    assert '"Body": "yes"' in context.inner_text()

    # The executions list shows it ended; the active filter hides it.
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions")
    p.locator("table.executions tbody tr[data-sid]").first.wait_for()
    assert p.locator("table.executions .badge").inner_text() == "ended"
    p.locator("select[name=status]").select_option("active")
    p.locator("table.executions td.empty").wait_for()
    assert console.unexpected() == []


def test_advancing_the_clock_fires_a_timeout(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    p, _ = page
    sid = _start(live, DEMO_FLOW, name="Bo")
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions/{sid}")
    p.locator(".node.current[data-name='greet']").wait_for()

    p.locator(".sidenav a[data-section=clock]").click()
    assert p.locator("#clock-big").inner_text() == "2023-11-14 22:13:20 UTC"
    p.get_by_role("button", name="+1 minute").click()
    p.locator(".clock-outcome", has_text="0 timeouts fired").wait_for()
    p.get_by_role("button", name="+1 hour").click()  # the greet widget waits 3600 s
    p.locator(".clock-outcome", has_text="1 timeout fired").wait_for()
    assert p.locator("#clock-big").inner_text() == "2023-11-14 23:14:20 UTC"
    assert p.locator("#clock-now").inner_text() == "2023-11-14 23:14:20 UTC"
    p.locator("input[name=set]").fill("2024-02-29T12:00:00Z")
    p.get_by_role("button", name="Set").click()
    p.locator("#clock-big", has_text="2024-02-29 12:00:00 UTC").wait_for()

    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions/{sid}")
    p.locator(".execution-status .badge.ended").wait_for()
    assert [s.inner_text() for s in p.locator("tr.step .step-event").all()] == ["incomingRequest", "timeout"]
    assert p.locator("tr.step").nth(1).locator(".step-path").inner_text() == "greet→Ended"
    assert p.locator(".node[data-name='check_reply']").get_attribute("data-count") == "0"


def test_user_strings_are_text_never_markup(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    """A flow, a widget and a parameter holding markup, and a message body closing a
    script element: all shown literally; no script runs, no element is injected."""
    p, console = page
    definition: dict[str, Any] = {
        "description": "hostile strings",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [{"next": XSS_NAME, "event": "incomingRequest"}],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": XSS_NAME,
                "type": "send-and-wait-for-reply",
                "transitions": [{"event": "incomingMessage"}, {"event": "timeout"}, {"event": "deliveryFailure"}],
                "properties": {
                    "offset": {"x": 0, "y": 200},
                    "body": XSS_BODY + " {{flow.data.html}}",
                    "timeout": "3600",
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }
    flow_sid = live.add_flow(definition, XSS_NAME)
    _start(live, flow_sid, html="<b id=injected>bold</b>")
    p.goto(live.base_url + "/_mockstudio/ui/#/flows")
    link = p.locator(f"tr[data-sid='{flow_sid}'] a.flow-name")
    assert link.inner_text() == XSS_NAME
    link.click()
    p.locator(".canvas .node").nth(1).wait_for()
    assert p.locator("h1.flow-title").inner_text() == XSS_NAME
    assert p.locator(f".node[data-name='{XSS_NAME}'] .name").text_content().startswith("<img src=x")
    p.get_by_role("link", name="Executions").click()
    p.locator("table.executions tbody a").first.click()
    bubble = p.locator(".bubble.outbound")
    bubble.wait_for()
    assert bubble.inner_text().startswith(XSS_BODY + " <b id=injected>bold</b>")
    p.locator("details.json summary", has_text="Execution context").click()
    assert "<b id=injected>bold</b>" in p.locator("details.json pre").last.inner_text()
    assert p.locator("main img, main script, #injected").count() == 0
    assert console.dialogs == []


def test_a_100_widget_ivr_stays_readable(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    """No offsets: the automatic layout places 100 widgets without overlap, Fit keeps the
    text legible, and the zoom and pan controls move the view."""
    p, _ = page
    flow_sid = live.add_flow(ivr_definition(100), "A 100-widget IVR")
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{flow_sid}")
    p.locator(".canvas .node").nth(99).wait_for(state="attached")
    assert p.locator(".canvas .node").count() == 100
    assert p.locator(".canvas .edge").count() == 99  # one into each widget but the trigger: events share arrows
    boxes = p.evaluate(
        """() => [...document.querySelectorAll('.node .box')].map(b => {
            const r = b.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""
    )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    name_height = p.evaluate("() => document.querySelector('.node .name').getBoundingClientRect().height")
    assert name_height >= 10, name_height  # 15 px text, never fitted below 0.6
    viewport = p.locator(".canvas .viewport")
    fitted = viewport.get_attribute("transform")
    p.get_by_role("button", name="Zoom in").click()
    zoomed = viewport.get_attribute("transform")
    assert zoomed != fitted
    svg_box = p.locator(".canvas svg").bounding_box()
    p.mouse.move(svg_box["x"] + 100, svg_box["y"] + 300)
    p.mouse.down()
    p.mouse.move(svg_box["x"] + 260, svg_box["y"] + 200, steps=5)
    p.mouse.up()
    assert viewport.get_attribute("transform") != zoomed
    panned = viewport.get_attribute("transform")
    p.mouse.wheel(0, -400)  # zooms in around the pointer
    p.wait_for_function(f"() => document.querySelector('.canvas .viewport').getAttribute('transform') !== {panned!r}")
    p.get_by_role("button", name="Fit").click()
    assert viewport.get_attribute("transform") == fitted
    p.locator(".node[data-name='route_main']").click()
    assert p.locator(".canvas-side dl").inner_text().count("match") == 9


def test_executions_page_and_filter(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    p, _ = page
    sids = [_start(live, DEMO_FLOW, to=f"+1555000{i:04d}") for i in range(55)]
    with _api(live) as api:
        api.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{sids[0]}", data={"Status": "ended"})
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions")
    rows = p.locator("table.executions tbody tr[data-sid]")
    rows.first.wait_for()
    assert rows.count() == 50
    assert rows.first.get_attribute("data-sid") == sids[-1]
    p.get_by_role("button", name="Older →").click()
    p.locator(f"tr[data-sid='{sids[0]}']").wait_for()
    assert rows.count() == 5
    p.get_by_role("button", name="← Newer").click()
    p.locator(f"tr[data-sid='{sids[-1]}']").wait_for()
    p.locator("input[name=contact]").fill("+15550000003")
    p.locator("input[name=contact]").press("Enter")
    p.locator(f"tr[data-sid='{sids[3]}']").wait_for()
    assert rows.count() == 1
    p.locator("input[name=contact]").fill("")
    p.locator("input[name=contact]").press("Enter")
    p.locator("select[name=status]").select_option("ended")
    p.locator(f"tr[data-sid='{sids[0]}']").wait_for()
    assert rows.count() == 1
    # End and Delete from an execution's page.
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions/{sids[5]}")
    p.get_by_role("button", name="End execution").click()
    p.locator(".execution-status .badge.ended").wait_for()
    p.get_by_role("button", name="Delete").click()
    p.get_by_role("button", name="Confirm delete").click()
    p.wait_for_url(f"**/#/flows/{DEMO_FLOW}/executions")
    with _api(live) as api:
        assert api.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{sids[5]}").status_code == 404


def test_the_executions_list_is_live(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    """An execution started through the REST API appears in the open list without Refresh,
    and its status follows it."""
    p, _ = page
    first = _start(live, DEMO_FLOW)
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions")
    p.locator(f"tr[data-sid='{first}']").wait_for()
    p.locator("#live-status[data-state=connected]").wait_for()
    assert p.locator("#live-status").inner_text() == "Live"
    reads: list[str] = []
    p.on("request", lambda r: reads.append(r.url) if r.url.endswith(f"/flows/{DEMO_FLOW}/executions") else None)
    started = _start(live, DEMO_FLOW, to="+15555550199")
    row = p.locator(f"tr[data-sid='{started}']")
    row.wait_for()
    assert p.locator("table.executions tbody tr[data-sid]").first.get_attribute("data-sid") == started
    assert row.locator(".badge").inner_text() == "active"
    with _api(live) as api:
        api.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{started}", data={"Status": "ended"})
    row.locator(".badge.ended").wait_for()
    # A burst: 30 executions make a few reads of the list, not one per event.
    with _api(live) as api:
        for i in range(30):
            api.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": f"+1555444{i:04d}", "From": "+15017122661"})
    p.locator("table.executions tbody tr[data-sid]").nth(31).wait_for()
    assert len(reads) < 30, reads
    # Another flow's executions do not concern this list. (First the burst's last events, the
    # executions parking, are read: wait until no read has come for a while.)
    before = -1
    for _ in range(50):
        if len(reads) == before:
            break
        before = len(reads)
        p.wait_for_timeout(300)
    _start(live, TEST_FLOW)
    p.wait_for_timeout(500)
    assert len(reads) == before


def test_an_execution_page_is_live(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    """The contact replies through the API: the page shows the reply and the flow's end
    without Refresh."""
    p, _ = page
    sid = _start(live, DEMO_FLOW, name="Ada")
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}/executions/{sid}")
    p.locator(".bubble.outbound").first.wait_for()
    p.locator("#live-status[data-state=connected]").wait_for()
    assert p.locator(".execution-status").inner_text() == "active"
    with _api(live) as api:
        reply = api.post("/_mockstudio/messages", data={"From": CONTACT, "To": "+15017122661", "Body": "yes"})
        assert reply.status_code == 200, reply.text
    p.locator(".execution-status .badge.ended").wait_for()
    p.locator(".bubble.inbound", has_text="yes").wait_for()
    p.locator(".bubble.outbound", has_text="Thanks Ada").wait_for()
    assert p.locator("tr.step").count() == 4


def test_the_live_indicator_says_when_the_stream_dropped(page: tuple[Page, Console]) -> None:
    p, console = page
    console.expected.append("ERR_")  # the page's tries to reconnect to the stopped server
    with MockStudioServer(Settings(fixtures=TEST_FIXTURES)) as srv:
        p.goto(srv.base_url + "/")
        p.locator(f"tr[data-sid='{DEMO_FLOW}']").wait_for()
        p.locator("#live-status[data-state=connected]").wait_for()
    # The server stopped (its streams ended with it): the page says so and keeps trying.
    p.locator("#live-status[data-state=reconnecting]").wait_for()
    assert p.locator("#live-status").inner_text() == "Reconnecting…"
    assert p.locator(f"tr[data-sid='{DEMO_FLOW}']").count() == 1  # the view stays as it was


def test_accounts_requests_and_reset(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    p, _ = page
    _start(live, DEMO_FLOW)
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}")  # a flow of the default account
    p.locator(".canvas .node").first.wait_for()
    picker = p.locator("#account-select")
    picker.select_option(OTHER_ACCOUNT)  # the flow is not read again for the other account (no 404)
    p.locator(f"tr[data-sid='{OTHER_FLOW}']").wait_for()
    assert p.locator("table.flows tbody tr").count() == 1
    p.reload()  # the choice is kept for the tab
    p.locator(f"tr[data-sid='{OTHER_FLOW}']").wait_for()

    p.locator(".sidenav a[data-section=requests]").click()
    create = p.locator("table.requests tbody tr.clickable", has_text="/Executions").filter(has_text="POST")
    create.first.wait_for()
    p.locator("input[name=path_contains]").fill("/Steps")
    p.locator("input[name=path_contains]").press("Enter")
    p.locator("table.requests td.empty").wait_for()
    p.locator("input[name=path_contains]").fill("/Executions")
    p.locator("input[name=path_contains]").press("Enter")
    create.first.click()
    form = p.locator("table.requests tr.detail:not([hidden]) pre").last
    assert '"To": "+15555550100"' in form.inner_text()

    p.locator(".sidenav a[data-section=reset]").click()
    p.get_by_role("button", name="Reset all state").click()
    p.locator("#toast .msg", has_text="All state was reset.").wait_for()
    with _api(live) as api:
        assert api.get(f"/v2/Flows/{DEMO_FLOW}/Executions").json()["executions"] == []


def test_the_admin_token_is_asked_once_and_kept_out_of_urls(page: tuple[Page, Console]) -> None:
    p, console = page
    console.expected.append("status of 401")  # the refused requests before the token is given
    settings = Settings(admin_token="s3cret-token")
    with MockStudioServer(settings) as srv:
        seen: list[str] = []
        p.on("request", lambda r: seen.append(r.url))
        p.goto(srv.base_url + "/")
        dialog = p.locator("#token-dialog")
        dialog.wait_for()
        assert p.locator("table.flows").count() == 0
        p.locator("#token-input").fill("wrong")
        p.get_by_role("button", name="Unlock").click()
        p.locator("#token-error").wait_for()
        p.locator("#token-input").fill("s3cret-token")
        p.get_by_role("button", name="Unlock").click()
        p.locator(f"tr[data-sid='{DEMO_FLOW}']").wait_for()
        p.locator("#live-status[data-state=connected]").wait_for()  # the stream has the token too
        p.reload()  # kept for the tab: no second question
        p.locator(f"tr[data-sid='{DEMO_FLOW}']").wait_for()
        assert not dialog.is_visible()
        assert p.evaluate("() => sessionStorage.getItem('mockstudio.adminToken')") == "s3cret-token"
        assert seen and not any("s3cret" in url for url in seen)


def test_a_loop_shows_how_often_each_widget_and_arrow_was_taken(
    live: MockStudioServer, page: tuple[Page, Console]
) -> None:
    p, _ = page
    wait = {"event": "incomingMessage", "next": "check"}
    definition = {
        "description": "asks again until the answer is yes",
        "states": [
            {"name": "Trigger", "type": "trigger", "transitions": [{"next": "ask", "event": "incomingRequest"}]},
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [wait, {"event": "timeout"}, {"event": "deliveryFailure"}],
                "properties": {"body": "Yes or no?", "timeout": "3600"},
            },
            {
                "name": "check",
                "type": "split-based-on",
                "transitions": [
                    {"next": "ask", "event": "noMatch"},
                    {
                        "next": "thanks",
                        "event": "match",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": ["{{widgets.ask.inbound.Body}}"],
                                "type": "equal_to",
                                "value": "yes",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{widgets.ask.inbound.Body}}"},
            },
            {
                "name": "thanks",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "Thanks"},
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }
    flow_sid = live.add_flow(definition, "Ask until yes")
    sid = _start(live, flow_sid)
    for body in ("maybe", "no", "yes"):
        live.send_message(CONTACT, "+15017122661", body)
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{flow_sid}/executions/{sid}")
    p.locator(".execution-status .badge.ended").wait_for()
    counts = {n.get_attribute("data-name"): n.get_attribute("data-count") for n in p.locator(".node").all()}
    assert counts == {"Trigger": "1", "ask": "3", "check": "3", "thanks": "1"}
    edges = {
        (e.get_attribute("data-from"), e.get_attribute("data-to")): (
            e.get_attribute("data-count"),
            e.locator("text").text_content(),
        )
        for e in p.locator(".edge").all()
    }
    assert edges == {
        ("Trigger", "ask"): ("1", "incomingRequest"),
        ("ask", "check"): ("3", "incomingMessage \u00d73"),
        ("check", "ask"): ("2", "noMatch \u00d72"),
        ("check", "thanks"): ("1", "match"),
    }


def test_an_account_name_is_text_too(page: tuple[Page, Console], tmp_path: Path) -> None:
    p, console = page
    (tmp_path / "accounts.json").write_text(
        json.dumps({"accounts": [{"sid": "AC" + "5" * 32, "auth_token": "t", "friendly_name": XSS_NAME}]}),
        encoding="utf-8",
    )
    with MockStudioServer(Settings(fixtures=tmp_path)) as srv:
        p.goto(srv.base_url + "/")
        picker = p.locator(".account-picker")
        picker.wait_for()
        options = p.locator("#account-select option").all_text_contents()
        assert f"{XSS_NAME} ({'AC' + '5' * 32})" in options
        assert p.locator("img").count() == 1  # the logo alone
    assert console.dialogs == []


def test_coverage_overlay_on_the_canvas(browser: Any, shots: Path) -> None:
    """With coverage recorded, the canvas shows what ran since the last reset: entered
    widgets and taken arrows green with counts, the rest dashed red, and what never ran."""
    settings = Settings(fixtures=TEST_FIXTURES, coverage=True)
    with MockStudioServer(settings, clock=ManualClock(1_700_000_000), sid_factory=SeededSids(12)) as server:
        _start(server, DEMO_FLOW)  # parks in greet: check_reply and confirm never run
        _start(server, DEMO_FLOW, to="+15550001234")
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        p = context.new_page()
        p.set_default_timeout(10_000)
        console = Console(p)
        try:
            p.goto(f"{server.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}")
            p.locator(".canvas .node").first.wait_for()
            p.locator("button[data-role=coverage]").click()
            p.locator(".node.covered").first.wait_for()
            covered = sorted(n.get_attribute("data-name") or "" for n in p.locator(".node.covered").all())
            uncovered = sorted(n.get_attribute("data-name") or "" for n in p.locator(".node.uncovered").all())
            assert (covered, uncovered) == (["Trigger", "greet"], ["check_reply", "confirm"])
            assert p.locator(".node[data-name='greet']").get_attribute("data-count") == "2"
            assert p.locator(".node[data-name='greet'] .count text").text_content() == "2"
            assert p.locator(".edge.covered .label text").all_text_contents() == ["incomingRequest \u00d72"]
            assert sorted(p.locator(".edge.uncovered .label text").all_text_contents()) == ["incomingMessage", "match"]
            note = p.locator("[data-role=coverage-note]").inner_text()
            assert "2/4 widgets entered" in note and "greet.timeout" in note
            p.screenshot(path=str(shots / "dashboard-coverage.png"))
            p.locator("button[data-role=coverage]").click()
            assert p.locator(".node.covered, .node.uncovered").count() == 0
        finally:
            context.close()
        assert console.unexpected() == [], console.errors


def test_coverage_overlay_says_when_coverage_is_off(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    p, console = page
    console.expected.append("404 (Not Found)")  # the coverage endpoint's answer, which the page explains
    p.goto(f"{live.base_url}/_mockstudio/ui/#/flows/{DEMO_FLOW}")
    p.locator(".canvas .node").first.wait_for()
    p.locator("button[data-role=coverage]").click()
    note = p.locator("[data-role=coverage-note]")
    note.filter(has_text="--coverage").wait_for()
    assert p.locator(".node.covered, .node.uncovered").count() == 0
