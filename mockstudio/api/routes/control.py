"""mockstudio's own control plane under `/_mockstudio/`, described in the app's OpenAPI
docs (`/docs`). Not part of Twilio's API, so its shapes are ours."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ... import __version__
from ..runtime import Runtime
from .deps import RuntimeDep

__all__ = ["router"]

router = APIRouter(prefix="/_mockstudio", tags=["control plane"])


class Health(BaseModel):
    status: str
    version: str


class ResetResult(BaseModel):
    reset: str  # "all" or the Account SID that was reset


@router.get("/health", summary="Liveness for container healthchecks (no auth)")
async def health() -> Health:
    return Health(status="ok", version=__version__)


@router.post("/reset", summary="Forget all state (or one account's) and reload the fixtures")
async def reset(
    rt: RuntimeDep,
    account_sid: Annotated[str | None, Query(description="Reset only this account")] = None,
) -> ResetResult:
    _reset(rt, account_sid)
    return ResetResult(reset=account_sid or "all")


def _reset(rt: Runtime, account_sid: str | None) -> None:
    rt.studio.reset(account_sid)
    rt.auth_cache.clear()
