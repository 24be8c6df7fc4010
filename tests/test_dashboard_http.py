"""The dashboard's server side over real HTTP: where the page is served and with which
headers, the JSON it reads, its actions, the admin token, and the control plane's refusal
of state changes sent from another site's page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockstudio.api.app import control_plane_built
from mockstudio.api.routes.dashboard import CONTENT_SECURITY_POLICY
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, TEST_FLOW
from .helpers import assert_twilio_error

UI = "/_mockstudio/ui"
CLIENT = {"X-Mockstudio-Client": "dashboard"}


def test_the_root_redirects_to_the_dashboard_without_building_the_control_plane() -> None:
    with MockStudioServer() as server:
        response = httpx.get(server.base_url + "/")
        assert response.status_code == 307
        assert response.headers["location"] == "/_mockstudio/ui/"
        assert not control_plane_built(server.app)
        page = httpx.get(server.base_url + "/", follow_redirects=True)
        assert page.status_code == 200
        assert control_plane_built(server.app)


def test_the_page_and_assets_are_served_with_a_strict_policy(anon: httpx.Client) -> None:
    page = anon.get(UI + "/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="assets/app.js">' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    script = anon.get(UI + "/assets/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert anon.get(UI + "/assets/style.css").headers["content-type"] == "text/css; charset=utf-8"
    assert anon.get(UI).headers["location"] == UI + "/"


@pytest.mark.parametrize("name", ["nope.js", "..%2Fdashboard.py", "__init__.py", ".hidden.js", "index.txt"])
def test_no_other_file_is_served(anon: httpx.Client, name: str) -> None:
    assert_twilio_error(anon.get(f"{UI}/assets/{name}"), 404, 20404)


def test_no_asset_reaches_outside_the_page() -> None:
    """No CDN, no third-party script: every asset refers only to the page's own files."""
    from importlib import resources

    static = resources.files("mockstudio.ui").joinpath("static")
    names = sorted(entry.name for entry in static.iterdir() if entry.is_file())
    assert {"index.html", "app.js", "canvas.js", "live.js", "api.js", "style.css"} <= set(names)
    for name in names:
        text = static.joinpath(name).read_text(encoding="utf-8")
        for line in text.splitlines():
            if "http://" in line or "https://" in line:
                assert "www.w3.org/2000/svg" in line, (name, line)  # the SVG namespace is a name, not a fetch
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, name


def test_flows_and_a_flow(anon: httpx.Client) -> None:
    flows = anon.get(UI + "/api/flows").json()["flows"]
    assert {f["sid"] for f in flows} == {DEMO_FLOW, TEST_FLOW}
    demo = anon.get(f"{UI}/api/flows/{DEMO_FLOW}").json()
    assert demo["friendly_name"] == "mockstudio demo: greet and ask"
    assert (demo["revision"], demo["published_revision"], demo["valid"]) == (1, 1, True)
    assert [s["name"] for s in demo["definition"]["states"]] == ["Trigger", "greet", "check_reply", "confirm"]
    assert_twilio_error(anon.get(f"{UI}/api/flows/FW0000000000000000000000000000dead"), 404, 20404)


def test_the_account_header_picks_the_account(anon: httpx.Client) -> None:
    headers = {"X-Mockstudio-Account": OTHER_ACCOUNT}
    overview = anon.get(UI + "/api/overview", headers=headers).json()
    assert overview["account_sid"] == OTHER_ACCOUNT
    assert len(overview["accounts"]) == 2
    assert [f["sid"] for f in anon.get(UI + "/api/flows", headers=headers).json()["flows"]] == [OTHER_FLOW]
    # The control plane's own routes honour it too.
    assert anon.get("/_mockstudio/messages", headers=headers).status_code == 200
    unknown = {"X-Mockstudio-Account": "AC" + "9" * 32}
    assert_twilio_error(anon.get(UI + "/api/flows", headers=unknown), 404, 20404)


def test_start_end_and_delete_an_execution(anon: httpx.Client) -> None:
    base = f"{UI}/api/flows/{DEMO_FLOW}/executions"
    bad = anon.post(base, json={"To": "+15550001111", "From": "+15017122661", "Parameters": "{oops"}, headers=CLIENT)
    body = assert_twilio_error(bad, 400, 20001)
    assert body["message"].startswith("Invalid Parameters")
    assert_twilio_error(anon.post(base, json={"From": "+15017122661"}, headers=CLIENT), 400, 20001)
    assert_twilio_error(anon.post(base, json={"To": 5, "From": "x"}, headers=CLIENT), 400, 20001)
    created = anon.post(
        base, json={"To": "+15550001111", "From": "+15017122661", "Parameters": '{"name": "Ada"}'}, headers=CLIENT
    )
    assert created.status_code == 201, created.text
    sid = created.json()["sid"]
    view = anon.get(f"{base}/{sid}").json()
    assert view["execution"]["status"] == "active"
    assert [(s["transitioned_from"], s["name"], s["transitioned_to"]) for s in view["steps"]] == [
        ("Trigger", "incomingRequest", "greet")
    ]
    assert view["context"]["flow"]["data"] == {"name": "Ada"}
    step = view["steps"][0]["sid"]
    assert anon.get(f"{base}/{sid}/steps/{step}/context").json()["context"]["flow"]["data"] == {"name": "Ada"}
    listed = anon.get(base, params={"status": "active"}).json()
    assert [e["sid"] for e in listed["executions"]] == [sid]
    assert listed["counts"] == {"all": 1, "active": 1, "ended": 0}
    assert anon.post(f"{base}/{sid}/end", headers=CLIENT).json()["status"] == "ended"
    assert_twilio_error(anon.post(f"{base}/{sid}/end", headers=CLIENT), 409, 20409)
    assert anon.post(f"{base}/{sid}/delete", headers=CLIENT).json() == {"deleted": sid}
    assert_twilio_error(anon.get(f"{base}/{sid}"), 404, 20404)


def test_executions_page_by_token_and_filter_by_contact(live: MockStudioServer, anon: httpx.Client) -> None:
    account = live.studio.accounts[live.account_sid]
    sids = [account.create_execution(TEST_FLOW, f"+1555{i % 7:07d}", f"+1666{i:07d}", None).sid for i in range(120)]
    base = f"{UI}/api/flows/{TEST_FLOW}/executions"
    first = anon.get(base).json()
    assert [e["sid"] for e in first["executions"]] == sids[::-1][:50]
    second = anon.get(base, params={"page_token": first["next_page_token"]}).json()
    assert [e["sid"] for e in second["executions"]] == sids[::-1][50:100]
    contact = anon.get(base, params={"contact": "+15550000003"}).json()
    expected = [s for i, s in enumerate(sids) if i % 7 == 3][::-1]
    assert [e["sid"] for e in contact["executions"]] == expected
    assert contact["next_page_token"] is None
    assert_twilio_error(anon.get(base, params={"status": "paused"}), 400, 20001)
    assert_twilio_error(anon.get(base, params={"page_token": "PAnonsense"}), 400, 21481)


def test_actions_need_the_client_header(anon: httpx.Client) -> None:
    response = anon.post(f"{UI}/api/flows/{DEMO_FLOW}/executions", json={"To": "+1", "From": "+2"})
    assert_twilio_error(response, 403, 20403)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost"},
    ],
)
def test_another_sites_page_cannot_change_state(anon: httpx.Client, headers: dict[str, str]) -> None:
    """What a browser adds to a form or fetch another site's page sends here."""
    assert_twilio_error(anon.post("/_mockstudio/reset", headers=headers), 403, 20403)
    assert_twilio_error(anon.post("/_mockstudio/clock", json={"advance": 60}, headers=headers), 403, 20403)
    assert_twilio_error(anon.delete("/_mockstudio/requests", headers=headers), 403, 20403)
    assert_twilio_error(
        anon.post(f"{UI}/api/flows/{DEMO_FLOW}/executions", json={}, headers={**headers, **CLIENT}), 403, 20403
    )
    # Reading is harmless (the browser keeps another site from seeing the answer).
    assert anon.get("/_mockstudio/clock", headers=headers).status_code == 200


def test_the_pages_own_requests_and_other_clients_are_accepted(live: MockStudioServer, anon: httpx.Client) -> None:
    own = {"Origin": live.base_url, "Sec-Fetch-Site": "same-origin"}
    assert anon.post("/_mockstudio/clock", json={"advance": 60}, headers=own).status_code == 200
    assert anon.post("/_mockstudio/clock", json={"advance": 60}, headers={"Origin": live.base_url}).status_code == 200
    assert anon.post("/_mockstudio/clock", json={"advance": 60}).status_code == 200  # SDKs, curl: no Origin
    # A default port is the same origin whether or not Origin or Host spells it.
    default_port = {"Host": "mock.example", "Origin": "http://mock.example:80"}
    assert anon.post("/_mockstudio/clock", json={"advance": 60}, headers=default_port).status_code == 200
    other_port = {"Host": "mock.example", "Origin": "http://mock.example:8081"}
    assert_twilio_error(anon.post("/_mockstudio/clock", json={"advance": 60}, headers=other_port), 403, 20403)


@pytest.fixture(scope="module")
def guarded() -> Iterator[MockStudioServer]:
    with MockStudioServer(Settings(admin_token="t0ken")) as server:
        yield server


def test_with_an_admin_token_the_data_needs_it_and_the_page_holds_none(guarded: MockStudioServer) -> None:
    base = guarded.base_url
    page = httpx.get(base + UI + "/")
    assert page.status_code == 200  # the page itself: no data, asks for the token
    assert DEMO_FLOW not in page.text
    for path in ("/api/overview", "/api/flows", f"/api/flows/{DEMO_FLOW}"):
        refused = httpx.get(base + UI + path)
        assert_twilio_error(refused, 401, 20003)
        assert refused.headers["www-authenticate"].startswith("Bearer")
    action = httpx.post(base + UI + f"/api/flows/{DEMO_FLOW}/executions", json={"To": "+1", "From": "+2"})
    assert_twilio_error(action, 401, 20003)
    ok = httpx.get(base + UI + "/api/flows", headers={"X-Mockstudio-Admin-Token": "t0ken"})
    assert [f["sid"] for f in ok.json()["flows"]] == [DEMO_FLOW]
    # The token counts as the custom header for actions.
    started = httpx.post(
        base + UI + f"/api/flows/{DEMO_FLOW}/executions",
        json={"To": "+15550001111", "From": "+15017122661"},
        headers={"X-Mockstudio-Admin-Token": "t0ken"},
    )
    assert started.status_code == 201, started.text
