from __future__ import annotations

import httpx

from .conftest import DEMO_FLOW


def test_create_then_fetch(http: httpx.Client) -> None:
    created = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "+15551234567", "From": "+15557654321"})
    assert created.status_code == 201, created.text
    sid = created.json()["sid"]
    fetched = http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{sid}")
    assert fetched.status_code == 200
    assert fetched.json()["sid"] == sid
