"""The gate's rejection lines, on canned results (FakeBackend: no model)."""

from __future__ import annotations

import sys
import textwrap

from harness.backends.fake import FakeBackend
from harness.gate.gate import failures
from harness.loader import load_suite
from harness.runner import run_suites


def test_a_scorer_that_raises_rejects_and_is_named(tmp_path, monkeypatch):
    (tmp_path / "boom_gate.py").write_text("def boom(output, **_):\n    raise ValueError('bad input')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent("""\
        name: s
        cases:
          - {id: ok, prompt: hi, checks: [{length: {max_words: 50}}]}
          - {id: broken, prompt: bye, checks: [{"boom_gate:boom": {}}]}
        thresholds:
          - {metric: pass_rate, min: 0.0}
        """))
    result = run_suites([load_suite(path)], FakeBackend(lambda p: "hello")).suites[str(path)]
    assert not result.passed and result.verdict == "error"
    lines = failures(type("Run", (), {"suites": {str(path): result}})())
    assert any("case broken could not be scored: scorer 'boom_gate:boom' raised ValueError: bad input" in line
               for line in lines), lines
    sys.modules.pop("boom_gate", None)


def test_runs_that_could_not_be_stored_carry_the_reason(monkeypatch, tmp_path):
    # The gate publishes nothing whose run is not on record; evaluate_many marks such runs.
    import harness.evaluate as ev
    from harness.errors import HarnessError
    from harness.store import RunStore

    monkeypatch.setenv("ADAPTER_HARNESS_STORE", str(tmp_path / "runs.sqlite3"))
    monkeypatch.setattr(ev, "_load", lambda spec, **k: FakeBackend(lambda p: "fine", name=str(spec.adapter)))

    def broken(self, run, **k):
        raise HarnessError("runs.sqlite3: run store is damaged")

    monkeypatch.setattr(RunStore, "save", broken)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ncases:\n  - {id: a, prompt: hi, checks: [{length: {max_words: 5}}]}\n"
                    "thresholds:\n  - {metric: pass_rate, min: 0.5}\n")
    runs, base = ev.evaluate_many([load_suite(path)], [ev.ModelSpec(None, "a")], ev.ModelSpec(None, None), progress=False)
    assert runs[0].passed and runs[0].stored_id is None and "damaged" in runs[0].store_error


def test_a_value_just_below_its_floor_is_shown_with_the_digits_that_miss_it():
    # The demo's exp24: similarity 0.529956... against ">= 0.53" printed as "(0.530)", which reads as a pass.
    from harness.table import fmt_missed

    assert fmt_missed(0.529956505, "similarity >= 0.53") == "0.52996"
    assert fmt_missed(0.4, "pass_rate >= 0.5") == "0.400"
    assert fmt_missed(0.1004, "refusal_rate@benign <= 0.1") == "0.1004"
    assert fmt_missed(0.25, "a rule without a number") == "0.250"


def test_tables_show_a_failing_value_with_the_digits_that_miss_and_a_passing_one_as_before():
    from harness.results import ThresholdResult
    from harness.table import fmt_result

    def result(value, holds):
        return ThresholdResult(key="similarity", rule="similarity >= 0.53", line=1, value=value, n_cases=39,
                               holds=holds, higher_is_better=True, max_regression=0.04)

    assert fmt_result(result(0.529956505, False)) == "0.52996"
    assert fmt_result(result(0.530004, True)) == "0.530"
    assert fmt_result(result(None, False)) == "—"
