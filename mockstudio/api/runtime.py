"""What the routes share, attached to the app: the state and the HTTP-level settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from ..studio import Studio

__all__ = ["Runtime", "runtime"]


@dataclass(slots=True)
class Runtime:
    studio: Studio
    public_url: str | None  # e.g. "https://mock.example:8443"; None: the request's own host
    max_body_bytes: int
    # Authorization header -> Account SID, for headers that authenticated before.
    auth_cache: dict[bytes, str] = field(default_factory=dict)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt
