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


def test_missing_data_source_is_skipped_with_how_to(pytester, suite_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("ADAPTER_HARNESS_TRUTHFULQA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    (suite_dir / "tqa.yaml").write_text(textwrap.dedent("""\
        name: tqa
        source: {truthfulqa: {split: eval}}
        thresholds:
          - {metric: mc1, min: 0.2}
        """))
    result = pytester.runpytest("suites", "-q", "-rs")
    assert result.ret in (0, 5)  # skipped, nothing failed
    result.stdout.fnmatch_lines(["*SKIPPED*tqa*ADAPTER_HARNESS_TRUTHFULQA*"])
