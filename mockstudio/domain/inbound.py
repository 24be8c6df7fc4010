"""Inbound channels: messages (SMS), Conversations messages and calls reaching an account,
as Twilio's webhooks would deliver them to Studio, and the addresses bound to flows."""

from __future__ import annotations

from typing import Any

from ..contexts import conversation_sid, participant_sid
from ..errors import MissingParameter, NotFound
from .changes import NumberBound, batched
from .executions import ExecutionOperations
from .models import Execution, Message

__all__ = ["InboundOperations"]


class InboundOperations(ExecutionOperations):
    """What contacts send to one account's flows."""

    def bind_number(self, number: str, flow_sid: str) -> None:
        self.fetch_flow(flow_sid)
        self.numbers[number] = flow_sid
        if self.changes.subscribers:
            self.changes.publish(NumberBound(self.sid, number, flow_sid))

    def list_numbers(self) -> dict[str, str]:
        """Addresses bound to flows (address -> Flow SID)."""
        return dict(self.numbers)

    @batched
    def receive_message(
        self, from_: str | None, to: str | None, body: str, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """An inbound message as Twilio's webhook would deliver it: it resumes the
        contact's execution waiting for a reply, or starts an `incomingMessage` execution
        on the flow bound to `to`. Returns (execution, "resumed" | "started" | "ignored",
        message SID)."""
        from_, to = _addresses(from_, to)
        sid = self.sids.new("SM")
        inbound = {
            "Body": body,
            "From": from_,
            "To": to,
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.sid,
            "NumMedia": "0",
            **(extra or {}),
        }
        execution, action = self._inbound(from_, to, sid, "incomingMessage", {"message": inbound}, inbound)
        self._log_inbound(sid, from_, to, body, execution)
        return execution, action, sid

    @batched
    def receive_conversation_message(
        self, from_: str | None, to: str | None, body: str, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """A Conversations message from participant `from_` to the flow's address `to`:
        resumes a waiting execution (its `inbound` is the message) or starts an
        `incomingConversationMessage` execution with `trigger.conversation.*`. Every
        message of a contact to an address is in the same conversation, by the same
        participant (see `conversation_sid`)."""
        from_, to = _addresses(from_, to)
        sid = self.sids.new("IM")
        conversation = {
            "ConversationSid": conversation_sid(self.sid, from_, to),
            "MessageSid": sid,
            "Body": body,
            "Author": from_,
            "ParticipantSid": participant_sid(self.sid, from_, to),
            "Source": "SDK",
            "AccountSid": self.sid,
            "From": from_,
            "To": to,
            **(extra or {}),
        }
        execution, action = self._inbound(
            from_, to, sid, "incomingConversationMessage", {"conversation": conversation}, conversation
        )
        self._log_inbound(sid, from_, to, body, execution)
        return execution, action, sid

    @batched
    def receive_call(
        self, from_: str | None, to: str | None, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """An inbound call from `from_` to the flow's number `to`: starts an `incomingCall`
        execution with `trigger.call.*`. With the flow's `flags.allow_concurrent_calls`, the
        same caller may have several active call executions."""
        from_, to = _addresses(from_, to)
        sid = self.sids.new("CA")
        call = {
            "CallSid": sid,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "AccountSid": self.sid,
            "Direction": "inbound",
            "CallStatus": "ringing",
            "ApiVersion": "2010-04-01",
            **(extra or {}),
        }
        execution, action = self._inbound(from_, to, sid, "incomingCall", {"call": call}, None)
        if action == "started":
            self.engine.calls.opened(execution, self.seconds())  # its transcript (engine/transcripts.py)
        return execution, action, sid

    def _inbound(
        self,
        from_: str,
        to: str,
        sid: str,
        event: str,
        trigger: dict[str, Any],
        reply: dict[str, Any] | None,
    ) -> tuple[Execution, str]:
        """Resume the contact's execution waiting for a reply with `reply` as its `inbound`,
        or start an execution on the flow bound to `to` with this trigger."""
        if reply is not None:
            waiting = self.executions.waiting_for_reply((from_, to))
            if waiting is not None and self.engine.resume(self, waiting, "incomingMessage", {"inbound": reply}):
                return waiting, "resumed"
        flow_sid = self.numbers.get(to)
        if flow_sid is None:
            raise NotFound(
                f"No flow is bound to {to[:64]}: bind one with a fixture's `numbers` or POST /_mockstudio/numbers"
            )
        flow = self._flow(flow_sid)
        concurrent = event == "incomingCall" and bool(
            (flow.definition.get("flags") or {}).get("allow_concurrent_calls")
        )
        active = self.executions.active_for_contact(flow.sid, (from_, to))
        if active is not None and not concurrent:
            # Studio routes it to the contact's active execution; one that is not waiting
            # for a reply has nothing to do with it.
            return active, "ignored"
        revision = self._runnable_revision(flow, from_)
        execution, new_contact = self._new_execution(flow, revision, from_, to, None, sid, exclusive=active is None)
        execution.trigger = trigger
        self._start(execution, revision, event, new_contact)
        return execution, "started"

    def _log_inbound(self, sid: str, from_: str, to: str, body: str, execution: Execution) -> None:
        self.engine.messages.add(
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
                self.seconds(),
            )
        )


def _addresses(from_: str | None, to: str | None) -> tuple[str, str]:
    if not from_:
        raise MissingParameter("From")
    if not to:
        raise MissingParameter("To")
    return from_, to
