"""Shared fixtures: a live uvicorn server (one per session, state reset before each test),
an httpx client authenticated as the default account, and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from twilio.rest import Client

from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.sids import SeededSids
from mockstudio.testing import MockStudioServer

ROOT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
TEST_FIXTURES = Path(__file__).resolve().parent / "data" / "fixtures"

DEMO_FLOW = "FW00000000000000000000000000000001"
# Accounts and flows defined in tests/data/fixtures/accounts.json.
OTHER_ACCOUNT = "AC11111111111111111111111111111111"
OTHER_TOKEN = "othertoken"
API_KEY = "SK22222222222222222222222222222222"
API_SECRET = "keysecret"
TEST_FLOW = "FW33333333333333333333333333333333"
OTHER_FLOW = "FW44444444444444444444444444444444"  # belongs to OTHER_ACCOUNT


@pytest.fixture(scope="session")
def server() -> Iterator[MockStudioServer]:
    settings = Settings(fixtures=TEST_FIXTURES)
    with MockStudioServer(settings, clock=ManualClock(1_700_000_000), sid_factory=SeededSids(7)) as srv:
        yield srv


@pytest.fixture
def live(server: MockStudioServer) -> MockStudioServer:
    """The session's server with fresh state and the clock back at its start."""
    assert isinstance(server.clock, ManualClock)
    server.reset()  # first: no timer of the previous test can fire when the clock moves back
    server.clock.set(1_700_000_000)
    return server


@pytest.fixture
def http(live: MockStudioServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=10) as client:
        yield client


@pytest.fixture
def anon(live: MockStudioServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def sdk(live: MockStudioServer) -> Iterator[Client]:
    """The real twilio-python SDK as the default account, pointed at the live server (the
    one thing a user changes: `client.studio.base_url`)."""
    client = Client(live.account_sid, live.auth_token)
    client.studio.base_url = live.base_url
    yield client
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.close()
