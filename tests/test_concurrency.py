"""Many requests at once through the live server: creates that race must neither lose nor
duplicate an execution, and the one-active-execution rule must hold under a race (each
mutation runs on the event loop without awaiting in the middle, design.md "State")."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW

FROM = "+15005550006"


async def _create_many(live: MockStudioServer, flow: str, contacts: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(contacts), max_keepalive_connections=len(contacts))
    async with httpx.AsyncClient(
        base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=30, limits=limits
    ) as client:
        return await asyncio.gather(
            *(client.post(f"/v2/Flows/{flow}/Executions", data={"To": to, "From": FROM}) for to in contacts)
        )


def _listed(http: httpx.Client, flow: str) -> list[str]:
    """Every execution's SID, following next_page_url."""
    sids: list[str] = []
    url: str | None = f"/v2/Flows/{flow}/Executions?PageSize=70"
    while url is not None:
        page = http.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        sids.extend(e["sid"] for e in body["executions"])
        url = body["meta"]["next_page_url"]
    return sids


def test_concurrent_creates_for_distinct_contacts(live: MockStudioServer, http: httpx.Client) -> None:
    contacts = [f"+1777{n:07d}" for n in range(200)]
    responses = asyncio.run(_create_many(live, TEST_FLOW, contacts))

    assert [r.status_code for r in responses] == [201] * len(contacts), [
        r.text for r in responses if r.status_code != 201
    ][:3]
    created = [r.json() for r in responses]
    sids = [e["sid"] for e in created]
    assert len(set(sids)) == len(sids)
    assert sorted(e["contact_channel_address"] for e in created) == sorted(contacts)
    # Every one listed exactly once, and each fetchable.
    listed = _listed(http, TEST_FLOW)
    assert sorted(listed) == sorted(sids)
    assert len(listed) == len(set(listed))
    for sid in sids[::40]:
        assert http.get(f"/v2/Flows/{TEST_FLOW}/Executions/{sid}").json()["status"] == "active"


def test_concurrent_creates_for_one_contact(live: MockStudioServer, http: httpx.Client) -> None:
    """50 threads, released together, each with its own connection, race to start an
    execution for the same To/From: exactly one wins and every loser's 409 names it."""
    racers = 50
    barrier = threading.Barrier(racers)

    def create(_: int) -> httpx.Response:
        with httpx.Client(base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=30) as client:
            client.get("/_mockstudio/health")  # connect before the barrier, so the posts race
            barrier.wait(timeout=30)
            return client.post(f"/v2/Flows/{TEST_FLOW}/Executions", data={"To": "+17770000000", "From": FROM})

    with ThreadPoolExecutor(max_workers=racers) as pool:
        responses = list(pool.map(create, range(racers)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: racers - 1}, statuses
    (winner,) = [r.json()["sid"] for r in responses if r.status_code == 201]
    for response in responses:
        if response.status_code == 409:
            body = response.json()
            assert body["code"] == 20409
            assert body["details"] == {"conflicting_execution_sid": winner}
            assert body["message"].startswith(f"Execution {winner} is already active for this contact")
    assert _listed(http, TEST_FLOW) == [winner]


def test_concurrent_creates_for_one_contact_asyncio(live: MockStudioServer) -> None:
    """The same race over one event loop, and for the same contact on another flow and in
    another account at the same time: the rule is per flow and per account."""

    async def race() -> dict[str, list[httpx.Response]]:
        limits = httpx.Limits(max_connections=100)
        mine = httpx.AsyncClient(
            base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=30, limits=limits
        )
        theirs = httpx.AsyncClient(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=30)
        data = {"To": "+17770000001", "From": FROM}
        async with mine, theirs:
            jobs = {
                DEMO_FLOW: [mine.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data=data) for _ in range(30)],
                TEST_FLOW: [mine.post(f"/v2/Flows/{TEST_FLOW}/Executions", data=data) for _ in range(30)],
                OTHER_FLOW: [theirs.post(f"/v2/Flows/{OTHER_FLOW}/Executions", data=data) for _ in range(30)],
            }
            flat = await asyncio.gather(*(job for group in jobs.values() for job in group))
        return {flow: flat[i * 30 : (i + 1) * 30] for i, flow in enumerate(jobs)}

    results = asyncio.run(race())
    winners = set()
    for flow, responses in results.items():
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {201: 1, 409: 29}, (flow, statuses)
        (winner,) = [r.json()["sid"] for r in responses if r.status_code == 201]
        winners.add(winner)
        conflicting = {r.json()["details"]["conflicting_execution_sid"] for r in responses if r.status_code == 409}
        assert conflicting == {winner}, flow
    assert len(winners) == 3


def test_concurrent_end_and_delete(live: MockStudioServer, http: httpx.Client) -> None:
    """Racing to end one execution: one 200, the rest 409; racing to delete it: one 204,
    the rest 404."""
    created = http.post(f"/v2/Flows/{TEST_FLOW}/Executions", data={"To": "+17770000002", "From": FROM})
    assert created.status_code == 201, created.text
    url = f"/v2/Flows/{TEST_FLOW}/Executions/{created.json()['sid']}"

    async def race(method: str, data: dict[str, str] | None) -> list[int]:
        async with httpx.AsyncClient(
            base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=30
        ) as client:
            responses = await asyncio.gather(*(client.request(method, url, data=data) for _ in range(25)))
        return [r.status_code for r in responses]

    assert Counter(asyncio.run(race("POST", {"Status": "ended"}))) == {200: 1, 409: 24}
    assert Counter(asyncio.run(race("DELETE", None))) == {204: 1, 404: 24}
    assert http.get(url).status_code == 404
