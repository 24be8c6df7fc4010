"""Fixture files: accounts (SIDs, tokens, API keys) and flows (SID, name, definition).

A fixture directory holds any number of `*.json` files (searched recursively), each an
object with optional `accounts`, `flows`, and Studio Events' `sinks` and `subscriptions`
lists:

    {"accounts": [{"sid": "AC…", "auth_token": "…", "api_keys": [{"sid": "SK…", "secret": "…"}]}],
     "flows": [{"sid": "FW…", "friendly_name": "…", "definition": {…} | "definition_file": "x.json",
                "account_sid": "AC…" (default: the default account), "status": "published"}],
     "sinks": [{"sid": "DG…", "description": "…", "sink_type": "webhook",
                "sink_configuration": {"destination": "http://…", "method": "POST"}}],
     "subscriptions": [{"sid": "DF…", "description": "…", "sink_sid": "DG…",
                        "types": [{"type": "com.twilio.studio.flow.step.ended", "schema_version": 1}]}]}

Every problem is reported with the file and the field it is in.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .domain.accounts import AccountSeed, FlowSeed
from .errors import TwilioError
from .events.streams import SinkSeed, SubscriptionSeed, checked_configuration, subscribed_type

if TYPE_CHECKING:
    from .fixture_schema import FlowFixture

__all__ = ["FixtureError", "Fixtures", "bundled_flow_sids", "load_bundled", "load_directory"]


class FixtureError(ValueError):
    """An invalid fixture file; the message names the file and the field."""


class Fixtures:
    """Accumulates fixture files, checking SIDs are unique and flows' accounts exist."""

    def __init__(self, default_account: AccountSeed) -> None:
        self.default_account_sid = default_account.sid
        self.accounts: dict[str, AccountSeed] = {default_account.sid: default_account}
        self.flows: dict[str, FlowSeed] = {}
        self.sinks: dict[str, SinkSeed] = {}
        self.subscriptions: dict[str, SubscriptionSeed] = {}
        self._api_keys: set[str] = set()

    def add_text(self, text: str, source: str, base_dir: Path | None) -> None:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FixtureError(f"{source}: not valid JSON: {exc}") from None
        from pydantic import ValidationError

        from .fixture_schema import FixtureFile

        try:
            parsed = FixtureFile.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
            )
            raise FixtureError(f"{source}: {problems}") from None
        for account in parsed.accounts:
            if account.sid in self.accounts and account.sid != self.default_account_sid:
                raise FixtureError(f"{source}: account {account.sid} is defined twice")
            default = self.accounts[self.default_account_sid]
            if account.sid == self.default_account_sid and account.auth_token != default.auth_token:
                # Silently replacing it would make the banner and the docs lie about the token.
                raise FixtureError(
                    f"{source}: account {account.sid} is the default account; its auth_token must match "
                    "MOCKSTUDIO_AUTH_TOKEN (set the token there instead)"
                )
            for key in account.api_keys:
                if key.sid in self._api_keys:
                    raise FixtureError(f"{source}: API key {key.sid} is defined twice")
                self._api_keys.add(key.sid)
            self.accounts[account.sid] = AccountSeed(
                sid=account.sid,
                auth_token=account.auth_token,
                api_keys={key.sid: key.secret for key in account.api_keys},
                friendly_name=account.friendly_name,
            )
        for flow in parsed.flows:
            if flow.sid in self.flows:
                raise FixtureError(f"{source}: flow {flow.sid} is defined twice")
            self.flows[flow.sid] = FlowSeed(
                sid=flow.sid,
                account_sid=flow.account_sid or self.default_account_sid,
                friendly_name=flow.friendly_name,
                definition=self._definition(flow, source, base_dir),
                status=flow.status,
                commit_message=flow.commit_message,
                numbers=tuple(flow.numbers),
            )

        for sink in parsed.sinks:
            if sink.sid in self.sinks:
                raise FixtureError(f"{source}: sink {sink.sid} is defined twice")
            try:
                configuration = checked_configuration(sink.sink_type, sink.sink_configuration)
            except TwilioError as exc:
                raise FixtureError(f"{source}: sink {sink.sid}: {exc.message}") from None
            self.sinks[sink.sid] = SinkSeed(
                sink.sid, sink.account_sid or self.default_account_sid, sink.description, sink.sink_type, configuration
            )
        for subscription in parsed.subscriptions:
            if subscription.sid in self.subscriptions:
                raise FixtureError(f"{source}: subscription {subscription.sid} is defined twice")
            try:
                types = tuple(
                    subscribed_type(json.dumps({"type": t.type, "schema_version": t.schema_version}))
                    for t in subscription.types
                )
            except TwilioError as exc:
                raise FixtureError(f"{source}: subscription {subscription.sid}: {exc.message}") from None
            self.subscriptions[subscription.sid] = SubscriptionSeed(
                subscription.sid,
                subscription.account_sid or self.default_account_sid,
                subscription.description,
                subscription.sink_sid,
                types,
            )

    @property
    def event_seeds(self) -> list[SinkSeed | SubscriptionSeed]:
        return [*self.sinks.values(), *self.subscriptions.values()]

    def _definition(self, flow: FlowFixture, source: str, base_dir: Path | None) -> dict[str, Any]:
        if flow.definition is not None:
            return flow.definition
        assert flow.definition_file is not None
        if base_dir is None:
            raise FixtureError(f"{source}: flow {flow.sid}: definition_file needs a fixture directory")
        path = base_dir / flow.definition_file
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: JSONDecodeError, UnicodeDecodeError
            raise FixtureError(f"{source}: flow {flow.sid}: cannot read definition_file {path}: {exc}") from None
        if not isinstance(value, dict):
            raise FixtureError(f"{source}: flow {flow.sid}: definition_file {path} is not a JSON object")
        return value

    def check(self) -> None:
        for flow in self.flows.values():
            if flow.account_sid not in self.accounts:
                raise FixtureError(f"flow {flow.sid} belongs to account {flow.account_sid}, which no fixture defines")
        for seed in self.event_seeds:
            if seed.account_sid not in self.accounts:
                raise FixtureError(f"{seed.sid} belongs to account {seed.account_sid}, which no fixture defines")
        for subscription in self.subscriptions.values():
            sink = self.sinks.get(subscription.sink_sid)
            if sink is None or sink.account_sid != subscription.account_sid:
                raise FixtureError(
                    f"subscription {subscription.sid}: no sink {subscription.sink_sid} in account "
                    f"{subscription.account_sid}"
                )


def load_bundled(fixtures: Fixtures) -> None:
    """The demo flow shipped inside the package, so zero configuration works. Shipped and
    tested with the package, it is read without the fixture schema (whose pydantic models
    then load only for a user's fixture files: startup time)."""
    for flow in _bundled_flows():
        fixtures.flows[flow["sid"]] = FlowSeed(
            sid=flow["sid"],
            account_sid=fixtures.default_account_sid,
            friendly_name=flow["friendly_name"],
            definition=flow["definition"],
            commit_message=flow.get("commit_message"),
        )


def bundled_flow_sids() -> frozenset[str]:
    """The SIDs of the flows shipped inside the package (flow coverage leaves them out
    until they run)."""
    return frozenset(flow["sid"] for flow in _bundled_flows())


def _bundled_flows() -> list[dict[str, Any]]:
    bundled = resources.files("mockstudio") / "bundled"
    flows: list[dict[str, Any]] = []
    for entry in sorted(bundled.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            flows.extend(json.loads(entry.read_text(encoding="utf-8")).get("flows", []))
    return flows


def load_directory(fixtures: Fixtures, directory: Path) -> None:
    if not directory.is_dir():
        raise FixtureError(f"{directory}: fixture directory does not exist")
    for path in sorted(directory.rglob("*.json")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FixtureError(f"{path}: cannot read: {exc}") from None
        # Files named by a flow's `definition_file` are definitions, not fixture files.
        if _is_bare_definition(text):
            continue
        fixtures.add_text(text, str(path), path.parent)
    fixtures.check()


def _is_bare_definition(text: str) -> bool:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and "states" in value and "initial_state" in value
