"""JSON from outside nested deeper than can be rendered back is refused where it is parsed
(mockstudio/jsontext.py), never accepted and then failing every later read with a 500."""

from __future__ import annotations

import httpx
import pytest

from mockstudio import jsontext
from mockstudio.engine.http import HttpResponse
from mockstudio.engine.widgets.http_request import response_outputs

DEEP = "[" * 300 + "]" * 300


def _definition(value: str) -> str:
    return (
        '{"initial_state": "Trigger", "states": [{"name": "Trigger", "type": "trigger", "transitions": [],'
        f' "properties": {{"x": {value}}}}}]}}'
    )


def test_loads_accepts_the_limit_and_refuses_deeper() -> None:
    limit = "[" * jsontext.MAX_DEPTH + "]" * jsontext.MAX_DEPTH
    assert jsontext.loads(limit) is not None
    with pytest.raises(jsontext.TooDeep):
        jsontext.loads("[" + limit + "]")
    with pytest.raises(jsontext.TooDeep):
        jsontext.loads(DEEP.encode())


def test_a_deep_definition_is_a_validation_error_and_nothing_is_stored(http: httpx.Client) -> None:
    before = http.get("/v2/Flows").json()["flows"]
    response = http.post(
        "/v2/Flows", data={"FriendlyName": "deep", "Status": "published", "Definition": _definition(DEEP)}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 81022
    assert body["details"]["errors"][0]["property_path"] == "#"
    assert http.get("/v2/Flows").json()["flows"] == before
    validate = http.post(
        "/v2/Flows/Validate", data={"FriendlyName": "deep", "Status": "published", "Definition": _definition(DEEP)}
    )
    assert validate.status_code == 400 and validate.json()["code"] == 81022


@pytest.mark.parametrize("path", ["/_mockstudio/scripts", "/_mockstudio/clock", "/_mockstudio/messages"])
def test_a_deep_control_plane_body_is_a_400(http: httpx.Client, path: str) -> None:
    response = http.post(path, content=f'{{"x": {DEEP}}}', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == 20001


def test_a_deep_json_response_gives_no_parsed_output() -> None:
    outputs = response_outputs(HttpResponse(200, "application/json", f'{{"x": {DEEP}}}'))
    assert "parsed" not in outputs
    assert outputs["status_code"] == 200
