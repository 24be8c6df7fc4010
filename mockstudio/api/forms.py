"""Request bodies: Twilio takes `application/x-www-form-urlencoded` (repeated keys for
lists); multipart is accepted too. Bodies over the configured limit get a 413."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Message

from .. import jsontext
from ..domain.paging import PageRequest, parse_page_request
from ..errors import InvalidParameter, PayloadTooLarge
from .journal import FORM_KEY
from .runtime import runtime

__all__ = ["Form", "page_request", "read_body", "read_fields", "read_form"]

# Larger bodies are journaled with each value cut to this many characters.
_JOURNAL_BODY_BYTES = 16 * 1024
_JOURNAL_VALUE_CHARS = 1024


class Form:
    """Form fields; a repeated key keeps every value."""

    __slots__ = ("_fields",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        fields: dict[str, list[str]] = {}
        for name, value in pairs:
            fields.setdefault(name, []).append(value)
        self._fields = fields

    def get(self, name: str) -> str | None:
        values = self._fields.get(name)
        return values[0] if values else None

    def first_values(self) -> dict[str, str]:
        """Each field's first value (for the control plane, whose fields never repeat)."""
        return {name: values[0] for name, values in self._fields.items()}

    def getlist(self, name: str) -> list[str]:
        return list(self._fields.get(name, ()))

    def __contains__(self, name: str) -> bool:
        return name in self._fields


async def read_body(request: Request) -> bytes:
    limit = runtime(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        # Read the body under the limit, then let Starlette parse it from a request that
        # replays it (a public constructor, rather than setting the request's private cache).
        body = await read_body(request)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            data = await Request(request.scope, replay).form()
        except Exception:  # python-multipart raises several types for malformed bodies
            raise InvalidParameter("The request body is not valid multipart/form-data") from None
        pairs = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
        request.scope[FORM_KEY] = tuple((name, _cut(value)) for name, value in pairs)
        return Form(pairs)
    body = await read_body(request)
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    # For the request journal: the body itself (one object the garbage collector does not
    # track, parsed again only if the journal is read), or for a large one its fields cut.
    if len(body) <= _JOURNAL_BODY_BYTES:
        request.scope[FORM_KEY] = body
    else:
        request.scope[FORM_KEY] = tuple((name, _cut(value)) for name, value in pairs)
    return Form(pairs)


async def read_fields(request: Request) -> dict[str, Any]:
    """Form fields (as the Twilio routes read them) or a JSON object, whichever the request
    carries (the control plane takes either)."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        return (await read_form(request)).first_values()
    body = await read_body(request)
    try:
        return jsontext.loads_object(body) if body else {}
    except jsontext.NotAnObject as exc:
        raise InvalidParameter(f"The request body: {exc}") from None


def page_request(request: Request) -> PageRequest:
    query = request.query_params
    return parse_page_request(query.get("PageSize"), query.get("Page"), query.get("PageToken"))


def _cut(value: str) -> str:
    if len(value) <= _JOURNAL_VALUE_CHARS:
        return value
    return f"{value[:_JOURNAL_VALUE_CHARS]}... ({len(value)} characters)"
