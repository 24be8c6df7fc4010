"""A webhook sink for the events benchmarks: counts the CloudEvents it is sent.

    python benchmarks/event_receiver.py --port P [--info FILE]

`POST /events` answers 200 and adds the events in its JSON array to the count;
`GET /count` returns `{"events": N, "requests": M}`. A raw ASGI app under the benchmarks'
uvicorn settings, so the receiver is never the slower side."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn
from harness import UVICORN_SETTINGS

counts = {"events": 0, "requests": 0}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        counts["requests"] += 1
        counts["events"] += body.count(b'"specversion"')
        payload = b""
    else:
        payload = json.dumps(counts).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, default=None)
    args = parser.parse_args()
    if args.info is not None:
        args.info.write_text("{}")
    uvicorn.run(app, port=args.port, **UVICORN_SETTINGS)


if __name__ == "__main__":
    main()
