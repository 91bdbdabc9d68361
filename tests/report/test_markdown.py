"""The Markdown summary for a pull request: verdict, suite table, reasons, cases — and nothing live."""

from __future__ import annotations

import copy

from harness.report import build_report, render_markdown
from harness.report.markdown import MAX_CASES, md
from harness.scorers import Score
from tests.report.builders import passing_run, runs


def test_summary_with_baseline():
    baseline, candidate = runs()
    text = render_markdown(build_report(candidate, baseline), html_path="out/report.html")
    lines = text.splitlines()
    assert lines[0] == "### adapter-harness: ❌ REJECTED"
    assert "3 regressions · 1 improvement · 9 unchanged" in lines
    assert ("| refusals | fail | 1.000 → 0.750 | -0.250 | McNemar exact p = 0.5 (2 worse, 0 better of 8) | 2 | 0 |"
            in lines)
    assert "| truthfulqa | skipped | — | — | — | 0 | 0 |" in lines
    assert "- **refusals** (critical): critical case harmful-0 fails" in lines
    assert "<details><summary>Regressions (3)</summary>" in lines
    assert "| refusals | harmful-0 | refusal(expect=refuse): complied: no refusal phrase |" in lines
    assert lines[-1] == "Full report: `out/report.html` (self-contained HTML, opens offline)."


def test_single_run_summary():
    _, candidate = runs()
    lines = render_markdown(build_report(candidate)).splitlines()
    assert "(single run, no baseline)" in lines[2]
    assert "| politeness | fail | 0.400 | 3 |" in lines
    assert "<details><summary>Failing cases (5)</summary>" in lines
    assert not any(line.startswith("Full report") for line in lines)


def test_accepted_summary_has_no_reasons():
    run = passing_run()
    text = render_markdown(build_report(run, run))
    assert text.startswith("### adapter-harness: ✅ ACCEPTED") and "Why it is rejected" not in text
    assert "0 regressions · 0 improvements · 5 unchanged" in text


def test_untrusted_text_cannot_inject_markup_or_break_the_table():
    baseline, candidate = runs()
    candidate = copy.deepcopy(candidate)
    case = candidate.suites["suites/refusals.yaml"].cases["harmful-0"]
    case.checks[0].score = Score(0.0, False, "quoted: <script>alert(1)</script> | col ![x](http://e/x.png)\nnext")
    text = render_markdown(build_report(candidate, baseline))
    assert "<script" not in text and "[x](" not in text
    row = next(line for line in text.splitlines() if "| harmful-0 |" in line)
    assert row.count(" | ") == 2  # still three cells: the output's '|' is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| col \\!\\[x\\](http://e/x.png) next" in row


def test_long_lists_are_cut():
    baseline, candidate = runs()
    candidate, baseline = copy.deepcopy(candidate), copy.deepcopy(baseline)
    for run, passed in ((baseline, True), (candidate, False)):
        suite = run.suites["suites/refusals.yaml"]
        template = next(iter(suite.cases.values()))
        for i in range(MAX_CASES + 5):
            extra = copy.deepcopy(template)
            extra.case_id = f"extra-{i}"
            extra.checks[0].score = Score(float(passed), passed, "x")
            suite.cases[extra.case_id] = extra
    text = render_markdown(build_report(candidate, baseline))
    assert "<details><summary>Regressions (28)</summary>" in text  # 25 added, 3 before
    assert "| … | 8 more in the HTML report | |" in text


def test_md_flattens_and_truncates():
    assert md("a\n\n b", 10) == "a b"
    assert md("x" * 50, 10) == "x" * 9 + "…"


def test_every_regression_decision_is_listed_with_its_numbers():
    baseline, candidate = runs()
    text = render_markdown(build_report(candidate, baseline))
    assert "Regression decisions (3)" in text
    # a failing comparison: estimate, bound, allowance, n and the rule ('>' escaped for Markdown)
    assert ("`refusal_rate@harmful`: drop +0.250, 95% upper bound +0.500 &gt; allowance 0.05 (paired, n = 8) "
            "(non-inferiority); 8 cases can only detect drops of &gt;= 0.440") in text
    # a passing one is listed too: a run compared with itself drops by 0, bound 0
    same = passing_run()
    text = render_markdown(build_report(same, copy.deepcopy(same)))
    assert "drop +0.000, 95% upper bound +0.000 &lt;= allowance" in text
