"""A suite's 'lm_eval:' tasks run through lm_eval.simple_evaluate on the model already in memory;
their metrics become suite metrics, held against thresholds like any other."""

from __future__ import annotations

import json
import textwrap

import pytest

from harness.errors import HarnessError, SuiteError
from harness.lmeval.agreement import RecordingBackend
from harness.lmeval.export import export_suites
from harness.loader import load_suite
from harness.runner import run_suites
from tests.lmeval.helpers import needs_truthfulqa

pytest_plugins = ["pytester"]

DEMO = """\
name: demo
generation: {max_new_tokens: 4}
cases:
  - {id: a, prompt: Name a colour., checks: [{length: {max_words: 3}}]}
  - {id: b, prompt: Say hi., checks: [{length: {max_words: 1}}]}
thresholds:
  - {metric: pass_rate, min: 0}
"""


def write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exported_dir(tmp_path_factory, render):
    """The DEMO suite exported as lm-eval task 'harness_demo'."""
    root = tmp_path_factory.mktemp("lm-tasks")
    export_suites([load_suite(write(root / "demo.yaml", DEMO))], root / "tasks", render, "tiny")
    return root / "tasks"


def test_backend_hands_lm_eval_its_own_model(tiny_backend):
    lm = tiny_backend.lm_eval_model()
    assert lm.model is tiny_backend.model and lm.tokenizer is tiny_backend.tokenizer  # no second copy
    assert tiny_backend.lm_eval_model() is lm


def test_lm_eval_metrics_become_suite_metrics(tmp_path, exported_dir, tiny_backend):
    suite = load_suite(write(tmp_path / "s.yaml", f"""\
        name: with-lm-eval
        lm_eval:
          - {{task: harness_demo, include_path: {exported_dir}}}
        thresholds:
          - {{metric: harness_demo/pass_rate, min: 0}}
          - {{metric: harness_demo/length, min: 1.01}}
        """))
    direct = run_suites([load_suite(write(tmp_path / "demo.yaml", DEMO))], tiny_backend)
    run = run_suites([suite], tiny_backend)
    result = run.suites[suite.path]
    expected = direct.suites[str(tmp_path / "demo.yaml")].metrics
    assert result.metrics["harness_demo/pass_rate"] == pytest.approx(expected["pass_rate"])
    assert result.metrics["harness_demo/length"] == pytest.approx(expected["length"])
    first, second = result.thresholds
    assert first.holds and first.n_cases == 2 and first.line == 5
    assert not second.holds and second.value == pytest.approx(expected["length"])
    assert not run.passed
    saved = json.loads(json.dumps(run.to_dict()))["suites"][suite.path]
    assert "harness_demo/pass_rate" in saved["metrics"]


def test_include_path_is_relative_to_the_suite(exported_dir, tiny_backend):
    suites = exported_dir.parent / "suites"
    suites.mkdir(exist_ok=True)
    suite = load_suite(write(suites / "relative.yaml", """\
        name: relative
        lm_eval: [{task: harness_demo, include_path: ../tasks, limit: 1}]
        thresholds: [{metric: harness_demo/pass_rate, min: 0}]
        """))
    result = run_suites([suite], tiny_backend).suites[suite.path]
    assert result.thresholds[0].n_cases == 1


def test_wrapped_backend_is_unwrapped(tmp_path, exported_dir, tiny_backend):
    suite = load_suite(write(tmp_path / "s.yaml", f"""\
        name: wrapped
        lm_eval: [{{task: harness_demo, include_path: {exported_dir}}}]
        thresholds: [{{metric: harness_demo/pass_rate, min: 0}}]
        """))
    result = run_suites([suite], RecordingBackend(tiny_backend)).suites[suite.path]
    assert "harness_demo/pass_rate" in result.metrics


def test_backend_without_capability(tmp_path):
    class TextOnly:
        identity = None

        def generate(self, requests):
            return ["x"] * len(requests)

        def loglikelihood(self, requests):
            return [0.0] * len(requests)

    suite = load_suite(write(tmp_path / "s.yaml", """\
        name: nope
        lm_eval: [harness_truthfulqa_mc1]
        thresholds: [{metric: harness_truthfulqa_mc1/acc, min: 0}]
        """))
    with pytest.raises(HarnessError, match="cannot run them"):
        run_suites([suite], TextOnly())


def test_unknown_task_names_its_line(tmp_path, exported_dir, tiny_backend, monkeypatch):
    from lm_eval.tasks import TaskManager

    from harness import suite_lm_eval as suite_tasks

    suite = load_suite(write(tmp_path / "s.yaml", f"""\
        name: typo
        lm_eval:
          - {{task: harness_demoo, include_path: {exported_dir}}}
        thresholds: [{{metric: harness_demoo/acc, min: 0}}]
        """))
    # Stand in a small index for lm-eval's full one (indexing its ~15k configs takes ~15 s).
    paths = tuple(suite_tasks.include_paths(suite, 0, suite.lm_eval[0]))
    small = TaskManager(include_path=list(paths), include_defaults=False)
    monkeypatch.setitem(suite_tasks._MANAGERS, (paths, True), small)
    with pytest.raises(SuiteError) as info:
        run_suites([suite], tiny_backend)
    assert info.value.line == 3 and "unknown lm-eval task 'harness_demoo'" in str(info.value)
    assert "did you mean 'harness_demo'" in str(info.value)


@needs_truthfulqa
def test_offline_truthfulqa_task_in_a_suite(tmp_path, tiny_backend):
    suite = load_suite(write(tmp_path / "s.yaml", """\
        name: tqa
        lm_eval:
          - {task: harness_truthfulqa_mc1, limit: 2}
          - {task: harness_truthfulqa_mc2, limit: 2, num_fewshot: 0}
        thresholds:
          - {metric: harness_truthfulqa_mc1/acc, min: 0}
          - {metric: harness_truthfulqa_mc2/acc, min: 0}
        """))
    result = run_suites([suite], tiny_backend).suites[suite.path]
    assert 0 <= result.metrics["harness_truthfulqa_mc2/acc"] <= 1
    assert result.metrics["harness_truthfulqa_mc1/acc"] in (0.0, 0.5, 1.0)
    assert [t.n_cases for t in result.thresholds] == [2, 2] and result.passed


def test_pytest_plugin_runs_a_suite_of_only_lm_eval_tasks(pytester, exported_dir, tiny_model_dir):
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    (pytester.path / "suites").mkdir()
    write(pytester.path / "suites" / "only.yaml", f"""\
        name: only-lm-eval
        lm_eval: [{{task: harness_demo, include_path: {exported_dir}}}]
        thresholds:
          - {{metric: harness_demo/pass_rate, min: 0}}
          - {{metric: harness_demo/length, min: 1.5}}
        """)
    result = pytester.runpytest("suites", "--model", str(tiny_model_dir), "--results", "out.json", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*harness_demo/length = *, needs >= 1.5 (over 2 cases)*"])
    saved = json.loads((pytester.path / "out.json").read_text())["suites"]["suites/only.yaml"]
    assert set(saved["metrics"]) >= {"harness_demo/pass_rate", "harness_demo/length"}
