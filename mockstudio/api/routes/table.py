"""A route table for the Twilio operations, as plain Starlette routes.

The Twilio routes take the raw request and read their path parameters themselves: they
validate nothing FastAPI could (a malformed SID is Twilio's 404, not a 422), are not in our
OpenAPI page (Twilio's spec describes them), and skipping FastAPI's per-request parameter
and dependency machinery keeps the hot paths at or under the framework's own floor
(see benchmarks/)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Endpoint", "RouteTable", "sids_fit"]

Endpoint = Callable[[Request], Awaitable[Response]]

# A member of these collections has a SID of this type (the spec's path parameter patterns,
# e.g. `^FW[0-9a-fA-F]{32}$`).
_SID_TYPES = {
    "Flows": "FW",
    "Executions": "FN",
    "Engagements": "FN",
    "Steps": "FT",
    "Sinks": "DG",
    "Subscriptions": "DF",
}
_MEMBER = re.compile(r"/(\w+)/\{(\w+)\}")
_SID_BODY = re.compile(r"[0-9a-fA-F]{32}")


def sids_fit(path: str, path_params: Mapping[str, object]) -> bool:
    """Whether the values a route template matched are SIDs of the types its path names.
    Routing does not ask (a malformed SID is answered as an unknown one: 404, as Twilio
    does), but a route that can only 404 for them does not serve the path (`Allow`)."""
    for collection, name in _MEMBER.findall(path):
        prefix = _SID_TYPES.get(collection)
        value = path_params.get(name)
        if prefix is not None and isinstance(value, str) and not _is_sid(value, prefix):
            return False
    return True


def _is_sid(value: str, prefix: str) -> bool:
    return value.startswith(prefix) and _SID_BODY.fullmatch(value, 2) is not None


class RouteTable:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(Route(path, endpoint, methods=[method], include_in_schema=False))
            return endpoint

        return register

    def get(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.add("GET", path)

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.add("POST", path)

    def delete(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.add("DELETE", path)
