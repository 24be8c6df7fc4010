"""twilio-node (unmodified) against the live mock, through tests/node/e2e.js.

Skipped unless `node` is on PATH and the npm package `twilio` resolves from
$MOCKSTUDIO_NODE_MODULES or tests/node/node_modules. To enable it:

    cd tests/node && npm ci --no-audit --no-fund     # or: npm install --no-audit --no-fund
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "e2e.js"


def _twilio_module() -> tuple[str, str]:
    """(node executable, path `require` should load twilio from), or skip saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    modules = os.environ.get("MOCKSTUDIO_NODE_MODULES") or str(NODE_DIR / "node_modules")
    if not Path(modules).is_dir():
        pytest.skip(
            f"no node_modules at {modules}: run `cd tests/node && npm ci --no-audit --no-fund` "
            "or set MOCKSTUDIO_NODE_MODULES"
        )
    found = subprocess.run(
        [node, "-e", "process.stdout.write(require.resolve('twilio', {paths: [process.argv[1]]}))", modules],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if found.returncode != 0 or not found.stdout:
        pytest.skip(f"the npm package twilio does not resolve from {modules}")
    return node, found.stdout


def _run(live: MockStudioServer) -> dict[str, Any]:
    node, module = _twilio_module()
    env = {
        **os.environ,
        "TWILIO_MODULE": module,
        "MOCKSTUDIO_URL": live.base_url,
        "ACCOUNT_SID": live.account_sid,
        "AUTH_TOKEN": live.auth_token,
        "FLOW_SID": DEMO_FLOW,
    }
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):  # they would rewrite the mock's host
        env.pop(name, None)
    done = subprocess.run([node, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=45, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_twilio_node(live: MockStudioServer) -> None:
    out = _run(live)
    created = out["created"]
    sid = created["sid"]
    assert sid.startswith("FN") and len(sid) == 34
    assert created["status"] == "active"
    assert created["flowSid"] == DEMO_FLOW
    assert created["contactChannelAddress"] == "+16660000000"
    assert created["dateCreatedIsDate"] is True
    assert created["url"] == f"{live.base_url}/v2/Flows/{DEMO_FLOW}/Executions/{sid}"

    assert out["fetched"]["sid"] == sid and out["fetched"]["status"] == "active"
    assert out["fetched"]["contactSid"].startswith("FC")
    assert out["context"]["flow"]["data"] == {"name": "Zeke"}

    # Six executions, listed newest first, two per page, across three requests that follow
    # the mock's absolute next_page_url.
    assert out["listed"] == out["createdSids"][::-1]
    requests = out["listRequests"]
    assert len(requests) == 3
    # The first is built by the SDK (query in `params`); the others are the mock's
    # next_page_url, requested as-is.
    assert requests[0]["params"] == {"PageSize": 2}
    for number, request in enumerate(requests):
        parts = urlsplit(request["uri"])
        assert f"{parts.scheme}://{parts.netloc}" == live.base_url
        assert parts.path == f"/v2/Flows/{DEMO_FLOW}/Executions"
        if number:
            query = parse_qs(parts.query)
            assert query["PageSize"] == ["2"] and query["Page"] == [str(number)]
            assert query["PageToken"][0]

    conflict = out["conflict"]
    assert conflict is not None and conflict["isRestException"] is True
    assert conflict["status"] == 409 and conflict["code"] == 20409
    assert conflict["details"] == {"conflicting_execution_sid": sid}
    assert conflict["message"].startswith(f"Execution {sid} is already active for this contact")
    assert conflict["moreInfo"] == "https://www.twilio.com/docs/errors/20409"

    assert out["ended"] == {"sid": sid, "status": "ended"}
    assert out["removed"] is True
    assert out["afterRemove"] == {"status": 404, "code": 20404}
