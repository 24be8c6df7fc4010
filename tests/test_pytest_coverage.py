"""The pytest plugin's flow coverage, end to end: generated test projects run by pytest in a
subprocess (the plugin from the installed entry point), with `--mockstudio-coverage[=DIR]`
and `--mockstudio-coverage-fail-under=N`, alone and under pytest-xdist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "ignore::pytest.PytestAssertRewriteWarning")

# Two tests of the demo flow, each after the fixture's reset: together they take 5 of its 8
# transitions (a "yes" and a "maybe" reply).
DEMO_TESTS = """
import pytest

DEMO = "FW00000000000000000000000000000001"
NUMBER = "+15005550006"


def run(mockstudio, contact, body):
    execution = mockstudio.client().studio.v2.flows(DEMO).executions.create(to=contact, from_=NUMBER)
    mockstudio.wait_until_settled(execution.sid)
    mockstudio.send_message(from_=contact, to=NUMBER, body=body)
    assert len(mockstudio.client().studio.v2.flows(DEMO).executions.list()) == 1  # reset before each test


@pytest.mark.parametrize("n", range(4))
def test_yes(mockstudio, n):
    run(mockstudio, "+1555000100%d" % n, "yes")


def test_maybe(mockstudio):
    run(mockstudio, "+15550002000", "maybe")
"""

DEMO_LINE = (
    "mockstudio demo: greet and ask   4/4 widgets   5/8 transitions   62%   "
    "never taken: greet.timeout, greet.deliveryFailure, confirm.failed"
)
WAIT_FLOW = {
    "flows": [
        {
            "sid": "FW" + "5" * 32,
            "friendly_name": "never run <b>",
            "definition": {
                "description": "",
                "initial_state": "Trigger",
                "flags": {"allow_concurrent_calls": True},
                "states": [
                    {
                        "name": "Trigger",
                        "type": "trigger",
                        "transitions": [{"event": "incomingRequest", "next": "hello"}],
                        "properties": {"offset": {"x": 0, "y": 0}},
                    },
                    {
                        "name": "hello",
                        "type": "send-message",
                        "transitions": [{"event": "sent"}, {"event": "failed"}],
                        "properties": {"offset": {"x": 0, "y": 200}, "body": "Hi"},
                    },
                ],
            },
        }
    ]
}


@pytest.fixture(autouse=True)
def _outside_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)


def _summary(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if "mockstudio flow coverage" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("=") or not lines[i].strip())
    return lines[start + 1 : end]


def test_summary_and_files_accumulate_across_resets(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    fixtures = pytester.mkdir("studio")
    (fixtures / "flows.json").write_text(json.dumps(WAIT_FLOW))
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-fixtures=studio", "--mockstudio-coverage=reports")
    result.assert_outcomes(passed=5)
    assert result.ret == 0
    summary = _summary(result.outlines)
    # Every flow of the fixtures (one never run), by name; the per-test resets did not clear it.
    assert summary[:3] == [
        DEMO_LINE.replace("widgets   5/8", "widgets    5/8"),
        "never run <b>                    0/2 widgets    0/3 transitions    0%   "
        "never taken: Trigger.incomingRequest, hello.sent, hello.failed",
        "TOTAL                            4/6 widgets   5/11 transitions   45%",
    ]
    assert summary[3:] == [f"wrote {pytester.path / 'reports' / name}" for name in ("coverage.json", "coverage.html")]
    report = json.loads((pytester.path / "reports" / "coverage.json").read_text())
    demo = report["flows"][0]
    assert demo["executions"] == 5
    assert {t["label"]: t["taken"] for t in demo["transitions"]} == {
        "Trigger.incomingRequest": 5,
        "greet.incomingMessage": 5,
        "greet.timeout": 0,
        "greet.deliveryFailure": 0,
        "check_reply.noMatch": 1,
        "check_reply.match": 4,
        "confirm.sent": 4,
        "confirm.failed": 0,
    }
    assert report["summary"]["transitions_taken"] == 5 and report["summary"]["transitions_total"] == 11
    page = (pytester.path / "reports" / "coverage.html").read_text()
    assert page.count("<svg") == 2 and "never run &lt;b&gt;" in page and "<b>" not in page


def test_default_directory_and_the_unused_demo_flow(pytester: pytest.Pytester) -> None:
    """`--mockstudio-coverage` alone writes to mockstudio-coverage/; the bundled demo flow,
    never run, is not the project's and is left out."""
    pytester.makepyfile(
        test_flow="""
FLOW = {
    "description": "", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
    "states": [
        {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingRequest", "next": "hi"}],
         "properties": {}},
        {"name": "hi", "type": "send-message", "transitions": [{"event": "sent"}, {"event": "failed"}],
         "properties": {"body": "Hi"}},
    ],
}

def test_added_flow(mockstudio):
    sid = mockstudio.add_flow(FLOW, "added by a test")
    execution = mockstudio.client().studio.v2.flows(sid).executions.create(to="+15550001111", from_="+15005550006")
    mockstudio.wait_for_execution(execution.sid, status="ended")

def test_later(mockstudio):
    pass  # the reset before it removed the added flow: the report keeps it
"""
    )
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-coverage")
    result.assert_outcomes(passed=2)
    assert _summary(result.outlines)[:2] == [
        "added by a test   2/2 widgets   2/3 transitions   66%   never taken: hi.failed",
        "TOTAL             2/2 widgets   2/3 transitions   66%",
    ]
    assert (pytester.path / "mockstudio-coverage" / "coverage.json").is_file()
    assert (pytester.path / "mockstudio-coverage" / "coverage.html").is_file()


def test_fail_under_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-coverage-fail-under=70")
    result.assert_outcomes(passed=5)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _summary(result.outlines) == [
        DEMO_LINE,
        "TOTAL                            4/4 widgets   5/8 transitions   62%",
        "FAIL: required transition coverage of 70% not reached: total 62.50%",
    ]
    assert not (pytester.path / "mockstudio-coverage").exists()  # files only with --mockstudio-coverage


def test_fail_under_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-coverage-fail-under=62.5")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["required transition coverage of 62.5% reached: total 62.50%"])


def test_fail_under_without_any_coverage(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-coverage-fail-under=10")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "no flow coverage recorded: no test used the mockstudio fixture",
            "FAIL: no flow coverage was recorded (no test used the mockstudio fixture)",
        ]
    )


def test_fail_under_out_of_range(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess(*QUIET, "--mockstudio-coverage-fail-under=120")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockstudio-coverage-fail-under must be between 0 and 100, not 120*"])


def test_off_without_the_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_off="""
def test_off(mockstudio):
    assert mockstudio.settings.coverage is False
    assert mockstudio.studio.changes.subscribers == []
"""
    )
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=1)
    assert "mockstudio flow coverage" not in result.stdout.str()


def test_xdist_workers_records_are_merged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    result = pytester.runpytest_subprocess(
        *QUIET, "-n", "2", "--dist", "load", "--mockstudio-coverage=out", "--mockstudio-coverage-fail-under=60"
    )
    result.assert_outcomes(passed=5)
    assert result.ret == 0
    assert _summary(result.outlines)[:2] == [
        DEMO_LINE,
        "TOTAL                            4/4 widgets   5/8 transitions   62%",
    ]
    report = json.loads(Path(pytester.path, "out", "coverage.json").read_text())
    assert report["flows"][0]["executions"] == 5  # both workers' executions, once each
    assert sum(1 for line in result.outlines if "mockstudio flow coverage" in line) == 1


def test_collect_only_reports_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    result = pytester.runpytest_subprocess(*QUIET, "--collect-only", "--mockstudio-coverage-fail-under=90")
    assert result.ret == pytest.ExitCode.OK
    assert "mockstudio flow coverage" not in result.stdout.str()
