"""`GET /_mockstudio/coverage`: flow coverage since the last reset (see mockstudio.coverage).
Per process, like the request journal: every account's flows, or one account's or one
flow's with the query parameters. Recorded only when the server runs with coverage on
(`--coverage`, `MOCKSTUDIO_COVERAGE=true`, the pytest plugin's `--mockstudio-coverage`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ...coverage import build_report
from ...errors import NotFound
from ..admin import require_admin_token
from .deps import RuntimeDep

__all__ = ["router"]

router = APIRouter(prefix="/_mockstudio", tags=["flow coverage"], dependencies=[Depends(require_admin_token)])


@router.get(
    "/coverage",
    summary="Flow coverage since the last reset: widgets entered and transitions taken, per flow",
    response_model=None,
)
async def fetch_coverage(
    rt: RuntimeDep,
    account_sid: Annotated[str | None, Query(description="Only this account's flows")] = None,
    flow_sid: Annotated[str | None, Query(description="Only this flow")] = None,
) -> dict[str, Any]:
    """`summary` (widgets entered/total, transitions taken/total, percentages) over the
    flows listed, and `flows`: each with its `summary`, its `widgets` (`name`, `type`,
    `entered`: how many times), its `transitions` (`widget`, `event`, `next` (null: the flow
    ends there), `label`, `taken`) and `never_taken` (labels)."""
    recorder = rt.coverage
    if recorder is None:
        raise NotFound(
            "Flow coverage is not recorded by this server: start it with --coverage (MOCKSTUDIO_COVERAGE=true)"
        )
    record = recorder.since_reset()
    if account_sid is not None or flow_sid is not None:
        record.flows = {
            key: shape
            for key, shape in record.flows.items()
            if (account_sid is None or key[0] == account_sid) and (flow_sid is None or key[1] == flow_sid)
        }
    return build_report(record).to_json()
