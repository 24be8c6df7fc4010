"""A route table for the Twilio operations, as plain Starlette routes.

The Twilio routes take the raw request and read their path parameters themselves: they
validate nothing FastAPI could (a malformed SID is Twilio's 404, not a 422), are not in our
OpenAPI page (Twilio's spec describes them), and skipping FastAPI's per-request parameter
and dependency machinery keeps the hot paths at or under the framework's own floor
(see benchmarks/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Endpoint", "RouteTable"]

Endpoint = Callable[[Request], Awaitable[Response]]


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
