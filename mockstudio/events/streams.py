"""The Events v1 resources an app subscribes with (https://www.twilio.com/docs/events/api):
Sinks, their Test/Validate handshake, Subscriptions and their SubscribedEvents, and the
Types and Schemas catalogue. One method per Twilio operation, named after it; every check
is made before anything is stored, so a refused request leaves nothing half-created.

Choices where Twilio's behaviour is not documented (README, fidelity notes): a malformed
request is 400/20001 naming the parameter; a subscription needs an *active* sink; a sink
that subscriptions still use cannot be deleted; an item of `Types` without
`schema_version` takes the type's latest schema."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .. import jsontext, sids
from ..domain.paging import Page, PageRequest, SortedIndex
from ..errors import InvalidParameter, MissingParameter, NotFound
from ..urls import is_http_url
from .catalogue import EVENT_TYPES, SCHEMAS, EventType, Schema

__all__ = [
    "ACTIVE",
    "INITIALIZED",
    "SINK",
    "SUBSCRIPTION",
    "EventStreams",
    "Sink",
    "SinkSeed",
    "SubscribedEvent",
    "Subscription",
    "SubscriptionSeed",
]

SINK = "DG"
SUBSCRIPTION = "DF"
SINK_TYPES = ("kinesis", "webhook", "segment", "email")
INITIALIZED, VALIDATING, ACTIVE, FAILED = "initialized", "validating", "active", "failed"
SINK_STATUSES = (INITIALIZED, VALIDATING, ACTIVE, FAILED)
# What each sink type's configuration must hold (Twilio's Sink resource documentation).
_REQUIRED_CONFIGURATION = {
    "webhook": ("destination",),
    "kinesis": ("arn", "role_arn", "external_id"),
    "segment": ("write_key",),
    "email": (),
}

T = TypeVar("T")


@dataclass(slots=True)
class Sink:
    sid: str
    account_sid: str
    description: str
    sink_type: str
    configuration: dict[str, Any]
    status: str
    date_created: int
    date_updated: int
    key: int
    test_id: str | None = None  # the test event's id while the sink is being validated


@dataclass(slots=True)
class Subscription:
    sid: str
    account_sid: str
    description: str
    sink_sid: str
    date_created: int
    date_updated: int
    key: int
    types: dict[str, int] = field(default_factory=dict)  # event type -> schema version


@dataclass(frozen=True, slots=True)
class SubscribedEvent:
    subscription: Subscription
    type: str
    schema_version: int


@dataclass(frozen=True, slots=True)
class SinkSeed:
    """A sink from a fixture file (or `MOCKSTUDIO_EVENTS_WEBHOOK`): active from the start."""

    sid: str
    account_sid: str
    description: str
    sink_type: str
    configuration: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriptionSeed:
    sid: str
    account_sid: str
    description: str
    sink_sid: str
    types: tuple[tuple[str, int], ...]


class EventStreams:
    """Every account's sinks and subscriptions. `version` grows with every change, so a
    reader (the delivery's routing table) knows when to look again."""

    def __init__(
        self,
        *,
        sid_factory: sids.SidFactory,
        seconds: Callable[[], int],
        seeds: Sequence[SinkSeed | SubscriptionSeed] = (),
        send_test: Callable[[Sink, str], None] | None = None,
    ) -> None:
        self._sids = sid_factory
        self._seconds = seconds
        self._seeds = list(seeds)
        self._send_test = send_test
        self.sinks: dict[str, Sink] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.version = 0
        self._sequence = itertools.count(1)
        # Told after every change (Events watches the change feed only while sinks exist).
        self.on_change: Callable[[], None] | None = None
        self.reset(None)

    # -- state ------------------------------------------------------------------------------

    def reset(self, account_sid: str | None) -> None:
        """Forget the sinks and subscriptions made through the API (all, or one account's)
        and restore the fixtures' ones."""
        if account_sid is None:
            self.sinks, self.subscriptions = {}, {}
        else:
            self.sinks = {sid: s for sid, s in self.sinks.items() if s.account_sid != account_sid}
            self.subscriptions = {sid: s for sid, s in self.subscriptions.items() if s.account_sid != account_sid}
        for seed in self._seeds:
            if account_sid is not None and seed.account_sid != account_sid:
                continue
            now = self._seconds()
            if isinstance(seed, SinkSeed):
                self.sinks[seed.sid] = Sink(
                    seed.sid, seed.account_sid, seed.description, seed.sink_type, dict(seed.configuration),
                    ACTIVE, now, now, self._key(now),
                )  # fmt: skip
            else:
                self.subscriptions[seed.sid] = Subscription(
                    seed.sid, seed.account_sid, seed.description, seed.sink_sid, now, now, self._key(now),
                    dict(seed.types),
                )  # fmt: skip
        self._changed()

    def add_seed(self, seed: SinkSeed | SubscriptionSeed) -> None:
        """Another fixture sink or subscription (kept across resets), e.g. from
        `MOCKSTUDIO_EVENTS_WEBHOOK`."""
        self._seeds.append(seed)
        self.reset(seed.account_sid)

    def _key(self, seconds: int) -> int:
        return (seconds << 32) | next(self._sequence)

    def _changed(self) -> None:
        self.version += 1
        if self.on_change is not None:
            self.on_change()

    def _page(self, items: Iterable[T], key: Callable[[T], int], request: PageRequest, filters: str) -> Page[T]:
        index: SortedIndex[T] = SortedIndex()
        for item in sorted(items, key=key):
            index.add(key(item), item)
        return index.page(request, filters=filters)

    # -- Sinks ------------------------------------------------------------------------------

    def create_sink(
        self, account_sid: str, description: str | None, sink_configuration: str | None, sink_type: str | None
    ) -> Sink:
        """CreateSink: a sink in status `initialized` (Test, then Validate, make it active)."""
        if not description:
            raise MissingParameter("Description")
        if not sink_configuration:
            raise MissingParameter("SinkConfiguration")
        if not sink_type:
            raise MissingParameter("SinkType")
        if sink_type not in SINK_TYPES:
            raise InvalidParameter(f"Invalid SinkType: {sink_type[:64]!r} is not one of {', '.join(SINK_TYPES)}")
        configuration = sink_configuration_of(sink_type, sink_configuration)
        now = self._seconds()
        sink = Sink(
            self._sids.new(SINK), account_sid, description, sink_type, configuration, INITIALIZED, now, now,
            self._key(now),
        )  # fmt: skip
        self.sinks[sink.sid] = sink
        self._changed()
        return sink

    def list_sink(self, account_sid: str, in_use: str | None, status: str | None, request: PageRequest) -> Page[Sink]:
        """ListSink, filtered by `InUse` (a subscription targets it) and `Status`."""
        wanted_use = _boolean("InUse", in_use) if in_use is not None else None
        if status is not None and status not in SINK_STATUSES:
            raise InvalidParameter(f"Invalid Status: {status[:64]!r} is not one of {', '.join(SINK_STATUSES)}")
        used = {s.sink_sid for s in self.subscriptions.values()}
        found = [
            sink
            for sink in self.sinks.values()
            if sink.account_sid == account_sid
            and (wanted_use is None or (sink.sid in used) == wanted_use)
            and (status is None or sink.status == status)
        ]
        return self._page(found, _key_of, request, f"{account_sid}|{wanted_use}|{status}")

    def fetch_sink(self, account_sid: str, sid: str) -> Sink:
        sink = self.sinks.get(sid)
        if sink is None or sink.account_sid != account_sid:
            raise NotFound()
        return sink

    def update_sink(self, account_sid: str, sid: str, description: str | None) -> Sink:
        sink = self.fetch_sink(account_sid, sid)
        if not description:
            raise MissingParameter("Description")
        sink.description = description
        sink.date_updated = self._seconds()
        self._changed()
        return sink

    def delete_sink(self, account_sid: str, sid: str) -> None:
        sink = self.fetch_sink(account_sid, sid)
        users = [s.sid for s in self.subscriptions.values() if s.sink_sid == sink.sid]
        if users:
            raise InvalidParameter(
                f"Sink {sink.sid} is in use by subscription {users[0]}: delete its subscriptions first"
            )
        del self.sinks[sink.sid]
        self._changed()

    def create_sink_test(self, account_sid: str, sid: str) -> str:
        """CreateSinkTest: sends the sink a `com.twilio.eventstreams.test-event` whose
        `data.test_id` the sink's owner passes to Validate; the sink is `validating` until
        then. Returns the result, `submitted`."""
        sink = self.fetch_sink(account_sid, sid)
        sink.test_id = str(uuid.uuid4())
        if sink.status != ACTIVE:
            sink.status = VALIDATING
        sink.date_updated = self._seconds()
        self._changed()
        if self._send_test is not None:
            self._send_test(sink, sink.test_id)
        return "submitted"

    def create_sink_validate(self, account_sid: str, sid: str, test_id: str | None) -> str:
        """CreateSinkValidate: the test event's id makes the sink `active`."""
        sink = self.fetch_sink(account_sid, sid)
        if not test_id:
            raise MissingParameter("TestId")
        if sink.test_id is None:
            raise InvalidParameter(f"Sink {sink.sid} has no test to validate: POST /v1/Sinks/{sink.sid}/Test first")
        if test_id != sink.test_id:
            raise InvalidParameter(f"Invalid TestId: {test_id[:64]!r} is not the id of sink {sink.sid}'s last test")
        sink.status, sink.test_id = ACTIVE, None
        sink.date_updated = self._seconds()
        self._changed()
        return "valid"

    # -- Subscriptions ----------------------------------------------------------------------

    def create_subscription(
        self, account_sid: str, description: str | None, sink_sid: str | None, types: Sequence[str] | None
    ) -> Subscription:
        if not description:
            raise MissingParameter("Description")
        if not sink_sid:
            raise MissingParameter("SinkSid")
        if not types:
            raise MissingParameter("Types")
        sink = self.sinks.get(sink_sid)
        if sink is None or sink.account_sid != account_sid:
            raise InvalidParameter(f"Invalid SinkSid: no sink {sink_sid[:40]} in this account")
        if sink.status != ACTIVE:
            raise InvalidParameter(
                f"Sink {sink.sid} is {sink.status}, not active: test and validate it first "
                f"(POST /v1/Sinks/{sink.sid}/Test, then /Validate)"
            )
        subscribed = dict(subscribed_type(item) for item in types)
        now = self._seconds()
        subscription = Subscription(
            self._sids.new(SUBSCRIPTION), account_sid, description, sink.sid, now, now, self._key(now), subscribed
        )
        self.subscriptions[subscription.sid] = subscription
        self._changed()
        return subscription

    def list_subscription(self, account_sid: str, sink_sid: str | None, request: PageRequest) -> Page[Subscription]:
        found = [
            s
            for s in self.subscriptions.values()
            if s.account_sid == account_sid and (sink_sid is None or s.sink_sid == sink_sid)
        ]
        return self._page(found, _key_of, request, f"{account_sid}|{sink_sid}")

    def fetch_subscription(self, account_sid: str, sid: str) -> Subscription:
        subscription = self.subscriptions.get(sid)
        if subscription is None or subscription.account_sid != account_sid:
            raise NotFound()
        return subscription

    def update_subscription(self, account_sid: str, sid: str, description: str | None) -> Subscription:
        subscription = self.fetch_subscription(account_sid, sid)
        if description:
            subscription.description = description
            subscription.date_updated = self._seconds()
            self._changed()
        return subscription

    def delete_subscription(self, account_sid: str, sid: str) -> None:
        subscription = self.fetch_subscription(account_sid, sid)
        del self.subscriptions[subscription.sid]
        self._changed()

    # -- SubscribedEvents -------------------------------------------------------------------

    def list_subscribed_event(
        self, account_sid: str, subscription_sid: str, request: PageRequest
    ) -> Page[SubscribedEvent]:
        subscription = self.fetch_subscription(account_sid, subscription_sid)
        items = [SubscribedEvent(subscription, kind, version) for kind, version in subscription.types.items()]
        positions = {item.type: len(items) - at for at, item in enumerate(items)}  # in the order subscribed
        return self._page(items, lambda item: positions[item.type], request, subscription.sid)

    def create_subscribed_event(
        self, account_sid: str, subscription_sid: str, type_: str | None, schema_version: str | None
    ) -> SubscribedEvent:
        subscription = self.fetch_subscription(account_sid, subscription_sid)
        if not type_:
            raise MissingParameter("Type")
        kind = _event_type(type_)
        version = _schema_version(kind, schema_version)
        subscription.types[kind.type] = version
        subscription.date_updated = self._seconds()
        self._changed()
        return SubscribedEvent(subscription, kind.type, version)

    def fetch_subscribed_event(self, account_sid: str, subscription_sid: str, type_: str) -> SubscribedEvent:
        subscription = self.fetch_subscription(account_sid, subscription_sid)
        version = subscription.types.get(type_)
        if version is None:
            raise NotFound()
        return SubscribedEvent(subscription, type_, version)

    def update_subscribed_event(
        self, account_sid: str, subscription_sid: str, type_: str, schema_version: str | None
    ) -> SubscribedEvent:
        event = self.fetch_subscribed_event(account_sid, subscription_sid, type_)
        if schema_version is None or schema_version == "":
            return event
        version = _schema_version(EVENT_TYPES[type_], schema_version)
        event.subscription.types[type_] = version
        self._changed()
        return SubscribedEvent(event.subscription, type_, version)

    def delete_subscribed_event(self, account_sid: str, subscription_sid: str, type_: str) -> None:
        event = self.fetch_subscribed_event(account_sid, subscription_sid, type_)
        del event.subscription.types[type_]
        self._changed()

    # -- Types and Schemas --------------------------------------------------------------------

    def list_event_type(self, schema_id: str | None, request: PageRequest) -> Page[EventType]:
        kinds = [k for k in EVENT_TYPES.values() if schema_id is None or k.schema.id == schema_id]
        positions = {k.type: len(kinds) - at for at, k in enumerate(kinds)}
        return self._page(kinds, lambda k: positions[k.type], request, schema_id or "")

    def fetch_event_type(self, type_: str) -> EventType:
        kind = EVENT_TYPES.get(type_)
        if kind is None:
            raise NotFound()
        return kind

    def fetch_schema(self, id_: str) -> Schema:
        schema = SCHEMAS.get(id_)
        if schema is None:
            raise NotFound()
        return schema

    def list_schema_version(self, id_: str, request: PageRequest) -> tuple[Schema, Page[int]]:
        schema = self.fetch_schema(id_)
        return schema, self._page(schema.versions, lambda v: v, request, schema.id)

    def fetch_schema_version(self, id_: str, version: str) -> tuple[Schema, int]:
        schema = self.fetch_schema(id_)
        if not (version.isascii() and version.isdigit()) or int(version) not in schema.versions:
            raise NotFound()
        return schema, int(version)

    # -- for delivery -----------------------------------------------------------------------

    def routes(self, account_sid: str) -> list[tuple[Sink, dict[str, int]]]:
        """The account's active sinks with the types (and schema versions) subscribed to
        them, merged over their subscriptions."""
        wanted: dict[str, dict[str, int]] = {}
        for subscription in self.subscriptions.values():
            if subscription.account_sid == account_sid and subscription.types:
                wanted.setdefault(subscription.sink_sid, {}).update(subscription.types)
        return [
            (self.sinks[sid], types)
            for sid, types in wanted.items()
            if sid in self.sinks and self.sinks[sid].status == ACTIVE
        ]


def _key_of(item: Sink | Subscription) -> int:
    return item.key


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise InvalidParameter(f"Invalid {name}: {raw[:64]!r} is not true or false")


def _event_type(name: str) -> EventType:
    kind = EVENT_TYPES.get(name)
    if kind is None:
        raise InvalidParameter(f"Invalid Type: {name[:128]!r} is not an event type this account can subscribe to")
    return kind


def _schema_version(kind: EventType, raw: Any) -> int:
    if raw is None or raw == "":
        return kind.schema.latest
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit())
    ):
        raise InvalidParameter(f"Invalid SchemaVersion: {str(raw)[:32]!r} is not a number")
    version = int(raw)
    if version not in kind.schema.versions:
        versions = ", ".join(map(str, kind.schema.versions))
        raise InvalidParameter(f"Invalid SchemaVersion: {kind.type} has schema versions {versions}, not {version}")
    return version


def subscribed_type(item: str) -> tuple[str, int]:
    """One item of a subscription's `Types`: JSON text `{"type": ..., "schema_version": n}`
    (as the SDKs send it), or a bare type name (its latest schema)."""
    text = item.strip()
    if not text.startswith("{"):
        kind = _event_type(text)
        return kind.type, kind.schema.latest
    try:
        value = jsontext.loads_object(text)
    except jsontext.NotAnObject as exc:
        raise InvalidParameter(f"Invalid Types: {exc}") from None
    name = value.get("type")
    if not isinstance(name, str) or not name:
        raise InvalidParameter('Invalid Types: each item needs a "type"')
    kind = _event_type(name)
    return kind.type, _schema_version(kind, value.get("schema_version"))


def sink_configuration_of(sink_type: str, text: str) -> dict[str, Any]:
    """`SinkConfiguration` (JSON text) checked for its sink type."""
    try:
        configuration = jsontext.loads_object(text)
    except jsontext.NotAnObject as exc:
        raise InvalidParameter(f"Invalid SinkConfiguration: {exc}") from None
    return checked_configuration(sink_type, configuration)


def checked_configuration(sink_type: str, configuration: dict[str, Any]) -> dict[str, Any]:
    for name in _REQUIRED_CONFIGURATION[sink_type]:
        if not isinstance(configuration.get(name), str) or not configuration[name]:
            raise InvalidParameter(f"Invalid SinkConfiguration: a {sink_type} sink needs {name!r}")
    if sink_type == "webhook":
        destination = configuration["destination"]
        if not is_http_url(destination):
            raise InvalidParameter(
                f"Invalid SinkConfiguration: destination {destination[:128]!r} is not an http(s) URL"
            )
        method = configuration.get("method", "POST")
        if not isinstance(method, str) or method.upper() not in ("POST", "GET"):
            raise InvalidParameter("Invalid SinkConfiguration: method must be POST or GET")
    return configuration
