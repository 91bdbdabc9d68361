"""The collector, tested with pytester: ids, YAML lines, errors without traceback walls."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

SUITE = """\
name: mini
cases:
  - id: alpha
    prompt: Say hi.
    tags: [easy]
    checks:
      - regex: {pattern: "."}
  - id: beta
    prompt: Say bye.
    tags: [hard]
    checks:
      - length: {max_words: 200}
thresholds:
  - {metric: pass_rate, min: 0.5}
  - {metric: regex, tag: easy, min: 0.5}
"""


@pytest.fixture
def suite_dir(pytester: pytest.Pytester):
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    (pytester.path / "suites").mkdir()
    return pytester.path / "suites"


def test_collects_cases_and_thresholds(pytester, suite_dir):
    (suite_dir / "mini.yaml").write_text(SUITE)
    result = pytester.runpytest("suites", "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "suites/mini.yaml::alpha",
        "suites/mini.yaml::beta",
        "suites/mini.yaml::threshold[pass_rate]",
        "suites/mini.yaml::threshold[regex@easy]",
    ])
    assert result.ret == 0


def test_baseline_adds_regression_items(pytester, suite_dir):
    (suite_dir / "mini.yaml").write_text(SUITE)
    result = pytester.runpytest("suites", "--collect-only", "-q", "--baseline", "base")
    result.stdout.fnmatch_lines(["suites/mini.yaml::regression[pass_rate]", "suites/mini.yaml::regression[regex@easy]"])


def test_select_by_tag_keyword(pytester, suite_dir):
    (suite_dir / "mini.yaml").write_text(SUITE)
    result = pytester.runpytest("suites", "--collect-only", "-q", "-k", "hard")
    result.stdout.fnmatch_lines(["suites/mini.yaml::beta"])
    assert "alpha" not in result.stdout.str()


def test_yaml_outside_suites_dir_is_not_collected(pytester, suite_dir):
    (pytester.path / "config.yaml").write_text("not: a suite\n")
    (suite_dir / "mini.yaml").write_text(SUITE)
    result = pytester.runpytest("--collect-only", "-q")
    assert "config.yaml" not in result.stdout.str()


def test_schema_error_is_one_line_and_fails_the_run(pytester, suite_dir):
    (suite_dir / "bad.yaml").write_text(SUITE.replace("- regex:", "- regx:"))
    result = pytester.runpytest("suites", "-q")
    assert result.ret != 0
    out = result.stdout.str()
    assert "suites/bad.yaml:7: cases[0] (alpha).checks[0]: unknown check 'regx' — did you mean 'regex'?" in out
    assert "Traceback" not in out and "pydantic" not in out


def test_missing_data_source_fails_unless_allowed_missing(pytester, suite_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("ADAPTER_HARNESS_TRUTHFULQA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    (suite_dir / "tqa.yaml").write_text(textwrap.dedent("""\
        name: tqa
        source: {truthfulqa: {split: eval}}
        thresholds:
          - {metric: mc1, min: 0.2}
        """))
    # A suite that could not run is "not evaluated": the session fails and says how to accept it...
    result = pytester.runpytest("suites", "-q", "-rs")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*tqa.yaml: not evaluated: *ADAPTER_HARNESS_TRUTHFULQA*--allow-missing tqa*"])
    # ...and with --allow-missing it is skipped, with the reason.
    result = pytester.runpytest("suites", "-q", "-rs", "--allow-missing", "tqa")
    assert result.ret in (0, 5)
    result.stdout.fnmatch_lines(["*SKIPPED*tqa*not evaluated*ADAPTER_HARNESS_TRUTHFULQA*"])


# --- running suites (a tiny random model: its outputs are noise, so the checks below are
# chosen to pass or fail whatever it says) --------------------------------------------------

RUN_SUITE = """\
name: run
cases:
  - id: always-passes
    prompt: Say hi.
    tags: [a]
    checks:
      - length: {max_words: 100000}
  - id: never-passes
    prompt: Say bye.
    tags: [b]
    critical: CRITICAL
    checks:
      - contains: {any: ["zq-never-said-zq"]}
thresholds:
  - {metric: pass_rate, min: MIN}
"""


def run_suite(pytester, suite_dir, model_dir, *, critical=False, min_pass=0.5, extra=()):
    text = RUN_SUITE.replace("CRITICAL", str(critical).lower()).replace("MIN", str(min_pass))
    (suite_dir / "run.yaml").write_text(text)
    return pytester.runpytest("suites", "--model", str(model_dir), "-rxX", *extra)


def test_failing_case_is_xfail_when_thresholds_hold(pytester, suite_dir, tiny_model_dir):
    result = run_suite(pytester, suite_dir, tiny_model_dir)
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines(["*XFAIL*never-passes*tolerated by the suite's thresholds*contains*0.00*"])
    assert result.ret == 0


def test_critical_case_must_pass_on_its_own(pytester, suite_dir, tiny_model_dir):
    result = run_suite(pytester, suite_dir, tiny_model_dir, critical=True)
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "CRITICAL case failed" in out and "prompt:" in out and "Say bye." in out and "output:" in out
    assert "FAIL contains(any=['zq-never-said-zq'])" in out
    assert result.ret == 1


def test_failing_threshold_fails_the_run(pytester, suite_dir, tiny_model_dir):
    result = run_suite(pytester, suite_dir, tiny_model_dir, min_pass=0.9)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*: pass_rate = 0.500, needs >= 0.9 (over 2 cases); failing cases: never-passes*"])
    assert "Traceback" not in result.stdout.str()
    assert result.ret == 1


def test_case_report_points_at_yaml_line(pytester, suite_dir, tiny_model_dir):
    result = run_suite(pytester, suite_dir, tiny_model_dir, min_pass=0.9)
    result.stdout.fnmatch_lines(["*suites/run.yaml:8: case failed*", "*suites/run.yaml:15: pass_rate = 0.500*"])


def test_results_json(pytester, suite_dir, tiny_model_dir):
    import json

    out = pytester.path / "results.json"
    run_suite(pytester, suite_dir, tiny_model_dir, extra=("--results", str(out)))
    data = json.loads(out.read_text())
    suite = data["suites"]["suites/run.yaml"] if "suites/run.yaml" in data["suites"] else next(iter(data["suites"].values()))
    assert suite["verdict"] == "pass" and suite["metrics"]["pass_rate"] == 0.5
    case = {c["id"]: c for c in suite["cases"]}["never-passes"]
    assert case["prompt"] == [["user", "Say bye."]] and isinstance(case["output"], str)
    assert case["scores"][0]["check"].startswith("contains") and case["scores"][0]["passed"] is False
    assert data["model"]["model"] and data["model"]["model_sha256"]


def test_unknown_model_is_a_usage_error(pytester, suite_dir, tmp_path):
    (suite_dir / "run.yaml").write_text(RUN_SUITE.replace("CRITICAL", "false").replace("MIN", "0.5"))
    result = pytester.runpytest("suites", "--model", str(tmp_path / "no-such-model"))
    assert result.ret != 0 and result.ret != 1
    assert "no-such-model" in result.stderr.str() + result.stdout.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_a_scorer_that_raises_is_an_error_not_a_score(pytester, suite_dir, tiny_model_dir):
    # A custom check that raises: before the scorer issue it scored 0.0, satisfied every `max:`
    # threshold, and pytest showed XFAIL with exit 0.
    (pytester.path / "boom_checks.py").write_text("def boom(output, **_):\n    raise RuntimeError('kaboom')\n")
    (suite_dir / "run.yaml").write_text(textwrap.dedent("""\
        name: run
        cases:
          - id: fine
            prompt: Say hi.
            checks: [{length: {max_words: 100000}}]
          - id: broken
            prompt: Say bye.
            checks: [{"boom_checks:boom": {}}]
        thresholds:
          - {metric: pass_rate, min: 0.5}
          - {metric: "boom_checks:boom", max: 0.5}
        """))
    result = pytester.runpytest("suites", "--model", str(tiny_model_dir), "-rE", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", outcomes.get("error")) == 1 and result.ret == 1
    result.stdout.fnmatch_lines(["*broken could not be scored: scorer 'boom_checks:boom' raised RuntimeError: kaboom*"])
    # the threshold on the raising check has no value (an error is not a score), so it fails too
    result.stdout.fnmatch_lines(["*boom_checks:boom*no case*"])


def test_a_folder_not_named_suites_is_explained_and_the_ini_option_collects_it(pytester):
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    (pytester.path / "my_suites").mkdir()
    (pytester.path / "my_suites" / "mini.yaml").write_text(SUITE)
    result = pytester.runpytest("my_suites", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*1 YAML file(s) seen, none collected as a suite*harness_suite_dirs = my_suites*"])
    result = pytester.runpytest("my_suites", "--collect-only", "-q", "-o", "harness_suite_dirs=my_suites")
    result.stdout.fnmatch_lines(["my_suites/mini.yaml::alpha"])


def test_yaml_seen_but_not_collected_is_said_and_the_ini_option_includes_it(pytester):
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "mini.yaml").write_text(SUITE)
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["*1 YAML file(s) seen, none collected as a suite*harness_suite_dirs = checks*"])
    pytester.makeini("[pytest]\nharness_suite_dirs = checks\n")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["checks/mini.yaml::alpha"])


def test_suites_run_against_a_served_model(pytester, suite_dir, fake_openai, monkeypatch):
    """--backend openai-compatible: the same YAML suite, answered by a (fake) server; a log-likelihood
    case it cannot score is skipped as not evaluated, and its threshold fails unless allowed."""
    from tests.fake_openai import CHAT, Fake

    monkeypatch.setattr(Fake, "script", [(200, CHAT)])
    (suite_dir / "served.yaml").write_text(textwrap.dedent("""\
        name: served
        cases:
          - id: hello
            prompt: Say hi.
            tags: [gen]
            checks: [{contains: {any: [there]}}]
          - id: mc
            prompt: "Q: 2+2?\\nA:"
            template: raw
            tags: [mc]
            checks: [{choice: {choices: [" 4", " 5"], correct: [0], mode: mc1}}]
        thresholds:
          - {metric: pass_rate, tag: gen, min: 1.0}
          - {metric: mc1, min: 0.5}
        """))
    argv = ["suites", "--backend", "openai-compatible", "--base-url", fake_openai, "--model", "m",
            "-p", "no:cacheprovider", "-rs"]
    result = pytester.runpytest(*argv)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 2 and outcomes.get("failed") == 1 and outcomes.get("skipped") == 1
    result.stdout.fnmatch_lines(["*not evaluated*no prompt log-probabilities*"])
    again = pytester.runpytest(*argv, "--allow-missing", "served:mc1")
    allowed = again.parseoutcomes()
    assert allowed.get("failed") is None and allowed.get("passed") == 2 and allowed.get("skipped") == 2
    # A critical case must pass on its own: unscored, it is an error that no --allow-missing accepts.
    served = (suite_dir / "served.yaml").read_text()
    (suite_dir / "served.yaml").write_text(served.replace("template: raw\n", "template: raw\n    critical: true\n"))
    critical = pytester.runpytest(*argv, "--allow-missing", "served:mc1")
    assert critical.parseoutcomes().get("errors") == 1
    critical.stdout.fnmatch_lines(["*served.yaml:7: critical case mc not evaluated*no prompt log-probabilities*"])
