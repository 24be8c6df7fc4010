"""`soak`: resident memory stays flat once the caps on growing stores are reached.

`python -m mockstudio --accept-any-flow` (the real CLI) runs with small caps
(journal 1,000, ended executions 5,000 per account, messages 1,000, contacts 5,000) and
receives 100,000 requests over one keep-alive connection, in cycles of 20:

- 8 creates on an inert flow (a well-formed unknown Flow SID that --accept-any-flow turns
  into a flow whose trigger leads nowhere: every execution records one step and ends), each
  with a To no other request used (so contacts grow too);
- 1 create on the bundled demo flow, a wait until it is parked
  (`GET /_mockstudio/executions/{sid}/settled`) and the contact's reply
  (`POST /_mockstudio/messages`, Body "yes"): 3 messages, and the execution ends;
- 4 fetches of the latest inert execution, 1 of the demo one, 2 lists (PageSize=20) of the
  inert flow's executions, 1 control-plane message read (`GET /_mockstudio/messages?contact=`),
  1 request to a path the Twilio API does not have (404).

The server's RSS (`/proc/PID/statm`) is sampled every 1,000 requests. Reported: RSS at 25,
50, 75 and 100% of the run; the target is growth over the last quartile < 5% (the caps
are all reached within the first quartile, which the details show). At the end the caps are
checked through the API: the journal holds 1,000 requests, the inert flow at most 5,000
executions, the message log at most 1,000 messages. Every response must have the expected
status, or the run is INVALID.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from typing import Any
from urllib.parse import urlencode

from harness import AUTH_HEADER, DEMO_FLOW, HOST, Outcome, Row, free_port, kill_group, log, spawn, wait_for_port

REQUESTS = 100_000
SAMPLE_EVERY = 1_000
CYCLE = 20
LIMITS = {
    "MOCKSTUDIO_JOURNAL_LIMIT": 1_000,
    "MOCKSTUDIO_ENDED_EXECUTION_LIMIT": 5_000,
    "MOCKSTUDIO_MESSAGE_LIMIT": 1_000,
    "MOCKSTUDIO_CONTACT_LIMIT": 5_000,
}
INERT_FLOW = "FW" + "5a" * 16
FLOW_ADDRESS = "+15550000000"
MAX_LAST_QUARTILE_GROWTH = 0.05


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Client:
    """One keep-alive connection; counts statuses that are not the expected one."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.count = 0
        self.unexpected: dict[str, int] = {}

    def call(self, method: str, path: str, expected: int, form: dict[str, str] | None = None) -> bytes:
        headers = {"Authorization": AUTH_HEADER}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        self.count += 1
        if response.status != expected:
            key = f"{method} {path.split('?')[0][:60]} -> {response.status} (expected {expected})"
            self.unexpected[key] = self.unexpected.get(key, 0) + 1
        return payload


def _sid(payload: bytes) -> str | None:
    try:
        sid = json.loads(payload).get("sid")
    except (ValueError, AttributeError):
        return None
    return sid if isinstance(sid, str) else None


def _cycle(client: _Client, cycle: int, state: dict[str, Any]) -> None:
    executions = f"/v2/Flows/{INERT_FLOW}/Executions"
    for i in range(8):
        sid = _sid(client.call("POST", executions, 201, {"To": f"+1{cycle:08d}{i}", "From": FLOW_ADDRESS}))
        state["inert"] = sid or state.get("inert")
    contact = f"+2{cycle:09d}"
    demo = _sid(
        client.call(
            "POST",
            f"/v2/Flows/{DEMO_FLOW}/Executions",
            201,
            {"To": contact, "From": FLOW_ADDRESS, "Parameters": '{"name": "Zeke"}'},
        )
    )
    client.call("GET", f"/_mockstudio/executions/{demo}/settled", 200)
    client.call("POST", "/_mockstudio/messages", 200, {"From": contact, "To": FLOW_ADDRESS, "Body": "yes"})
    for _ in range(4):
        client.call("GET", f"{executions}/{state['inert']}", 200)
    for _ in range(2):
        client.call("GET", f"{executions}?PageSize=20", 200)
    client.call("GET", f"/_mockstudio/messages?contact={contact.replace('+', '%2B')}", 200)
    client.call("GET", f"/v2/Flows/{DEMO_FLOW}/Executions/{demo}", 200)
    client.call("GET", "/v2/Nothing/Here", 404)


def _count_pages(client: _Client, path: str, key: str) -> int:
    total = 0
    url: str | None = f"{path}?PageSize=1000"
    while url:
        page = json.loads(client.call("GET", url, 200))
        total += len(page[key])
        next_url = page["meta"]["next_page_url"]
        url = next_url[next_url.index("/v2/") :] if next_url else None
    return total


def soak(requests: int = REQUESTS) -> Outcome:
    port = free_port()
    argv = [
        "env",
        *(f"{name}={value}" for name, value in LIMITS.items()),
        sys.executable,
        "-m",
        "mockstudio",
        "--accept-any-flow",
        "--no-access-log",
        "--log-level",
        "error",
        "--port",
        str(port),
    ]
    process = spawn(argv)
    details = [
        f"server: {' '.join(argv[len(LIMITS) + 2 :])}",
        "caps: " + ", ".join(f"{k}={v:,}" for k, v in LIMITS.items()),
    ]
    try:
        wait_for_port(process, port, 30)
        client = _Client(port)
        samples: list[tuple[int, int]] = [(0, _rss(process.pid))]
        state: dict[str, Any] = {}
        cycle = 0
        started = time.monotonic()
        next_sample = SAMPLE_EVERY
        while client.count < requests:
            _cycle(client, cycle, state)
            cycle += 1
            if client.count >= next_sample:
                samples.append((client.count, _rss(process.pid)))
                next_sample += SAMPLE_EVERY
                if client.count % 10_000 < CYCLE:
                    log(f"  {client.count:,} requests, RSS {samples[-1][1] / 2**20:.1f} MiB")
        elapsed = time.monotonic() - started
        samples.append((client.count, _rss(process.pid)))
        sent = client.count
        journal = json.loads(client.call("GET", "/_mockstudio/requests", 200))
        stored = _count_pages(client, f"/v2/Flows/{INERT_FLOW}/Executions", "executions")
        messages = len(json.loads(client.call("GET", "/_mockstudio/messages", 200))["messages"])
        unexpected = dict(client.unexpected)
        client.conn.close()
    finally:
        kill_group(process)

    def at(share: float) -> tuple[int, int]:
        target = share * sent
        return min(samples, key=lambda s: abs(s[0] - target))

    quartiles = [at(q) for q in (0.25, 0.5, 0.75, 1.0)]
    growth = (quartiles[3][1] - quartiles[2][1]) / quartiles[2][1]
    mib = [f"{rss / 2**20:.1f}" for _, rss in quartiles]
    caps_ok = (
        len(journal["requests"]) == LIMITS["MOCKSTUDIO_JOURNAL_LIMIT"]
        and stored <= LIMITS["MOCKSTUDIO_ENDED_EXECUTION_LIMIT"]
        and messages <= LIMITS["MOCKSTUDIO_MESSAGE_LIMIT"]
    )
    details += [
        f"{sent:,} requests in {elapsed:.0f} s ({sent / elapsed:,.0f} req/s, one connection)",
        "RSS at 0% (after start): " + f"{samples[0][1] / 2**20:.1f} MiB",
        "RSS at 25/50/75/100%: "
        + " / ".join(f"{m} MiB (after {n:,})" for m, (n, _) in zip(mib, quartiles, strict=True)),
        f"growth over the last quartile: {100 * growth:+.2f}% (target < {100 * MAX_LAST_QUARTILE_GROWTH:.0f}%); "
        f"over the second half: {100 * (quartiles[3][1] - quartiles[1][1]) / quartiles[1][1]:+.2f}%",
        f"at the end: journal {len(journal['requests']):,} entries ({journal['dropped']:,} dropped), "
        f"inert flow {stored:,} executions listed, message log {messages:,} messages",
        "RSS every 10,000 requests (MiB): "
        + ", ".join(f"{rss / 2**20:.1f}" for n, rss in samples if n % 10_000 < CYCLE and n),
    ]
    problems = [f"{count} x {what}" for what, count in unexpected.items()]
    if not caps_ok:
        problems.append("a cap was not honoured (see the end-of-run counts)")
    if problems:
        details += [f"INVALID: {p}" for p in problems]
    verdict = "INVALID" if problems else ("pass" if growth < MAX_LAST_QUARTILE_GROWTH else "FAIL")
    row = Row(
        target=f"D. soak: RSS growth over the last quartile of {sent:,} requests with small caps < 5%",
        baseline=f"{mib[2]} MiB (75%)",
        subject=f"{mib[3]} MiB (100%); 25/50%: {mib[0]}/{mib[1]} MiB",
        ratio=f"{100 * growth:+.2f}%",
        verdict=verdict,
    )
    return Outcome("soak", [row], details)
