"""The application layer: one method per Twilio Studio operation, over per-account state.

Plain Python, no HTTP. Every mutation runs without awaiting in the middle, so on the
event loop each operation is atomic; `Studio.lock` guards callers from other threads.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import sids
from .clock import Clock
from .contexts import build_context, message_trigger, parent_trigger
from .dates import parse_filter_date
from .engine.messages import Message
from .engine.runner import Engine, EngineConfig
from .errors import (
    Conflict,
    ExecutionAlreadyActive,
    ExecutionAlreadyEnded,
    InvalidParameter,
    MissingParameter,
    NotFound,
)
from .models import ACTIVE, ENDED, PUBLISHED, Execution, Flow, FlowRevision, Step
from .paging import Page, PageRequest, SortedIndex

__all__ = ["AccountSeed", "AccountState", "FlowSeed", "Studio"]

log = logging.getLogger("mockstudio")

_KEY_SHIFT = 32  # sort key = (date_created seconds << 32) | per-account sequence number


@dataclass(frozen=True, slots=True)
class AccountSeed:
    sid: str
    auth_token: str
    api_keys: dict[str, str] = field(default_factory=dict)  # API Key SID -> secret
    friendly_name: str | None = None


@dataclass(frozen=True, slots=True)
class FlowSeed:
    sid: str
    account_sid: str
    friendly_name: str
    definition: dict[str, Any]
    status: str = PUBLISHED
    commit_message: str | None = None
    numbers: tuple[str, ...] = ()  # addresses bound to the flow for inbound messages


@dataclass(frozen=True, slots=True)
class ExecutionFilters:
    status: str | None
    date_from: int | None
    date_to: int | None
    raw: str  # canonical text the page tokens are tied to


class AccountState:
    """Everything one account owns. Rebuilt, not mutated, on reset."""

    def __init__(self, studio: Studio, seed: AccountSeed) -> None:
        self.studio = studio
        self.sid = seed.sid
        self.flows: dict[str, Flow] = {}
        self.flow_index: SortedIndex[Flow] = SortedIndex()
        self.executions: dict[str, Execution] = {}
        self.contacts: dict[str, str] = {}  # contact address -> FC SID, stable per account
        self.numbers: dict[str, str] = {}  # address -> Flow SID, for inbound messages
        # (contact, flow address) -> the execution parked waiting for that contact's reply
        self.waiting_for_reply: dict[tuple[str, str], Execution] = {}
        self._sequence = itertools.count(1)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.studio.clock.now())

    def next_key(self, seconds: int) -> int:
        return (seconds << _KEY_SHIFT) | (next(self._sequence) & 0xFFFFFFFF)

    def _flow(self, flow_sid: str) -> Flow:
        flow = self.flows.get(flow_sid)
        if flow is not None:
            return flow
        if self.studio.accept_any_flow and sids.is_sid(flow_sid, sids.FLOW):
            return self.add_flow(FlowSeed(flow_sid, self.sid, f"Auto-created flow {flow_sid}", inert_definition()))
        known = ", ".join(f"{f.sid} ({f.friendly_name})" for f in self.flows.values()) or "none"
        log.warning(
            "Flow %s not found in account %s; its flows are: %s (add it to a fixture, or run with --accept-any-flow)",
            flow_sid[:40],
            self.sid,
            known,
        )
        raise NotFound()

    def _execution(self, flow_sid: str, sid: str) -> Execution:
        flow = self._flow(flow_sid)
        execution = self.executions.get(sid)
        if execution is None or execution.flow_sid != flow.sid:
            raise NotFound()
        return execution

    def add_flow(self, seed: FlowSeed) -> Flow:
        now = self._now()
        revision = FlowRevision(
            revision=1,
            friendly_name=seed.friendly_name,
            definition=seed.definition,
            status=seed.status,
            commit_message=seed.commit_message,
            valid=True,
            errors=[],
            warnings=[],
            author_sid=None,
            date_created=now,
            date_updated=None,
        )
        flow = Flow(
            sid=seed.sid,
            account_sid=self.sid,
            friendly_name=seed.friendly_name,
            definition=seed.definition,
            status=seed.status,
            revision=1,
            commit_message=seed.commit_message,
            valid=True,
            errors=[],
            warnings=[],
            author_sid=None,
            date_created=now,
            date_updated=None,
            key=self.next_key(now),
        )
        flow.revisions.add(revision.revision, revision)
        self.flows[flow.sid] = flow
        self.flow_index.add(flow.key, flow)
        for number in seed.numbers:
            self.numbers[number] = flow.sid
        return flow

    # -- Flows (read side) --------------------------------------------------------------------

    def list_flows(self, request: PageRequest) -> Page[Flow]:
        return self.flow_index.page(request)

    def fetch_flow(self, sid: str) -> Flow:
        flow = self.flows.get(sid)
        if flow is None:
            raise NotFound()
        return flow

    # -- Executions ---------------------------------------------------------------------------

    def create_execution(self, flow_sid: str, to: str | None, from_: str | None, parameters: str | None) -> Execution:
        flow = self._flow(flow_sid)
        if not to:
            raise MissingParameter("To")
        if not from_:
            raise MissingParameter("From")
        data = parse_parameters(parameters)
        active = flow.active_by_contact.get((to, from_))
        if active is not None:
            raise ExecutionAlreadyActive(active.sid)
        revision = self._runnable_revision(flow)
        execution = self._new_execution(flow, revision, to, from_, data, self.studio.sids.new(sids.REQUEST))
        self._start(execution, revision, "incomingRequest")
        return execution

    def _runnable_revision(self, flow: Flow, which: str = "LatestPublished") -> FlowRevision:
        revision = flow.published_revision() if which != "LatestRevision" else flow.revisions.newest()
        if revision is None:
            # "a draft-only flow cannot be executed by the REST API"; code and wording chosen.
            raise Conflict(f"Flow {flow.sid} has no published revision to execute")
        return revision

    def _new_execution(
        self,
        flow: Flow,
        revision: FlowRevision,
        to: str,
        from_: str,
        data: dict[str, Any] | None,
        initiated_by: str,
        *,
        exclusive: bool = True,
    ) -> Execution:
        contact_sid = self.contacts.get(to)
        if contact_sid is None:
            contact_sid = self.contacts[to] = self.studio.sids.new(sids.CONTACT)
        now = self._now()
        execution = Execution(
            sid=self.studio.sids.new(sids.EXECUTION),
            account_sid=self.sid,
            flow_sid=flow.sid,
            contact_sid=contact_sid,
            contact_channel_address=to,
            flow_channel_address=from_,
            parameters=data,
            status=ACTIVE,
            flow_version=revision.revision,
            initiated_by=initiated_by,
            date_created=now,
            date_updated=now,
            key=self.next_key(now),
        )
        self.executions[execution.sid] = execution
        flow.executions.add(execution.key, execution)
        flow.active_executions.add(execution.key, execution)
        if exclusive:
            flow.active_by_contact[(to, from_)] = execution
        return execution

    def _start(
        self,
        execution: Execution,
        revision: FlowRevision,
        event: str,
        *,
        parent_step_sid: str | None = None,
        on_end: Any = None,
    ) -> None:
        engine = self.studio.engine
        definition = engine.definition_for(revision.definition)
        if definition is None:  # an invalid definition (only possible for drafts) ends at once
            self.end_execution(execution)
            return
        engine.start(self, execution, definition, event, parent_step_sid=parent_step_sid, on_end=on_end)

    def start_subflow(
        self,
        *,
        flow_sid: str,
        parent: Execution,
        parameters: dict[str, Any],
        parent_step_sid: str,
        revision: str,
    ) -> Execution | None:
        """A child execution for run-subflow, or None if that flow cannot run."""
        flow = self.flows.get(flow_sid)
        if flow is None:
            return None
        which = "LatestRevision" if revision in ("LatestDraft", "LatestRevision") else "LatestPublished"
        try:
            flow_revision = self._runnable_revision(flow, which)
        except Conflict:
            return None
        to, from_ = parent.contact_channel_address, parent.flow_channel_address
        child = self._new_execution(flow, flow_revision, to, from_, None, parent.sid, exclusive=False)
        child.trigger = parent_trigger(
            {
                "parameters": parameters,
                "execution_sid": parent.sid,
                "flow_sid": parent.flow_sid,
                "step_sid": parent_step_sid,
                "trigger_type": "parent",
            }
        )

        def on_end(ended: Execution) -> None:
            self.studio.engine.resume(self, parent, "completed", dict(ended.variables or {}))

        self._start(child, flow_revision, "incomingParent", parent_step_sid=parent_step_sid, on_end=on_end)
        return child

    # -- inbound messages and waiting executions ------------------------------------------------

    def remember_waiting(self, execution: Execution) -> None:
        self.waiting_for_reply[(execution.contact_channel_address, execution.flow_channel_address)] = execution

    def forget_waiting(self, execution: Execution) -> None:
        key = (execution.contact_channel_address, execution.flow_channel_address)
        if self.waiting_for_reply.get(key) is execution:
            del self.waiting_for_reply[key]

    def bind_number(self, number: str, flow_sid: str) -> None:
        self.fetch_flow(flow_sid)
        self.numbers[number] = flow_sid

    def receive_message(
        self, from_: str | None, to: str | None, body: str, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """An inbound message as Twilio's webhook would deliver it: it resumes the
        contact's execution waiting for a reply, or starts an `incomingMessage` execution
        on the flow bound to `to`. Returns (execution, "resumed" | "started", message SID)."""
        if not from_:
            raise MissingParameter("From")
        if not to:
            raise MissingParameter("To")
        engine = self.studio.engine
        message_sid = self.studio.sids.new("SM")
        inbound = {
            "Body": body,
            "From": from_,
            "To": to,
            "MessageSid": message_sid,
            "SmsMessageSid": message_sid,
            "AccountSid": self.sid,
            "NumMedia": "0",
            **(extra or {}),
        }
        waiting = self.waiting_for_reply.get((from_, to))
        if waiting is not None and engine.resume(self, waiting, "incomingMessage", {"inbound": inbound}):
            self._log_inbound(message_sid, from_, to, body, waiting)
            return waiting, "resumed", message_sid
        flow_sid = self.numbers.get(to)
        if flow_sid is None:
            raise NotFound(
                f"No flow is bound to {to[:64]}: bind one with a fixture's `numbers` or POST /_mockstudio/numbers"
            )
        flow = self._flow(flow_sid)
        active = flow.active_by_contact.get((from_, to))
        if active is not None:
            # Studio routes the message to the contact's active execution; one that is not
            # waiting for a reply has nothing to do with it.
            self._log_inbound(message_sid, from_, to, body, active)
            return active, "ignored", message_sid
        revision = self._runnable_revision(flow)
        execution = self._new_execution(flow, revision, from_, to, None, message_sid)
        execution.trigger = message_trigger(inbound)
        self._log_inbound(message_sid, from_, to, body, execution)
        self._start(execution, revision, "incomingMessage")
        return execution, "started", message_sid

    def _log_inbound(self, sid: str, from_: str, to: str, body: str, execution: Execution) -> None:
        self.studio.engine.messages.add(
            Message(
                sid,
                self.sid,
                "inbound",
                from_,
                to,
                body,
                execution.sid,
                execution.flow_sid,
                "received",
                self._now(),
            )
        )

    def execution_filters(self, status: str | None, date_from: str | None, date_to: str | None) -> ExecutionFilters:
        if status is not None:
            status = status.strip().lower()  # SDKs send lowercase; tolerate any case
            if status not in (ACTIVE, ENDED):
                raise InvalidParameter(f"Invalid status: {status!r} is not one of active, ended")
        start = parse_filter_date("DateCreatedFrom", date_from) if date_from else None
        end = parse_filter_date("DateCreatedTo", date_to) if date_to else None
        raw = f"{status or ''}|{start if start is not None else ''}|{end if end is not None else ''}"
        return ExecutionFilters(status, start, end, raw)

    def list_executions(self, flow_sid: str, filters: ExecutionFilters, request: PageRequest) -> Page[Execution]:
        flow = self._flow(flow_sid)
        index = flow.executions
        if filters.status == ACTIVE:
            index = flow.active_executions
        elif filters.status == ENDED:
            index = flow.ended_executions
        return index.page(
            request,
            key_from=None if filters.date_from is None else filters.date_from << _KEY_SHIFT,
            key_to=None if filters.date_to is None else filters.date_to << _KEY_SHIFT,
            filters=filters.raw,
        )

    def fetch_execution(self, flow_sid: str, sid: str) -> Execution:
        return self._execution(flow_sid, sid)

    def update_execution(self, flow_sid: str, sid: str, status: str | None) -> Execution:
        execution = self._execution(flow_sid, sid)
        if not status:
            raise MissingParameter("Status")
        if status != ENDED:
            # The spec's enum also lists `active`, but the docs: "Update the status of an
            # Execution to `ended`" (older spec: "Can only be `ended`").
            raise InvalidParameter(f"Invalid Status: {status!r}. An Execution can only be updated to ended")
        if execution.status == ENDED:
            raise ExecutionAlreadyEnded(execution.sid)
        self.end_execution(execution)
        self.studio.engine.stop(self, execution)
        return execution

    def end_execution(self, execution: Execution) -> None:
        flow = self.flows[execution.flow_sid]
        execution.status = ENDED
        execution.date_updated = self._now()
        flow.active_executions.remove(execution.key)
        flow.ended_executions.add(execution.key, execution)
        contact = (execution.contact_channel_address, execution.flow_channel_address)
        if flow.active_by_contact.get(contact) is execution:
            del flow.active_by_contact[contact]

    def delete_execution(self, flow_sid: str, sid: str) -> None:
        """Deletes the execution and its steps, whatever its status (allowed for active
        ones: UNCONFIRMED in §J, chosen because it is the only way to free a contact
        without ending)."""
        execution = self._execution(flow_sid, sid)
        flow = self.flows[execution.flow_sid]
        self.studio.engine.stop(self, execution)
        del self.executions[sid]
        flow.executions.remove(execution.key)
        (flow.active_executions if execution.status == ACTIVE else flow.ended_executions).remove(execution.key)
        contact = (execution.contact_channel_address, execution.flow_channel_address)
        if flow.active_by_contact.get(contact) is execution:
            del flow.active_by_contact[contact]
        execution.steps = None

    def fetch_execution_context(self, flow_sid: str, sid: str) -> tuple[Execution, dict[str, Any]]:
        execution = self._execution(flow_sid, sid)
        return execution, build_context(execution, execution.widgets, execution.variables)

    # -- Steps --------------------------------------------------------------------------------

    def list_execution_steps(
        self, flow_sid: str, execution_sid: str, request: PageRequest
    ) -> tuple[Execution, Page[Step]]:
        execution = self._execution(flow_sid, execution_sid)
        steps = execution.steps if execution.steps is not None else _EMPTY_STEPS
        return execution, steps.page(request)

    def fetch_execution_step(self, flow_sid: str, execution_sid: str, sid: str) -> tuple[Execution, Step]:
        execution = self._execution(flow_sid, execution_sid)
        step = execution.find_step(sid)
        if step is None:
            raise NotFound()
        return execution, step

    def fetch_execution_step_context(self, flow_sid: str, execution_sid: str, step_sid: str) -> tuple[Execution, Step]:
        return self.fetch_execution_step(flow_sid, execution_sid, step_sid)


_EMPTY_STEPS: SortedIndex[Step] = SortedIndex()


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


# `Parameters` reappear a few levels down in every context, step and response, and orjson
# refuses to encode anything nested deeper than 254 levels: a deeper value, accepted here,
# would make every later read of the execution's context or steps fail with a 500.
MAX_PARAMETERS_DEPTH = 100


def parse_parameters(raw: str | None) -> dict[str, Any] | None:
    """`Parameters` is JSON *text* that must hold an object (the spec: "the JSON value must
    explicitly be passed as a string"). Code and wording of the 400 are chosen (§J)."""
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidParameter("Invalid Parameters: the value is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidParameter("Invalid Parameters: the JSON value must be an object")
    # Nesting needs brackets, so only a value with many of them can be too deep.
    if raw.count("{") + raw.count("[") > MAX_PARAMETERS_DEPTH and _nested_deeper_than(value, MAX_PARAMETERS_DEPTH):
        raise InvalidParameter(
            f"Invalid Parameters: the JSON value is nested more than {MAX_PARAMETERS_DEPTH} levels deep"
        )
    return value


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects/arrays nest more than `limit` levels (the top-level object is 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class Studio:
    """All accounts' state, the credentials that reach it, and the shared services."""

    def __init__(
        self,
        *,
        clock: Clock,
        sid_factory: sids.SidFactory,
        accounts: Iterable[AccountSeed],
        flows: Iterable[FlowSeed],
        accept_any_flow: bool = False,
        engine_config: EngineConfig | None = None,
        http: Any = None,
        default_account_sid: str | None = None,
    ) -> None:
        self.clock = clock
        self.sids = sid_factory
        self.accept_any_flow = accept_any_flow
        self.lock = threading.RLock()
        self._account_seeds = list(accounts)
        # The account the control plane acts on when a request names none.
        self.default_account_sid = default_account_sid or (self._account_seeds[0].sid if self._account_seeds else "")
        self._flow_seeds = list(flows)
        self.accounts: dict[str, AccountState] = {}
        self._credentials: dict[str, tuple[str, str]] = {}  # username -> (secret, account SID)
        self.engine = Engine(self, engine_config, http)
        self.reset()

    def reset(self, account_sid: str | None = None) -> None:
        """Forget all state, or one account's, and reload the fixtures."""
        with self.lock:
            if account_sid is not None:
                if account_sid not in self.accounts:
                    raise NotFound(f"The requested resource /Accounts/{account_sid[:40]} was not found")
                self.engine.clear(account_sid)
                self._seed_account(next(a for a in self._account_seeds if a.sid == account_sid))
                return
            self.engine.clear()
            self.accounts = {}
            self._credentials = {}
            for seed in self._account_seeds:
                self._seed_account(seed)

    def _seed_account(self, seed: AccountSeed) -> None:
        account = self.accounts[seed.sid] = AccountState(self, seed)
        self._credentials[seed.sid] = (seed.auth_token, seed.sid)
        for key_sid, secret in seed.api_keys.items():
            self._credentials[key_sid] = (secret, seed.sid)
        for flow in self._flow_seeds:
            if flow.account_sid == seed.sid:
                account.add_flow(flow)

    def authenticate(self, username: str, password: str) -> AccountState | None:
        """The account these Basic-auth credentials reach (Account SID + Auth Token, or
        API Key SID + secret), or None. Secrets are compared in constant time."""
        credential = self._credentials.get(username)
        if credential is None:
            hmac.compare_digest(password.encode(), password.encode())  # keep timing independent of the username
            return None
        secret, account_sid = credential
        if not hmac.compare_digest(password.encode(), secret.encode()):
            return None
        return self.accounts.get(account_sid)
