"""Property-based contract check with schemathesis: requests generated from Twilio's official
Studio v2 OpenAPI description (valid and invalid ones), sent over real HTTP to a live server,
authenticated as the default account. Every response must be no 5xx, schema-valid where the
spec documents its status (Twilio documents only success codes, so 4xx are expected and
checked to be Twilio's error shape instead).

Bounded and deterministic: a fixed number of examples per operation, derandomized, with no
example database, so CI runs the same requests every time. Half of the examples have their
path parameters swapped for real objects (the demo flow, one of its executions and a step),
so the checks reach real resources, not only 404s. About 650 requests (schemathesis adds
its own coverage cases and wrong-method probes to the examples).

The description is a copy of Twilio's `twilio_studio_v2.json` from github.com/twilio/twilio-oas
(the repository is MIT licensed; the file's own `info.license` names Apache 2.0: either allows
the copy) in tests/data, so this runs wherever the repository is checked out."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, SHARED_REFERENCE
from .helpers import ERROR_KEYS

SPEC_FILE = Path(__file__).resolve().parent / "data" / "twilio_studio_v2.json"
EXAMPLES_PER_OPERATION = 8

schema = schemathesis.openapi.from_path(
    SPEC_FILE,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@pytest.fixture
def objects(live: MockStudioServer) -> Iterator[dict[str, str]]:
    with httpx.Client(base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=10) as client:
        created = client.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "+15005550001", "From": "+15005550006"})
        assert created.status_code == 201, created.text
        execution = created.json()["sid"]
        live.wait_until_settled(execution)
        steps = client.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{execution}/Steps").json()["steps"]
        assert steps, "the demo flow takes at least one step"
        yield {"FlowSid": DEMO_FLOW, "ExecutionSid": execution, "StepSid": steps[0]["sid"], "Revision": "1"}


def _real(operation_path: str, name: str, objects: dict[str, str]) -> str | None:
    if name == "Sid":  # a flow's, an execution's or a step's, as the path says
        if operation_path.endswith("/Steps/{Sid}"):
            return objects["StepSid"]
        if operation_path.endswith("/Executions/{Sid}"):
            return objects["ExecutionSid"]
        return objects["FlowSid"]
    return objects.get(name)


def _takes_real_objects(case: Any) -> bool:
    """Half of the examples, chosen from the generated values themselves (not from the
    order tests run in, which pytest-xdist changes)."""
    return zlib.crc32(repr(sorted(case.path_parameters.items())).encode()) % 2 == 0


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_official_description(case: Any, live: MockStudioServer, objects: dict[str, str]) -> None:
    if case.path_parameters and _takes_real_objects(case):
        for name in case.path_parameters:
            real = _real(case.operation.path, name, objects)
            if real is not None:
                case.path_parameters[name] = real
    response = case.call(base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=10)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
    if response.status_code >= 400:
        body = json.loads(response.content)
        assert set(body) - {"details"} == ERROR_KEYS, body
        assert body["status"] == response.status_code, body


def test_the_copy_is_twilios_description() -> None:
    """tests/data holds Twilio's file unchanged (checked when the reference copy is here)."""
    reference = SHARED_REFERENCE / "twilio_studio_v2.json"
    if not reference.is_file():
        pytest.skip(f"no reference copy at {reference}")
    assert json.loads(SPEC_FILE.read_bytes()) == json.loads(reference.read_bytes())
