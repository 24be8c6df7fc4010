"""The Events v1 API's JSON (https://www.twilio.com/docs/events/api), with every `url` and
link on this server (an app sets `client.events.base_url` to it). Shapes follow Twilio's
official Events v1 OpenAPI description."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..dates import format_date
from ..events.catalogue import CATALOGUE_DATE, EventType, Schema, schema_url
from ..events.streams import Sink, SubscribedEvent, Subscription

__all__ = ["event_type", "schema", "schema_version", "sink", "subscribed_event", "subscription"]


def sink(s: Sink, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Sinks/{s.sid}"
    return {
        "date_created": format_date(s.date_created),
        "date_updated": format_date(s.date_updated),
        "description": s.description,
        "sid": s.sid,
        "sink_configuration": s.configuration,
        "sink_type": s.sink_type,
        "status": s.status,
        "url": url,
        "links": {"sink_test": url + "/Test", "sink_validate": url + "/Validate"},
    }


def subscription(s: Subscription, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Subscriptions/{s.sid}"
    return {
        "account_sid": s.account_sid,
        "sid": s.sid,
        "date_created": format_date(s.date_created),
        "date_updated": format_date(s.date_updated),
        "description": s.description,
        "sink_sid": s.sink_sid,
        "url": url,
        "links": {"subscribed_events": url + "/SubscribedEvents"},
    }


def subscribed_event(e: SubscribedEvent, base: str) -> dict[str, Any]:
    return {
        "account_sid": e.subscription.account_sid,
        "type": e.type,
        "schema_version": e.schema_version,
        "subscription_sid": e.subscription.sid,
        "url": f"{base}/v1/Subscriptions/{e.subscription.sid}/SubscribedEvents/{quote(e.type)}",
    }


def event_type(t: EventType, base: str) -> dict[str, Any]:
    date = format_date(CATALOGUE_DATE)
    return {
        "type": t.type,
        "schema_id": t.schema.id,
        "date_created": date,
        "date_updated": date,
        "description": t.description,
        "status": t.status,
        "documentation_url": t.documentation_url,
        "url": f"{base}/v1/Types/{quote(t.type)}",
        "links": {"schema": f"{base}/v1/Schemas/{quote(t.schema.id)}/Versions"},
    }


def schema(s: Schema, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Schemas/{quote(s.id)}"
    return {
        "id": s.id,
        "url": url,
        "links": {"versions": url + "/Versions"},
        "latest_version_date_created": format_date(CATALOGUE_DATE),
        "latest_version": s.latest,
    }


def schema_version(s: Schema, version: int, base: str) -> dict[str, Any]:
    return {
        "id": s.id,
        "schema_version": version,
        "date_created": format_date(CATALOGUE_DATE),
        "url": f"{base}/v1/Schemas/{quote(s.id)}/Versions/{version}",
        "raw": schema_url(s.id, version),
    }
