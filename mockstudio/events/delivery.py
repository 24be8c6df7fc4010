"""Delivery of events to webhook sinks, as Event Streams delivers them
(https://www.twilio.com/docs/events/event-delivery-and-duplication,
https://www.twilio.com/docs/events/webhook-quickstart):

- a POST (or the sink's `method`) whose body is a JSON array of CloudEvents, signed with
  `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's auth token, of the
  destination URL with a `bodySHA256` query parameter (hex SHA-256 of the body) appended;
  HTTP Basic auth from `user:pass@` in the destination (the URL signed and requested is the
  destination without them);
- a 5-second timeout; 429, 5xx, timeouts and connection errors are retried with exponential
  backoff and jitter, on the virtual clock, until 4 hours after the first attempt; any other
  4xx drops the batch; at least once, in no guaranteed order;
- never in the way of an execution: publishing appends to a bounded queue per sink (events
  over its cap are dropped and counted) and one task per sink does the HTTP.

Also: in-process collectors (a test's view of every event without a web server), a bounded
delivery log, and opt-in, seeded duplicate and out-of-order delivery for testing consumers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson

from .catalogue import TEST_EVENT
from .streams import Sink
from .studio_events import Event, envelope

if TYPE_CHECKING:  # imported on first delivery: startup time for servers with no sink
    from .webhook import WebhookClient

__all__ = ["Collector", "DeliveryConfig", "DeliveryRecord", "Dispatcher", "signature", "signed_url"]

log = logging.getLogger("mockstudio")

TIMEOUT = 5.0  # seconds a sink has to answer
GIVE_UP_AFTER = 4 * 3600.0  # virtual seconds after the first attempt
_POLL = 0.25  # real seconds between looks at the clock while a retry is due later
_MAX_BATCH = 100  # events per request
# Real seconds: while events keep coming, a sink gets at most one part-full batch per 20 ms
# (a request per event or two would cost the API far more than the wait costs anybody).
_LINGER = 0.02


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    queue_limit: int = 10_000  # events waiting per sink; more are dropped and counted
    log_limit: int = 10_000  # delivery records kept (the oldest go first)
    duplicate_rate: float = 0.0  # chance that an event is delivered a second time, later
    shuffle: bool = False  # deliver each batch in a random order
    seed: int | None = None  # for duplicates, order and backoff jitter


@dataclass(slots=True)
class DeliveryRecord:
    """One event's delivery to one sink."""

    event_id: str
    type: str
    account_sid: str
    sink_sid: str
    state: str = "queued"  # queued, delivered, retrying, dropped, gave_up
    attempts: int = 0
    last_status: int | None = None  # the sink's HTTP status of the last attempt
    last_error: str | None = None  # a timeout or connection error instead
    next_retry: float | None = None  # virtual clock
    test_id: str | None = None  # a sink test's id (a sink that is not a webhook receives nothing)


# An event queued for a sink: the schema version it is sent in, and its delivery record.
_Item = tuple[Event, int, DeliveryRecord]


@dataclass(slots=True)
class _Channel:
    """One sink's queue and its worker's state."""

    sink: Sink
    pending: deque[_Item] = field(default_factory=deque)
    repeats: deque[_Item] = field(default_factory=deque)  # opt-in duplicates
    batch: list[_Item] = field(default_factory=list)
    attempts: int = 0
    first_attempt: float | None = None
    next_retry: float | None = None
    overflow: int = 0
    delivered: int = 0
    wakeup: asyncio.Event | None = None
    task: asyncio.Task[None] | None = None
    client: WebhookClient | None = None  # the worker's connection to the sink
    last_sent: float = float("-inf")  # event-loop time of the last request


class Collector:
    """Every event of an account, in the order they happened, in-process: what a test
    asserts on without running a web server (`MockStudioServer.collect_events`)."""

    def __init__(self, account_sid: str, types: Iterable[str] | None, close: Callable[[Collector], None]) -> None:
        # (Collectors are told of events on the server's loop and read from a test's thread:
        # a list's append and a copy of it are each atomic.)
        self.account_sid = account_sid
        self.types = frozenset(types) if types is not None else None
        self.events: list[dict[str, Any]] = []
        self._close = close

    def add(self, event: Event) -> None:
        if self.types is None or event.type in self.types:
            self.events.append(envelope(event, _latest(event.type)))

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type_]

    def for_execution(self, execution_sid: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["data"].get("execution_sid") == execution_sid]

    def clear(self) -> None:
        self.events.clear()

    def close(self) -> None:
        self._close(self)


def _latest(type_: str) -> int:
    from .catalogue import EVENT_TYPES

    kind = EVENT_TYPES.get(type_)
    return kind.schema.latest if kind is not None else 1


def signed_url(destination: str, body: bytes) -> tuple[str, tuple[str, str] | None]:
    """The URL requested and signed (the destination without credentials, plus
    `bodySHA256`), and the Basic-auth credentials the destination carried."""
    parts = urlsplit(destination)
    credentials = None
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        credentials = (unquote(user), unquote(password))
    digest = hashlib.sha256(body).hexdigest()
    query = f"{parts.query}&bodySHA256={digest}" if parts.query else f"bodySHA256={digest}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", query, "")), credentials


def signature(auth_token: str, url: str) -> str:
    """`X-Twilio-Signature` of a request with a JSON body (the body is covered by the URL's
    `bodySHA256`)."""
    return base64.b64encode(hmac.new(auth_token.encode(), url.encode(), hashlib.sha1).digest()).decode()


class Dispatcher:
    """Queues per sink, their workers, the delivery log and the collectors."""

    def __init__(
        self,
        *,
        now: Callable[[], float],
        auth_token_of: Callable[[str], str | None],
        config: DeliveryConfig | None = None,
    ) -> None:
        self.config = config or DeliveryConfig()
        self._now = now
        self._auth_token_of = auth_token_of
        self._random = random.Random(self.config.seed)
        self._channels: dict[str, _Channel] = {}
        self.collectors: list[Collector] = []
        self.log: deque[DeliveryRecord] = deque(maxlen=self.config.log_limit)  # oldest first
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.dropped = 0  # batches a sink refused (4xx) or that were given up on

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._loop_thread = threading.get_ident()
        for channel in self._channels.values():
            if channel.pending or channel.batch:
                self._ensure_worker(channel)

    async def aclose(self) -> None:
        tasks = [c.task for c in self._channels.values() if c.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for channel in self._channels.values():
            if channel.client is not None:
                await channel.client.aclose()
                channel.client = None

    # -- publishing -----------------------------------------------------------------------------

    def has_collectors(self, account_sid: str) -> bool:
        return any(c.account_sid == account_sid for c in self.collectors)

    def publish(self, event: Event, routes: list[tuple[Sink, dict[str, int]]]) -> None:
        """Queue `event` for each active sink subscribed to its type, and hand it to the
        account's collectors. Never waits."""
        for collector in self.collectors:
            if collector.account_sid == event.account_sid:
                collector.add(event)
        for sink, types in routes:
            version = types.get(event.type)
            if version is not None:
                self.enqueue(sink, event, version)

    def enqueue(self, sink: Sink, event: Event, version: int) -> None:
        if sink.sink_type != "webhook":  # Kinesis, Segment and email sinks are not reached
            self._record(event, sink.sid).state = "not_sent"
            return
        channel = self._channels.get(sink.sid)
        if channel is None:
            channel = self._channels[sink.sid] = _Channel(sink)
        channel.sink = sink
        if len(channel.pending) >= self.config.queue_limit:
            channel.overflow += 1
            return
        channel.pending.append((event, version, self._record(event, sink.sid)))
        if channel.task is None or channel.wakeup is None:
            self._ensure_worker(channel)
        elif not channel.wakeup.is_set():
            self._wake(channel)

    def _record(self, event: Event, sink_sid: str) -> DeliveryRecord:
        test_id = event.data.get("test_id") if event.type == TEST_EVENT else None
        record = DeliveryRecord(event.id, event.type, event.account_sid, sink_sid, test_id=test_id)
        self.log.append(record)  # (the deque lets the oldest go)
        return record

    def wake_all(self) -> None:
        """The clock moved: retries may be due."""
        for channel in self._channels.values():
            if channel.wakeup is not None and not channel.wakeup.is_set():
                self._wake(channel)

    def forget(self, account_sid: str | None) -> None:
        """A reset: drop the account's (or every) queued event and delivery record."""
        for sid, channel in list(self._channels.items()):
            if account_sid is None or channel.sink.account_sid == account_sid:
                if channel.task is not None:
                    channel.task.cancel()
                if channel.client is not None:
                    channel.client.close()
                del self._channels[sid]
        self.log = deque(
            (record for record in self.log if account_sid is not None and record.account_sid != account_sid),
            maxlen=self.config.log_limit,
        )

    def overflow(self, sink_sid: str) -> int:
        channel = self._channels.get(sink_sid)
        return channel.overflow if channel is not None else 0

    def queued(self, sink_sid: str) -> int:
        channel = self._channels.get(sink_sid)
        return len(channel.pending) + len(channel.repeats) + len(channel.batch) if channel is not None else 0

    def add_collector(
        self, account_sid: str, types: Iterable[str] | None, on_close: Callable[[], None] | None = None
    ) -> Collector:
        def remove(collector: Collector) -> None:
            if collector in self.collectors:
                self.collectors.remove(collector)
            if on_close is not None:
                on_close()

        def close(collector: Collector) -> None:  # from a test's thread too: done on the loop
            if self.loop is not None and not self._on_loop():
                self.loop.call_soon_threadsafe(remove, collector)
            else:
                remove(collector)

        collector = Collector(account_sid, types, close)
        self.collectors.append(collector)
        return collector

    # -- workers ----------------------------------------------------------------------------

    def _on_loop(self) -> bool:
        return self._loop_thread == threading.get_ident()

    def _wake(self, channel: _Channel) -> None:
        wakeup = channel.wakeup
        if wakeup is None or self.loop is None:
            return
        if self._on_loop():
            wakeup.set()
        else:
            self.loop.call_soon_threadsafe(wakeup.set)

    def _ensure_worker(self, channel: _Channel) -> None:
        loop = self.loop
        if loop is None or channel.task is not None:
            return
        if self._on_loop():
            self._spawn(channel)
        else:
            loop.call_soon_threadsafe(self._spawn, channel)

    def _spawn(self, channel: _Channel) -> None:
        if channel.task is None and self._channels.get(channel.sink.sid) is channel:
            channel.wakeup = asyncio.Event()
            channel.task = asyncio.get_running_loop().create_task(self._work(channel))

    async def _work(self, channel: _Channel) -> None:
        wakeup = channel.wakeup
        assert wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            wakeup.clear()
            if not channel.batch:
                if not channel.pending and not channel.repeats:
                    await wakeup.wait()
                    continue
                linger = channel.last_sent + _LINGER - loop.time()
                if linger > 0 and len(channel.pending) + len(channel.repeats) < _MAX_BATCH:
                    await asyncio.sleep(linger)
                    continue
                self._next_batch(channel)
            due = channel.next_retry
            if due is not None and self._now() < due:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), timeout=min(_POLL, due - self._now()))
                continue
            await self._attempt(channel)

    def _next_batch(self, channel: _Channel) -> None:
        repeats = [channel.repeats.popleft() for _ in range(min(_MAX_BATCH, len(channel.repeats)))]
        fresh = [channel.pending.popleft() for _ in range(min(_MAX_BATCH - len(repeats), len(channel.pending)))]
        config = self.config
        if config.duplicate_rate > 0:
            for item in fresh:
                if self._random.random() < config.duplicate_rate and len(channel.repeats) < config.queue_limit:
                    channel.repeats.append(item)  # delivered once more, in a later batch
        batch = repeats + fresh
        if config.shuffle:
            self._random.shuffle(batch)
        channel.batch = batch
        channel.attempts = 0
        channel.first_attempt = None
        channel.next_retry = None

    async def _attempt(self, channel: _Channel) -> None:
        sink, batch = channel.sink, channel.batch
        now = self._now()
        if channel.first_attempt is None:
            channel.first_attempt = now
        channel.attempts += 1
        channel.last_sent = asyncio.get_running_loop().time()
        status, error = await self._post(channel, [envelope(event, version) for event, version, _ in batch])
        retry = error is not None or status == 429 or (status is not None and status >= 500)
        if not retry and status is not None and status < 300:
            state, channel.next_retry = "delivered", None
            channel.delivered += len(batch)
        elif retry and self._now() - channel.first_attempt < GIVE_UP_AFTER:
            state = "retrying"
            delay = min(2.0 ** (channel.attempts - 1), 600.0) * self._random.uniform(0.5, 1.5)
            channel.next_retry = self._now() + delay
        else:
            state, channel.next_retry = ("gave_up" if retry else "dropped"), None
            self.dropped += 1
            log.warning(
                "Events: %d event(s) for sink %s %s after %d attempt(s) (last: %s)",
                len(batch), sink.sid, "given up" if retry else "dropped", channel.attempts, status or error,
            )  # fmt: skip
        next_retry = channel.next_retry
        for _, _, record in batch:
            record.state, record.attempts = state, record.attempts + 1
            record.last_status, record.last_error, record.next_retry = status, error, next_retry
        if state != "retrying":
            channel.batch = []

    async def _post(self, channel: _Channel, events: list[dict[str, Any]]) -> tuple[int | None, str | None]:
        from .webhook import WebhookClient, WebhookError  # (first delivery only: see the module's imports)

        sink = channel.sink
        body = orjson.dumps(events)
        url, credentials = signed_url(str(sink.configuration["destination"]), body)
        headers = [("Content-Type", "application/json"), ("User-Agent", "mockstudio-event-streams")]
        token = self._auth_token_of(sink.account_sid)
        if token is not None:
            headers.append(("X-Twilio-Signature", signature(token, url)))
        method = str(sink.configuration.get("method", "POST")).upper()
        if channel.client is None:
            channel.client = WebhookClient(TIMEOUT)
        try:
            return await channel.client.request(method, url, body, headers, credentials), None
        except WebhookError as exc:
            return None, str(exc)
        except Exception as exc:  # whatever a destination does, the sink's worker carries on (and retries)
            log.debug("Events: delivery to %s failed", sink.sid, exc_info=True)
            channel.client.close()
            return None, f"{type(exc).__name__}: {str(exc)[:200]}"
