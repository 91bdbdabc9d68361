"""`pytest --report/--summary`: the plugin writes the session's run in a real pytest session.

No model is loaded: the inner session's conftest hands the plugin state a RunResult built
in code, exactly where the evaluation would have put it.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest
from harness.pytest_plugin import STATE
from tests.report.builders import runs

pytest_plugins = ["harness.pytest_plugin", "harness.report_plugin"]

@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    state = session.config.stash[STATE]
    if session.config.getoption("--baseline"):
        state.baseline, state.run = runs()
    elif not session.config.getoption("--results"):  # --results here means: simulate 'nothing evaluated'
        state.run = runs()[1]
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_nothing="def test_ok():\n    pass\n")
    from pathlib import Path

    import tests  # the inner session imports the builders from this checkout

    pytester.syspathinsert(Path(tests.__file__).parent.parent)
    return pytester


def test_report_and_summary_against_the_baseline(inner):
    result = inner.runpytest_inprocess("--report", "out/report.html", "--summary", "out/summary.md",
                                       "--baseline", "base")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["adapter-harness report (REJECTED): */out/report.html, */out/summary.md"])
    html = (inner.path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'data-verdict="rejected"' in html and 'id="group-regression"' in html
    summary = (inner.path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "3 regressions" in summary and "Full report: `out/report.html`" in summary


def test_report_without_baseline_is_a_single_run_report(inner):
    result = inner.runpytest_inprocess("--report", "single.html")
    assert result.ret == 0
    assert "single run (no baseline)" in (inner.path / "single.html").read_text(encoding="utf-8")


def test_nothing_evaluated_means_no_report(inner):
    result = inner.runpytest_inprocess("--report", "none.html", "--results", "x.json")
    result.stdout.fnmatch_lines(["adapter-harness: no suites were evaluated; no report written"])
    assert not (inner.path / "none.html").exists()


def test_an_unwritable_report_path_fails_the_session(inner):
    (inner.path / "blocker").write_text("a file, not a directory")
    result = inner.runpytest_inprocess("--report", "blocker/report.html")
    result.stdout.fnmatch_lines(["adapter-harness: cannot write the report: *"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
