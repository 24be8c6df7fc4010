"""A route table for the Twilio operations, as plain Starlette routes.

The Twilio routes take the raw request and read their path parameters themselves: they
validate nothing FastAPI could (a malformed SID is Twilio's 404, not a 422), are not in our
OpenAPI page (Twilio's spec describes them), and skipping FastAPI's per-request parameter
and dependency machinery keeps the hot paths at or under the framework's own floor
(see benchmarks/)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Endpoint", "RouteTable", "template"]

Endpoint = Callable[[Request], Awaitable[Response]]


class _SidConvertor(Convertor[str]):
    """A path parameter that only matches a SID of one type (Twilio's spec gives each one
    the pattern `^FW[0-9a-fA-F]{32}$` and so on): `/v2/Flows/Validate` is then no flow's
    path, and a route's methods are only those that can serve the path."""

    def __init__(self, prefix: str) -> None:
        self.regex = prefix + "[0-9a-fA-F]{32}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


# The SID type of a path parameter follows from the collection it is a member of.
_SID_PREFIX = {"Flows": "FW", "Executions": "FN", "Steps": "FT"}
for _prefix in _SID_PREFIX.values():
    register_url_convertor(f"sid_{_prefix}", _SidConvertor(_prefix))

_PARAMETER = re.compile(r"(?<=/)(\w+)/\{(\w+)\}")
_TYPED = re.compile(r"\{(\w+):\w+\}")


def _typed(path: str) -> str:
    """`/v2/Flows/{Sid}/Executions/{ExecutionSid}` -> `/v2/Flows/{Sid:sid_FW}/Executions/{ExecutionSid:sid_FN}`."""

    def typed(match: re.Match[str]) -> str:
        collection, name = match.group(1), match.group(2)
        prefix = _SID_PREFIX.get(collection)
        return f"{collection}/{{{name}:sid_{prefix}}}" if prefix else match.group(0)

    return _PARAMETER.sub(typed, path)


def template(path: str) -> str:
    """A route's path as Twilio's spec writes it (without the SID convertors)."""
    return _TYPED.sub(r"{\1}", path)


class RouteTable:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def _add(self, method: str, path: str) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(Route(_typed(path), endpoint, methods=[method], include_in_schema=False))
            return endpoint

        return register

    def get(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self._add("GET", path)

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self._add("POST", path)

    def delete(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self._add("DELETE", path)
