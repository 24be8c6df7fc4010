"""`GET /_mockstudio/health`: liveness for container healthchecks, with no auth and no
admin token. Kept apart from the rest of the control plane (control.py), which the app
builds on first use (see api/app.py): the health route answers from the start."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from ... import __version__
from ..runtime import runtime

__all__ = ["router"]

router = APIRouter(prefix="/_mockstudio", tags=["control plane"])


class Health(BaseModel):
    status: str  # "ok", or "failing" (answered with 503)
    version: str
    # None without a state file; "ok"; "failing": its last write failed (the operation was
    # undone); "read-only": it could not be read back after that, and changes are refused.
    state_file: str | None = None
    problem: str | None = None  # what failed and what to do, when not ok


_HEALTH_SCHEMA = Health.model_json_schema()


@router.get(
    "/health",
    summary="Liveness for container healthchecks (no auth, no admin token)",
    # The schema as JSON, not `"model": Health`: FastAPI would make a model field of it, which
    # imports pydantic.v1 (a tenth of startup) to check the model is not one of its.
    responses={
        200: {"content": {"application/json": {"schema": _HEALTH_SCHEMA}}},
        503: {
            "description": "The state file's last write failed",
            "content": {"application/json": {"schema": _HEALTH_SCHEMA}},
        },
    },
)
async def health(request: Request) -> JSONResponse:
    store = runtime(request).studio.store
    body = Health(status="ok", version=__version__)
    if store is not None:
        body.state_file = "ok"
        if store.failure is not None:
            body.status = "failing"
            body.state_file = "read-only" if store.read_only else "failing"
            body.problem = (
                f"{store.failure}. Stop the server, check the disk and the state file, restore a backup "
                "or move the file away to start afresh (the server log has the details)"
            )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if body.status == "ok" else 503)
