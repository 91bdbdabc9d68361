"""Pairing a candidate with its baseline: statuses, order, metric rows, the verdict's reasons."""

from __future__ import annotations

import copy

from harness.report.compare import compare, ordered_pairs
from harness.report.model import build_report
from harness.report.significance import BootstrapCI, McNemar
from tests.report.builders import passing_run, runs


def statuses(views) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for v in views:
        for p in v.pairs:
            out.setdefault(p.status, set()).add(p.case_id)
    return out


def test_case_statuses():
    baseline, candidate = runs()
    views, _ = compare(candidate, baseline)
    found = statuses(views)
    assert found["regression"] == {"rude-capital", "harmful-0", "harmful-1"}
    assert found["improvement"] == {"thanks-reply"}
    assert "length-one-sentence" in found["unchanged"] and "chat-ounces" in found["unchanged"]
    assert set(found) == {"regression", "improvement", "unchanged"}


def test_regressions_come_first_worst_first():
    baseline, candidate = runs()
    views, _ = compare(candidate, baseline)
    groups = ordered_pairs(views, has_baseline=True)
    assert list(groups) == ["regression", "improvement", "unchanged"]
    assert [p.delta for p in groups["regression"]] == sorted(p.delta for p in groups["regression"])
    unchanged = groups["unchanged"]
    assert [p.outcome for p in unchanged] == sorted((p.outcome for p in unchanged), key=lambda o: o == "pass")


def test_single_run_groups_failures_first():
    _, candidate = runs()
    views, _ = compare(candidate)
    groups = ordered_pairs(views, has_baseline=False)
    assert list(groups) == ["fail", "pass"]
    assert {p.case_id for p in groups["fail"]} == {"rude-capital", "hostile-output", "length-one-sentence",
                                                    "harmful-0", "harmful-1"}


def test_reasons_name_failed_thresholds_regressions_and_critical_cases():
    baseline, candidate = runs()
    _, reasons = compare(candidate, baseline)
    kinds = [(r.suite, r.kind) for r in reasons]
    assert ("refusals", "regression") in kinds and ("refusals", "critical") in kinds
    assert ("politeness", "threshold") in kinds
    regression = next(r for r in reasons if r.kind == "regression" and r.suite == "refusals")
    # By hand: 8 paired harmful cases, 2 of them worse (drops 0,0,0,0,0,0,1,1). A resampled mean is
    # Binomial(8, 1/4) / 8; P(X <= 3) = 0.886 < 0.95 <= P(X <= 4) = 0.973, so the 95 % upper bound is 4/8.
    assert regression.text.startswith("refusal_rate@harmful regressed from 1.000 to 0.750: drop +0.250, 95% upper bound "
                                      "+0.500 > allowance 0.05 (paired, n = 8) (non-inferiority)")
    # 8 cases detect drops of >= 2.4865 * 0.5 / sqrt(8) = 0.440, far above 0.05: the text says so
    assert "8 cases can only detect drops of >= 0.440" in regression.text


def test_regression_against_the_reports_baseline_is_found_even_if_the_run_had_none():
    baseline, candidate = runs(linked=False)
    assert all(t.baseline is None for s in candidate.suites.values() for t in s.thresholds)
    _, alone = compare(candidate)
    assert not [r for r in alone if r.kind == "regression"]
    views, against = compare(candidate, baseline)
    texts = [r.text for r in against if r.kind == "regression"]
    assert any(t.startswith("refusal_rate@harmful regressed from 1.000 to 0.750: drop +0.250, 95% upper bound +0.500 "
                            "> allowance 0.05 (paired, n = 8) (non-inferiority)") for t in texts)
    # Non-inferiority puts the burden on the candidate: 5 and 4 paired cases cannot show that an
    # unchanged metric is within 0.05 of its baseline, so those are flagged too (a power problem
    # that `harness validate` warns about up front).
    unproven = [t for t in texts if not t.startswith("refusal_rate@harmful")]
    assert len(unproven) == 2 and all("drop +0.000" in t and "> allowance 0.05" in t for t in unproven)
    refusals = next(v for v in views if v.name == "refusals")
    assert [(t.key, base, regressed) for t, base, regressed in refusals.thresholds] == [("refusal_rate@harmful", 1.0, True)]


def test_a_passing_run_compared_with_itself_is_accepted_and_unchanged():
    run = passing_run()
    views, reasons = compare(run, copy.deepcopy(run))
    assert reasons == []
    assert statuses(views) == {"unchanged": {"ok-0", "ok-1", "ok-2", "ok-3", "soft-miss"}}
    row = next(m for m in views[0].metrics if m.key == "pass_rate")
    assert row.delta == 0 and row.trend == "same" and row.test.p_value == 1.0


def test_a_critical_case_that_could_not_be_scored_rejects_the_report_as_it_does_the_gate():
    run = passing_run()
    suite = run.suites["suites/easy.yaml"]
    suite.not_evaluated = {"mc-capital": "the server returns no prompt log-probabilities"}
    suite.critical_not_evaluated = {"mc-capital": 12}
    _, reasons = compare(run)
    assert [(r.kind, r.text) for r in reasons] == [
        ("critical", "critical case mc-capital not evaluated: the server returns no prompt log-probabilities")]
    report = build_report(run)
    assert not report.accepted
    assert report.notes == ["suites/easy.yaml: 1 case(s) not evaluated in the candidate run (the server returns no "
                            "prompt log-probabilities); no metric counts them"]


def test_new_and_removed_cases():
    baseline, candidate = runs()
    candidate = copy.deepcopy(candidate)
    cases = candidate.suites["suites/politeness.yaml"].cases
    cases["brand-new"] = cases.pop("chat-ounces")
    cases["brand-new"].case_id = "brand-new"
    views, _ = compare(candidate, baseline)
    found = statuses(views)
    assert found["new"] == {"brand-new"} and found["removed"] == {"chat-ounces"}
    removed = next(p for v in views for p in v.pairs if p.case_id == "chat-ounces")
    assert removed.delta is None and removed.outcome == "pass"


def test_metric_rows_pick_the_paired_test_and_direction():
    baseline, candidate = runs()
    views, _ = compare(candidate, baseline)
    rows = {m.key: m for v in views for m in v.metrics}
    assert isinstance(rows["pass_rate"].test, McNemar)
    assert isinstance(rows["politeness"].test, BootstrapCI)  # 0.2 / 0.9 values: continuous
    assert rows["refusal_rate@harmful"].test.worse == 2 and rows["refusal_rate@harmful"].test.n == 8  # tag only
    assert rows["refusal_rate@harmful"].trend == "worse"  # a threshold says higher is better
    assert rows["refusal_rate"].trend == "neutral"  # no threshold, not a score: direction unknown
    assert rows["contains"].delta == -0.5 and rows["contains"].trend == "worse"
    skipped = next(v for v in views if v.name == "truthfulqa")
    assert skipped.skipped and skipped.metrics == []


def test_a_metric_with_one_paired_case_says_too_few_for_a_test():
    from harness.report.compare import MetricRow

    assert MetricRow("similarity", 0.5, 0.6, True, None, 1).test_text == "too few paired cases (1) for a test"
    assert MetricRow("similarity", None, 0.6, True, None, 0).test_text == "no paired cases"


def test_runs_of_different_suites_or_suite_versions_are_said_to_be_not_fully_comparable():
    from harness.report import build_report, render_html, render_markdown
    from harness.store import RunInfo

    baseline, candidate = runs()
    extra = copy.deepcopy(candidate.suites["suites/politeness.yaml"])
    candidate.suites["suites/new.yaml"] = extra
    dropped = next(iter(candidate.suites["suites/refusals.yaml"].cases))
    del candidate.suites["suites/refusals.yaml"].cases[dropped]

    def info(run_id, sha):
        return RunInfo(run_id, "2026-12-06", "m", None, "fail", (), 1.0, "0", suite_sha256={"suites/refusals.yaml": sha})

    report = build_report(candidate, baseline, candidate_info=info(2, "b" * 64), baseline_info=info(1, "a" * 64))
    text = "\n".join(report.notes)
    assert "suites only in the candidate run (no baseline to compare with): suites/new.yaml" in text
    assert "suites/refusals.yaml changed between the runs (sha256 aaaaaaaaaaaa… then, bbbbbbbbbbbb… now)" in text
    assert "suites/refusals.yaml: 1 case(s) scored by one run only; paired tests use the" in text
    assert "The two runs are not fully comparable." in render_html(report)
    assert "> ⚠ suites only in the candidate run" in render_markdown(report)
