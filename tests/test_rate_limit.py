"""The opt-in fidelity mode for Studio's REST limit (20 new executions per second per
account, 429/20429, studio-v2-api.md §H.1). The limiter's monotonic clock is replaced by
one the test moves, so nothing depends on how fast the machine is."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockstudio import cli
from mockstudio.cli import load_settings
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FIXTURES
from .helpers import assert_twilio_error


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def limited() -> Iterator[MockStudioServer]:
    with MockStudioServer(Settings(fixtures=TEST_FIXTURES, rate_limit=True)) as server:
        yield server


@pytest.fixture
def clock(limited: MockStudioServer) -> FakeMonotonic:
    limited.reset()
    fake = FakeMonotonic()
    limited.app.state.runtime.rate_limit.now = fake
    return fake


@pytest.fixture
def client(limited: MockStudioServer, clock: FakeMonotonic) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.base_url, auth=(limited.account_sid, limited.auth_token)) as http:
        yield http


def create(client: httpx.Client, n: int, flow: str = DEMO_FLOW) -> httpx.Response:
    return client.post(f"/v2/Flows/{flow}/Executions", data={"To": f"+1555{n:07d}", "From": "+15017122661"})


def test_the_21st_execution_in_a_second_is_refused(client: httpx.Client, clock: FakeMonotonic) -> None:
    for n in range(20):
        clock.now += 0.01
        assert create(client, n).status_code == 201
    refused = create(client, 20)
    assert_twilio_error(refused, 429, 20429, "Too many requests")
    assert refused.headers["Retry-After"] == "1"
    # Nothing was created by the refused request.
    assert len(client.get(f"/v2/Flows/{DEMO_FLOW}/Executions", params={"PageSize": 50}).json()["executions"]) == 20


def test_the_window_slides(client: httpx.Client, clock: FakeMonotonic) -> None:
    for n in range(20):
        assert create(client, n).status_code == 201
        clock.now += 0.05  # 20 creates spread over the second
    # A second after the first create, one slot is free again; the next one is not yet.
    clock.now = 1000.0 + 1.0
    assert create(client, 100).status_code == 201
    assert create(client, 101).status_code == 429
    clock.now += 0.05
    assert create(client, 102).status_code == 201


def test_the_limit_is_per_account(client: httpx.Client, limited: MockStudioServer) -> None:
    for n in range(20):
        assert create(client, n).status_code == 201
    assert create(client, 20).status_code == 429
    with httpx.Client(base_url=limited.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN)) as other:
        assert create(other, 0, OTHER_FLOW).status_code == 201


def test_refused_and_failed_creates_do_not_count(client: httpx.Client) -> None:
    for _ in range(5):
        missing = client.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"From": "+15017122661"})
        assert_twilio_error(missing, 400, 20001)
    for n in range(20):
        assert create(client, n).status_code == 201
    for _ in range(3):
        assert create(client, 99).status_code == 429
    assert create(client, 99).status_code == 429  # still 20 in the window


def test_other_requests_are_not_limited(client: httpx.Client) -> None:
    for n in range(20):
        assert create(client, n).status_code == 201
    for _ in range(30):
        assert client.get(f"/v2/Flows/{DEMO_FLOW}/Executions").status_code == 200


def test_moving_the_virtual_clock_does_not_open_the_window(client: httpx.Client) -> None:
    for n in range(20):
        assert create(client, n).status_code == 201
    assert client.post("/_mockstudio/clock", data={"advance": "3600"}).status_code == 200
    assert create(client, 20).status_code == 429


def test_reset_clears_the_windows(client: httpx.Client, limited: MockStudioServer) -> None:
    for n in range(20):
        assert create(client, n).status_code == 201
    assert client.post("/_mockstudio/reset").status_code == 200
    assert create(client, 20).status_code == 201


def test_off_by_default(http: httpx.Client) -> None:
    for n in range(30):
        assert create(http, n).status_code == 201


def test_enabled_by_environment_or_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli._parser().parse_args(["--rate-limit"]).rate_limit is True
    assert cli._parser().parse_args([]).rate_limit is None  # the environment decides
    assert load_settings({}).rate_limit is False
    assert load_settings({"rate_limit": True}).rate_limit is True  # --rate-limit
    monkeypatch.setenv("MOCKSTUDIO_RATE_LIMIT", "true")
    assert load_settings({}).rate_limit is True
