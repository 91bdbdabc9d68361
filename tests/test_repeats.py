"""Repeats (generation.samples > 1): per-case pass rates, m of k, flaky cases (FakeBackend: no model)."""

from __future__ import annotations

import textwrap

import pytest

from harness.backends.fake import FakeBackend
from harness.errors import SuiteError
from harness.loader import load_suite
from harness.runner import run_suites


def _suite(tmp_path, generation: str):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: s
        generation: {generation}
        cases:
          - {{id: steady, prompt: steady, checks: [{{contains: {{any: [fine]}}}}]}}
          - {{id: wobbly, prompt: wobbly, checks: [{{contains: {{any: [fine]}}}}]}}
        thresholds:
          - {{metric: pass_rate, min: 0.5}}
        """))
    return load_suite(path)


class Sampler:
    """'steady' always answers fine; 'wobbly' answers fine on 2 of every 4 calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, prompt: str) -> str:
        if prompt == "steady":
            return "fine"
        self.calls += 1
        return "fine" if self.calls % 4 in (1, 2) else "bad"


def test_k_samples_m_of_k_and_flaky(tmp_path):
    suite = _suite(tmp_path, "{greedy: false, temperature: 0.7, samples: 4, min_passes: 2}")
    result = run_suites([suite], FakeBackend(Sampler())).suites[suite.path]
    steady, wobbly = result.cases["steady"], result.cases["wobbly"]
    assert len(steady.samples) == 4 and steady.pass_fraction == 1.0 and not steady.flaky
    # By hand: wobbly passes in 2 of 4 samples; it needs 2, so it passes, and it is flaky.
    assert wobbly.pass_fraction == 0.5 and wobbly.passed and wobbly.flaky
    assert "passed in 2 of 4 samples (needs 2)" in wobbly.checks[0].score.explanation
    # The suite's pass rate is the mean per-case pass rate: (1 + 0.5) / 2.
    assert result.metrics["pass_rate"] == pytest.approx(0.75)


def test_samples_need_sampling_and_min_passes_at_most_k(tmp_path):
    with pytest.raises(SuiteError, match="samples: 3 needs greedy: false"):
        _suite(tmp_path, "{samples: 3}")
    with pytest.raises(SuiteError, match="min_passes 5 is more than samples 3"):
        _suite(tmp_path, "{greedy: false, samples: 3, min_passes: 5}")


def test_the_run_table_marks_flaky_cases(tmp_path):
    from harness.table import run_table

    suite = _suite(tmp_path, "{greedy: false, samples: 4, min_passes: 2}")
    run = run_suites([suite], FakeBackend(Sampler()))
    assert any(line.split()[1:4] == ["flaky", "cases", "1"] and "wobbly" in line for line in run_table(run).splitlines())


def test_samples_survive_the_run_store_and_the_summary_marks_flaky_cases(tmp_path):
    from harness.report.markdown import render_markdown
    from harness.report.model import build_report
    from harness.store import RunStore

    suite = _suite(tmp_path, "{greedy: false, samples: 4, min_passes: 2}")
    run = run_suites([suite], FakeBackend(Sampler()))
    store = RunStore(tmp_path / "runs.sqlite3")
    back = store.load(store.save(run))
    wobbly = back.suites[suite.path].cases["wobbly"]
    assert wobbly.samples == ("fine", "fine", "bad", "bad") and wobbly.pass_fraction == 0.5 and wobbly.flaky
    text = render_markdown(build_report(back))
    assert "Flaky cases (candidate) (1)" in text and "flaky: passed in 50% of 4 samples" in text


def test_the_html_report_badges_flaky_cases(tmp_path):
    from harness.report.html import render_html
    from harness.report.model import build_report

    suite = _suite(tmp_path, "{greedy: false, samples: 4, min_passes: 2}")
    html = render_html(build_report(run_suites([suite], FakeBackend(Sampler()))))
    assert '<span class="badge flaky"' in html and "flaky 50%" in html


def test_a_suite_may_judge_absolute_thresholds_on_the_confidence_bound(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("name: b\nabsolute_rule: bound\ncases:\n"
                    + "".join(f"  - {{id: c{i}, prompt: q{i}, checks: [{{contains: {{any: [fine]}}}}]}}\n" for i in range(20))
                    + "thresholds:\n  - {metric: pass_rate, min: 0.6}\n")
    suite = load_suite(path)
    # 14 of 20 pass: the point estimate 0.7 meets 0.6, but the 95 % lower bound does not (by hand:
    # the resampled mean is Binomial(20, 0.7) / 20, whose 5th percentile is 0.55).
    result = run_suites([suite], FakeBackend(lambda p: "fine" if int(p[1:]) < 14 else "bad")).suites[suite.path]
    (t,) = result.thresholds
    assert t.value == pytest.approx(0.7) and not t.holds
    assert t.rule == "pass_rate >= 0.6 (on the 95% lower bound 0.550)"
