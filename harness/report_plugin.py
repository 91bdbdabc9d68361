"""pytest options ``--report out.html`` and ``--summary out.md``: the release report of this session's run.

With ``--baseline`` the report compares the candidate with the baseline evaluated in the
same session; without it, it reports on the candidate alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import HarnessError


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adapter-harness", "adapter-harness suites")
    group.addoption("--report", default=None, metavar="FILE.html",
                    help="write the self-contained HTML release report of the run (vs --baseline when given)")
    group.addoption("--summary", default=None, metavar="FILE.md", help="write a Markdown summary for a pull request")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    html_path, md_path = config.getoption("--report"), config.getoption("--summary")
    if not html_path and not md_path:
        return
    from harness.pytest_plugin import STATE

    state = config.stash.get(STATE, None)
    run = state.run if state is not None else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if run is None:
        _say(reporter, "adapter-harness: no suites were evaluated; no report written", yellow=True)
        return
    from harness.report import write_report

    try:
        report = write_report(html_path, run, state.baseline, summary=md_path)
    except (OSError, HarnessError) as exc:
        _say(reporter, f"adapter-harness: cannot write the report: {exc}", red=True)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    written = ", ".join(str(Path(p).resolve()) for p in (html_path, md_path) if p)
    _say(reporter, f"adapter-harness report ({'ACCEPTED' if report.accepted else 'REJECTED'}): {written}")


def _say(reporter, line: str, **markup: bool) -> None:
    if reporter is not None:
        reporter.write_line(line, **markup)
