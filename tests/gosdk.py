"""Building Go programs against the real twilio-go, offline, for the tests.

The Go module proxy is not reachable from CI, so twilio-go comes from a trimmed copy beside the
repository (`../shared/vendor/go`: its `client/` and `rest/studio/v2/` packages and pkg/errors).
Each program is built in its own module, in a temporary directory, whose go.mod points at that
copy by absolute path. Tests skip, saying why, when Go or the copy is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

VENDOR = ROOT.parent / "shared" / "vendor" / "go"
GO_DIR = Path(__file__).resolve().parent / "go"

_GO_MOD = """module mockstudio.test/gosdk

go 1.19

require (
\tgithub.com/pkg/errors v0.9.1 // indirect
\tgithub.com/twilio/twilio-go v0.0.0
)

replace github.com/twilio/twilio-go => {vendor}/twilio-go

replace github.com/pkg/errors => {vendor}/errors
"""


def go_executable() -> str:
    """`go`, or skip saying why."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not on PATH (Debian: apt-get install -y golang-go)")
    if not (VENDOR / "twilio-go" / "go.mod").is_file() or not (VENDOR / "errors").is_dir():
        pytest.skip(f"the offline twilio-go copy is not at {VENDOR}")
    return go


def build(sources: dict[str, str], workdir: Path) -> Path:
    """Builds one `main` package made of `sources` (file name -> Go source) and returns the
    executable. Fails the test, with the compiler's output, if it does not build."""
    go = go_executable()
    module = workdir / "gomodule"
    module.mkdir(parents=True)
    (module / "go.mod").write_text(_GO_MOD.format(vendor=VENDOR.as_posix()), encoding="utf-8")
    for name, text in sources.items():
        (module / name).write_text(text, encoding="utf-8")
    binary = workdir / "program"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOSUMDB": "off", "CGO_ENABLED": "0"}
    if "HOME" not in env and "GOCACHE" not in env:  # a bare CI container: Go needs somewhere to cache builds
        env["GOCACHE"] = str(workdir / "gocache")
    done = subprocess.run(
        [go, "build", "-o", str(binary), "."], cwd=module, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, f"go build failed:\n{done.stdout}{done.stderr}"
    return binary


def run_environment(base_url: str, account_sid: str, auth_token: str, flow_sid: str) -> dict[str, str]:
    env = {
        **os.environ,
        "MOCKSTUDIO_URL": base_url,
        "ACCOUNT_SID": account_sid,
        "AUTH_TOKEN": auth_token,
        "FLOW_SID": flow_sid,
    }
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):  # twilio-go would rewrite the host name
        env.pop(name, None)
    return env
