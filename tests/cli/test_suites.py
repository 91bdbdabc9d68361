"""The command line's own output: validate keeps going over every file; failing cases are named."""

from __future__ import annotations

from harness.backends.fake import FakeBackend
from harness.cli import main
from harness.loader import load_suite
from harness.runner import run_suites

GOOD = "name: g\ncases:\n  - {id: a, prompt: hi, checks: [{length: {max_words: 5}}]}\nthresholds:\n  - {metric: pass_rate, min: 0.5}\n"


def test_validate_lists_every_error_of_every_file_and_sums_up(tmp_path, capsys):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "two.yaml").write_text(GOOD.replace("min: 0.5}", "min: 60}\n  - {metric: length, min: 0.8, max: 0.5}"))
    (tmp_path / "typo.yaml").write_text(GOOD.replace("length:", "lenght:"))
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "good.yaml: ok (1 cases, 1 thresholds)" in out
    assert "two.yaml: 2 errors" in out and "two.yaml:5: thresholds[0]: min: 60 can never be met" in out
    assert "two.yaml:6: thresholds[1]: min 0.8 is above max 0.5" in out
    assert "typo.yaml: 1 error" in out and "unknown check 'lenght' — did you mean 'length'?" in out
    assert "3 files: 1 ok, 2 with errors, 3 errors" in out


def test_failing_cases_are_named_under_their_threshold(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ncases:\n" + "".join(
        f"  - {{id: c{i}, prompt: q{i}, tags: [{'x' if i < 3 else 'y'}], checks: [{{contains: {{any: [fine]}}}}]}}\n"
        for i in range(14)) + "thresholds:\n  - {metric: pass_rate, min: 0.9}\n")
    suite = load_suite(path)
    result = run_suites([suite], FakeBackend(lambda p: "bad" if int(p[1:]) % 2 == 0 else "fine")).suites[suite.path]
    assert result.failing_cases("x") == "c0, c2"
    assert result.failing_cases() == "c0, c2, c4, c6, c8, c10, c12"
    assert result.failing_cases(limit=3) == "c0, c2, c4 … (+4)"


def test_default_output_has_no_library_noise_and_verbose_brings_it_back(tmp_path, tiny_model_dir):
    import os
    import subprocess
    import sys

    suite = tmp_path / "t.yaml"
    suite.write_text("name: t\ncases:\n  - {id: a, prompt: Say hi., generation: {max_new_tokens: 4}, "
                     "checks: [{length: {max_words: 50}}]}\nthresholds:\n  - {metric: pass_rate, min: 0}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY")}
    env["ADAPTER_HARNESS_STORE"] = "off"

    def run(*flags):
        return subprocess.run([sys.executable, "-m", "harness", *flags, "run", str(suite), "--model", str(tiny_model_dir)],
                              capture_output=True, text=True, env=env, timeout=300)

    quiet = run()
    assert quiet.returncode == 0 and "verdict: PASS" in quiet.stdout
    assert "Loading weights" not in quiet.stderr and "Warning" not in quiet.stderr, quiet.stderr[-2000:]
    assert "Loading weights" in run("--verbose").stderr


def test_details_prints_each_failing_case_in_full():
    from harness.backend import as_messages
    from harness.results import CaseResult, CheckResult
    from harness.scorers import Score
    from harness.table import case_report

    case = CaseResult("c1", 3, as_messages([{"role": "user", "content": "Say hi."}]), "bye",
                      [CheckResult("contains(any=['hi'])", Score(0.0, False, "none of 'hi' found"))], (), False)
    assert case_report(case) == ("prompt:\n    [user] Say hi.\noutput:\n    bye\n"
                                 "FAIL contains(any=['hi'])  score=0.000  — none of 'hi' found")


def test_run_names_failing_cases_under_failing_thresholds(tmp_path, tiny_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("ADAPTER_HARNESS_STORE", "off")
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ngeneration: {max_new_tokens: 4}\ncases:\n"
                     "  - {id: never-a, prompt: Say hi., checks: [{contains: {any: [zq-never-said-zq]}}]}\n"
                     "  - {id: never-b, prompt: Say bye., checks: [{contains: {any: [zq-never-said-zq]}}]}\n"
                     "  - {id: always, prompt: Say yes., checks: [{length: {max_words: 100000}}]}\n"
                     "thresholds:\n  - {metric: pass_rate, min: 0.9}\n")
    assert main(["run", str(suite), "--model", str(tiny_model_dir), "-q", "--details"]) == 1
    out = capsys.readouterr().out
    assert "failing thresholds:\n  s pass_rate >= 0.9: failing cases: never-a, never-b" in out
    assert f"{suite}:4: never-a failed\nprompt:\n    [user] Say hi.\noutput:" in out


def test_under_a_metric_only_the_cases_failing_on_it_are_named():
    from harness.results import CaseResult, CheckResult, SuiteResult
    from harness.scorer_api import Score

    def case(case_id, tags, *checks):
        return CaseResult(case_id, 1, "q", "a", [CheckResult(name, Score(0.0 if not ok else 1.0, ok, "", metrics))
                                                 for name, ok, metrics in checks], tags, False)

    cases = [
        case("red-flag", ("money",), ("no_red_flags", False, {}), ("similarity(good=…)", True, {})),
        case("far-off", ("money",), ("no_red_flags", True, {}), ("similarity(good=…)", False, {})),
        case("benign-refused", ("benign",), ("refusal(expect=answer)", False, {"refusal_rate": 1.0})),
        case("harmful-answered", ("harmful",), ("refusal(expect=refuse)", False, {"refusal_rate": 0.0})),
        case("fine", ("money",), ("no_red_flags", True, {}), ("similarity(good=…)", True, {})),
    ]
    result = SuiteResult("s", "s.yaml", {c.case_id: c for c in cases})
    assert result.failing_cases(metric="no_red_flags") == "red-flag"
    assert result.failing_cases(metric="similarity") == "far-off"
    # refusal_rate: lower is better on benign requests, higher on harmful ones
    assert result.failing_cases(metric="refusal_rate", higher_is_better=False) == "benign-refused"
    assert result.failing_cases(metric="refusal_rate", higher_is_better=True) == "harmful-answered"
    # pass_rate, and a metric no case's check produces (an lm-eval task's): every failing case
    everyone = "red-flag, far-off, benign-refused, harmful-answered"
    assert result.failing_cases(metric="pass_rate") == everyone
    assert result.failing_cases(metric="mc1") == everyone
    assert result.failing_cases("money", metric="no_red_flags") == "red-flag"
