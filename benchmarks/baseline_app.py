"""The bare FastAPI apps mockstudio is measured against.

    python benchmarks/baseline_app.py fetch|form --port P

Each app has exactly one `async def` route. The routes use the same path templates as
mockstudio's (so wrk sends byte-identical requests to both, and FastAPI does the same
routing and path-parameter work); what differs is only what the handler does. The server
runs under harness.UVICORN_SETTINGS, exactly like serve_populated.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Form
from harness import UVICORN_SETTINGS

# Target 4's baseline, run as `python -c STARTUP_SCRIPT PORT` the way `python -m mockstudio`
# is run: uvicorn.run with its defaults (mockstudio's CLI defaults are the same: log level
# info, access log on).
STARTUP_SCRIPT = """\
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok"}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]))
"""


def fetch_app() -> FastAPI:
    app = FastAPI()

    @app.get("/v2/Flows/{FlowSid}/Executions/{Sid}")
    async def fetch(FlowSid: str, Sid: str) -> dict[str, Any]:
        return {"sid": Sid, "status": "active"}

    return app


def form_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v2/Flows/{FlowSid}/Executions")
    async def create(
        FlowSid: str,
        To: Annotated[str, Form()],
        From: Annotated[str, Form()],
        Parameters: Annotated[str, Form()],
    ) -> dict[str, Any]:
        return {"to": To, "from": From, "status": "active"}

    return app


APPS = {"fetch": fetch_app, "form": form_app}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, default=None)
    args = parser.parse_args()
    app = APPS[args.app]()
    if args.info is not None:
        args.info.write_text(json.dumps({"app": args.app}))
    uvicorn.run(app, port=args.port, **UVICORN_SETTINGS)


if __name__ == "__main__":
    main()
