"""Flow coverage in the pytest plugin (see pytest_plugin.py), coverage.py's way:

    pytest --mockstudio-coverage                    # summary, and mockstudio-coverage/coverage.{json,html}
    pytest --mockstudio-coverage=reports/flows      # the files there
    pytest --mockstudio-coverage-fail-under=80      # the run fails under 80% transition coverage

The `mockstudio` fixture's server records coverage over the whole session: its per-test
resets clear executions, not the record. Under pytest-xdist each worker's server records its
own; the workers send their records to the controller (`workeroutput`), which merges them
and reports once.

Imported by pytest in every project that installs mockstudio: nothing heavy at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .coverage import CoverageReport
    from .testing import MockStudioServer

__all__ = ["DEFAULT_DIRECTORY", "FlowCoveragePlugin", "add_options", "configure", "plugin_of"]

DEFAULT_DIRECTORY = "mockstudio-coverage"
_PLUGIN_NAME = "mockstudio-flow-coverage"
_WORKER_KEY = "mockstudio_flow_coverage"


def add_options(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--mockstudio-coverage",
        nargs="?",
        const=DEFAULT_DIRECTORY,
        default=None,
        metavar="DIR",
        help="record flow coverage (widgets entered, transitions taken) over the session, print a summary per "
        f"flow and write DIR/coverage.json and DIR/coverage.html (default DIR: {DEFAULT_DIRECTORY}; "
        "give it as --mockstudio-coverage=DIR)",
    )
    group.addoption(
        "--mockstudio-coverage-fail-under",
        type=float,
        default=None,
        metavar="N",
        help="fail the run if the total transition coverage is under N percent (records coverage and prints "
        "the summary; files only with --mockstudio-coverage)",
    )


def configure(config: pytest.Config) -> None:
    """Register the coverage plugin when an option asks for coverage."""
    directory: str | None = config.getoption("mockstudio_coverage")
    fail_under: float | None = config.getoption("mockstudio_coverage_fail_under")
    if directory is None and fail_under is None:
        return
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise pytest.UsageError(f"--mockstudio-coverage-fail-under must be between 0 and 100, not {fail_under:g}")
    path = Path(config.invocation_params.dir, directory) if directory is not None else None
    config.pluginmanager.register(FlowCoveragePlugin(config, path, fail_under), _PLUGIN_NAME)


def plugin_of(config: pytest.Config) -> FlowCoveragePlugin | None:
    """The session's coverage plugin, None when coverage is off."""
    plugin = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    return plugin if isinstance(plugin, FlowCoveragePlugin) else None


class FlowCoveragePlugin:
    """Collects the records of the session's servers (and of xdist's workers), then reports."""

    def __init__(self, config: pytest.Config, directory: Path | None, fail_under: float | None) -> None:
        self.config = config
        self.directory = directory
        self.fail_under = fail_under
        self.records: list[dict[str, Any]] = []  # CoverageRecord.to_data() of each server
        self.servers: list[MockStudioServer] = []
        self.report: CoverageReport | None = None
        self.written: list[Path] = []
        self.verdict: tuple[bool, str] | None = None  # (passed, message) of --...-fail-under

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def watch(self, server: MockStudioServer) -> None:
        """A server whose record joins the report (the fixture's)."""
        self.servers.append(server)

    def collect(self, server: MockStudioServer) -> None:
        """Take `server`'s whole-run record (while it runs: before it stops)."""
        if server in self.servers:
            self.servers.remove(server)
            self.records.append(server.coverage_record(whole_run=True).to_data())

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """(pytest-xdist, on the controller) a worker finished: its records."""
        output = getattr(node, "workeroutput", None) or {}
        self.records.extend(output.get(_WORKER_KEY, []))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        if session.config.option.collectonly:
            return (yield)  # nothing runs: nothing to report
        try:
            return (yield)
        finally:
            # Every test has run; a server still up (the run stopped early) is read now.
            for server in list(self.servers):
                self.collect(server)
            if self.is_worker:
                self.config.workeroutput[_WORKER_KEY] = self.records  # type: ignore[attr-defined]
            else:
                self._finish(session)

    def _finish(self, session: pytest.Session) -> None:
        from .coverage import CoverageRecord, build_report, coverage_html

        merged = CoverageRecord()
        for data in self.records:
            merged.merge(CoverageRecord.from_data(data))
        report = self.report = build_report(merged, unused_bundled=False)
        if self.directory is not None and self.records:
            import json

            self.directory.mkdir(parents=True, exist_ok=True)
            json_path, html_path = self.directory / "coverage.json", self.directory / "coverage.html"
            json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
            html_path.write_text(coverage_html(report), encoding="utf-8")
            self.written = [json_path, html_path]
        if self.fail_under is not None:
            total = report.transition_percent
            if not self.records:
                self.verdict = (False, "no flow coverage was recorded (no test used the mockstudio fixture)")
            elif total < self.fail_under:
                self.verdict = (
                    False,
                    f"required transition coverage of {self.fail_under:g}% not reached: total {total:.2f}%",
                )
            else:
                self.verdict = (
                    True,
                    f"required transition coverage of {self.fail_under:g}% reached: total {total:.2f}%",
                )
            if not self.verdict[0]:
                session.testsfailed += 1  # the exit status of failed tests, as coverage.py's fail-under

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.config.option.collectonly:
            return
        from .coverage import summary_lines

        terminalreporter.write_sep("-", "mockstudio flow coverage")
        if not self.records:
            terminalreporter.write_line("no flow coverage recorded: no test used the mockstudio fixture")
        elif self.report is not None:
            for line in summary_lines(self.report):
                terminalreporter.write_line(line)
        for path in self.written:
            terminalreporter.write_line(f"wrote {path}")
        if self.verdict is not None:
            passed, message = self.verdict
            if passed:
                terminalreporter.write_line(message, green=True)
            else:
                terminalreporter.write_line(f"FAIL: {message}", red=True, bold=True)
