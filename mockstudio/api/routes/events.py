"""`/v1/Sinks`, `/v1/Subscriptions`, `/v1/Types`, `/v1/Schemas`: Twilio's Events v1 API
(https://www.twilio.com/docs/events/api), on the same server as Studio, so an app that sets
`client.events.base_url` to it subscribes to Studio Events as it would in production. Each
route authenticates, calls the Event Streams operation of the same name and renders."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from ...domain.paging import Page
from .. import render, render_events
from ..auth import authenticate
from ..forms import page_request, read_form
from ..runtime import runtime
from .table import RouteTable

__all__ = ["router"]

router = RouteTable()


def _page(
    request: Request, key: str, items: list[dict[str, Any]], result: Page[Any], filters: list[tuple[str, str]]
) -> Response:
    base = render.base_url(request)
    return render.TwilioJSON(render.page(key, items, result, base, request.url.path, filters))


# -- Sinks -------------------------------------------------------------------------------------


@router.post("/v1/Sinks")
async def create_sink(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    sink = runtime(request).events.streams.create_sink(
        account.sid, form.get("Description"), form.get("SinkConfiguration"), form.get("SinkType")
    )
    return render.TwilioJSON(render_events.sink(sink, render.base_url(request)), status_code=201)


@router.get("/v1/Sinks")
async def list_sink(request: Request) -> Response:
    account = authenticate(request)
    query = request.query_params
    in_use, status = query.get("InUse"), query.get("Status")
    result = runtime(request).events.streams.list_sink(account.sid, in_use, status, page_request(request))
    base = render.base_url(request)
    filters = [(name, value) for name, value in (("InUse", in_use), ("Status", status)) if value is not None]
    items = [render_events.sink(s, base) for s in result.items]
    return _page(request, "sinks", items, result, filters)


@router.get("/v1/Sinks/{Sid}")
async def fetch_sink(request: Request) -> Response:
    account = authenticate(request)
    sink = runtime(request).events.streams.fetch_sink(account.sid, request.path_params["Sid"])
    return render.TwilioJSON(render_events.sink(sink, render.base_url(request)))


@router.post("/v1/Sinks/{Sid}")
async def update_sink(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    streams = runtime(request).events.streams
    sink = streams.update_sink(account.sid, request.path_params["Sid"], form.get("Description"))
    return render.TwilioJSON(render_events.sink(sink, render.base_url(request)))


@router.delete("/v1/Sinks/{Sid}")
async def delete_sink(request: Request) -> Response:
    account = authenticate(request)
    runtime(request).events.streams.delete_sink(account.sid, request.path_params["Sid"])
    return Response(status_code=204)


@router.post("/v1/Sinks/{Sid}/Test")
async def create_sink_test(request: Request) -> Response:
    account = authenticate(request)
    await read_form(request)
    result = runtime(request).events.streams.create_sink_test(account.sid, request.path_params["Sid"])
    return render.TwilioJSON({"result": result}, status_code=201)


@router.post("/v1/Sinks/{Sid}/Validate")
async def create_sink_validate(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    streams = runtime(request).events.streams
    result = streams.create_sink_validate(account.sid, request.path_params["Sid"], form.get("TestId"))
    return render.TwilioJSON({"result": result}, status_code=201)


# -- Subscriptions -----------------------------------------------------------------------------


@router.post("/v1/Subscriptions")
async def create_subscription(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    subscription = runtime(request).events.streams.create_subscription(
        account.sid, form.get("Description"), form.get("SinkSid"), form.getlist("Types")
    )
    return render.TwilioJSON(render_events.subscription(subscription, render.base_url(request)), status_code=201)


@router.get("/v1/Subscriptions")
async def list_subscription(request: Request) -> Response:
    account = authenticate(request)
    sink_sid = request.query_params.get("SinkSid")
    result = runtime(request).events.streams.list_subscription(account.sid, sink_sid, page_request(request))
    base = render.base_url(request)
    items = [render_events.subscription(s, base) for s in result.items]
    return _page(request, "subscriptions", items, result, [("SinkSid", sink_sid)] if sink_sid is not None else [])


@router.get("/v1/Subscriptions/{Sid}")
async def fetch_subscription(request: Request) -> Response:
    account = authenticate(request)
    subscription = runtime(request).events.streams.fetch_subscription(account.sid, request.path_params["Sid"])
    return render.TwilioJSON(render_events.subscription(subscription, render.base_url(request)))


@router.post("/v1/Subscriptions/{Sid}")
async def update_subscription(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    streams = runtime(request).events.streams
    subscription = streams.update_subscription(account.sid, request.path_params["Sid"], form.get("Description"))
    return render.TwilioJSON(render_events.subscription(subscription, render.base_url(request)))


@router.delete("/v1/Subscriptions/{Sid}")
async def delete_subscription(request: Request) -> Response:
    account = authenticate(request)
    runtime(request).events.streams.delete_subscription(account.sid, request.path_params["Sid"])
    return Response(status_code=204)


# -- SubscribedEvents --------------------------------------------------------------------------

_SUBSCRIBED = "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents"


@router.get(_SUBSCRIBED)
async def list_subscribed_event(request: Request) -> Response:
    account = authenticate(request)
    streams = runtime(request).events.streams
    result = streams.list_subscribed_event(account.sid, request.path_params["SubscriptionSid"], page_request(request))
    base = render.base_url(request)
    items = [render_events.subscribed_event(e, base) for e in result.items]
    return _page(request, "types", items, result, [])


@router.post(_SUBSCRIBED)
async def create_subscribed_event(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    event = runtime(request).events.streams.create_subscribed_event(
        account.sid, request.path_params["SubscriptionSid"], form.get("Type"), form.get("SchemaVersion")
    )
    return render.TwilioJSON(render_events.subscribed_event(event, render.base_url(request)), status_code=201)


@router.get(_SUBSCRIBED + "/{Type}")
async def fetch_subscribed_event(request: Request) -> Response:
    account = authenticate(request)
    params = request.path_params
    streams = runtime(request).events.streams
    event = streams.fetch_subscribed_event(account.sid, params["SubscriptionSid"], unquote(params["Type"]))
    return render.TwilioJSON(render_events.subscribed_event(event, render.base_url(request)))


@router.post(_SUBSCRIBED + "/{Type}")
async def update_subscribed_event(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    params = request.path_params
    event = runtime(request).events.streams.update_subscribed_event(
        account.sid, params["SubscriptionSid"], unquote(params["Type"]), form.get("SchemaVersion")
    )
    return render.TwilioJSON(render_events.subscribed_event(event, render.base_url(request)))


@router.delete(_SUBSCRIBED + "/{Type}")
async def delete_subscribed_event(request: Request) -> Response:
    account = authenticate(request)
    params = request.path_params
    runtime(request).events.streams.delete_subscribed_event(
        account.sid, params["SubscriptionSid"], unquote(params["Type"])
    )
    return Response(status_code=204)


# -- Types and Schemas -------------------------------------------------------------------------


@router.get("/v1/Types")
async def list_event_type(request: Request) -> Response:
    authenticate(request)
    schema_id = request.query_params.get("SchemaId")
    result = runtime(request).events.streams.list_event_type(schema_id, page_request(request))
    base = render.base_url(request)
    items = [render_events.event_type(t, base) for t in result.items]
    return _page(request, "types", items, result, [("SchemaId", schema_id)] if schema_id is not None else [])


@router.get("/v1/Types/{Type}")
async def fetch_event_type(request: Request) -> Response:
    authenticate(request)
    kind = runtime(request).events.streams.fetch_event_type(unquote(request.path_params["Type"]))
    return render.TwilioJSON(render_events.event_type(kind, render.base_url(request)))


@router.get("/v1/Schemas/{Id}")
async def fetch_schema(request: Request) -> Response:
    authenticate(request)
    schema = runtime(request).events.streams.fetch_schema(unquote(request.path_params["Id"]))
    return render.TwilioJSON(render_events.schema(schema, render.base_url(request)))


@router.get("/v1/Schemas/{Id}/Versions")
async def list_schema_version(request: Request) -> Response:
    authenticate(request)
    streams = runtime(request).events.streams
    schema, result = streams.list_schema_version(unquote(request.path_params["Id"]), page_request(request))
    base = render.base_url(request)
    items = [render_events.schema_version(schema, v, base) for v in result.items]
    return _page(request, "schema_versions", items, result, [])


@router.get("/v1/Schemas/{Id}/Versions/{SchemaVersion}")
async def fetch_schema_version(request: Request) -> Response:
    authenticate(request)
    params = request.path_params
    schema, version = runtime(request).events.streams.fetch_schema_version(
        unquote(params["Id"]), params["SchemaVersion"]
    )
    return render.TwilioJSON(render_events.schema_version(schema, version, render.base_url(request)))
