"""The `mockstudio` command. `mockstudio` alone, or `mockstudio serve`, runs the server."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import __version__
from .fixtures import FixtureError
from .settings import ENV_PREFIX, Settings, SettingsError, unknown_environment_variables

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockstudio",
        description="A local, offline, stateful mock of Twilio Studio's v2 REST API.",
    )
    parser.add_argument("--version", action="version", version=f"mockstudio {__version__}")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the server (the default command)")
    for target in (parser, serve):
        _add_serve_options(target)
    return parser


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    env = ENV_PREFIX
    # Defaults are None so that only flags actually given override the environment.
    parser.add_argument("--host", default=None, help=f"interface to listen on (${env}HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help=f"port (${env}PORT, default 8080)")
    parser.add_argument("--fixtures", type=Path, default=None, help=f"fixture directory (${env}FIXTURES)")
    parser.add_argument("--public-url", default=None, help=f"base URL clients use to reach the mock (${env}PUBLIC_URL)")
    parser.add_argument(
        "--accept-any-flow",
        action="store_const",
        const=True,
        default=None,
        help=f"accept any well-formed Flow SID as an inert flow (${env}ACCEPT_ANY_FLOW)",
    )
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["critical", "error", "warning", "info", "debug"],
        help=f"(${env}LOG_LEVEL, default info)",
    )
    parser.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_const",
        const=False,
        default=None,
        help=f"do not log each request (${env}ACCESS_LOG=false)",
    )


def load_settings(overrides: dict[str, Any]) -> Settings:
    """Environment first, then the flags given; raises SettingsError naming the culprit."""
    problems = unknown_environment_variables()
    if problems:
        raise SettingsError("; ".join(problems))
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError("; ".join(_describe(str(err["loc"][0]), err["msg"]) for err in exc.errors())) from None


def _describe(field: str, problem: str) -> str:
    return f"{ENV_PREFIX}{field.upper()} (--{field.replace('_', '-')}): {problem}"


def _banner(settings: Settings, app: Any, port: int) -> str:
    studio = app.state.runtime.studio
    lines = [
        f"mockstudio {__version__} listening on http://{settings.host}:{port}",
        f"  default account: {settings.account_sid}  auth token: {settings.auth_token}",
    ]
    for account in studio.accounts.values():
        for flow in account.flows.values():
            lines.append(f"  flow {flow.sid} ({flow.friendly_name}) in {account.sid}")
    if settings.accept_any_flow:
        lines.append("  --accept-any-flow: unknown well-formed Flow SIDs are created on first use")
    return "\n".join(lines)


def serve(settings: Settings) -> int:
    import uvicorn

    from .app_factory import build_app

    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(message)s")
    app = build_app(settings)
    print(_banner(settings, app, settings.port), flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=10,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = {
        "host": args.host,
        "port": args.port,
        "fixtures": args.fixtures,
        "public_url": args.public_url,
        "accept_any_flow": args.accept_any_flow,
        "log_level": args.log_level,
        "access_log": args.access_log,
    }
    try:
        settings = load_settings(overrides)
        return serve(settings)
    except (SettingsError, FixtureError) as exc:
        print(f"mockstudio: cannot start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
