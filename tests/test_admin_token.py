"""The control plane's optional token (`MOCKSTUDIO_ADMIN_TOKEN`), how it combines with the
Basic credentials that pick the account, constant-time comparisons, and the default bind."""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockstudio import cli
from mockstudio.api import admin
from mockstudio.cli import load_settings
from mockstudio.settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FIXTURES
from .helpers import assert_twilio_error

TOKEN = "s3cret-Admin.token"


@pytest.fixture(scope="module")
def guarded() -> Iterator[MockStudioServer]:
    with MockStudioServer(Settings(fixtures=TEST_FIXTURES, admin_token=TOKEN)) as server:
        yield server


@pytest.fixture
def base(guarded: MockStudioServer) -> str:
    guarded.reset()
    return guarded.base_url


CONTROL_ROUTES = [
    ("GET", "/_mockstudio/messages"),
    ("DELETE", "/_mockstudio/messages"),
    ("GET", "/_mockstudio/clock"),
    ("POST", "/_mockstudio/reset"),
    ("GET", "/_mockstudio/numbers"),
    ("GET", "/_mockstudio/scripts"),
    ("GET", "/_mockstudio/requests"),
    ("DELETE", "/_mockstudio/requests"),
    ("GET", "/_mockstudio/faults"),
    ("POST", "/_mockstudio/faults"),
    ("DELETE", "/_mockstudio/faults"),
    ("DELETE", "/_mockstudio/faults/1"),
    ("GET", "/_mockstudio/executions/FN00000000000000000000000000000000/settled"),
]


@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
def test_every_control_route_requires_the_token(base: str, method: str, path: str) -> None:
    for headers in (
        {},
        {"X-Mockstudio-Admin-Token": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"X-Mockstudio-Admin-Token": TOKEN + "x"},
        {"X-Mockstudio-Admin-Token": TOKEN[:-1]},
    ):
        response = httpx.request(method, base + path, headers=headers)
        body = assert_twilio_error(response, 401, 20003)
        assert "admin token" in body["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_basic_credentials_are_not_the_admin_token(base: str) -> None:
    response = httpx.get(base + "/_mockstudio/messages", auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN))
    assert_twilio_error(response, 401, 20003)


@pytest.mark.parametrize(
    "headers",
    [{"X-Mockstudio-Admin-Token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, {"authorization": f"bearer {TOKEN}"}],
)
def test_the_token_in_either_header_opens_it(base: str, headers: dict[str, str]) -> None:
    assert httpx.get(base + "/_mockstudio/messages", headers=headers).status_code == 200
    assert httpx.get(base + "/_mockstudio/requests", headers=headers).status_code == 200
    assert httpx.post(base + "/_mockstudio/clock", data={"advance": "1"}, headers=headers).status_code == 200


def test_health_needs_no_token(base: str) -> None:
    assert httpx.get(base + "/_mockstudio/health").json()["status"] == "ok"


def test_the_twilio_api_is_unaffected(base: str) -> None:
    with httpx.Client(base_url=base, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)) as client:
        assert client.get(f"/v2/Flows/{DEMO_FLOW}").status_code == 200
    assert_twilio_error(
        httpx.get(f"{base}/v2/Flows/{DEMO_FLOW}", headers={"X-Mockstudio-Admin-Token": TOKEN}), 401, 20003
    )


def test_token_and_basic_credentials_combine(base: str) -> None:
    """The token in X-Mockstudio-Admin-Token, the account in Authorization: Basic."""
    token = {"X-Mockstudio-Admin-Token": TOKEN}
    other = (OTHER_ACCOUNT, OTHER_TOKEN)
    bound = httpx.post(
        base + "/_mockstudio/numbers", data={"Number": "+15550009999", "FlowSid": OTHER_FLOW}, headers=token, auth=other
    )
    assert bound.status_code == 200, bound.text
    assert httpx.get(base + "/_mockstudio/numbers", headers=token, auth=other).json()["numbers"] == [
        {"number": "+15550009999", "flow_sid": OTHER_FLOW}
    ]
    # Without Basic credentials (the token as Bearer, or in its header): the default account.
    assert httpx.get(base + "/_mockstudio/numbers", headers=token).json()["numbers"] == []
    assert (
        httpx.get(base + "/_mockstudio/numbers", headers={"Authorization": f"Bearer {TOKEN}"}).json()["numbers"] == []
    )
    # Wrong Basic credentials with the right token: the account check still applies.
    wrong = httpx.get(base + "/_mockstudio/numbers", headers=token, auth=(OTHER_ACCOUNT, "nope"))
    assert_twilio_error(wrong, 401, 20003, "Authenticate")


def test_open_by_default(http: httpx.Client) -> None:
    assert Settings().admin_token is None
    with httpx.Client(base_url=str(http.base_url)) as anonymous:
        assert anonymous.get("/_mockstudio/messages").status_code == 200
        assert anonymous.get("/_mockstudio/faults").status_code == 200
    # A Bearer header on an open control plane names no account: the default one.
    assert http.get("/_mockstudio/messages", headers={"Authorization": "Bearer anything"}).status_code == 200


def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSTUDIO_ADMIN_TOKEN", TOKEN)
    assert load_settings({}).admin_token == TOKEN
    monkeypatch.setenv("MOCKSTUDIO_ADMIN_TOKEN", "")
    assert load_settings({}).admin_token is None  # empty means unset
    monkeypatch.setenv("MOCKSTUDIO_ADMIN_TOKEN", "two words")
    with pytest.raises(cli.SettingsError, match="MOCKSTUDIO_ADMIN_TOKEN"):
        load_settings({})


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[bytes, bytes]]:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare_digest(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(module.hmac, "compare_digest", compare_digest)
    return calls


def test_the_admin_token_is_compared_in_constant_time(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch, admin)
    assert httpx.get(base + "/_mockstudio/messages", headers={"X-Mockstudio-Admin-Token": "guess"}).status_code == 401
    assert calls == [(b"guess", TOKEN.encode())]


def test_account_credentials_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Studio.authenticate: hmac.compare_digest for a wrong secret, and for an unknown
    username too (so the time taken does not tell which usernames exist)."""
    import mockstudio.domain.accounts as studio_module

    with MockStudioServer(Settings()) as server:
        calls = _spy(monkeypatch, studio_module)
        url = f"{server.base_url}/v2/Flows/{DEMO_FLOW}"
        assert httpx.get(url, auth=(DEFAULT_ACCOUNT_SID, "wrongtoken")).status_code == 401
        assert calls == [(b"wrongtoken", DEFAULT_AUTH_TOKEN.encode())]
        calls.clear()
        assert httpx.get(url, auth=("AC" + "f" * 32, "whatever")).status_code == 401
        assert len(calls) == 1
        calls.clear()
        assert httpx.get(url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)).status_code == 200
        assert calls == [(DEFAULT_AUTH_TOKEN.encode(), DEFAULT_AUTH_TOKEN.encode())]


def test_the_server_binds_to_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().host == "127.0.0.1"
    monkeypatch.delenv("MOCKSTUDIO_HOST", raising=False)
    assert load_settings({"host": None}).host == "127.0.0.1"  # no --host flag
    args = cli._parser().parse_args([])
    assert args.host is None  # so the setting's default applies
    assert inspect.signature(MockStudioServer).parameters["host"].default == "127.0.0.1"
