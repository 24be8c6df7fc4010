"""`GET /_mockstudio/health`: liveness for container healthchecks, with no auth and no
admin token. Kept apart from the rest of the control plane (control.py), which the app
builds on first use (see api/app.py): the health route answers from the start."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ... import __version__

__all__ = ["router"]

router = APIRouter(prefix="/_mockstudio", tags=["control plane"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", summary="Liveness for container healthchecks (no auth, no admin token)")
async def health() -> Health:
    return Health(status="ok", version=__version__)
