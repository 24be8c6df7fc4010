"""The `mockstudio` command. `mockstudio` alone, or `mockstudio serve`, runs the server;
`mockstudio validate` checks flow files and `mockstudio run` runs one in the terminal
(both in mockstudio.runflow)."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from . import __version__
from .errors import TwilioError
from .fixtures import FixtureError
from .persistence.errors import StateFileError
from .settings import ENV_PREFIX, Settings, SettingsError, unknown_environment_variables

if TYPE_CHECKING:  # the run/validate machinery loads only for those commands (startup time)
    from .runflow import VoiceInput, WidgetEvent

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
    _add_validate(commands)
    _add_run(commands)
    return parser


def _add_validate(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="check flow definitions (or fixture files) as Studio would",
        description="Check flow definition files, or every flow of a fixture file, as Studio validates "
        "them. One line per problem; exit status 0 if all are valid, 1 if any is not.",
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FLOW.json")


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run a flow in the terminal, with no server",
        description="Run a flow in-process from one of its trigger's events (a REST API request, or an inbound "
        "message, call or Conversations message) and print the path taken, the messages, the final context "
        "and the status. Exit status 0 if the execution ended, 3 if it is left waiting, 1 if the flow file is "
        "unusable.",
        epilog="While the execution waits for a reply, the next --reply arrives from the contact; while a voice "
        "gather waits, the next --press or --say; with none left, the clock jumps to the widget's timeout (or "
        "moves by the --advance values, in order, and no further). --event WIDGET=EVENT resumes that waiting "
        "widget (a voicemail, a TwiML redirect, ...).",
    )
    run.add_argument("flow_file", type=Path, metavar="FLOW.json", help="a flow definition, or a fixture file")
    run.add_argument(
        "--trigger",
        choices=list(_TRIGGERS),
        default=None,
        help="how the execution starts: a REST API request, or an inbound message, call or Conversations "
        "message from --to to --from (default: rest when the REST trigger leads to a widget, else the "
        "first trigger event that does)",
    )
    run.add_argument(
        "--body", default="", help="the inbound message (or Conversations message) that starts the execution"
    )
    run.add_argument(
        "--to",
        default=_CONTACT,
        help=f"the contact's address (the execution's To; an inbound trigger's From; default {_CONTACT})",
    )
    run.add_argument(
        "--from",
        dest="from_",
        metavar="FROM",
        default=_FLOW_ADDRESS,
        help=f"the flow's address (the execution's From; an inbound trigger's To; default {_FLOW_ADDRESS})",
    )
    run.add_argument(
        "--press",
        dest="voice",
        action="append",
        default=[],
        type=_press,
        metavar="DIGITS",
        help="the caller's key presses when a voice gather waits (repeatable, in order with --say)",
    )
    run.add_argument(
        "--say",
        dest="voice",
        action="append",
        type=_say,
        metavar="SPEECH",
        help="what the caller says when a voice gather waits (repeatable, in order with --press)",
    )
    run.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        type=_param,
        metavar="NAME=VALUE",
        help="a Parameters entry (flow.data.NAME); VALUE is parsed as JSON when it parses, else kept as text",
    )
    run.add_argument(
        "--parameters", type=_json_object, default=None, metavar="JSON", help="Parameters as a JSON object"
    )
    run.add_argument(
        "--reply",
        dest="replies",
        action="append",
        default=[],
        metavar="BODY",
        help="the contact's next reply (repeatable)",
    )
    run.add_argument(
        "--advance",
        dest="advances",
        action="append",
        default=[],
        type=_seconds,
        metavar="SECONDS",
        help="move the clock this much when nothing else can be done (120, 90s, 10m, 2h, 1d)",
    )
    run.add_argument(
        "--event",
        dest="events",
        action="append",
        default=[],
        type=_event,
        metavar="WIDGET=EVENT[:JSON]",
        help="""resume WIDGET with EVENT when it waits, e.g. gather_1=keypress:'{"Digits": "1"}'""",
    )
    run.add_argument(
        "--http", choices=["live", "off"], default="live", help="widget HTTP calls: live, or off (they all fail)"
    )
    run.add_argument("--flow", default=None, metavar="SID|NAME", help="which flow of a fixture file to run")
    run.add_argument("--json", action="store_true", help="print one JSON document instead")


# (written out, not imported: runflow loads only for its commands; a test checks they agree)
_TRIGGERS = ("rest", "message", "call", "conversation")
_CONTACT, _FLOW_ADDRESS = "+15551234567", "+15017122661"


def _press(text: str) -> VoiceInput:
    if not text or any(c not in "0123456789*#" for c in text):
        raise argparse.ArgumentTypeError(f"expected keys 0-9, * and #, got {text!r}")
    from .runflow import VoiceInput

    return VoiceInput("keypress", text)


def _say(text: str) -> VoiceInput:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected something to say")
    from .runflow import VoiceInput

    return VoiceInput("speech", text)


def _param(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value, parse_constant=_no_constant)
    except ValueError:
        return name, value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")  # NaN and Infinity stay text: Parameters must be JSON


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> float:
    raw = text.strip().lower()
    scale = _UNITS.get(raw[-1:], 0)
    try:
        value = float(raw[:-1] if scale else raw) * (scale or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (120, 90s, 10m, 2h, 1d), got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, got {text!r}")
    return value


def _event(text: str) -> WidgetEvent:
    widget, sep, rest = text.partition("=")
    event, colon, raw = rest.partition(":")
    if not sep or not widget or not event:
        raise argparse.ArgumentTypeError(f"expected WIDGET=EVENT or WIDGET=EVENT:JSON, got {text!r}")
    outputs = _json_object(raw) if colon else None
    from .runflow import WidgetEvent

    return WidgetEvent(widget, event, outputs)


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
        "--rate-limit",
        action="store_const",
        const=True,
        default=None,
        help=f"enforce Studio's 20 new REST executions per second per account: 429/20429 (${env}RATE_LIMIT)",
    )
    parser.add_argument(
        "--coverage",
        action="store_const",
        const=True,
        default=None,
        help=f"record flow coverage, served at GET /_mockstudio/coverage (${env}COVERAGE)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"SQLite file that keeps the state across restarts, created if absent (${env}STATE_FILE)",
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
    if settings.state_file is not None:
        restored = getattr(studio.store, "restored_executions", 0)
        noun = "execution" if restored == 1 else "executions"
        lines.append(f"  state file: {settings.state_file} (kept across restarts; {restored} {noun} restored)")
    if settings.rate_limit:
        lines.append("  --rate-limit: 20 new REST executions per second per account, then 429/20429")
    if settings.coverage:
        lines.append("  --coverage: flow coverage at GET /_mockstudio/coverage (since the last reset)")
    if settings.admin_token:
        lines.append("  control plane: requires the admin token (X-Mockstudio-Admin-Token or Authorization: Bearer)")
    return "\n".join(lines)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def tune_gc() -> None:
    """For the standalone server process only (never in a test process that embeds the
    app): everything loaded so far lives as long as the server, so it is moved out of the
    collector's sight (`gc.freeze`), and young collections run less often. Stored executions
    and their steps are many small long-lived objects; with the default thresholds the
    collector re-scans them constantly (measured: ~15% of the time to run a flow)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
    gc.enable()  # `python -m mockstudio` turns it off while the server loads (__main__.py)


def serve(settings: Settings) -> int:
    import uvicorn

    from .api.live import Server
    from .api.protocol import HTTP_PROTOCOL
    from .app_factory import build_app

    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(message)s")
    # SIGTERM (docker stop, Kubernetes, systemd) is a normal way to stop: uvicorn finishes
    # the requests in flight and runs the app's shutdown, then raises the signal again with
    # the handler it found; this one makes that an exit with status 0, not death by signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    app = build_app(settings)
    tune_gc()
    print(_banner(settings, app, settings.port), flush=True)
    config = uvicorn.Config(
        app,
        http=HTTP_PROTOCOL,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=10,
    )
    server = Server(config, app.state.runtime.live)
    server.run()
    if not server.started:
        return 3  # as uvicorn.run: it could not start (the port taken, ...)
    return 0


def validate(files: Sequence[Path]) -> int:
    from .runflow import validate_file

    valid = True
    for path in files:
        report = validate_file(path)
        valid = valid and report.valid
        for line in report.lines():
            print(line)
    return 0 if valid else 1


def run(args: argparse.Namespace) -> int:
    from .runflow import FlowFileError, RunError, format_result, load_flow_file, run_flow

    try:
        bundle = load_flow_file(args.flow_file, args.flow)
    except FlowFileError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1
    parameters = {**(args.parameters or {}), **dict(args.params)}
    try:
        result = run_flow(
            bundle,
            to=args.to,
            from_=args.from_,
            parameters=parameters or None,
            replies=args.replies,
            advances=args.advances,
            events=args.events,
            http_mode=args.http,
            trigger=args.trigger,
            body=args.body,
            voice=args.voice,
        )
    except RunError as exc:
        print(f"mockstudio run: {exc}", file=sys.stderr)
        return 2
    except TwilioError as exc:
        print(f"mockstudio run: the execution could not be created: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False, default=str))
    else:
        print(format_result(result))
    return 0 if result.ended else 3


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("validate", "run"):
        gc.enable()  # __main__.py turned it off for the server's startup only
    if args.command == "validate":
        return validate(args.files)
    if args.command == "run":
        return run(args)
    overrides = {
        "host": args.host,
        "port": args.port,
        "fixtures": args.fixtures,
        "public_url": args.public_url,
        "accept_any_flow": args.accept_any_flow,
        "rate_limit": args.rate_limit,
        "coverage": args.coverage,
        "state_file": args.state_file,
        "log_level": args.log_level,
        "access_log": args.access_log,
    }
    try:
        settings = load_settings(overrides)
        return serve(settings)
    except (SettingsError, FixtureError, StateFileError) as exc:
        print(f"mockstudio: cannot start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
