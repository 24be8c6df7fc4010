"""Every code block in README.md is run, or checked, so the README cannot drift.

Each fenced block is claimed by one entry of BLOCKS (its language and text it contains), or is a
docker-only shell block (not run by design: it needs a daemon and publishes a fixed port): a new
block that nothing claims fails `test_every_block_is_accounted_for`. Snippets that talk to a server run
against one started with the README's own server command (on a free port: `http://127.0.0.1:8080`
in a snippet is rewritten to it). The quick start's curl, Python, Node and Go blocks run in the
README's order against that one server, each after the others, as a newcomer would run them.
Node and Go run where they are installed (CI installs them), with twilio-node from tests/node and
twilio-go from the offline copy (tests/gosdk.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import mockstudio

from .conftest import DEMO_FLOW, ROOT
from .gosdk import build as build_go
from .gosdk import go_executable

README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
NODE_MODULES = Path(os.environ.get("MOCKSTUDIO_NODE_MODULES") or ROOT / "tests" / "node" / "node_modules")
BIN = Path(sys.executable).parent  # the virtualenv this runs in: `.venv/bin` in the README's commands
README_URL = "http://127.0.0.1:8080"
ACCOUNT, TOKEN = "AC00000000000000000000000000000000", "mockstudio"
CONTACT = "+15551234567"
# Every curl in a shell snippet fails the script on an HTTP error (the README's own commands
# print the error body and go on, as a person reading it would).
CURL_STRICT = 'curl() { command curl --silent --show-error --fail-with-body "$@"; echo; }\n'


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # where its opening fence is, 1-based


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    opened: tuple[str, int] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        if opened is None:
            if line.startswith("```"):
                opened, body = (line[3:].strip(), number), []
        elif line.startswith("```"):
            blocks.append(Block(opened[0], "\n".join(body) + "\n", opened[1]))
            opened = None
        else:
            body.append(line)
    assert opened is None, f"README.md:{opened[1]}: a code block is never closed"
    return blocks


# name -> (language, a line the block contains). Each block is claimed by exactly one entry.
BLOCKS: dict[str, tuple[str, str]] = {
    "setup": ("sh", "# Set up and run the server"),
    "curl": ("sh", "# the contact replies, as Twilio's webhook would deliver it"),
    "python": ("python", f'client.studio.base_url = "{README_URL}"'),
    "node": ("js", 'const twilio = require("twilio");'),
    "go": ("go", "package main"),
    "terminal": ("sh", ".venv/bin/mockstudio validate fixtures/definitions/appointment-reminder.json"),
    "fixtures": ("json", '"accounts": ['),
    "journal": ("sh", "/_mockstudio/requests?method=POST&path_contains=/Executions"),
    "journal-answer": ("json", '{"requests": [{"id": 1,'),
    "faults": ("sh", "/_mockstudio/faults"),
    "pytest": ("python", "def test_callback_flow(mockstudio):"),
    "pytest-settings": ("python", "def mockstudio_settings():"),
    "pytest-ivr": ("python", "def test_ivr_press_1_for_sales(mockstudio):"),
    "in-process": ("python", "client, mock = in_process_client()"),
    "unittest": ("python", "class CallbackFlowTest(unittest.TestCase):"),
    "events-collector": ("python", "def test_consumer_sees_the_whole_execution(mockstudio):"),
    "coverage": ("sh", "--mockstudio-coverage-fail-under=80"),
    "coverage-summary": ("text", "mockstudio flow coverage"),
    # Not code: a picture of the layers. Nothing to run.
    "architecture": ("", "HTTP (FastAPI)"),
}


def docker_blocks() -> list[Block]:
    """Shell blocks whose commands are all docker commands: they need a Docker daemon, build an
    image and publish a fixed port, so they are not run here (see test_docker_blocks)."""
    found = []
    for b in readme_blocks():
        commands = [line for line in b.text.splitlines() if line.strip() and not line.startswith(("#", " "))]
        if b.language == "sh" and commands and all(line.startswith("docker ") for line in commands):
            found.append(b)
    return found


def block(name: str) -> Block:
    language, marker = BLOCKS[name]
    found = [b for b in readme_blocks() if b.language == language and marker in b.text]
    assert len(found) == 1, f"README block {name!r} ({language}, containing {marker!r}): {len(found)} found"
    return found[0]


def test_every_block_is_accounted_for() -> None:
    blocks = readme_blocks()
    assert blocks
    docker = docker_blocks()
    for found in blocks:
        if found in docker:
            continue
        claims = [
            name for name, (language, marker) in BLOCKS.items() if found.language == language and marker in found.text
        ]
        assert len(claims) == 1, (
            f"README.md:{found.line}: a {found.language or 'plain'} block claimed by {claims or 'no entry'} "
            "of BLOCKS in tests/test_readme.py: give it a test there"
        )
    for name in BLOCKS:
        block(name)


# -- the server, started with the README's own command ----------------------------------------


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSTUDIO_", "PYTEST_"))}
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):  # the SDKs would rewrite the mock's host name
        env.pop(name, None)
    return env


def _from_venv(command: str) -> str:
    """A README command with `.venv/bin/` standing for the virtualenv running the tests."""
    return command.replace(".venv/bin/", f"{BIN}/")


def _setup_lines() -> tuple[str, str]:
    lines = [line for line in block("setup").text.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2, lines
    return lines[0], lines[1]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=(ACCOUNT, TOKEN), timeout=10)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/_mockstudio/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The README's server command (its part after the setup), on a free port."""
    start = _setup_lines()[0].split(" && ")[-1]
    assert start == ".venv/bin/mockstudio --fixtures fixtures"
    log = tmp_path_factory.mktemp("readme-server") / "server.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_from_venv(start).split(), "--port", str(port)], cwd=ROOT, env=_environment(), stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        while not _healthy(base_url):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        assert f"listening on {base_url}" in log.read_text(errors="replace")
        yield Server(base_url, process, log)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def live(server: Server) -> Server:
    """The server with fresh state (what an earlier test made, faults included, is gone)."""
    with server.http() as http:
        assert http.post("/_mockstudio/reset").status_code == 200
    return server


def _pointed_at(text: str, server: Server) -> str:
    assert README_URL in text
    rewritten = text.replace(README_URL, server.base_url)
    assert "8080" not in rewritten, "a snippet reaches the mock other than through http://127.0.0.1:8080"
    return rewritten


def _run(command: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env or _environment(), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _shell(text: str, server: Server) -> str:
    if shutil.which("curl") is None:
        pytest.skip("curl is not on PATH (Debian: apt-get install -y curl)")
    return _run(["bash", "-c", "set -euo pipefail\n" + CURL_STRICT + _pointed_at(text, server)])


# -- the opening commands -----------------------------------------------------------------------


def test_setup_commands_are_what_ci_runs() -> None:
    """The first command sets up and starts the server (the `server` fixture runs its start);
    the second is the test command .ci/run runs verbatim."""
    serve, test = _setup_lines()
    assert serve == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/mockstudio --fixtures fixtures"
    assert test == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"
    ci = CI_RUN.read_text(encoding="utf-8").splitlines()
    assert test in ci
    # The README says so, and that the first command keeps its terminal.
    prose = " ".join(README.read_text(encoding="utf-8").split())
    assert "keeps the terminal" in block("setup").text and "in a second terminal" in prose


def test_health_is_documented_exactly(live: Server) -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith("| `GET /_mockstudio/health`"))
    documented = re.search(r"200 `(\{.*?\})`", row)
    assert documented, row
    answer = httpx.get(f"{live.base_url}/_mockstudio/health", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == json.loads(documented.group(1)) == {"status": "ok", "version": mockstudio.__version__}


def test_sdk_extra_installs_twilio() -> None:
    """The twilio-python quick start's install command names an extra that brings twilio."""
    install = re.search(r"`\.venv/bin/pip install -e '\.\[(\w+)\]'`", README.read_text(encoding="utf-8"))
    assert install, "the README no longer says how to install twilio"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = project["optional-dependencies"][install.group(1)]
    assert any(re.match(r"twilio\b", requirement) for requirement in extra), extra


# -- the quick start, in the README's order, against one server -------------------------------


def _executions(http: httpx.Client) -> list[dict[str, Any]]:
    page = http.get(f"/v2/Flows/{DEMO_FLOW}/Executions", params={"PageSize": 100})
    assert page.status_code == 200, page.text
    executions: list[dict[str, Any]] = page.json()["executions"]
    return executions


def _node(text: str, server: Server, workdir: Path) -> str | None:
    """Runs the Node snippet as printed (saved as quickstart.js), or says why it cannot here."""
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    if not (NODE_MODULES / "twilio").is_dir():
        return f"twilio-node is not installed at {NODE_MODULES} (cd tests/node && npm ci)"
    script = workdir / "quickstart.js"
    script.write_text(_pointed_at(text, server), encoding="utf-8")
    _run([node, str(script)], cwd=workdir, env={**_environment(), "NODE_PATH": str(NODE_MODULES)})
    return None


def _go(text: str, server: Server, workdir: Path) -> str | None:
    try:
        go_executable()
    except pytest.skip.Exception as skipped:
        return str(skipped)
    _run([str(build_go({"main.go": _pointed_at(text, server)}, workdir / "go"))])
    return None


def test_quick_start_in_order(live: Server, tmp_path: Path) -> None:
    """curl, twilio-python, twilio-node and twilio-go, one after the other on one server: each
    creates an execution for the same contact, so each must leave it ended for the next."""
    order = sorted(("curl", "python", "node", "go"), key=lambda name: block(name).line)
    assert order == ["curl", "python", "node", "go"], "the quick start's order changed: check the snippets"
    not_run: list[str] = []
    ran = 0
    with live.http() as http:
        for name in order:
            text = block(name).text
            if name == "curl" and shutil.which("curl") is None:
                not_run.append("curl: curl is not on PATH")
                continue
            if name == "curl":
                output = _shell(text, live).splitlines()
                created = json.loads(output[0])
                assert created["status"] == "active" and created["contact_channel_address"] == CONTACT
                # The reply reached the waiting execution, which thanked Zeke and ended.
                settled = http.get(f"/_mockstudio/executions/{created['sid']}/settled")
                assert settled.status_code == 200 and settled.json()["settled"], settled.text
                bodies = [m["body"] for m in http.get("/_mockstudio/messages").json()["messages"]]
                assert "yes" in bodies and any("Zeke" in body for body in bodies), bodies
            elif name == "python":
                script = tmp_path / "quickstart.py"
                script.write_text(_pointed_at(text, live), encoding="utf-8")
                output = _run([sys.executable, str(script)]).splitlines()
                assert re.fullmatch(r"FN[0-9a-f]{32} active", output[0]), output  # newest first: its own
                assert "'name': 'Zeke'" in output[-1]  # the execution context
            elif name == "node" and (reason := _node(text, live, tmp_path)):
                not_run.append(f"node: {reason}")
                continue
            elif name == "go" and (reason := _go(text, live, tmp_path)):
                not_run.append(f"go: {reason}")
                continue
            ran += 1
            executions = _executions(http)
            assert len(executions) == ran, f"{name}: {len(executions)} executions"
            assert [e["status"] for e in executions] == ["ended"] * ran, f"{name} left its execution active"
            assert executions[0]["contact_channel_address"] == CONTACT
    if not_run:
        pytest.skip(f"ran {ran} of the 4 quick start snippets; not run here: " + "; ".join(not_run))


def test_go_snippet_is_gofmt_clean(tmp_path: Path) -> None:
    go = go_executable()
    gofmt = Path(go).resolve().parent / "gofmt"
    source = tmp_path / "main.go"
    source.write_text(block("go").text, encoding="utf-8")
    assert _run([str(gofmt if gofmt.exists() else "gofmt"), "-l", str(source)]) == ""


# -- the other snippets -------------------------------------------------------------------------


def test_run_a_flow_in_the_terminal() -> None:
    output = _run(["bash", "-c", "set -euo pipefail\n" + _from_venv(block("terminal").text)])
    assert "Zeke" in output and "ended" in output, output


def test_fixture_example_loads(tmp_path: Path) -> None:
    """The fixture document, beside the repository's definitions, loads into a server: the second
    account and its API key work, and each flow is where it says."""
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures" / "definitions", fixtures / "definitions")
    (fixtures / "example.json").write_text(block("fixtures").text, encoding="utf-8")
    document = json.loads(block("fixtures").text)
    ((account,), flows) = document["accounts"], document["flows"]
    (key,) = account["api_keys"]
    from mockstudio.settings import Settings
    from mockstudio.testing import MockStudioServer

    with MockStudioServer(Settings(fixtures=fixtures)) as mock:
        for flow in flows:
            owner = flow.get("account_sid", ACCOUNT)
            auth = (key["sid"], key["secret"]) if owner == account["sid"] else (ACCOUNT, TOKEN)
            fetched = httpx.get(f"{mock.base_url}/v2/Flows/{flow['sid']}", auth=auth, timeout=10)
            assert fetched.status_code == 200, fetched.text
            assert fetched.json()["friendly_name"] == flow["friendly_name"]
        wrong = httpx.get(f"{mock.base_url}/v2/Flows", auth=(account["sid"], "not-it"), timeout=10)
        assert wrong.status_code == 401
        other = httpx.get(f"{mock.base_url}/v2/Flows", auth=(account["sid"], account["auth_token"]), timeout=10)
        assert [f["sid"] for f in other.json()["flows"]] == [flows[1]["sid"]]


def test_journal_snippet_answers_as_shown(live: Server) -> None:
    with live.http() as http:
        created = http.post(
            f"/v2/Flows/{DEMO_FLOW}/Executions",
            data={"To": CONTACT, "From": "+15017122661", "Parameters": '{"name": "Zeke"}'},
        )
        assert created.status_code == 201
    answer = json.loads(_shell(block("journal").text, live))
    shown = json.loads(block("journal-answer").text)
    assert set(answer) == set(shown)
    (request,) = answer["requests"]
    (example,) = shown["requests"]
    assert set(request) == set(example)
    same = ("method", "path", "query", "form", "account_sid", "status", "matched_route", "fault_id")
    assert {k: request[k] for k in same} == {k: example[k] for k in same}
    assert (answer["limit"], answer["dropped"]) == (shown["limit"], shown["dropped"])


def test_fault_snippet_installs_its_three_rules(live: Server) -> None:
    _shell(block("faults").text, live)
    with live.http() as http:
        rules = http.get("/_mockstudio/faults").json()["faults"]
        assert [(r["status"], r["times"], r["probability"], r["latency_ms"]) for r in rules] == [
            (503, 2, None, 0),
            (429, None, 0.25, 0),
            (None, None, None, 2000),
        ]
        # The first rule answers the next create with 503/20503.
        refused = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": CONTACT, "From": "+15017122661"})
        assert refused.status_code == 503 and refused.json()["code"] == 20503
        assert http.post("/_mockstudio/reset").status_code == 200


def _pytest(workdir: Path) -> str:
    env = {**_environment(), "PYTHONDONTWRITEBYTECODE": "1"}
    return _run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"], cwd=workdir, env=env
    )


def test_pytest_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_callback.py").write_text(block("pytest").text, encoding="utf-8")
    assert "1 passed" in _pytest(tmp_path)


def test_pytest_ivr_example_passes(tmp_path: Path) -> None:
    """The IVR example, in a project holding the repository's fixtures/ (its flow file)."""
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    (tmp_path / "test_ivr.py").write_text(block("pytest-ivr").text, encoding="utf-8")
    assert "1 passed" in _pytest(tmp_path)


def test_pytest_settings_override(tmp_path: Path) -> None:
    """The conftest fragment, in a project whose flows are in tests/studio: the fixture's server
    loads them."""
    shutil.copytree(ROOT / "fixtures", tmp_path / "tests" / "studio")
    (tmp_path / "conftest.py").write_text("import pytest\n\n\n" + block("pytest-settings").text, encoding="utf-8")
    (tmp_path / "test_settings.py").write_text(
        "def test_flows_from_tests_studio(mockstudio):\n"
        "    flow = mockstudio.client().studio.v2.flows('FW10000000000000000000000000000001').fetch()\n"
        "    assert flow.friendly_name == 'Appointment reminder'\n",
        encoding="utf-8",
    )
    assert "1 passed" in _pytest(tmp_path)


def test_flow_coverage_commands_and_summary(tmp_path: Path) -> None:
    """Each coverage command run on the pytest example: the files where it says, the exit
    status it says, and the summary the README shows (its lines, paths aside)."""
    (tmp_path / "test_callback.py").write_text(block("pytest").text, encoding="utf-8")
    commands = [line.split("#")[0].split() for line in block("coverage").text.splitlines() if line.strip()]
    assert [c[0] for c in commands] == [".venv/bin/pytest"] * 3
    shown = block("coverage-summary").text.splitlines()
    env = {**_environment(), "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"}
    outputs = []
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *command[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        fails = any(arg.startswith("--mockstudio-coverage-fail-under=") for arg in command)
        assert done.returncode == (1 if fails else 0), done.stdout + done.stderr
        outputs.append(done.stdout.splitlines())
    assert (tmp_path / "mockstudio-coverage" / "coverage.html").is_file()
    assert (tmp_path / "reports" / "flows" / "coverage.json").is_file()
    # The README's sample: the flow lines as printed, the `wrote` lines up to the directory,
    # the verdict of the fail-under run.
    first, last = outputs[0], outputs[2]
    for line in shown:
        if line.startswith("-"):
            assert any("mockstudio flow coverage" in out and out.startswith("-") for out in first)
        elif line.startswith("wrote "):
            assert f"wrote {tmp_path / 'mockstudio-coverage' / line.rsplit('/', 1)[1]}" in first
        elif line.startswith("FAIL"):
            assert line in last
        else:
            assert line in first and line in last


def _constants() -> str:
    """The first line of the pytest example, which the later snippets use."""
    first = block("pytest").text.splitlines()[0]
    assert first.startswith("FLOW, CONTACT, NUMBER = ")
    return first + "\n"


def test_events_collector_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_events_example.py").write_text(block("events-collector").text, encoding="utf-8")
    assert "1 passed" in _pytest(tmp_path)


def test_in_process_snippet(tmp_path: Path) -> None:
    script = tmp_path / "in_process.py"
    script.write_text(_constants() + block("in-process").text, encoding="utf-8")
    _run([sys.executable, str(script)], cwd=tmp_path)


def test_unittest_snippet(tmp_path: Path) -> None:
    (tmp_path / "test_unit.py").write_text(_constants() + block("unittest").text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "unittest", "-v", "test_unit"],
        cwd=tmp_path,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "Ran 1 test" in done.stderr and "\nOK" in done.stderr, done.stderr


def test_docker_blocks() -> None:
    """Not run here: they need a Docker daemon, build an image and publish a fixed port. What they
    build from must exist."""
    blocks = docker_blocks()
    assert blocks, "the README no longer says how to run the image"
    assert (ROOT / "Dockerfile").is_file() and any("docker build" in b.text for b in blocks)
    lines = ", ".join(f"README.md:{b.line}" for b in blocks)
    pytest.skip(f"Docker blocks ({lines}): need a Docker daemon and publish a fixed port; not run by design")
