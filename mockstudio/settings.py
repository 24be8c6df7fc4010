"""Settings, read once at the edge (the CLI) from `MOCKSTUDIO_*` environment variables and
command-line flags, then passed down as plain values. Nothing reads the environment at
import time."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .urls import is_http_url

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "ENV_PREFIX",
    "Settings",
    "SettingsError",
    "unknown_environment_variables",
]

ENV_PREFIX = "MOCKSTUDIO_"
# Alphanumeric on purpose: twilio-go refuses credentials with other characters.
DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "mockstudio"


class SettingsError(ValueError):
    """A setting that stops startup, with a message naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    host: str = Field("127.0.0.1", description="Interface to listen on")
    port: int = Field(8080, ge=0, le=65535, description="Port to listen on (0: any free port)")
    fixtures: Path | None = Field(None, description="Directory of fixture files (accounts, flows)")
    public_url: str | None = Field(
        None, description="Base URL clients reach the mock at, for `url`/`links`/paging URLs"
    )
    account_sid: str = Field(DEFAULT_ACCOUNT_SID, pattern=r"^AC[0-9a-f]{32}$")
    auth_token: str = Field(DEFAULT_AUTH_TOKEN, pattern=r"^[A-Za-z0-9]+$")
    accept_any_flow: bool = Field(
        False, description="Treat any well-formed, unknown Flow SID as an existing inert flow"
    )
    max_body_bytes: int = Field(1 << 20, ge=1024, description="Largest request body accepted")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = True
    http_mode: Literal["live", "off"] = Field(
        "live", description="Outbound HTTP from widgets: live, or off (every call fails as unreachable)"
    )
    http_redirect: str | None = Field(
        None, description="Send every widget HTTP call to this base URL instead (path and query kept)"
    )
    message_limit: int = Field(10_000, ge=1, description="Messages kept in the log per account")
    # Caps on the other stores that grow with use (the oldest entries are dropped first).
    journal_limit: int = Field(1_000, ge=0, description="Twilio-API requests kept in the journal (0: no journal)")
    ended_execution_limit: int = Field(100_000, ge=1, description="Ended executions kept per account")
    contact_limit: int = Field(100_000, ge=1, description="Contact addresses whose FC SIDs are remembered, per account")
    script_limit: int = Field(1_000, ge=1, description="Scripted widgets kept (all accounts)")
    fault_limit: int = Field(1_000, ge=1, description="Fault rules kept (all accounts)")
    rate_limit: bool = Field(
        False, description="Enforce Studio's REST limit: 20 new executions per second per account (429/20429)"
    )
    state_file: Path | None = Field(
        None, description="SQLite file that keeps the state across restarts (default: state in memory only)"
    )
    admin_token: str | None = Field(
        None, description="Token the control plane requires (except /_mockstudio/health); unset: open"
    )
    events_webhook: str | None = Field(
        None, description="Send every Studio event of the default account to this URL (an active webhook sink)"
    )
    events_queue_limit: int = Field(10_000, ge=1, description="Studio events waiting per sink; more are dropped")
    events_duplicate_rate: float = Field(
        0.0, ge=0.0, le=1.0, description="Chance that a Studio event is delivered twice (testing consumers)"
    )
    events_shuffle: bool = Field(False, description="Deliver each batch of Studio events in a random order")
    events_seed: int | None = Field(None, description="Seed for event ids, duplicates, order and retry jitter")
    coverage: bool = Field(
        False, description="Record flow coverage (widgets entered, transitions taken): GET /_mockstudio/coverage"
    )
    widget_events: dict[str, str] = Field(
        default_factory=dict,
        description='Event simulated widgets take, by type (JSON: {"say-play": "audioComplete"})',
    )

    @field_validator("widget_events")
    @classmethod
    def _check_events(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_widget_events(value)

    @field_validator("admin_token")
    @classmethod
    def _check_admin_token(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None  # an empty variable means unset, not "the empty token"
        if value != value.strip() or any(not (33 <= ord(c) < 127) for c in value):
            raise ValueError("must be printable ASCII without spaces (it travels in an HTTP header)")
        return value

    @field_validator("public_url", "http_redirect", "events_webhook")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("events_webhook")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        # It becomes a sink's destination: the Events API's check (Sinks refuse the others).
        if value is not None and not is_http_url(value):
            raise ValueError("must be an http(s) URL with a host, and no spaces")
        return value


def _check_widget_events(value: dict[str, str]) -> dict[str, str]:
    from .engine.catalogue import WIDGET_TYPES

    for kind, event in value.items():
        widget = WIDGET_TYPES.get(kind)
        if widget is None:
            raise ValueError(f"unknown widget type {kind!r}")
        if event not in widget.events:
            raise ValueError(f"{event!r} is not an event of {kind} (it has {', '.join(widget.events)})")
    return value


def unknown_environment_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """Messages for `MOCKSTUDIO_*` variables that name no setting (a typo would otherwise
    be ignored silently)."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    problems = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"unknown environment variable {name}{hint}")
    return problems
