"""The `mockstudio` pytest fixture, registered through the `pytest11` entry point: any
project that installs mockstudio has it, with no conftest.

    def test_reply(mockstudio):
        client = mockstudio.client()                  # twilio Client pointed at the mock
        execution = client.studio.v2.flows(FLOW).executions.create(to=CONTACT, from_=NUMBER)
        mockstudio.wait_until_settled(execution.sid)
        mockstudio.send_message(from_=CONTACT, to=NUMBER, body="yes")
        assert mockstudio.messages(direction="outbound")[-1]["body"] == "..."

Fixtures:
- `mockstudio`: the session's server (a `mockstudio.testing.MockStudioServer`) with its state
  reset and its clock back at the start, before each test.
- `mockstudio_server`: that server, session-scoped and never reset (e.g. to give its
  `base_url` to an application under test once).
- `mockstudio_settings`: the `Settings` the server starts with (session-scoped); override it
  in a conftest to configure anything (it may also return a dict of settings).

Flow coverage (pytest_coverage.py): `--mockstudio-coverage[=DIR]` records which widgets and
transitions the session's tests took, prints a summary per flow and writes DIR/coverage.json
and DIR/coverage.html; `--mockstudio-coverage-fail-under=N` fails the run under N%.

One server per session, on a free loopback port: under pytest-xdist every worker is a
session of its own, so workers share nothing. The settings come from the options below and
never from `MOCKSTUDIO_*` environment variables, which belong to a standalone server.

This module is imported by pytest in every project that installs mockstudio, so it imports
nothing heavy: the server (FastAPI, uvicorn) and twilio load when a test asks for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import pytest_coverage

if TYPE_CHECKING:
    from .settings import Settings
    from .testing import MockStudioServer

__all__ = ["mockstudio", "mockstudio_server", "mockstudio_settings"]

_CLOCKS = ("frozen", "virtual")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockstudio", "mockstudio (the `mockstudio` fixture: a local Twilio Studio mock)")
    group.addoption(
        "--mockstudio-fixtures",
        metavar="DIR",
        default=None,
        help="fixture directory (accounts, flows) the mockstudio fixture loads (ini: mockstudio_fixtures)",
    )
    group.addoption(
        "--mockstudio-accept-any-flow",
        action="store_true",
        default=False,
        help="treat any unknown Flow SID as an inert flow (ini: mockstudio_accept_any_flow)",
    )
    group.addoption(
        "--mockstudio-clock",
        choices=_CLOCKS,
        default=None,
        help="frozen: time stands still unless a test moves it (default); virtual: wall-clock time "
        "that tests can move (ini: mockstudio_clock)",
    )
    parser.addini(
        "mockstudio_fixtures",
        "fixture directory (accounts, flows) for the mockstudio fixture, relative to the ini file",
        default="",
    )
    parser.addini(
        "mockstudio_accept_any_flow", "treat any unknown Flow SID as an inert flow", type="bool", default=False
    )
    parser.addini("mockstudio_clock", "frozen (default) or virtual", default="frozen")
    pytest_coverage.add_options(group)  # flow coverage: --mockstudio-coverage[=DIR], ...-fail-under


def pytest_configure(config: pytest.Config) -> None:
    # A misconfiguration stops the run at once, not at the first test that asks for the mock.
    fixtures = _fixture_directory(config)
    if fixtures is not None and not fixtures.is_dir():
        raise pytest.UsageError(f"mockstudio: the fixture directory {fixtures} does not exist")
    _clock_kind(config)
    pytest_coverage.configure(config)


def _fixture_directory(config: pytest.Config) -> Path | None:
    """--mockstudio-fixtures (relative to where pytest was run), else the ini value
    (relative to the ini file)."""
    cli = config.getoption("mockstudio_fixtures")
    if cli:
        return Path(config.invocation_params.dir, cli)
    ini = str(config.getini("mockstudio_fixtures")).strip()
    if ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return base / ini
    return None


def _option_settings(config: pytest.Config) -> dict[str, Any]:
    values: dict[str, Any] = {}
    fixtures = _fixture_directory(config)
    if fixtures is not None:
        values["fixtures"] = fixtures
    if config.getoption("mockstudio_accept_any_flow") or config.getini("mockstudio_accept_any_flow"):
        values["accept_any_flow"] = True
    return values


def _clock_kind(config: pytest.Config) -> str:
    kind = config.getoption("mockstudio_clock") or str(config.getini("mockstudio_clock")).strip() or "frozen"
    if kind not in _CLOCKS:
        raise pytest.UsageError(f"mockstudio_clock must be one of {', '.join(_CLOCKS)}, not {kind!r}")
    return kind


def _settings(values: Mapping[str, Any]) -> Settings:
    """Settings from these values only (no `MOCKSTUDIO_*` environment variables)."""
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

    from .settings import Settings

    class OptionSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings,)

    return OptionSettings(**values)


@pytest.fixture(scope="session")
def mockstudio_settings(pytestconfig: pytest.Config) -> Settings:
    """The settings of the session's mock: from `--mockstudio-*` options and `mockstudio_*`
    ini values. Override in a conftest (session scope) to set anything else:

        @pytest.fixture(scope="session")
        def mockstudio_settings():
            return {"fixtures": "tests/studio", "http_mode": "off"}
    """
    return _settings(_option_settings(pytestconfig))


@pytest.fixture(scope="session")
def mockstudio_server(
    mockstudio_settings: Settings | Mapping[str, Any], pytestconfig: pytest.Config
) -> Iterator[MockStudioServer]:
    """The session's (or xdist worker's) live mock server; `mockstudio` resets it per test."""
    from .clock import Clock, ManualClock, VirtualClock
    from .settings import Settings
    from .testing import MockStudioServer

    settings = mockstudio_settings if isinstance(mockstudio_settings, Settings) else _settings(mockstudio_settings)
    clock: Clock = ManualClock() if _clock_kind(pytestconfig) == "frozen" else VirtualClock()
    coverage = pytest_coverage.plugin_of(pytestconfig)
    if coverage is not None:
        settings = settings.model_copy(update={"coverage": True})
    with MockStudioServer(settings, clock=clock) as server:
        if coverage is not None:
            coverage.watch(server)
        yield server
        if coverage is not None:
            coverage.collect(server)  # before it stops


@pytest.fixture
def mockstudio(mockstudio_server: MockStudioServer) -> MockStudioServer:
    """The session's mock server with fresh state: reset (fixtures reloaded, executions,
    messages, scripts and test-added flows gone) and the clock back at its start."""
    mockstudio_server.reset()
    return mockstudio_server
