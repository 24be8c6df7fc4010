"""Control plane for verifying what clients did and making the Twilio API misbehave:
`/_mockstudio/requests` (the request journal) and `/_mockstudio/faults` (fault rules).
Both are per process, not per account (an account is a filter / a rule's condition)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidParameter, NotFound
from ..admin import refuse_cross_site, require_admin_token
from ..forms import read_fields
from ..journal import JournalFilter
from .deps import RuntimeDep

__all__ = ["router"]

router = APIRouter(
    prefix="/_mockstudio",
    tags=["verification and faults"],
    dependencies=[Depends(require_admin_token), Depends(refuse_cross_site)],
)


# -- the request journal ----------------------------------------------------------------------


class JournalEntry(BaseModel):
    id: int = Field(description="Increasing, in the order requests arrived")
    method: str
    path: str
    query: dict[str, str | list[str]] = Field(description="Query parameters (a repeated one: every value)")
    form: dict[str, str | list[str]] | None = Field(
        description="The form fields, as parsed (values of bodies over 16 KiB are cut to 1,024 characters); "
        "null when the route read no body (GET, DELETE, unknown routes, requests refused first)"
    )
    account_sid: str | None = Field(description="The account the credentials reached; null when they reached none")
    status: int
    time: str = Field(description="When it arrived, on the server's (virtual) clock, ISO 8601 UTC")
    duration_ms: float = Field(description="Time to answer, in real milliseconds (injected latency included)")
    matched_route: str | None = Field(
        description="The route template that matched (e.g. /v2/Flows/{FlowSid}/Executions); null: no route, "
        "i.e. a path the Twilio API does not have"
    )
    fault_id: int | None = Field(description="The fault rule that applied to it, if any")


class JournalPage(BaseModel):
    requests: list[JournalEntry] = Field(description="Oldest first")
    limit: int = Field(description="How many requests the journal keeps (MOCKSTUDIO_JOURNAL_LIMIT)")
    dropped: int = Field(description="Requests recorded since the last clear that no longer fit")


def _since(raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"Invalid since: {raw[:64]!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


@router.get("/requests", summary="The Twilio-API requests the server answered (the request journal), oldest first")
async def list_requests(
    rt: RuntimeDep,
    method: Annotated[str | None, Query(description="GET, POST or DELETE")] = None,
    path: Annotated[str | None, Query(description="Paths starting with this")] = None,
    path_contains: Annotated[str | None, Query(description="Paths containing this")] = None,
    status: Annotated[int | None, Query(description="Only this HTTP status (404: unknown flows and routes)")] = None,
    account_sid: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query(description="At or after this time on the server's clock (ISO 8601)")] = None,
    matched: Annotated[
        bool | None, Query(description="false: only requests to paths no Twilio route has (matched_route null)")
    ] = None,
) -> JournalPage:
    where = JournalFilter(
        method=method.upper() if method else None,
        path=path or None,
        path_contains=path_contains or None,
        status=status,
        account_sid=account_sid or None,
        since=_since(since),
        matched=matched,
    )
    journal = rt.journal
    return JournalPage(
        requests=[JournalEntry(**entry) for entry in journal.find(where)],
        limit=journal.limit,
        dropped=journal.dropped,
    )


@router.delete("/requests", status_code=204, summary="Clear the request journal")
async def clear_requests(
    rt: RuntimeDep, account_sid: Annotated[str | None, Query(description="Only this account's requests")] = None
) -> Response:
    rt.journal.clear(account_sid or None)
    return Response(status_code=204)


# -- fault rules ------------------------------------------------------------------------------


class FaultIn(BaseModel):
    """A fault rule. `path` (a glob) or `path_regex` is required, and `status` or
    `latency_ms` (or both)."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field("*", description="GET, POST, DELETE, or * for any")
    path: str | None = Field(
        None,
        description="Glob on the request path: * within a segment, ** across segments, e.g. /v2/Flows/*/Executions",
    )
    path_regex: str | None = Field(None, description="Or a regular expression the whole path must match")
    account_sid: str | None = Field(None, description="Only requests whose credentials reach this account")
    status: int | None = Field(None, ge=400, le=599, description="Answer with this status and a Twilio error body")
    code: int | None = Field(
        None, ge=0, description="The body's Twilio error code (default: 20000 + status; 401: 20003)"
    )
    message: str | None = Field(None, max_length=1000, description="The body's message (default: as Twilio words it)")
    retry_after: int | None = Field(None, ge=0, le=86_400, description="Retry-After header, seconds (429 default: 1)")
    latency_ms: int = Field(0, ge=0, le=60_000, description="Wait this long first (real time)")
    times: int | None = Field(
        None, ge=1, description="Apply this many times, then stay listed as exhausted; null: always"
    )
    probability: float | None = Field(None, ge=0, le=1, description="Apply to this share of matching requests")
    seed: int = Field(0, description="Seed of the rule's own random generator (probability), for reproducible runs")

    @model_validator(mode="after")
    def _complete(self) -> FaultIn:
        if (self.path is None) == (self.path_regex is None):
            raise ValueError("give exactly one of path (a glob) and path_regex")
        if self.status is None and self.latency_ms == 0:
            raise ValueError("give status (an error to answer with), latency_ms, or both")
        if self.status is None and (self.code is not None or self.message is not None or self.retry_after is not None):
            raise ValueError("code, message and retry_after need a status")
        return self


class FaultOut(BaseModel):
    id: int
    method: str
    path: str | None
    path_regex: str | None
    account_sid: str | None
    status: int | None
    code: int | None
    message: str | None
    retry_after: int | None
    latency_ms: int
    times: int | None
    probability: float | None
    seed: int
    remaining: int | None = Field(description="Uses left (null: unlimited; 0: exhausted)")
    applied: int = Field(description="Requests it applied to so far")


class FaultList(BaseModel):
    faults: list[FaultOut]


_METHODS = {"*", "ANY", "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"}


@router.post(
    "/faults",
    status_code=201,
    summary="Add a fault rule (JSON body) for the Twilio API: an error status, latency, N times or with a probability",
)
async def add_fault(request: Request, rt: RuntimeDep) -> FaultOut:
    fields: dict[str, Any] = await read_fields(request)
    try:
        rule = FaultIn.model_validate(fields)
    except ValidationError as exc:
        raise InvalidParameter(
            "Invalid fault rule: "
            + "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        ) from None
    method = rule.method.upper()
    if method not in _METHODS:
        raise InvalidParameter(f"Invalid fault rule: method: {rule.method[:16]!r} is not an HTTP method or *")
    if rule.path_regex is not None:
        try:
            re.compile(rule.path_regex)
        except re.error as exc:
            raise InvalidParameter(f"Invalid fault rule: path_regex: {exc}") from None
    retry_after = rule.retry_after
    if retry_after is None and rule.status == 429:
        retry_after = 1
    added = rt.faults.add(
        method=None if method in ("*", "ANY") else method,
        path=rule.path,
        path_regex=rule.path_regex,
        account_sid=rule.account_sid,
        status=rule.status,
        code=rule.code,
        message=rule.message,
        retry_after=retry_after,
        latency_ms=rule.latency_ms,
        times=rule.times,
        probability=rule.probability,
        seed=rule.seed,
    )
    return FaultOut(**added.describe())


@router.get("/faults", summary="The fault rules, oldest first, with their remaining and applied counts")
async def list_faults(rt: RuntimeDep) -> FaultList:
    return FaultList(faults=[FaultOut(**rule.describe()) for rule in rt.faults.rules])


@router.delete("/faults", status_code=204, summary="Remove every fault rule")
async def clear_faults(rt: RuntimeDep) -> Response:
    rt.faults.clear()
    return Response(status_code=204)


@router.delete("/faults/{fault_id}", status_code=204, summary="Remove one fault rule")
async def remove_fault(rt: RuntimeDep, fault_id: str) -> Response:
    if not (fault_id.isascii() and fault_id.isdigit() and len(fault_id) < 19 and rt.faults.remove(int(fault_id))):
        raise NotFound(f"The requested resource /_mockstudio/faults/{fault_id[:40]} was not found")
    return Response(status_code=204)
