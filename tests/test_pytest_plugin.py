"""The `mockstudio` pytest fixture, tested as its users meet it: generated test files run by
pytest with no conftest (the plugin comes from the installed `pytest11` entry point),
including a run under pytest-xdist."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

# Inner runs skip hypothesis's plugin (most of a bare pytest start-up) and the cache.
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "ignore::pytest.PytestAssertRewriteWarning")

HEADER = """
import os
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

DEMO = "FW00000000000000000000000000000001"
CONTACT = "+15551230001"
NUMBER = "+15005550006"
"""


@pytest.fixture(autouse=True)
def _outside_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    # The generated runs are their own sessions, whatever runs this file.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)


def test_the_plugin_module_imports_nothing_heavy() -> None:
    """pytest loads the plugin in every project that installs mockstudio."""
    code = (
        "import sys, mockstudio.pytest_plugin\n"
        "heavy = {'fastapi', 'starlette', 'uvicorn', 'twilio', 'httpx', 'pydantic', 'mockstudio.testing'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_fixture_without_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_flow=HEADER
        + """
CREATED = []


def test_reply(mockstudio):
    assert mockstudio.base_url.startswith("http://127.0.0.1:")
    assert (mockstudio.account_sid, mockstudio.auth_token) == ("AC" + "0" * 32, "mockstudio")
    client = mockstudio.client()
    execution = client.studio.v2.flows(DEMO).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"name": "Zeke"}
    )
    CREATED.append(execution.sid)
    assert mockstudio.wait_until_settled(execution.sid)["waiting_on"] == "greet"
    assert mockstudio.send_message(from_=CONTACT, to=NUMBER, body="yes")["action"] == "resumed"
    assert mockstudio.wait_for_execution(execution.sid, status="ended")["status"] == "ended"
    assert [m["body"] for m in mockstudio.messages(direction="outbound")] == [
        "Hi Zeke! Would you like a callback? Reply YES or NO.",
        "Thanks Zeke, we will call you back.",
    ]
    # The in-process client reaches the same state without a socket.
    in_process = mockstudio.client(in_process=True)
    assert in_process.studio.v2.flows(DEMO).executions(execution.sid).fetch().status == "ended"
    mockstudio.advance_clock(3600)


def test_fresh_state(mockstudio):
    (sid,) = CREATED
    executions = mockstudio.client().studio.v2.flows(DEMO).executions
    assert executions.list() == []
    with pytest.raises(TwilioRestException) as raised:
        executions(sid).fetch()
    assert raised.value.status == 404
    assert mockstudio.messages() == []
    assert mockstudio.clock.now() == 1_700_000_000
    executions.create(to=CONTACT, from_=NUMBER)  # the contact is free: no 409


def test_command_line_option(mockstudio):
    assert mockstudio.client().studio.v2.flows("FW" + "3" * 32).fetch().status == "published"
"""
    )
    # A real pytest process: the plugin comes from the installed entry point alone.
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-accept-any-flow")
    result.assert_outcomes(passed=3)


def test_xdist_workers_share_nothing(pytester: pytest.Pytester) -> None:
    """Every test starts an execution for the SAME contact on the same flow, which is a
    409 if any state (a worker's previous test, or another worker) were shared."""
    pytester.makepyfile(
        test_parallel=HEADER
        + """

@pytest.mark.parametrize("n", range(8))
def test_same_contact(mockstudio, n):
    executions = mockstudio.client().studio.v2.flows(DEMO).executions
    created = executions.create(to=CONTACT, from_=NUMBER)
    mockstudio.wait_until_settled(created.sid)
    assert [e.sid for e in executions.list()] == [created.sid]
    assert len(mockstudio.messages(contact=CONTACT)) == 1
    worker = os.environ["PYTEST_XDIST_WORKER"]
    Path(f"ran-{n}.txt").write_text(f"{worker} {mockstudio.base_url}")
"""
    )
    result = pytester.runpytest_subprocess("-n", "2", *QUIET)
    result.assert_outcomes(passed=8)
    runs = [(pytester.path / f"ran-{n}.txt").read_text().split() for n in range(8)]
    servers = {worker: {url for w, url in runs if w == worker} for worker, _ in runs}
    assert set(servers) == {"gw0", "gw1"}  # both workers ran tests...
    assert all(len(urls) == 1 for urls in servers.values())  # ...each on its one server...
    assert len({url for urls in servers.values() for url in urls}) == 2  # ...not the other's


def test_options_and_settings_override(pytester: pytest.Pytester) -> None:
    flows = pytester.mkdir("studio")
    (flows / "flows.json").write_text(
        '{"flows": [{"sid": "FW' + "1" * 32 + '", "friendly_name": "From the ini option",'
        ' "definition": {"states": [{"name": "Trigger", "type": "trigger", "transitions": [],'
        ' "properties": {}}], "initial_state": "Trigger"}}]}'
    )
    pytester.makeini("[pytest]\nmockstudio_fixtures = studio\nmockstudio_clock = virtual\n")
    pytester.makepyfile(
        test_options=HEADER
        + """
import time


def test_ini_options(mockstudio):
    flow = mockstudio.client().studio.v2.flows("FW" + "1" * 32).fetch()
    assert flow.friendly_name == "From the ini option"
    assert abs(mockstudio.clock.now() - time.time()) < 60  # virtual: wall-clock time
    with pytest.raises(TwilioRestException):
        mockstudio.client().studio.v2.flows("FW" + "2" * 32).fetch()
"""
    )
    pytester.runpytest_inprocess(*QUIET).assert_outcomes(passed=1)

    # A session-scoped override in a conftest replaces the options.
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def mockstudio_settings():
    return {"accept_any_flow": True}
"""
    )
    pytester.makepyfile(
        test_options=HEADER
        + """

def test_settings_override(mockstudio):
    client = mockstudio.client()
    assert client.studio.v2.flows("FW" + "2" * 32).fetch().sid == "FW" + "2" * 32
    # The ini's fixture directory is not loaded now: any SID is an auto-created flow.
    assert client.studio.v2.flows("FW" + "1" * 32).fetch().friendly_name.startswith("Auto-created")
"""
    )
    pytester.runpytest_inprocess(*QUIET).assert_outcomes(passed=1)


def test_a_missing_fixture_directory_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_nothing(mockstudio):\n    pass\n")
    result = pytester.runpytest_inprocess(*QUIET, "--mockstudio-fixtures", "missing")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mockstudio: the fixture directory*missing does not exist*"])
