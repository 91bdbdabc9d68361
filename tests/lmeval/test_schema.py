"""'lm_eval:' entries in suite files: valid shapes, and mistakes reported as file:line: field: message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.loader import load_suite

ONLY_LM_EVAL = """\
name: lm
lm_eval:
  - {task: harness_truthfulqa_mc2, num_fewshot: 0, limit: 40}
  - harness_truthfulqa_mc1
thresholds:
  - {metric: harness_truthfulqa_mc2/acc, min: 0.35}
  - {metric: harness_truthfulqa_mc1/acc, min: 0.2}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        load_suite(write(tmp_path, text))
    return info.value


def test_suite_with_only_lm_eval_tasks_is_valid(tmp_path):
    suite = load_suite(write(tmp_path, ONLY_LM_EVAL))
    assert suite.cases == []
    first, second = suite.lm_eval
    assert (first.task, first.num_fewshot, first.limit, first.line) == ("harness_truthfulqa_mc2", 0, 40, 3)
    assert (second.task, second.limit, second.line) == ("harness_truthfulqa_mc1", None, 4)


def test_lm_eval_next_to_cases(tmp_path):
    text = ONLY_LM_EVAL.replace("lm_eval:", "cases:\n  - {id: a, prompt: hi, checks: [{length: {max_words: 5}}]}\nlm_eval:")
    text += "  - {metric: pass_rate, min: 0.5}\n"
    suite = load_suite(write(tmp_path, text))
    assert [c.id for c in suite.cases] == ["a"] and len(suite.lm_eval) == 2


def test_unknown_field_in_entry(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("limit: 40", "limt: 40"))
    assert err.line == 3 and err.field == "lm_eval[0].limt"
    assert "unknown field 'limt'" in str(err) and "did you mean 'limit'" in str(err)
    assert str(err).startswith(f"{tmp_path / 'suite.yaml'}:3: ")


def test_bad_limit(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("limit: 40", "limit: 0"))
    assert err.line == 3 and err.field == "lm_eval[0].limit" and "greater than or equal to 1" in str(err)


def test_bad_task_name(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("  - harness_truthfulqa_mc1", "  - truthful qa"))
    assert err.line == 4 and err.field == "lm_eval[1].task"


def test_entry_must_be_a_mapping_or_name(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("  - harness_truthfulqa_mc1", "  - [harness_truthfulqa_mc1]"))
    assert err.line == 4 and err.field.startswith("lm_eval[1]")


def test_threshold_on_task_not_listed(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("metric: harness_truthfulqa_mc1/acc", "metric: harness_truthfulqa_mc3/acc"))
    assert err.line == 7 and err.field == "thresholds[1].metric"
    assert "not under 'lm_eval:'" in str(err) and "did you mean" in str(err)


def test_threshold_without_metric_name(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("metric: harness_truthfulqa_mc1/acc", "metric: harness_truthfulqa_mc1/"))
    assert err.line == 7 and "names no metric" in str(err)


def test_lm_eval_threshold_has_no_tag(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("min: 0.2}", "min: 0.2, tag: mc}"))
    assert err.line == 7 and err.field == "thresholds[1].tag" and "no case tags" in str(err)


def test_task_listed_twice(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL.replace("  - harness_truthfulqa_mc1", "  - harness_truthfulqa_mc2"))
    assert err.line == 4 and "listed twice (first at line 3)" in str(err)


def test_suite_without_cases_or_tasks(tmp_path):
    err = error_of(tmp_path, "name: empty\nthresholds:\n  - {metric: pass_rate, min: 1}\n")
    assert "no cases" in str(err) and "lm_eval:" in str(err)


def test_case_threshold_still_checked(tmp_path):
    err = error_of(tmp_path, ONLY_LM_EVAL + "  - {metric: refusal_rate, max: 0.1}\n")
    assert err.line == 8 and "unknown metric 'refusal_rate'" in str(err)
