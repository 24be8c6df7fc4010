"""The app factory and the one place where every error becomes Twilio's error body."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from .. import __version__
from ..domain.accounts import Studio
from ..errors import InvalidParameter, MethodNotAllowed, NotFound, TwilioError
from ..events.delivery import DeliveryConfig
from ..events.service import Events, webhook_seeds
from ..events.streams import SinkSeed, SubscriptionSeed
from ..fixtures import bundled_flow_sids
from . import render
from .auth import authenticate
from .edge import edge_route, record_unrouted
from .faults import FaultBook
from .journal import Journal
from .live import LiveFeed
from .ratelimit import ExecutionRateLimit
from .routes import events as events_routes
from .routes import executions, flows, health, steps, v1
from .routes.table import sids_fit
from .runtime import Runtime
from .target import RequestTarget

if TYPE_CHECKING:
    from ..coverage import CoverageRecorder

__all__ = ["control_plane_built", "create_app", "load_control_plane"]

log = logging.getLogger("mockstudio")

# The Twilio APIs served here: Studio v2 and v1, and Events v1.
_API_PREFIXES = ("/v2/", "/v1/")
_TICK_SECONDS = 0.25  # how often real time is checked for due widget timeouts


def _lifespan(studio: Studio, events: Events, live: LiveFeed) -> object:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        studio.serve_on(asyncio.get_running_loop())
        events.start()

        async def tick() -> None:
            while True:
                await asyncio.sleep(_TICK_SECONDS)
                with contextlib.suppress(Exception):
                    studio.tick()

        ticker = asyncio.create_task(tick())
        try:
            yield
        finally:
            # Shutdown (SIGTERM included): uvicorn has let in-flight requests finish.
            live.close()
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            try:
                await events.aclose()
                await studio.aclose()
            finally:
                close = getattr(studio, "close", None)
                if close is not None:
                    close()  # e.g. a state file

    return lifespan


def create_app(
    studio: Studio,
    *,
    public_url: str | None = None,
    max_body_bytes: int = 1 << 20,
    journal_limit: int = 1_000,
    fault_limit: int = 1_000,
    rate_limit: bool = False,
    admin_token: str | None = None,
    events_webhook: str | None = None,
    events_config: DeliveryConfig | None = None,
    coverage: bool = False,
) -> FastAPI:
    """Build an app over `studio`. Tests build as many as they like."""
    seeds = [seed for seed in studio.event_seeds if isinstance(seed, SinkSeed | SubscriptionSeed)]
    if events_webhook:
        seeds += webhook_seeds(events_webhook, studio.default_account_sid)
    events = Events(studio, seeds=seeds, config=events_config)
    live = LiveFeed(studio)
    app = FastAPI(
        title="mockstudio",
        version=__version__,
        description=(
            "A local mock of Twilio Studio's v2 REST API. The Twilio routes (`/v2/...`) follow "
            "Twilio's official OpenAPI description and are not repeated here; this page "
            "documents mockstudio's own control plane under `/_mockstudio/`."
        ),
        redirect_slashes=False,  # SDKs do not follow redirects; Twilio answers 404
        lifespan=_lifespan(studio, events, live),  # type: ignore[arg-type]
    )
    rt = app.state.runtime = Runtime(
        studio=studio,
        events=events,
        live=live,
        public_url=public_url.rstrip("/") if public_url else None,
        max_body_bytes=max_body_bytes,
        journal=Journal(journal_limit),
        faults=FaultBook(fault_limit),
        rate_limit=ExecutionRateLimit() if rate_limit else None,
        admin_token=admin_token or None,
        coverage=_coverage_recorder(studio) if coverage else None,
    )
    # Flows' literal sub-paths first, then the SID routes (Validate must precede {Sid}).
    for table in (executions.router, steps.router, flows.router, v1.router, events_routes.router):
        app.router.routes.extend(edge_route(route, rt) for route in table.routes)
    app.include_router(health.router)
    app.add_api_route("/", _to_dashboard, methods=["GET"], include_in_schema=False)
    _defer_control_plane(app)
    _install_error_handlers(app)
    app.add_middleware(RequestTarget)
    return app


def _coverage_recorder(studio: Studio) -> CoverageRecorder:
    """Flow coverage: a change-feed subscriber, attached only when coverage is on (and
    only then imported: startup time)."""
    from ..coverage import CoverageRecorder

    recorder = CoverageRecorder(bundled_flow_sids())
    recorder.attach(studio)
    return recorder


_CONTROL_PREFIX = "/_mockstudio/"


async def _to_dashboard() -> Response:
    """`GET /`: the web dashboard (a person who opens the server's address lands there)."""
    return RedirectResponse(_CONTROL_PREFIX + "ui/", status_code=307)


class _DeferredControlPlane(BaseRoute):
    """Stands in for the control plane's routes (all of /_mockstudio/ but health) until a
    request there, or the OpenAPI document, needs them: FastAPI's analysis of their two
    dozen routes is about 60 ms of the server's startup time, which a server used only
    through /v2, or only until its first healthcheck, need not pay up front. The first
    request builds them into the app in its place and is routed again, to them."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith(_CONTROL_PREFIX):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)  # (no route names here until built)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        load_control_plane(self.app)
        await self.app.router(scope, receive, send)


def _defer_control_plane(app: FastAPI) -> None:
    app.router.routes.append(_DeferredControlPlane(app))
    make_document = app.openapi

    def openapi() -> dict[str, Any]:
        load_control_plane(app)
        return make_document()

    app.openapi = openapi  # type: ignore[method-assign]  # (FastAPI's documented way to customise it)


def control_plane_built(app: FastAPI) -> bool:
    return not any(isinstance(route, _DeferredControlPlane) for route in app.router.routes)


def load_control_plane(app: FastAPI) -> None:
    """Build the control plane's routes into `app`, once (see _DeferredControlPlane)."""
    routes = app.router.routes
    deferred = [route for route in routes if isinstance(route, _DeferredControlPlane)]
    if not deferred:
        return
    from .routes import calls, control, coverage, dashboard, deliveries, verification

    for route in deferred:
        routes.remove(route)
    app.include_router(control.router)
    app.include_router(calls.router)  # the phone
    app.include_router(verification.router)
    app.include_router(dashboard.pages)
    app.include_router(dashboard.api)
    app.include_router(deliveries.router)
    app.include_router(coverage.router)


def _error(error: TwilioError, request: Request) -> Response:
    if isinstance(error, NotFound) and not error.message:
        path = request.url.path
        relative = path[3:] if path.startswith(_API_PREFIXES) else path
        error.message = f"The requested resource {relative[:256]} was not found"
    # Errors of the HTTP layer carry their own headers (Retry-After, a Bearer challenge).
    headers: dict[str, str] | None = getattr(error, "headers", None)
    if headers is None and error.status == 401:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
    return render.TwilioJSON(render.error_body(error), status_code=error.status, headers=headers)


def _allowed_methods(request: Request) -> set[str]:
    """The methods this path is served with: for each, the route that would take it (asked
    route by route, as included routers do not expose their routes' methods), if its SID
    parameters have the right shape (else it could only answer 404)."""
    methods: set[str] = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                path: str | None = getattr(route, "path", None)
                if path is None or sids_fit(path, child.get("path_params", {})):
                    methods.add(method)
                break
    return methods


def _invalid_parameter(exc: RequestValidationError) -> TwilioError:
    """FastAPI's validation error (a control-plane query or path parameter) as Twilio's 400
    naming the parameter: never its dump of the error, the input or the endpoint's source."""
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        name = loc[-1] if loc else "parameter"
        where = loc[0] if loc and loc[0] in ("query", "path", "header", "body") else "query"
        if error.get("type") == "missing":
            return InvalidParameter(f"Missing required {where} parameter {name}")
        return InvalidParameter(f"Invalid {where} parameter {name}: {_reason(error)}")
    return InvalidParameter("Invalid request parameters")


_EXPECTED = {
    "float_parsing": "a number is expected",
    "float_type": "a number is expected",
    "int_parsing": "an integer is expected",
    "int_type": "an integer is expected",
    "int_from_float": "an integer is expected",
    "bool_parsing": "true or false is expected",
    "bool_type": "true or false is expected",
}


def _reason(error: Any) -> str:
    kind = error.get("type", "")
    bounds = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    for key, words in (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than")):
        if key in bounds:
            return f"it must be {words} {bounds[key]}"
    reason = str(error.get("msg", "invalid value"))
    return reason[:1].lower() + reason[1:]


def _install_error_handlers(app: FastAPI) -> None:
    async def twilio_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TwilioError)
        return _error(exc, request)

    async def http_error(request: Request, exc: Exception) -> Response:
        # Routing errors: no endpoint ran, so the journal hears of /v2 ones here.
        response = routing_error(request, exc)
        if request.scope["path"].startswith(_API_PREFIXES):
            record_unrouted(request, response.status_code)
        return response

    def routing_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error: TwilioError
        # Starlette's Allow names only the first route that matched the path; a path served
        # by several routes (GET and POST .../Executions) allows all their methods. A path no
        # method can serve (PUT /v2/Flows/FWnot-a-sid) is not found rather than not allowed.
        allowed = _allowed_methods(request) if exc.status_code == 405 else set()
        if allowed:
            response = _error(MethodNotAllowed(), request)
            response.headers["Allow"] = ", ".join(sorted(allowed))
            return response
        if exc.status_code in (404, 405):
            # Twilio authenticates before routing: an unknown /v2 path without valid
            # credentials is a 401, not a 404.
            if request.url.path.startswith(_API_PREFIXES):
                try:
                    authenticate(request)
                except TwilioError as auth_error:
                    return _error(auth_error, request)
            error = NotFound()
        else:
            error = TwilioError(str(exc.detail))
            error.status = exc.status_code
            error.code = 20000 + exc.status_code if exc.status_code < 1000 else 20001
        return _error(error, request)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _error(_invalid_parameter(exc), request)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("Unexpected error on %s %s", request.method, request.url.path)
        error = TwilioError("Internal server error")
        error.status, error.code = 500, 20500
        return _error(error, request)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # Nobody is left to answer: one line in the log, not a traceback.
        log.info("Client went away before sending the whole request: %s %s", request.method, request.url.path[:256])
        return Response(status_code=400)

    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(TwilioError, twilio_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
