"""Studio v1's JSON (https://www.twilio.com/docs/studio/rest-api): the same state as v2, seen
through v1's resources. v1 has no Flow definitions or revisions (a Flow shows its latest
`version`), no `flow_version` or `initiated_by` on an Execution, and a deprecated
`Engagements` resource that is the same executions under another name (same `FN` SIDs),
whose JSON says `engagement_sid` and `engagement_context` where an Execution's says
`execution_sid` and `execution_context`. Shapes follow Twilio's official v1 OpenAPI
description."""

from __future__ import annotations

from typing import Any, Literal

from ..dates import format_date
from ..domain.models import Execution, Flow, Step
from . import render

__all__ = ["ENGAGEMENTS", "EXECUTIONS", "Kind", "context", "execution", "flow", "step", "step_context"]

Kind = Literal["Executions", "Engagements"]
EXECUTIONS: Kind = "Executions"
ENGAGEMENTS: Kind = "Engagements"


def _date(seconds: int | None) -> str | None:
    return None if seconds is None else format_date(seconds)


def _noun(kind: Kind) -> str:
    return "execution" if kind == EXECUTIONS else "engagement"


def flow(f: Flow, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Flows/{f.sid}"
    return {
        "sid": f.sid,
        "account_sid": f.account_sid,
        "friendly_name": f.friendly_name,
        "status": f.status,
        "version": f.revision,
        "date_created": format_date(f.date_created),
        "date_updated": _date(f.date_updated),
        "url": url,
        "links": {"engagements": url + "/Engagements", "executions": url + "/Executions"},
    }


def execution(e: Execution, base: str, kind: Kind = EXECUTIONS) -> dict[str, Any]:
    url = _url(e, base, kind)
    return {
        "sid": e.sid,
        "account_sid": e.account_sid,
        "flow_sid": e.flow_sid,
        "contact_sid": e.contact_sid,
        "contact_channel_address": e.contact_channel_address,
        # As in v2: `{}` in every Twilio example; the live context is the Context resource.
        "context": {},
        "status": e.status,
        "date_created": format_date(e.date_created),
        "date_updated": _date(e.date_updated),
        "url": url,
        "links": {"steps": url + "/Steps", f"{_noun(kind)}_context": url + "/Context"},
    }


def _url(e: Execution, base: str, kind: Kind) -> str:
    return f"{base}/v1/Flows/{e.flow_sid}/{kind}/{e.sid}"


def context(e: Execution, value: Any, base: str, kind: Kind = EXECUTIONS) -> dict[str, Any]:
    return render.execution_context(e, value, base, url=_url(e, base, kind), owner=f"{_noun(kind)}_sid")


def step(s: Step, e: Execution, base: str, kind: Kind = EXECUTIONS) -> dict[str, Any]:
    return render.step(s, e, base, url=_url(e, base, kind), owner=f"{_noun(kind)}_sid")


def step_context(s: Step, e: Execution, base: str, kind: Kind = EXECUTIONS) -> dict[str, Any]:
    return render.step_context(s, e, base, url=_url(e, base, kind), owner=f"{_noun(kind)}_sid")
