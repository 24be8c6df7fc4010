"""Studio Events put together: the Events v1 resources (streams.py), the change-feed
subscriber that makes Studio's events (studio_events.py) and their delivery (delivery.py).

The subscriber is on the change feed only while something can receive an event (a sink
exists, or a collector is open): a server nobody subscribed to pays nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from ..domain.accounts import Studio
from ..domain.changes import (
    ClockMoved,
    ExecutionCreated,
    ExecutionEnded,
    Reset,
    StepEnded,
)
from ..sids import RandomSids, SeededSids, SidFactory
from .catalogue import EVENT_TYPES
from .delivery import Collector, DeliveryConfig, Dispatcher
from .streams import EventStreams, Sink, SinkSeed, SubscriptionSeed
from .studio_events import EVENT, event_of, test_event

__all__ = ["Events", "webhook_seeds"]

_MAKES_EVENTS = (StepEnded, ExecutionCreated, ExecutionEnded)


class Events:
    def __init__(
        self,
        studio: Studio,
        *,
        seeds: Sequence[SinkSeed | SubscriptionSeed] = (),
        config: DeliveryConfig | None = None,
    ) -> None:
        self._studio = studio
        self._now = studio.clock.now
        config = config or DeliveryConfig()
        self._ids: SidFactory = SeededSids(config.seed) if config.seed is not None else RandomSids()
        self.dispatcher = Dispatcher(now=self._now, auth_token_of=self._auth_token_of, config=config)
        self.streams = EventStreams(
            sid_factory=studio.sids, seconds=studio.seconds, seeds=seeds, send_test=self._send_test
        )
        self._routes: dict[str, tuple[int, list[tuple[Sink, dict[str, int]]]]] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self.streams.on_change = self.watch
        self.watch()

    # -- the feed subscriber --------------------------------------------------------------

    def watch(self) -> None:
        """Be on the change feed exactly while a sink or a collector could receive events
        (called after anything that adds or removes one)."""
        wanted = bool(self.streams.sinks) or bool(self.dispatcher.collectors)
        if wanted and self._unsubscribe is None:
            self._unsubscribe = self._studio.changes.subscribe(self)
        elif not wanted and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def __call__(self, change: object) -> None:
        kind = type(change)
        if kind in _MAKES_EVENTS:
            account_sid: str = change.account_sid  # type: ignore[attr-defined]
            routes = self._routes_of(account_sid)
            if not routes and not self.dispatcher.has_collectors(account_sid):
                return
            event = event_of(change, self._ids.new(EVENT), self._now())
            if event is not None:
                self.dispatcher.publish(event, routes)
        elif kind is ClockMoved:
            self.dispatcher.wake_all()
        elif kind is Reset:
            assert isinstance(change, Reset)
            self.streams.reset(change.account_sid)
            self.dispatcher.forget(change.account_sid)
            self.watch()

    def _routes_of(self, account_sid: str) -> list[tuple[Sink, dict[str, int]]]:
        version = self.streams.version
        cached = self._routes.get(account_sid)
        if cached is None or cached[0] != version:
            cached = self._routes[account_sid] = (version, self.streams.routes(account_sid))
        return cached[1]

    def _auth_token_of(self, account_sid: str) -> str | None:
        account = self._studio.accounts.get(account_sid)
        return account.auth_token if account is not None else None

    def _send_test(self, sink: Sink, test_id: str) -> None:
        event = test_event(self._ids.new(EVENT), sink.account_sid, test_id, self._now())
        self.dispatcher.enqueue(sink, event, 1)

    # -- for tests and the control plane ---------------------------------------------------------

    def collect(self, account_sid: str, types: Iterable[str] | None = None) -> Collector:
        """Every Studio event of the account from now on, in-process (close it when done)."""
        if types is not None:
            types = list(types)
            unknown = [t for t in types if t not in EVENT_TYPES]
            if unknown:
                raise ValueError(f"unknown event types: {', '.join(unknown)}")
        collector = self.dispatcher.add_collector(account_sid, types, on_close=self.watch)
        self.watch()
        return collector

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.dispatcher.start(asyncio.get_running_loop())

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.dispatcher.aclose()


def webhook_seeds(url: str, account_sid: str) -> list[SinkSeed | SubscriptionSeed]:
    """`MOCKSTUDIO_EVENTS_WEBHOOK`: an active webhook sink at `url` subscribed to every
    Studio event type (latest schemas) of the account."""
    sink = SinkSeed("DG" + "e" * 32, account_sid, "MOCKSTUDIO_EVENTS_WEBHOOK", "webhook", {"destination": url})
    types = tuple((kind.type, kind.schema.latest) for kind in EVENT_TYPES.values())
    return [sink, SubscriptionSeed("DF" + "e" * 32, account_sid, "All Studio events", sink.sid, types)]
