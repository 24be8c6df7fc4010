"""mockstudio.settings and mockstudio.fixtures without a server, and the CLI's refusal to
start on a bad setting or fixture (in a subprocess, as a user would run it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mockstudio.cli import load_settings
from mockstudio.cli import main as cli_main
from mockstudio.fixtures import FixtureError, Fixtures, load_bundled, load_directory
from mockstudio.settings import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    Settings,
    SettingsError,
    unknown_environment_variables,
)
from mockstudio.studio import AccountSeed

from .conftest import ROOT, TEST_FIXTURES

FLOW_A = "FW" + "a" * 32
FLOW_B = "FW" + "b" * 32
ACCOUNT = "AC" + "c" * 32
KEY = "SK" + "d" * 32
DEFINITION = {
    "description": "minimal",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingRequest"}],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read MOCKSTUDIO_* variables: start every test without any."""
    for name in list(os.environ):
        if name.startswith("MOCKSTUDIO_"):
            monkeypatch.delenv(name)


# -- Settings ---------------------------------------------------------------------------------


def test_defaults() -> None:
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.fixtures is None
    assert settings.public_url is None
    assert settings.account_sid == DEFAULT_ACCOUNT_SID
    assert settings.auth_token == DEFAULT_AUTH_TOKEN
    assert settings.accept_any_flow is False
    assert settings.max_body_bytes == 1 << 20
    # Credentials stay alphanumeric: twilio-go refuses anything else (§E).
    assert DEFAULT_AUTH_TOKEN.isalnum() and DEFAULT_ACCOUNT_SID.isalnum()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", -1),
        ("port", 65536),
        ("port", "http"),
        ("account_sid", "AC123"),
        ("account_sid", "AC" + "A" * 32),  # Twilio mints lowercase
        ("account_sid", "SK" + "0" * 32),
        ("auth_token", "has-dash"),
        ("auth_token", ""),
        ("max_body_bytes", 100),
        ("public_url", "mock.example:8443"),
        ("public_url", "ftp://mock.example"),
        ("log_level", "loud"),
        ("accept_any_flow", "perhaps"),
    ],
)
def test_invalid_settings(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(**{field: value})
    assert info.value.errors()[0]["loc"][0] == field


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(prot=9000)  # type: ignore[call-arg]


def test_public_url_normalisation() -> None:
    assert Settings(public_url="https://mock.example:8443/").public_url == "https://mock.example:8443"
    assert Settings(public_url="http://x///").public_url == "http://x"
    assert Settings(public_url="").public_url is None


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOCKSTUDIO_PORT", "9000")
    monkeypatch.setenv("MOCKSTUDIO_ACCEPT_ANY_FLOW", "true")
    monkeypatch.setenv("MOCKSTUDIO_FIXTURES", str(tmp_path))
    monkeypatch.setenv("MOCKSTUDIO_PUBLIC_URL", "https://mock.example/")
    settings = Settings()
    assert settings.port == 9000
    assert settings.accept_any_flow is True
    assert settings.fixtures == tmp_path
    assert settings.public_url == "https://mock.example"


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSTUDIO_PORT", "9000")
    assert load_settings({"port": 9001, "host": None}).port == 9001
    assert load_settings({"port": None}).port == 9000


def test_load_settings_names_the_variable_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSTUDIO_PORT", "eighty")
    with pytest.raises(SettingsError, match=r"^MOCKSTUDIO_PORT \(--port\): "):
        load_settings({})


def test_load_settings_rejects_a_misspelt_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSTUDIO_PROT", "9000")
    with pytest.raises(SettingsError, match=r"MOCKSTUDIO_PROT \(did you mean MOCKSTUDIO_PORT\?\)"):
        load_settings({})


def test_unknown_environment_variables_suggests_the_close_name() -> None:
    problems = unknown_environment_variables({"MOCKSTUDIO_PROT": "9000"})
    assert problems == ["unknown environment variable MOCKSTUDIO_PROT (did you mean MOCKSTUDIO_PORT?)"]


def test_unknown_environment_variables_cases() -> None:
    environ = {
        "MOCKSTUDIO_PORT": "1",  # known
        "MOCKSTUDIO_FIXTURES": "x",  # known
        "MOCKSTUDIO_PUBLIC_URl": "x",  # case matters
        "MOCKSTUDIO_ACEPT_ANY_FLOW": "1",
        "MOCKSTUDIO_ZZZZZZZZZZZZZZZZ": "1",  # nothing close
        "OTHER_PORT": "1",  # not ours
        "PATH": "/bin",
    }
    assert unknown_environment_variables(environ) == [
        "unknown environment variable MOCKSTUDIO_ACEPT_ANY_FLOW (did you mean MOCKSTUDIO_ACCEPT_ANY_FLOW?)",
        "unknown environment variable MOCKSTUDIO_PUBLIC_URl (did you mean MOCKSTUDIO_PUBLIC_URL?)",
        "unknown environment variable MOCKSTUDIO_ZZZZZZZZZZZZZZZZ",
    ]


def test_every_setting_has_a_known_variable() -> None:
    environ = {f"MOCKSTUDIO_{name.upper()}": "x" for name in Settings.model_fields}
    assert unknown_environment_variables(environ) == []


# -- fixtures ---------------------------------------------------------------------------------


def fresh() -> Fixtures:
    return Fixtures(AccountSeed(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN))


def add(fixtures: Fixtures, content: Any, source: str = "fx.json", base_dir: Path | None = None) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    fixtures.add_text(text, source, base_dir)


def flow(sid: str = FLOW_A, **extra: Any) -> dict[str, Any]:
    return {"sid": sid, "friendly_name": "A flow", "definition": DEFINITION, **extra}


def test_valid_fixture_file() -> None:
    fixtures = fresh()
    add(
        fixtures,
        {
            "accounts": [
                {
                    "sid": ACCOUNT,
                    "auth_token": "token",
                    "friendly_name": "Acme",
                    "api_keys": [{"sid": KEY, "secret": "s"}],
                }
            ],
            "flows": [flow(), flow(FLOW_B, account_sid=ACCOUNT, status="draft", commit_message="wip")],
        },
    )
    fixtures.check()
    account = fixtures.accounts[ACCOUNT]
    assert account.auth_token == "token"
    assert account.api_keys == {KEY: "s"}
    assert fixtures.flows[FLOW_A].account_sid == DEFAULT_ACCOUNT_SID
    assert fixtures.flows[FLOW_A].status == "published"
    assert fixtures.flows[FLOW_B].account_sid == ACCOUNT
    assert fixtures.flows[FLOW_B].status == "draft"
    assert fixtures.flows[FLOW_B].commit_message == "wip"


def test_empty_fixture_file() -> None:
    fixtures = fresh()
    add(fixtures, {})
    assert list(fixtures.accounts) == [DEFAULT_ACCOUNT_SID]
    assert fixtures.flows == {}


def test_invalid_json_names_the_file() -> None:
    with pytest.raises(FixtureError, match=r"^broken\.json: not valid JSON: "):
        add(fresh(), '{"flows": [', source="broken.json")


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"flows": [flow("FW123")]}, "flows.0.sid"),
        ({"flows": [flow("FN" + "a" * 32)]}, "flows.0.sid"),
        ({"flows": [flow(), flow("bad")]}, "flows.1.sid"),
        ({"flows": [flow(friendly_name="")]}, "flows.0.friendly_name"),
        ({"flows": [flow(status="live")]}, "flows.0.status"),
        ({"flows": [flow(account_sid="AC1")]}, "flows.0.account_sid"),
        ({"flows": [flow(definiton={})]}, "flows.0.definiton"),  # misspelt key
        ({"flows": [{"sid": FLOW_A, "friendly_name": "x", "definition": []}]}, "flows.0.definition"),
        ({"accounts": [{"sid": "AC1", "auth_token": "t"}]}, "accounts.0.sid"),
        ({"accounts": [{"sid": ACCOUNT, "auth_token": "with space"}]}, "accounts.0.auth_token"),
        (
            {"accounts": [{"sid": ACCOUNT, "auth_token": "t", "api_keys": [{"sid": "SK1", "secret": "s"}]}]},
            "accounts.0.api_keys.0.sid",
        ),
        ({"flow": []}, "flow"),
        ([], "(top level)"),
    ],
)
def test_invalid_field_names_the_file_and_the_field(content: Any, field: str) -> None:
    with pytest.raises(FixtureError) as info:
        add(fresh(), content, source="dir/flows.json")
    message = str(info.value)
    assert message.startswith("dir/flows.json: ")
    assert f" {field}: " in message


@pytest.mark.parametrize(
    "entry",
    [
        {"sid": FLOW_A, "friendly_name": "no definition"},
        {"sid": FLOW_A, "friendly_name": "both", "definition": DEFINITION, "definition_file": "x.json"},
    ],
)
def test_exactly_one_definition(entry: dict[str, Any]) -> None:
    with pytest.raises(FixtureError) as info:
        add(fresh(), {"flows": [entry]}, source="f.json")
    message = str(info.value)
    assert message.startswith("f.json: flows.0: ")
    assert "exactly one of `definition` and `definition_file`" in message


def test_duplicate_flow_sid() -> None:
    fixtures = fresh()
    add(fixtures, {"flows": [flow()]}, source="one.json")
    with pytest.raises(FixtureError, match=rf"^two\.json: flow {FLOW_A} is defined twice$"):
        add(fixtures, {"flows": [flow()]}, source="two.json")


def test_duplicate_flow_sid_in_one_file() -> None:
    with pytest.raises(FixtureError, match="is defined twice"):
        add(fresh(), {"flows": [flow(), flow()]})


def test_duplicate_account_and_api_key() -> None:
    fixtures = fresh()
    account = {"sid": ACCOUNT, "auth_token": "t", "api_keys": [{"sid": KEY, "secret": "s"}]}
    add(fixtures, {"accounts": [account]}, source="one.json")
    with pytest.raises(FixtureError, match=rf"^two\.json: account {ACCOUNT} is defined twice$"):
        add(fixtures, {"accounts": [account]}, source="two.json")
    other = {"sid": "AC" + "e" * 32, "auth_token": "t", "api_keys": [{"sid": KEY, "secret": "s"}]}
    with pytest.raises(FixtureError, match=rf"^three\.json: API key {KEY} is defined twice$"):
        add(fixtures, {"accounts": [other]}, source="three.json")


def test_flow_for_an_unknown_account() -> None:
    fixtures = fresh()
    add(fixtures, {"flows": [flow(account_sid=ACCOUNT)]})
    with pytest.raises(FixtureError, match=rf"flow {FLOW_A} belongs to account {ACCOUNT}, which no fixture defines"):
        fixtures.check()


def test_flow_for_an_account_defined_in_a_later_file() -> None:
    fixtures = fresh()
    add(fixtures, {"flows": [flow(account_sid=ACCOUNT)]}, source="a.json")
    add(fixtures, {"accounts": [{"sid": ACCOUNT, "auth_token": "t"}]}, source="b.json")
    fixtures.check()  # raises FixtureError for a flow of an unknown account (the test above)
    assert fixtures.flows[FLOW_A].account_sid == ACCOUNT and ACCOUNT in fixtures.accounts


def test_definition_file_needs_a_directory() -> None:
    entry = {"sid": FLOW_A, "friendly_name": "x", "definition_file": "d.json"}
    with pytest.raises(FixtureError, match=rf"^src: flow {FLOW_A}: definition_file needs a fixture directory$"):
        add(fresh(), {"flows": [entry]}, source="src")


def test_bundled_fixtures_load() -> None:
    fixtures = fresh()
    load_bundled(fixtures)
    assert "FW00000000000000000000000000000001" in fixtures.flows


# -- fixture directories ----------------------------------------------------------------------


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_directory_with_definition_files(tmp_path: Path) -> None:
    write(tmp_path / "defs" / "a.json", DEFINITION)  # a bare definition is not a fixture file
    write(
        tmp_path / "nested" / "fixtures.json",
        {"flows": [{"sid": FLOW_A, "friendly_name": "from file", "definition_file": "../defs/a.json"}]},
    )
    (tmp_path / "dir.json").mkdir()  # a directory named like a file is skipped
    write(tmp_path / "notes.txt", "not json")
    fixtures = fresh()
    load_directory(fixtures, tmp_path)
    assert fixtures.flows[FLOW_A].definition == DEFINITION


def test_test_fixture_directory_loads() -> None:
    fixtures = fresh()
    load_directory(fixtures, TEST_FIXTURES)
    assert "FW33333333333333333333333333333333" in fixtures.flows


def test_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FixtureError, match=rf"^{missing}: fixture directory does not exist$"):
        load_directory(fresh(), missing)


def test_invalid_json_in_a_directory_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", '{"flows": [}')
    with pytest.raises(FixtureError, match=rf"^{path}: not valid JSON"):
        load_directory(fresh(), tmp_path)


def test_non_utf8_file_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.json", b'{"flows": [], "x": "\xe9"}')
    with pytest.raises(FixtureError, match=rf"^{path}: cannot read: "):
        load_directory(fresh(), tmp_path)


def test_missing_definition_file_names_both_files(tmp_path: Path) -> None:
    source = write(
        tmp_path / "f.json", {"flows": [{"sid": FLOW_A, "friendly_name": "x", "definition_file": "no.json"}]}
    )
    with pytest.raises(FixtureError) as info:
        load_directory(fresh(), tmp_path)
    message = str(info.value)
    assert message.startswith(f"{source}: flow {FLOW_A}: cannot read definition_file {tmp_path / 'no.json'}")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2]", "is not a JSON object"),
        ("{not json", ": cannot read definition_file "),
        (b"\xff\xfe{}", ": cannot read definition_file "),  # not UTF-8 (used to be a traceback)
    ],
)
def test_bad_definition_file(tmp_path: Path, content: str | bytes, problem: str) -> None:
    # Outside the scanned directory, so only the fixture's reference reads it.
    write(tmp_path / "outside" / "d.json", content)
    source = write(
        tmp_path / "fx" / "f.json",
        {"flows": [{"sid": FLOW_A, "friendly_name": "x", "definition_file": "../outside/d.json"}]},
    )
    with pytest.raises(FixtureError) as info:
        load_directory(fresh(), tmp_path / "fx")
    message = str(info.value)
    assert message.startswith(f"{source}: flow {FLOW_A}: ")
    assert problem in message
    assert str(tmp_path / "fx" / "../outside/d.json") in message


def test_bad_json_file_in_the_directory_is_reported_as_a_fixture_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "defs" / "d.json", "{not json")
    write(tmp_path / "f.json", {"flows": [{"sid": FLOW_A, "friendly_name": "x", "definition_file": "defs/d.json"}]})
    with pytest.raises(FixtureError, match=rf"^{bad}: not valid JSON"):
        load_directory(fresh(), tmp_path)


def test_directory_duplicate_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.json", {"flows": [flow()]})
    second = write(tmp_path / "b.json", {"flows": [flow()]})
    with pytest.raises(FixtureError, match=rf"^{second}: flow {FLOW_A} is defined twice$"):
        load_directory(fresh(), tmp_path)


def test_directory_flow_for_unknown_account(tmp_path: Path) -> None:
    write(tmp_path / "a.json", {"flows": [flow(account_sid=ACCOUNT)]})
    with pytest.raises(FixtureError, match="which no fixture defines"):
        load_directory(fresh(), tmp_path)


# -- the CLI refuses to start -----------------------------------------------------------------


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}
    # Port 0 so that, should it wrongly start, it cannot collide with anything.
    return subprocess.run(
        [sys.executable, "-m", "mockstudio", *args],
        env={**base, "MOCKSTUDIO_PORT": "0", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_cli_rejects_a_misspelt_variable() -> None:
    result = run_cli({"MOCKSTUDIO_PROT": "9000"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "mockstudio: cannot start: unknown environment variable MOCKSTUDIO_PROT (did you mean MOCKSTUDIO_PORT?)"
    )


def test_cli_rejects_a_missing_fixture_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run_cli({"MOCKSTUDIO_FIXTURES": str(missing)})
    assert result.returncode == 2
    assert result.stderr.strip() == f"mockstudio: cannot start: {missing}: fixture directory does not exist"


def test_cli_rejects_an_invalid_fixture_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.json", {"flows": [flow("FW123")]})
    result = run_cli({}, "--fixtures", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"mockstudio: cannot start: {bad}: flows.0.sid: ")
    assert "Traceback" not in result.stderr


def test_cli_rejects_an_unreadable_fixture_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process: the fixtures fail to load before anything would listen.
    bad = write(tmp_path / "bad.json", b"\xff\xfe\x00")
    monkeypatch.setenv("MOCKSTUDIO_FIXTURES", str(tmp_path))
    assert cli_main(["--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mockstudio: cannot start: {bad}: cannot read: ")
    assert "Traceback" not in err


def test_cli_rejects_an_invalid_value(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOCKSTUDIO_PUBLIC_URL", "mock.example")
    assert cli_main([]) == 2
    assert capsys.readouterr().err.startswith("mockstudio: cannot start: MOCKSTUDIO_PUBLIC_URL (--public-url): ")


def test_the_bundled_fixture_passes_the_schema_it_is_loaded_without() -> None:
    # load_bundled trusts the shipped file (no pydantic at startup): this is what checks it.
    from importlib import resources

    from mockstudio.engine.definition import parse_definition
    from mockstudio.fixtures import Fixtures
    from mockstudio.studio import AccountSeed

    bundled = resources.files("mockstudio") / "bundled"
    entries = [e for e in bundled.iterdir() if e.name.endswith(".json")]
    assert entries
    for entry in entries:
        checked = Fixtures(AccountSeed("AC" + "0" * 32, "token"))
        checked.add_text(entry.read_text(encoding="utf-8"), entry.name, None)
        assert checked.flows
        for flow in checked.flows.values():
            definition, problems = parse_definition(flow.definition)
            assert definition is not None and not problems, problems
