"""Build the state and the app from settings: the one place the entry points share."""

from __future__ import annotations

from fastapi import FastAPI

from .api import create_app
from .clock import Clock, VirtualClock
from .engine.http import OutboundHttp
from .engine.runner import EngineConfig
from .fixtures import Fixtures, load_bundled, load_directory
from .settings import Settings
from .sids import RandomSids, SidFactory
from .studio import AccountSeed, Studio

__all__ = ["build_app", "build_studio"]


def build_studio(settings: Settings, *, clock: Clock | None = None, sid_factory: SidFactory | None = None) -> Studio:
    """Raises FixtureError for an invalid fixture file."""
    fixtures = Fixtures(AccountSeed(settings.account_sid, settings.auth_token, friendly_name="Default account"))
    load_bundled(fixtures)
    if settings.fixtures is not None:
        load_directory(fixtures, settings.fixtures)
    return Studio(
        clock=clock or VirtualClock(),
        sid_factory=sid_factory or RandomSids(),
        accounts=fixtures.accounts.values(),
        flows=fixtures.flows.values(),
        accept_any_flow=settings.accept_any_flow,
        default_account_sid=settings.account_sid,
        engine_config=EngineConfig(default_events=dict(settings.widget_events), message_limit=settings.message_limit),
        http=OutboundHttp(mode=settings.http_mode, redirect_to=settings.http_redirect),
    )


def build_app(settings: Settings, *, clock: Clock | None = None, sid_factory: SidFactory | None = None) -> FastAPI:
    studio = build_studio(settings, clock=clock, sid_factory=sid_factory)
    return create_app(studio, public_url=settings.public_url, max_body_bytes=settings.max_body_bytes)
