"""The dashboard's live updates: a change-feed subscriber that turns each change into a tiny
event (what kind of thing changed, and which flow and execution) for every connected page,
streamed as Server-Sent Events by `GET /_mockstudio/ui/api/live` (routes/dashboard.py).

Events: `{"kind": K, "flow_sid": ..., "execution_sid": ...}` with K one of `execution`
(created, parked, resumed, ended), `step`, `message`, `deleted`, `flow`, `clock`, `reset`;
`ready` opens the stream and `reload` replaces what a full queue dropped. The page re-reads
what it shows when an event concerns it; the events carry no data, so a page never trusts
them for content and one that missed some only needs to read again (or reads once for two).

- Zero cost without a page: the feed subscriber is registered while at least one stream is
  open, and removed with the last one.
- Little work per change, few writes: what changes name is gathered for a moment after the
  first of a burst (each event once; less than that moment once half a queue's worth has
  gathered), then encoded once and handed to every stream as one chunk, which it writes.
- A slow or stalled page never slows the API or the engine: the subscriber only appends to
  each stream's bounded queue (never waits). A queue that fills is emptied and holds one
  `{"kind": "reload"}` instead (the page reads its whole view again), and nothing more is
  queued for that stream until it has taken that.
- Changes published from another thread (a test moving the clock) reach the streams through
  the event loop (`call_soon_threadsafe`).
- Shutdown: an open stream is a request in flight, which uvicorn waits for; `Server` ends
  every stream as uvicorn starts to shut down, so the server stops at once."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable

import uvicorn

from ..domain.accounts import Studio
from ..domain.changes import (
    Change,
    ClockMoved,
    ExecutionCreated,
    ExecutionEnded,
    ExecutionParked,
    ExecutionResumed,
    ExecutionsDeleted,
    FlowCreated,
    FlowDeleted,
    FlowUpdated,
    MessageReceived,
    MessagesCleared,
    MessageSent,
    NumberBound,
    Reset,
    StepEnded,
)

__all__ = ["HEARTBEAT_SECONDS", "QUEUE_LIMIT", "LiveFeed", "LiveStream", "Server"]

QUEUE_LIMIT = 256  # events waiting for one page, at most
HEARTBEAT_SECONDS = 15.0  # a comment line when nothing happened: proxies and the page see the stream alive
# After the first event of a burst, wait this long for more before writing: a flow running
# 1,000 steps becomes a few writes (and the page's few reads), not 1,000.
BATCH_SECONDS = 0.02

_DELETIONS_NAMED = 16  # executions deleted at once named one by one, at most

_READY = b'data: {"kind":"ready"}\n\n'
_RELOAD = b'data: {"kind":"reload"}\n\n'
_HEARTBEAT = b": heartbeat\n\n"


_Key = tuple[str, str | None, str | None]  # an event: kind, flow SID, execution SID


def _event(kind: str, flow_sid: str | None = None, execution_sid: str | None = None) -> bytes:
    # SIDs are letters and hex digits (routes and fixtures refuse any other): no escaping needed.
    text = f'data: {{"kind":"{kind}"'
    if flow_sid is not None:
        text += f',"flow_sid":"{flow_sid}"'
    if execution_sid is not None:
        text += f',"execution_sid":"{execution_sid}"'
    return (text + "}\n\n").encode()


def _keys_of(change: Change) -> list[_Key]:
    """The events a change makes (none for changes no view shows)."""
    kind = type(change)
    if kind is StepEnded:
        assert isinstance(change, StepEnded)
        return [("step", change.execution.flow_sid, change.execution.sid)]
    if kind in (ExecutionCreated, ExecutionEnded, ExecutionParked, ExecutionResumed):
        execution = change.execution  # type: ignore[attr-defined]
        return [("execution", execution.flow_sid, execution.sid)]
    if kind is ExecutionsDeleted:
        assert isinstance(change, ExecutionsDeleted)
        executions = change.executions
        if len(executions) <= _DELETIONS_NAMED:  # (a page showing one knows not to read it again)
            return [("deleted", e.flow_sid, e.sid) for e in executions]
        # A flow's deletion or the cap can remove thousands: one per flow ("some of its executions").
        return [("deleted", flow_sid, None) for flow_sid in dict.fromkeys(e.flow_sid for e in executions)]
    if kind in (MessageSent, MessageReceived):
        message = change.message  # type: ignore[attr-defined]
        return [("message", message.flow_sid, message.execution_sid)]
    if kind is MessagesCleared:
        return [("message", None, None)]
    if kind in (FlowCreated, FlowUpdated, FlowDeleted):
        return [("flow", change.flow.sid, None)]  # type: ignore[attr-defined]
    if kind is NumberBound:
        assert isinstance(change, NumberBound)
        return [("flow", change.flow_sid, None)]
    if kind is ClockMoved:
        return [("clock", None, None)]
    if kind is Reset:
        return [("reset", None, None)]
    return []


class LiveStream:
    """One page's stream: its account and its bounded queue of encoded events (chunks of
    them, with their count)."""

    __slots__ = ("account_sid", "count", "limit", "overflowed", "queue", "wakeup")

    def __init__(self, account_sid: str, limit: int) -> None:
        self.account_sid = account_sid
        self.limit = limit
        self.queue: list[bytes] = []
        self.count = 0  # events in the queue
        self.overflowed = False  # the queue holds only a reload: nothing more is needed
        self.wakeup = asyncio.Event()

    def put(self, chunk: bytes, events: int) -> None:
        if self.overflowed:
            return
        if self.count + events > self.limit:
            self.queue = [_RELOAD]
            self.count = 1
            self.overflowed = True
            self.wakeup.set()
            return
        self.queue.append(chunk)
        self.count += events
        self.wakeup.set()

    def take(self) -> bytes:
        chunk = b"".join(self.queue)
        self.queue = []
        self.count = 0
        self.overflowed = False
        self.wakeup.clear()
        return chunk


class LiveFeed:
    """The streams of the pages connected, and the change-feed subscriber that fills them."""

    def __init__(
        self,
        studio: Studio,
        *,
        queue_limit: int = QUEUE_LIMIT,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self._studio = studio
        self.queue_limit = queue_limit
        self.heartbeat_seconds = heartbeat_seconds
        self.batch_seconds = batch_seconds
        self.streams: list[LiveStream] = []
        self._gathered: dict[str | None, dict[_Key, None]] = {}  # the burst's events, by account
        self._gathered_count = 0
        self._flush_at: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.closed = False

    # -- the feed subscriber ------------------------------------------------------------------

    def __call__(self, change: Change) -> None:
        # Read the change now (its models are live objects), deliver on the loop.
        keys = _keys_of(change)
        if not keys:
            return
        if self._loop_thread == threading.get_ident():
            self._gather(change.account_sid, keys)
        elif self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
                self._loop.call_soon_threadsafe(self._gather, change.account_sid, keys)

    def _gather(self, account_sid: str | None, keys: list[_Key]) -> None:
        gathered = self._gathered.get(account_sid)
        if gathered is None:
            gathered = self._gathered[account_sid] = {}
        for key in keys:
            if key not in gathered:
                gathered[key] = None
                self._gathered_count += 1
        if self._gathered_count >= self.queue_limit // 2:
            self._flush()  # a page that keeps reading is never told to reload for a burst
        elif self._flush_at is None and self._loop is not None:
            self._flush_at = self._loop.call_later(self.batch_seconds, self._flush)

    def _flush(self) -> None:
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        gathered, self._gathered = self._gathered, {}
        self._gathered_count = 0
        for account_sid, keys in gathered.items():
            chunk = b"".join([_event(*key) for key in keys])
            for stream in self.streams:
                if account_sid is None or stream.account_sid == account_sid:
                    stream.put(chunk, len(keys))

    # -- streams ----------------------------------------------------------------------------

    def _open(self, account_sid: str) -> LiveStream:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        stream = LiveStream(account_sid, self.queue_limit)
        self.streams.append(stream)
        if self._unsubscribe is None:
            self._unsubscribe = self._studio.changes.subscribe(self)
        return stream

    def _close(self, stream: LiveStream) -> None:
        if stream in self.streams:
            self.streams.remove(stream)
        if not self.streams and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def stream(self, account_sid: str) -> AsyncIterator[bytes]:
        """The SSE body for a page of `account_sid`: `ready` once subscribed, then its events,
        batched, and a heartbeat comment when idle; ends when the server shuts down."""
        if self.closed:
            return
        stream = self._open(account_sid)
        try:
            yield _READY
            while not self.closed:
                if not stream.queue:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stream.wakeup.wait(), self.heartbeat_seconds)
                    if self.closed:
                        return
                    if not stream.queue:
                        yield _HEARTBEAT
                        continue
                yield stream.take()
        finally:
            self._close(stream)

    def close(self) -> None:
        """End every stream (and refuse new ones): the server is shutting down."""
        self.closed = True
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        for stream in self.streams:
            stream.wakeup.set()


class Server(uvicorn.Server):
    """uvicorn's server, ending the dashboard's live streams when it starts to shut down
    (else it would wait for them as for any request in flight)."""

    def __init__(self, config: uvicorn.Config, live: LiveFeed) -> None:
        super().__init__(config)
        self.live = live

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.live.close()
        await super().shutdown(sockets)
