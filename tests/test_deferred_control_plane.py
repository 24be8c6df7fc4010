"""The control plane's routes are built into the app on first use (api/app.py), so a
server starts without paying for them. Health answers before that; on a fresh server the
first request to the control plane, the OpenAPI document, a 404 or 405 under
/_mockstudio/ and the admin token all behave as if the routes had been there from the
start. Each test starts its own server: the shared one has long built them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockstudio.api.app import control_plane_built, load_control_plane
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .helpers import assert_twilio_error


def _built(server: MockStudioServer) -> bool:
    return control_plane_built(server.app)


@pytest.fixture
def fresh() -> Iterator[MockStudioServer]:
    with MockStudioServer() as server:
        assert not _built(server)
        yield server


def test_health_answers_without_building_the_control_plane(fresh: MockStudioServer) -> None:
    response = httpx.get(fresh.base_url + "/_mockstudio/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert not _built(fresh)
    # Nor does the Twilio API build it.
    credentials = (fresh.settings.account_sid, fresh.auth_token)
    assert httpx.get(fresh.base_url + "/v2/Flows", auth=credentials).status_code == 200
    assert not _built(fresh)


def test_the_first_control_request_builds_it_and_is_answered(fresh: MockStudioServer) -> None:
    response = httpx.post(fresh.base_url + "/_mockstudio/clock", json={"advance": 60})
    assert response.status_code == 200, response.text
    assert _built(fresh)
    assert httpx.get(fresh.base_url + "/_mockstudio/clock").json() == response.json()
    # Built once: building again (as the OpenAPI document asks) adds no second copy.
    count = len(fresh.app.routes)
    load_control_plane(fresh.app)
    assert len(fresh.app.routes) == count
    assert httpx.get(fresh.base_url + "/openapi.json").status_code == 200
    assert len(fresh.app.routes) == count


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/_mockstudio/no-such-thing", 404, 20404), ("PUT", "/_mockstudio/clock", 405, 20004)],
)
def test_errors_under_the_control_plane_on_a_fresh_server(
    fresh: MockStudioServer, method: str, path: str, status: int, code: int
) -> None:
    assert_twilio_error(httpx.request(method, fresh.base_url + path), status, code)


def test_the_openapi_document_includes_it_from_the_start(fresh: MockStudioServer) -> None:
    document: dict[str, Any] = httpx.get(fresh.base_url + "/openapi.json").json()
    paths = set(document["paths"])
    assert {"/_mockstudio/health", "/_mockstudio/messages", "/_mockstudio/clock", "/_mockstudio/faults"} <= paths
    assert not any(path.startswith("/v2/") for path in paths)  # Twilio's routes follow Twilio's spec
    assert httpx.get(fresh.base_url + "/docs").status_code == 200


def test_the_admin_token_guards_the_first_request_too() -> None:
    with MockStudioServer(Settings(admin_token="t0ken")) as server:
        assert_twilio_error(httpx.get(server.base_url + "/_mockstudio/clock"), 401, 20003)
        guarded = httpx.get(server.base_url + "/_mockstudio/clock", headers={"X-Mockstudio-Admin-Token": "t0ken"})
        assert guarded.status_code == 200
        assert httpx.get(server.base_url + "/_mockstudio/health").status_code == 200
