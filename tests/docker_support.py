"""A Docker daemon and a base image for the container tests, with no registry.

The daemon: one that answers is used as it is; otherwise, as root with `dockerd` installed and no
socket left by another daemon, one is started and stopped afterwards. Anything else is a skip that
says why.

The base image: Debian bookworm with python3 and its venv module, made with debootstrap from the
Debian mirror apt uses on this machine, so it needs nothing but Debian's archive. It is cached
twice, as the image `mockstudio-base:bookworm` and as a root filesystem tarball under
/var/cache/mockstudio-test (`MOCKSTUDIO_TEST_CACHE`), so only the first run pays for debootstrap.
`MOCKSTUDIO_TEST_BASE_IMAGE` (e.g. `python:3.12-slim`) names an image to use instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

SUITE = "bookworm"
# python-is-python3: `python`, as in the python:* images (the compose example's app runs `python`).
BASE_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates")
BASE_TAG = f"mockstudio-base:{SUITE}"
BASE_LABEL = "org.mockstudio.test-base"
# What the base is made of: a change to it makes a new tarball and a new image.
BASE_KEY = hashlib.sha256(f"{SUITE} {' '.join(BASE_PACKAGES)} v1".encode()).hexdigest()[:12]
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DOCKER_SOCKET = Path("/var/run/docker.sock")


def run(
    *args: str,
    timeout: float = 120,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; with `check`, a non-zero status fails the test with the command's output."""
    result = subprocess.run(
        args,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else dict(env),
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(args)}` exited with status {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """One holder at a time across processes (pytest-xdist workers, parallel runs): e.g. one
    `docker build` does the work while the others wait, then find it in the build cache."""
    with open(Path(tempfile.gettempdir()) / f"mockstudio-test-{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def image_exists(docker: str, image: str) -> bool:
    return run(docker, "image", "inspect", image, check=False).returncode == 0


def image_id(docker: str, image: str) -> str | None:
    inspected = run(docker, "image", "inspect", "--format", "{{.Id}}", image, check=False)
    return inspected.stdout.strip() if inspected.returncode == 0 else None


def image_size(docker: str, image: str) -> int:
    return int(run(docker, "image", "inspect", "--format", "{{.Size}}", image).stdout)


@contextlib.contextmanager
def docker_daemon() -> Iterator[str]:
    """The docker CLI's path, with a daemon answering it for the duration.

    Every user (pytest-xdist workers, parallel test runs) holds a shared lock while it needs the
    daemon; the one that started it stops it once it gets the lock to itself, when nobody else does.
    """
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("the docker CLI is not installed (Debian: apt-get install docker.io)")
    with open(Path(tempfile.gettempdir()) / "mockstudio-test-dockerd.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one at a time looks for a daemon and starts one
        dockerd = None if _answers(docker) else _start_daemon(docker)
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield docker
        finally:
            if dockerd is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
                _stop(dockerd)


def _answers(docker: str) -> bool:
    return run(docker, "info", "--format", "{{.ServerVersion}}", check=False, timeout=30).returncode == 0


def _start_daemon(docker: str) -> subprocess.Popen[bytes]:
    reason = _why_no_daemon_can_start()
    if reason:
        pytest.skip(f"no Docker daemon answers and {reason}")
    with tempfile.NamedTemporaryFile("w+", prefix="mockstudio-dockerd-", suffix=".log") as log:
        # Its own session: a Ctrl-C meant for pytest does not reach it before the cleanup.
        dockerd = subprocess.Popen(
            ["dockerd"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and dockerd.poll() is None:
            if _answers(docker):
                return dockerd
            time.sleep(0.5)
        log_tail = "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-15:])
    _stop(dockerd)
    pytest.skip(f"dockerd could not start (status {dockerd.returncode}); the end of its log:\n{log_tail}")


def _stop(dockerd: subprocess.Popen[bytes]) -> None:
    dockerd.terminate()
    try:
        dockerd.wait(timeout=60)
    except subprocess.TimeoutExpired:
        dockerd.kill()
        dockerd.wait()


def _why_no_daemon_can_start() -> str:
    if os.environ.get("DOCKER_HOST"):
        return f"DOCKER_HOST ({os.environ['DOCKER_HOST']}) names a daemon this test does not manage"
    if shutil.which("dockerd") is None:
        return "dockerd is not installed (Debian: apt-get install docker.io)"
    if os.geteuid() != 0:
        return "only root can start dockerd"
    if DOCKER_SOCKET.exists():
        return f"{DOCKER_SOCKET} exists: another daemon owns it (or left it behind)"
    return ""


def base_image(docker: str) -> str:
    """The image the Dockerfile is built on (its BASE build argument)."""
    chosen = os.environ.get("MOCKSTUDIO_TEST_BASE_IMAGE")
    if chosen:
        if not image_exists(docker, chosen):
            run(docker, "pull", chosen, timeout=900)
        return chosen
    if _base_is_current(docker):
        return BASE_TAG
    cache = Path(os.environ.get("MOCKSTUDIO_TEST_CACHE", "/var/cache/mockstudio-test"))
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        pytest.skip(f"no cache directory for the base image ({error}); set MOCKSTUDIO_TEST_CACHE")
    # One builder at a time (pytest-xdist workers, parallel checkouts); the others then find the image.
    with open(cache / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _base_is_current(docker):
            tarball = cache / f"rootfs-{SUITE}-{BASE_KEY}.tar"
            if not tarball.exists():
                _debootstrap(tarball)
            for stale in cache.glob(f"rootfs-{SUITE}-*.tar"):
                if stale != tarball:
                    stale.unlink()
            previous = image_id(docker, BASE_TAG)
            run(
                docker,
                "import",
                "--change",
                f"LABEL {BASE_LABEL}={BASE_KEY}",
                # pip uses its own CA list, not the system's: point it at the system's bundle.
                "--change",
                f"ENV PIP_CERT={CA_BUNDLE}",
                "--change",
                'CMD ["python3"]',
                str(tarball),
                BASE_TAG,
                timeout=600,
            )
            if previous is not None:
                run(docker, "rmi", previous, check=False)  # another BASE_KEY's base, now untagged
    return BASE_TAG


def _base_is_current(docker: str) -> bool:
    inspected = run(docker, "image", "inspect", "--format", "{{json .Config.Labels}}", BASE_TAG, check=False)
    return inspected.returncode == 0 and (json.loads(inspected.stdout) or {}).get(BASE_LABEL) == BASE_KEY


def _debootstrap(tarball: Path) -> None:
    if shutil.which("debootstrap") is None:
        pytest.skip(
            "debootstrap is not installed (Debian: apt-get install debootstrap), so there is no base image; "
            "MOCKSTUDIO_TEST_BASE_IMAGE=python:3.12-slim builds on that image instead"
        )
    if os.geteuid() != 0:
        pytest.skip("debootstrap needs root to make the base image; MOCKSTUDIO_TEST_BASE_IMAGE names another")
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        try:
            run(
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(rootfs),
                debian_mirror(),
                timeout=1500,
            )
            # Trust what this machine trusts (its egress may go through a TLS-inspecting proxy).
            if CA_BUNDLE.is_file():
                shutil.copyfile(CA_BUNDLE, rootfs / CA_BUNDLE.relative_to("/"))
            for package in (rootfs / "var/cache/apt/archives").glob("*.deb"):
                package.unlink()
            for index in (rootfs / "var/lib/apt/lists").iterdir():
                if index.is_file() and index.name != "lock":
                    index.unlink()
            partial = tarball.with_suffix(".partial")
            run("tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), ".", timeout=600)
            partial.rename(tarball)
        finally:
            _unmount_under(rootfs)  # a debootstrap that failed half-way can leave /proc or /sys mounted


def _unmount_under(root: Path) -> None:
    prefix = f"{root}/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(prefix)), reverse=True):
        run("umount", "--lazy", mount, check=False)


def debian_mirror() -> str:
    """The mirror apt uses here for the suite's main component (one-line or deb822 sources)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        found = _deb822_mirror(text) if path.suffix == ".sources" else _one_line_mirror(text)
        if found:
            return found
    return DEFAULT_MIRROR


def _deb822_mirror(text: str) -> str | None:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, list[str]] = {}
        for line in stanza.splitlines():
            key, colon, value = line.partition(":")
            if colon and not line.startswith((" ", "\t", "#")):
                fields[key.strip().lower()] = value.split()
        if (
            "deb" in fields.get("types", [])
            and SUITE in fields.get("suites", [])
            and "main" in fields.get("components", [])
            and fields.get("uris")
        ):
            return fields["uris"][0]
    return None


def _one_line_mirror(text: str) -> str | None:
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()  # drop [arch=... signed-by=...]
        if len(words) >= 4 and words[0] == "deb" and words[2] == SUITE and "main" in words[3:]:
            return words[1]
    return None
