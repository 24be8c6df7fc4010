"""twilio-go (unmodified, the SDK whose `FlowsExecutionsApi` this API mirrors) against the live
mock, through tests/go/e2e/main.go: create, list with paging and a date filter, fetch,
CreateExecutionWithMetadata, the 409 with its details, context, steps and step contexts, update to
ended, delete, and a 401. Skipped when Go or the offline twilio-go copy is missing (tests/gosdk.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW
from .gosdk import GO_DIR, build, run_environment

STUDIO = "https://studio.twilio.com"


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = (GO_DIR / "e2e" / "main.go").read_text(encoding="utf-8")
    return build({"main.go": source}, tmp_path_factory.mktemp("go-e2e"))


def _run(program: Path, live: MockStudioServer) -> dict[str, Any]:
    env = run_environment(live.base_url, live.account_sid, live.auth_token, DEMO_FLOW)
    done = subprocess.run([str(program)], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_twilio_go(program: Path, live: MockStudioServer) -> None:
    out = _run(program, live)
    base = live.base_url
    created: list[str] = out["created"]
    assert len(set(created)) == 6 and all(sid.startswith("FN") and len(sid) == 34 for sid in created)

    # All six, newest first, two per page: the first request is twilio-go's own (to Studio's
    # host, which the transport sends to the mock), the next two follow the mock's next_page_url.
    assert out["listed"] == created[::-1]
    first, *following = out["listRequests"]
    assert first == f"{STUDIO}/v2/Flows/{DEMO_FLOW}/Executions?PageSize=2"
    assert len(following) == 2
    for number, url in enumerate(following, start=1):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{base}/v2/Flows/{DEMO_FLOW}/Executions"
        query = parse_qs(parts.query)
        assert query["PageSize"] == ["2"] and query["Page"] == [str(number)] and query["PageToken"][0]

    # The last three were created an hour later on the virtual clock; the filter is 30 min in.
    assert out["listedSince"] == created[3:][::-1]
    (since,) = out["sinceRequests"]
    assert parse_qs(urlsplit(since).query)["DateCreatedFrom"] == ["2023-11-14T22:43:20Z"]

    meta = out["createdWithMetadata"]
    sid = meta["sid"]
    assert meta["statusCode"] == 201 and meta["contentType"].startswith("application/json")
    assert meta["status"] == "active" and meta["flowSid"] == DEMO_FLOW
    assert meta["contactChannelAddress"] == "+15551234567" and meta["flowVersion"] >= 1
    assert meta["dateCreated"] == "2023-11-14T23:13:20Z"
    assert meta["url"] == f"{base}/v2/Flows/{DEMO_FLOW}/Executions/{sid}"
    assert meta["links"] == {
        "steps": f"{base}/v2/Flows/{DEMO_FLOW}/Executions/{sid}/Steps",
        "execution_context": f"{base}/v2/Flows/{DEMO_FLOW}/Executions/{sid}/Context",
    }

    conflict = out["conflict"]
    assert conflict["status"] == 409 and conflict["code"] == 20409
    assert conflict["details"] == {"conflicting_execution_sid": sid}
    assert conflict["message"].startswith(f"Execution {sid} is already active for this contact")
    assert conflict["moreInfo"] == "https://www.twilio.com/docs/errors/20409"

    assert out["fetched"]["sid"] == sid and out["fetched"]["status"] == "active"
    assert out["fetched"]["contactSid"].startswith("FC")

    assert out["settled"]["waiting_on"] == "greet"
    context = out["context"]
    assert context["flow"]["data"] == {"name": "Zeke"}
    assert context["contact"]["channel"]["address"] == "+15551234567"
    (step,) = out["steps"]  # the trigger's step; the waiting widget writes its own when left
    assert step["sid"].startswith("FT")
    assert (step["name"], step["from"], step["to"]) == ("incomingRequest", "Trigger", "greet")
    assert step["context"]["flow"]["data"] == {"name": "Zeke"}

    assert out["ended"] == {"sid": sid, "status": "ended"}
    assert out["endedAgain"]["status"] == 409 and out["endedAgain"]["code"] == 20409
    assert out["endedAgain"]["message"] == f"Execution {sid} has already ended"
    assert out["afterDelete"]["status"] == 404 and out["afterDelete"]["code"] == 20404
    assert out["unauthorized"]["status"] == 401 and out["unauthorized"]["code"] == 20003
    # From the create on, every request twilio-go made was addressed to Studio's own host.
    assert out["hosts"] == ["studio.twilio.com"]
