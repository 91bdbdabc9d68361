"""A backend that cannot answer log-likelihoods: those cases, metrics and thresholds are 'not evaluated',
never a score; --allow-missing SUITE:METRIC accepts them knowingly (FakeBackend, no model)."""

from __future__ import annotations

import textwrap

from harness.backend import CapabilityUnavailable
from harness.backends.fake import FakeBackend
from harness.loader import load_suite
from harness.runner import run_suites

SUITE = textwrap.dedent("""\
    name: mixed
    cases:
      - id: gen
        prompt: Say hello.
        tags: [gen]
        checks: [{length: {max_words: 100}}]
      - id: mc
        prompt: "Q: 2+2?\\nA:"
        template: raw
        tags: [mc]
        checks: [{choice: {choices: [" 4", " 5"], correct: [0], mode: mc1}}]
    thresholds:
      - {metric: pass_rate, tag: gen, min: 0.5}
      - {metric: mc1, min: 0.5}
      - {metric: pass_rate, min: 0.5}
    """)


class NoLoglik(FakeBackend):
    def loglikelihood(self, requests):
        raise CapabilityUnavailable("the server returns no prompt log-probabilities")


def run(tmp_path, allow=()):
    (tmp_path / "s.yaml").write_text(SUITE)
    return run_suites([load_suite(tmp_path / "s.yaml")], NoLoglik(lambda p: "Hello!"), allow_missing=allow)


def test_cases_metrics_and_thresholds_that_need_log_likelihoods_are_not_evaluated(tmp_path):
    suite = next(iter(run(tmp_path).suites.values()))
    assert list(suite.cases) == ["gen"] and suite.not_evaluated == {"mc": "the server returns no prompt log-probabilities"}
    by_key = {t.key: t for t in suite.thresholds}
    assert by_key["pass_rate@gen"].value == 1.0 and by_key["pass_rate@gen"].holds  # scored as usual
    for key in ("mc1", "pass_rate"):  # mc1 comes from the MC case; untagged pass_rate covers it too
        assert by_key[key].value is None and not by_key[key].holds
        assert by_key[key].decision.startswith("not evaluated: 1 case(s): the server returns no prompt")
    assert "mc1" not in suite.metrics and "pass_rate" not in suite.metrics  # no value over fewer cases
    assert not suite.passed and suite.verdict == "fail"


def test_allow_missing_names_suite_and_metric(tmp_path):
    suite = next(iter(run(tmp_path, allow=["mixed:mc1", "mixed:pass_rate"]).suites.values()))
    assert suite.passed
    assert all(t.holds for t in suite.thresholds)
    assert {t.key for t in suite.thresholds if t.decision.startswith("not evaluated (allowed")} == {"mc1", "pass_rate"}
    partly = next(iter(run(tmp_path, allow=["mixed:mc1"]).suites.values()))
    assert not partly.passed  # pass_rate is still not evaluated and not allowed


def test_a_critical_case_that_cannot_be_scored_fails_its_suite_whatever_is_allowed(tmp_path):
    from harness.gate.gate import failures
    from harness.table import run_table

    (tmp_path / "s.yaml").write_text(SUITE.replace("template: raw\n", "template: raw\n    critical: true\n"))
    run = run_suites([load_suite(tmp_path / "s.yaml")], NoLoglik(lambda p: "Hello!"),
                     allow_missing=["mixed:mc1", "mixed:pass_rate"])
    suite = next(iter(run.suites.values()))
    assert all(t.holds for t in suite.thresholds)  # every threshold is allowed to be missing...
    assert suite.critical_not_evaluated == {"mc": 7}  # ...but the critical case (its "- id: mc" is line 7 of SUITE) is not
    assert suite.failed_critical == ["mc"] and not suite.passed and suite.verdict == "fail"
    assert failures(run) == [f"{tmp_path / 's.yaml'}:7: critical case mc not evaluated: "
                             "the server returns no prompt log-probabilities"]
    assert "critical cases" in run_table(run) and suite.to_dict()["critical_not_evaluated"] == {"mc": 7}
