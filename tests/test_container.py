"""The Docker image and the docker-compose example, built and run on a real Docker daemon.

The Dockerfile is built on a base made here with debootstrap (see tests/docker_support.py: no
registry is needed) through its BASE build argument. Marked `container`: `-m container` runs only
these, `-m "not container"` leaves them out. Under pytest-xdist each worker that runs some of them
shares the daemon, and builds the image after the first one has (from the build cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.rest import Client

from mockstudio.settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

from .conftest import DEMO_FLOW, ROOT
from .docker_support import base_image, docker_daemon, exclusive, image_exists, image_id, image_size, run
from .helpers import free_port

pytestmark = [
    pytest.mark.container,
    # The first run makes the base image with debootstrap and pip-installs the image: minutes.
    pytest.mark.timeout(1800),
]

PUBLIC_URL = "http://mockstudio:8080"  # what docker-compose.yml sets MOCKSTUDIO_PUBLIC_URL to
IMAGE_BUDGET = 120 * 1024 * 1024  # what the image may add to its base (it adds about 80 MiB)
CACHE_REPOSITORY = "mockstudio-test-cache"
STAGES = ("build", "final")  # the Dockerfile's build stage, then the whole of it


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def docker() -> Iterator[str]:
    with docker_daemon() as cli:
        yield cli


@pytest.fixture(scope="session")
def base(docker: str) -> str:
    return base_image(docker)


@pytest.fixture(scope="session")
def image(docker: str, base: str) -> str:
    """The ID of the image built from this checkout.

    Both stages stay tagged as the next run's build cache; the builds they replace are removed.
    """
    with exclusive("build"):
        previous = {image_id(docker, f"{CACHE_REPOSITORY}:{stage}") for stage in STAGES}
        for stage in STAGES:
            target = ["--target", stage] if stage == "build" else []
            run(
                docker, "build", "--build-arg", f"BASE={base}", *target,
                "--tag", f"{CACHE_REPOSITORY}:{stage}", str(ROOT), timeout=1200,
            )  # fmt: skip
        current = {image_id(docker, f"{CACHE_REPOSITORY}:{stage}") for stage in STAGES}
        for stale in previous - current - {None}:
            run(docker, "rmi", stale, check=False)  # fails, harmlessly, while a container uses it
        built = image_id(docker, f"{CACHE_REPOSITORY}:final")
    assert built is not None
    return built


def test_build_context_holds_only_what_the_image_needs(docker: str, base: str) -> None:
    # The checkout has .venv, tests, caches...: .dockerignore must keep them out of the context.
    assert (ROOT / "tests").is_dir()
    probe = f"mockstudio-test:{_unique('context')}"
    run(docker, "build", "--file", "-", "--tag", probe, str(ROOT), stdin=f"FROM {base}\nCOPY . /context\n")
    try:
        listing = run(docker, "run", "--rm", "--entrypoint", "find", probe, "/context", "-mindepth", "1").stdout
    finally:
        run(docker, "rmi", probe, check=False)
    paths = {Path(line).relative_to("/context") for line in listing.splitlines()}
    assert {path.parts[0] for path in paths} == {"pyproject.toml", "README.md", "mockstudio", "fixtures"}
    assert not [path for path in paths if path.name == "__pycache__" or path.suffix == ".pyc"]


def test_image_runs_as_a_numeric_user_with_a_healthcheck_and_no_build_leftovers(
    docker: str, base: str, image: str
) -> None:
    config = json.loads(run(docker, "image", "inspect", image).stdout)[0]["Config"]
    # Numeric, so Kubernetes' runAsNonRoot can verify it; not root.
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", config["User"]), config["User"]
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert "/_mockstudio/health" in " ".join(config["Healthcheck"]["Test"])

    def build_leftovers(of: str) -> set[str]:
        found = run(
            docker, "run", "--rm", "--user", "0", "--entrypoint", "find", of,
            "/", "-xdev", "(", "(", "-type", "d", "-name", "build", ")", "-o", "-name", "*.egg-info", ")", "-print",
        ).stdout  # fmt: skip
        return set(found.splitlines())

    # Whatever the base already has (Debian ships *.egg-info) is not the Dockerfile's doing.
    assert build_leftovers(image) - build_leftovers(base) == set()
    assert not run(docker, "run", "--rm", "--entrypoint", "ls", image, "/src", check=False).stdout

    added = image_size(docker, image) - image_size(docker, base)
    assert 0 < added <= IMAGE_BUDGET, f"the image adds {added / 2**20:.1f} MiB to its base"


def test_container_gets_healthy_serves_the_sdk_and_stops_at_once(docker: str, image: str) -> None:
    name = _unique("mockstudio-test")
    run(docker, "run", "--detach", "--name", name, "--publish", "127.0.0.1::8080", image)
    try:
        _wait_healthy(docker, name)
        base_url = f"http://127.0.0.1:{_published_port(docker, name)}"
        client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        client.studio.base_url = base_url
        executions = client.studio.v2.flows(DEMO_FLOW).executions
        created = executions.create(to="+15551230001", from_="+15017122661", parameters={"name": "Zeke"})
        assert created.url == f"{base_url}/v2/Flows/{DEMO_FLOW}/Executions/{created.sid}"
        assert [listed.sid for listed in executions.list()] == [created.sid]

        # The SDK's connection is still open: SIGTERM must not wait for it.
        started = time.monotonic()
        stopped = run(docker, "stop", name, check=False, timeout=30)
        elapsed = time.monotonic() - started
        assert stopped.returncode == 0, stopped.stderr
        assert elapsed < 2, f"docker stop took {elapsed:.2f} s"
        state = json.loads(run(docker, "inspect", "--format", "{{json .State}}", name).stdout)
        assert (state["ExitCode"], state["OOMKilled"]) == (0, False), state
        assert "Traceback" not in run(docker, "logs", name).stderr
    finally:
        run(docker, "rm", "--force", name, check=False)


def test_compose_example_pages_through_the_public_url(docker: str, base: str, image: str, tmp_path: Path) -> None:
    compose = _compose_command(docker)
    project = _unique("mockstudio-test")
    built = f"mockstudio-test:{_unique('compose')}"
    port = free_port()
    env = {**os.environ, "STUDIO_MOCK_PORT": str(port)}  # the example's host port
    # The example as it is, but built on the test's base, with the base standing in for the app's
    # python image (no registry here), and the mockstudio image tagged so that it can be removed.
    override = tmp_path / "docker-compose.override.yml"  # JSON is YAML
    override.write_text(
        json.dumps(
            {"services": {"mockstudio": {"image": built, "build": {"args": {"BASE": base}}}, "app": {"image": base}}}
        )
    )
    command = [*compose, "--project-name", project, "--file", str(ROOT / "docker-compose.yml"), "--file", str(override)]
    try:
        run(*command, "up", "--build", "--detach", env=env, timeout=1200)
        # The app starts once mockstudio is healthy, creates an execution and prints it.
        app = run(*command, "ps", "--all", "--quiet", "app", env=env).stdout.strip()
        assert run(docker, "wait", app, timeout=60).stdout.strip() == "0", run(docker, "logs", app).stderr
        created = json.loads(run(docker, "logs", app).stdout)
        assert created["url"] == f"{PUBLIC_URL}/v2/Flows/{DEMO_FLOW}/Executions/{created['sid']}"
        assert all(link.startswith(f"{PUBLIC_URL}/") for link in created["links"].values())

        # Paging from the app's network: next_page_url names the mock as the app reaches it.
        paged = json.loads(run(*command, "run", "--rm", "-T", "app", "python", "-c", _PAGING, env=env).stdout)
        first, second = paged["first"], paged["second"]
        assert first["meta"]["url"] == f"{PUBLIC_URL}/v2/Flows/{DEMO_FLOW}/Executions?PageSize=1&Page=0"
        assert first["meta"]["next_page_url"].startswith(f"{PUBLIC_URL}/v2/Flows/{DEMO_FLOW}/Executions?")
        assert second["meta"]["previous_page_url"].startswith(f"{PUBLIC_URL}/v2/Flows/{DEMO_FLOW}/Executions?")
        sids = [execution["sid"] for page in (first, second) for execution in page["executions"]]
        assert len(sids) == 2 and created["sid"] in sids

        # From the host, on the loopback port the example publishes: the same public URL, whatever Host says.
        assert _published_port(docker, run(*command, "ps", "--quiet", "mockstudio", env=env).stdout.strip()) == port
        listed = httpx.get(
            f"http://127.0.0.1:{port}/v2/Flows/{DEMO_FLOW}/Executions",
            auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
            timeout=10,
        ).json()
        assert listed["meta"]["url"].startswith(f"{PUBLIC_URL}/")
        assert {execution["sid"] for execution in listed["executions"]} == set(sids)

        # `docker compose stop`: SIGTERM, the state file closed, status 0.
        mockstudio = run(*command, "ps", "--quiet", "mockstudio", env=env).stdout.strip()
        run(*command, "stop", env=env, timeout=120)
        assert run(docker, "inspect", "--format", "{{.State.ExitCode}}", mockstudio).stdout.strip() == "0"
    finally:
        run(*command, "down", "--volumes", env=env, check=False, timeout=300)
        if image_exists(docker, built):
            run(docker, "rmi", "--no-prune", built, check=False)


# Run in the app container: a second execution, then the list one per page, following next_page_url.
_PAGING = """
import base64, json, os, urllib.parse, urllib.request
auth = base64.b64encode(f"{os.environ['TWILIO_ACCOUNT_SID']}:{os.environ['TWILIO_AUTH_TOKEN']}".encode()).decode()
def call(url, form=None):
    data = None if form is None else urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Basic {auth}"})
    return json.load(urllib.request.urlopen(request))
executions = f"{os.environ['STUDIO_BASE_URL']}/v2/Flows/{os.environ['FLOW_SID']}/Executions"
call(executions, {"To": "+15550000002", "From": "+15017122661"})
first = call(executions + "?PageSize=1")
print(json.dumps({"first": first, "second": call(first["meta"]["next_page_url"])}))
"""


def _compose_command(docker: str) -> list[str]:
    if run(docker, "compose", "version", check=False).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed (Debian: apt-get install docker-compose)")
    return [standalone]


def _published_port(docker: str, container: str) -> int:
    # e.g. "127.0.0.1:32768": the example and this test publish on the loopback interface only.
    published = run(docker, "port", container, "8080").stdout.split()
    assert published and all(binding.startswith("127.0.0.1:") for binding in published), published
    return int(published[0].rsplit(":", 1)[1])


def _wait_healthy(docker: str, container: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = json.loads(run(docker, "inspect", "--format", "{{json .State}}", container).stdout)
        if state["Health"]["Status"] == "healthy":
            return
        if not state["Running"]:
            break
        time.sleep(0.5)
    logs = subprocess.run([docker, "logs", container], capture_output=True, text=True, check=False)
    raise AssertionError(f"not healthy: {state}\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}")
