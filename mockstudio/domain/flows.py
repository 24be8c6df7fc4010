"""Flows, their revisions and test users (Twilio's Flow, FlowRevision, FlowTestUser and
FlowValidate resources).

Choices where Twilio's behaviour is not documented:
- The REST API validates the definition of every revision it makes, draft or published,
  and refuses an invalid one with 400/81022 (Studio's editor can save an invalid draft;
  the API cannot). So API-made revisions are always `valid: true`, `errors: []`,
  `warnings: []`; only a fixture can load an invalid flow.
- Every create and every update that changes something (status, friendly name, definition
  or commit message) makes a new revision numbered one past the latest; an update that
  changes nothing makes none and returns the flow as it is.
- The flow's own fields (`status`, `definition`, `revision`, ...) are those of its latest
  revision; executions run the latest *published* one (`flow_version`).
"""

from __future__ import annotations

import logging
from typing import Any

from .. import jsontext, sids
from ..engine.definition import parse_definition
from ..errors import FlowValidationFailed, InvalidParameter, MissingParameter, NotFound
from .changes import FlowCreated, FlowDeleted, FlowUpdated, NumberBound, batched
from .core import AccountCore, FlowSeed
from .models import DRAFT, PUBLISHED, Flow, FlowRevision
from .paging import Page, PageRequest

__all__ = ["FlowOperations", "check_flow_definition", "definition_problems", "flow_status", "inert_definition"]

log = logging.getLogger("mockstudio")


class FlowOperations(AccountCore):
    """Flows, revisions and test users of one account."""

    def _flow(self, flow_sid: str) -> Flow:
        flow = self.flows.get(flow_sid)
        if flow is not None:
            return flow
        if self.accept_any_flow and sids.is_sid(flow_sid, sids.FLOW):
            seed = FlowSeed(flow_sid, self.sid, f"Auto-created flow {flow_sid}", inert_definition())
            return self.add_flow(seed, seeded=False)
        known = ", ".join(f"{f.sid} ({f.friendly_name})" for f in self.flows.values()) or "none"
        log.warning(
            "Flow %s not found in account %s; its flows are: %s (add it to a fixture, or run with --accept-any-flow)",
            flow_sid[:40],
            self.sid,
            known,
        )
        raise NotFound()

    def add_flow(self, seed: FlowSeed, *, seeded: bool = True) -> Flow:
        """A flow from a fixture (or `--accept-any-flow`), with revision 1. Unlike the REST
        API, a fixture may hold an invalid definition: the flow is loaded with `valid`
        false and its problems in `errors` (executions of it end at once), and a warning
        is logged. `seeded`: it comes from a fixture (rather than `--accept-any-flow`)."""
        errors = definition_problems(seed.definition)
        if errors:
            log.warning("Flow %s in account %s has an invalid definition: %s", seed.sid, self.sid, errors)
        flow = self._new_flow(seed.sid, seed.friendly_name, seed.definition, seed.status, seed.commit_message, errors)
        for number in seed.numbers:
            self.numbers[number] = flow.sid
        if self.changes.subscribers:
            self.changes.publish(FlowCreated(self.sid, flow, seeded=seeded))
        return flow

    def _new_flow(
        self,
        sid: str,
        friendly_name: str,
        definition: dict[str, Any],
        status: str,
        commit_message: str | None,
        errors: list[dict[str, str]],
    ) -> Flow:
        now = self.seconds()
        flow = Flow(
            sid=sid,
            account_sid=self.sid,
            friendly_name=friendly_name,
            definition=definition,
            status=status,
            revision=0,
            commit_message=commit_message,
            valid=not errors,
            errors=errors,
            warnings=[],
            author_sid=None,
            date_created=now,
            date_updated=None,
            key=self.next_key(now),
        )
        flow.add_revision(_revision(flow, friendly_name, definition, status, commit_message, errors, now))
        self.restore_flow(flow)
        return flow

    def list_flows(self, request: PageRequest) -> Page[Flow]:
        return self.flow_index.page(request, filters=self.sid)

    def fetch_flow(self, sid: str) -> Flow:
        return self._flow(sid)  # with --accept-any-flow, any well-formed SID exists

    def create_flow(
        self,
        friendly_name: str | None,
        status: str | None,
        definition: str | None,
        commit_message: str | None = None,
    ) -> Flow:
        """CreateFlow: a new flow with revision 1. `definition` is JSON text, as the form
        carries it. Missing parameters are reported in the spec's order (FriendlyName,
        Status, Definition) before any value is checked."""
        if not friendly_name:
            raise MissingParameter("FriendlyName")
        if not status:
            raise MissingParameter("Status")
        if not definition:
            raise MissingParameter("Definition")
        status = flow_status(status)
        parsed = check_flow_definition(definition)
        sid = self.sids.new(sids.FLOW)
        flow = self._new_flow(sid, friendly_name, parsed, status, commit_message or None, [])
        if self.changes.subscribers:
            self.changes.publish(FlowCreated(self.sid, flow))
        return flow

    def update_flow(
        self,
        sid: str,
        status: str | None,
        friendly_name: str | None = None,
        definition: str | None = None,
        commit_message: str | None = None,
    ) -> Flow:
        """UpdateFlow: `Status` is required; an absent (or empty) FriendlyName or
        Definition keeps the latest revision's. The resulting definition is validated
        whatever the status (so a flow loaded invalid from a fixture must be given a
        valid Definition). Publishing a draft is `Status=published` alone; saving a draft
        over a published flow leaves executions on the published revision."""
        flow = self.fetch_flow(sid)
        if not status:
            raise MissingParameter("Status")
        status = flow_status(status)
        name = friendly_name or flow.friendly_name
        parsed = check_flow_definition(definition) if definition else _checked(flow.definition)
        message = commit_message or None
        unchanged = (
            status == flow.status
            and name == flow.friendly_name
            and parsed == flow.definition
            and (message is None or message == flow.commit_message)
        )
        if unchanged:
            return flow
        now = self.seconds()
        flow.add_revision(_revision(flow, name, parsed, status, message, [], now))
        flow.date_updated = now
        if self.changes.subscribers:
            self.changes.publish(FlowUpdated(self.sid, flow))
        return flow

    @batched
    def delete_flow(self, sid: str) -> None:
        """DeleteFlow: the flow, its revisions and all its executions (active ones stop
        where they are, as if deleted one by one), and the addresses bound to it."""
        flow = self.fetch_flow(sid)
        self._remove_flow_executions(flow.sid)
        del self.flows[flow.sid]
        self.flow_index.remove(flow.key)
        changes = self.changes
        for number in [n for n, bound in self.numbers.items() if bound == flow.sid]:
            del self.numbers[number]
            if changes.subscribers:
                changes.publish(NumberBound(self.sid, number, None))
        if changes.subscribers:
            changes.publish(FlowDeleted(self.sid, flow))

    def list_flow_revisions(self, sid: str, request: PageRequest) -> tuple[Flow, Page[FlowRevision]]:
        """ListFlowRevision: newest revision first."""
        flow = self.fetch_flow(sid)
        return flow, flow.revisions.page(request, filters=flow.sid)

    def fetch_flow_revision(self, sid: str, revision: str) -> tuple[Flow, FlowRevision]:
        """FetchFlowRevision: `revision` is a number, `LatestPublished` or `LatestRevision`
        (exactly as the spec spells them); anything else, or a revision that does not
        exist (e.g. `LatestPublished` of a draft-only flow), is a 404."""
        flow = self.fetch_flow(sid)
        found: FlowRevision | None = None
        if revision == "LatestPublished":
            found = flow.published_revision()
        elif revision == "LatestRevision":
            found = flow.latest_revision()
        elif 0 < len(revision) <= 10 and revision.isascii() and revision.isdigit():
            found = flow.find_revision(int(revision))
        if found is None:
            raise NotFound()
        return flow, found

    def update_flow_validate(
        self,
        friendly_name: str | None,
        status: str | None,
        definition: str | None,
        commit_message: str | None = None,
    ) -> bool:
        """UpdateFlowValidate (`POST /v2/Flows/Validate`): the checks of CreateFlow without
        creating anything. True, or the error CreateFlow would raise."""
        if not friendly_name:
            raise MissingParameter("FriendlyName")
        if not status:
            raise MissingParameter("Status")
        if not definition:
            raise MissingParameter("Definition")
        flow_status(status)
        check_flow_definition(definition)
        return True

    def fetch_test_user(self, sid: str) -> Flow:
        """FetchTestUser: the flow, whose `test_users` the renderer shows."""
        return self.fetch_flow(sid)

    def update_test_user(self, sid: str, test_users: list[str] | None) -> Flow:
        """UpdateTestUser: replaces the list (`TestUsers` repeated, order kept, duplicates
        dropped). The parameter is required, so an SDK's empty list (sent as nothing) is a
        400; a single empty `TestUsers=` clears the list (chosen). A contact listed here
        runs the flow's latest revision, draft included (`_runnable_revision`)."""
        flow = self.fetch_flow(sid)
        if not test_users:
            raise MissingParameter("TestUsers")
        flow.test_users = list(dict.fromkeys(user for user in test_users if user))
        if self.changes.subscribers:
            self.changes.publish(FlowUpdated(self.sid, flow))
        return flow


def _revision(
    flow: Flow,
    friendly_name: str,
    definition: dict[str, Any],
    status: str,
    commit_message: str | None,
    errors: list[dict[str, str]],
    now: int,
) -> FlowRevision:
    return FlowRevision(
        revision=flow.revision + 1,
        friendly_name=friendly_name,
        definition=definition,
        status=status,
        commit_message=commit_message,
        valid=not errors,
        errors=errors,
        warnings=[],  # the validator reports no warnings (Studio's are editor hints)
        author_sid=None,
        date_created=now,
        date_updated=None,  # a revision never changes once made
    )


def inert_definition() -> dict[str, Any]:
    """A flow whose trigger leads nowhere: what `--accept-any-flow` runs."""
    return {
        "description": "Auto-created by mockstudio",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            }
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def flow_status(status: str) -> str:
    """A Flow `Status` (case-sensitive, as Twilio's enums are); 400/20001 otherwise
    (wording chosen)."""
    if status not in (DRAFT, PUBLISHED):
        raise InvalidParameter(f"Invalid Status: {status[:64]!r} is not one of draft, published")
    return status


def definition_problems(definition: Any) -> list[dict[str, str]]:
    """Studio's validation of a parsed definition as the problem dicts `{"message",
    "property_path"}` that a flow's `errors` and 81022's `details.errors` carry; empty when
    the definition is valid."""
    _, problems = parse_definition(definition)
    return [problem.as_dict() for problem in problems]


def check_flow_definition(text: str) -> dict[str, Any]:
    """`Definition` is JSON text holding the flow definition; parsed and validated, or
    400/81022 with every problem found (invalid or too deeply nested JSON is one problem
    at `#`)."""
    try:
        value = jsontext.loads(text)
    except jsontext.JSONDecodeError as exc:
        raise FlowValidationFailed(
            [{"message": f"the flow definition is not valid JSON: {exc}", "property_path": "#"}]
        ) from None
    except jsontext.TooDeep as exc:
        raise FlowValidationFailed([{"message": f"the flow definition: {exc}", "property_path": "#"}]) from None
    return _checked(value)


def _checked(definition: Any) -> dict[str, Any]:
    errors = definition_problems(definition)
    if errors:
        raise FlowValidationFailed(errors)
    assert isinstance(definition, dict)
    return definition
