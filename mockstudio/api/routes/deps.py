"""`Annotated` dependency aliases for the control-plane routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from ..runtime import Runtime, runtime

__all__ = ["RuntimeDep", "accepts_changes"]

RuntimeDep = Annotated[Runtime, Depends(runtime)]


def accepts_changes(request: Request) -> None:
    """Refuse a change (any method but GET) up front, before it touches the state, while
    the state file refuses them (Studio.check_accepts_changes)."""
    if request.method not in ("GET", "HEAD"):
        runtime(request).studio.check_accepts_changes()
