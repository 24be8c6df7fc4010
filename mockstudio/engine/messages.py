"""The message log: every message flows send and contacts send back, per account,
bounded (oldest dropped first)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from ..domain.changes import ChangeFeed, MessageReceived, MessagesCleared, MessageSent
from ..domain.models import Message

__all__ = ["Message", "MessageLog"]


class MessageLog:
    def __init__(self, limit: int, changes: ChangeFeed | None = None) -> None:
        self.limit = limit
        self.changes = changes if changes is not None else ChangeFeed()
        self._messages: dict[str, deque[Message]] = {}

    def add(self, message: Message) -> None:
        self._append(message)
        subscribers = self.changes.subscribers
        if subscribers:
            change = (MessageSent if message.direction == "outbound" else MessageReceived)(message.account_sid, message)
            for subscriber in subscribers:
                subscriber(change)

    def restore(self, messages: Iterable[Message]) -> None:
        """Messages loaded from the state file (oldest first)."""
        for message in messages:
            self._append(message)

    def _append(self, message: Message) -> None:
        log = self._messages.get(message.account_sid)
        if log is None:
            log = self._messages[message.account_sid] = deque(maxlen=self.limit)
        log.append(message)

    def list(
        self,
        account_sid: str,
        *,
        contact: str | None = None,
        flow_sid: str | None = None,
        execution_sid: str | None = None,
    ) -> list[Message]:
        out = []
        for message in self._messages.get(account_sid, ()):
            if flow_sid is not None and message.flow_sid != flow_sid:
                continue
            if execution_sid is not None and message.execution_sid != execution_sid:
                continue
            if contact is not None and contact not in (message.from_, message.to):
                continue
            out.append(message)
        return out

    def clear(self, account_sid: str | None = None) -> None:
        if account_sid is None:
            self._messages.clear()
        else:
            self._messages.pop(account_sid, None)
        if self.changes.subscribers:
            self.changes.publish(MessagesCleared(account_sid))
