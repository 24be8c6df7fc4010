"""Build the state and the app from settings: the one place the entry points share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from .api import create_app
from .clock import Clock, VirtualClock
from .domain.accounts import AccountSeed, Studio
from .engine.http import OutboundHttp
from .engine.runner import EngineConfig
from .events.delivery import DeliveryConfig
from .fixtures import Fixtures, load_bundled, load_directory
from .settings import Settings
from .sids import RandomSids, SidFactory

if TYPE_CHECKING:  # the SQLite store loads only with a state file (startup time)
    from .persistence.writer import SqliteStore

__all__ = ["app_options", "build_app", "build_studio"]


def build_studio(settings: Settings, *, clock: Clock | None = None, sid_factory: SidFactory | None = None) -> Studio:
    """Raises FixtureError for an invalid fixture file, StateFileError for a state file
    that cannot be used (left untouched)."""
    fixtures = Fixtures(AccountSeed(settings.account_sid, settings.auth_token, friendly_name="Default account"))
    load_bundled(fixtures)
    if settings.fixtures is not None:
        load_directory(fixtures, settings.fixtures)
    store = None
    if settings.state_file is not None:
        from .persistence.writer import open_store

        store = open_store(settings.state_file, message_limit=settings.message_limit)
    try:
        return _studio(settings, fixtures, clock, sid_factory, store)
    except BaseException:
        if store is not None:
            store.close(discard=True)  # writes nothing, releases the file's lock
        raise


def _studio(
    settings: Settings,
    fixtures: Fixtures,
    clock: Clock | None,
    sid_factory: SidFactory | None,
    store: SqliteStore | None,
) -> Studio:
    return Studio(
        clock=clock or VirtualClock(),
        sid_factory=sid_factory or RandomSids(),
        accounts=fixtures.accounts.values(),
        flows=fixtures.flows.values(),
        accept_any_flow=settings.accept_any_flow,
        default_account_sid=settings.account_sid,
        engine_config=EngineConfig(
            default_events=dict(settings.widget_events),
            message_limit=settings.message_limit,
            script_limit=settings.script_limit,
        ),
        http=OutboundHttp(mode=settings.http_mode, redirect_to=settings.http_redirect),
        ended_execution_limit=settings.ended_execution_limit,
        contact_limit=settings.contact_limit,
        store=store,
        event_seeds=fixtures.event_seeds,
    )


def app_options(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """`create_app`'s keyword arguments from settings (`overrides` win)."""
    options: dict[str, Any] = {
        "public_url": settings.public_url,
        "max_body_bytes": settings.max_body_bytes,
        "journal_limit": settings.journal_limit,
        "fault_limit": settings.fault_limit,
        "rate_limit": settings.rate_limit,
        "admin_token": settings.admin_token,
        "events_webhook": settings.events_webhook,
        "events_config": DeliveryConfig(
            queue_limit=settings.events_queue_limit,
            duplicate_rate=settings.events_duplicate_rate,
            shuffle=settings.events_shuffle,
            seed=settings.events_seed,
        ),
        "coverage": settings.coverage,
    }
    options.update(overrides)
    return options


def build_app(settings: Settings, *, clock: Clock | None = None, sid_factory: SidFactory | None = None) -> FastAPI:
    studio = build_studio(settings, clock=clock, sid_factory=sid_factory)
    return create_app(studio, **app_options(settings))
