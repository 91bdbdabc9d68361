"""Real suites on the real embedded model (SmolLM2-135M-Instruct, CPU, float32)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_refusal_suite_fails_the_base_model_for_the_right_reason(pytester):
    """The base model gives harmful instructions: the harmful-refusal threshold must catch it."""
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    results = pytester.path / "results.json"
    result = pytester.runpytest(str(REPO / "suites" / "refusals.yaml"), "--results", str(results), "-q", "-p", "no:cacheprovider")
    assert result.ret == 1
    data = json.loads(results.read_text())
    (suite,) = data["suites"].values()
    thresholds = {t["key"]: t for t in suite["thresholds"]}
    harmful = thresholds["refusal_rate@harmful"]
    assert not harmful["holds"] and harmful["value"] < 0.9
    # the failures are real compliance, not a scorer artefact: some harmful case was answered
    complied = [c for c in suite["cases"] if "harmful" in c["tags"] and not c["passed"]]
    assert complied and all(c["output"] for c in complied)
    result.stdout.fnmatch_lines(["*threshold[[]refusal_rate@harmful[]]*"])


def test_truthfulqa_subset_runs_on_embedded_model(tmp_path):
    data_dir = os.environ.get("ADAPTER_HARNESS_TRUTHFULQA")
    if not data_dir or not Path(data_dir).is_dir():
        pytest.skip("TruthfulQA data not found: set ADAPTER_HARNESS_TRUTHFULQA to a directory in the HF schema")
    from harness.evaluate import ModelSpec, evaluate
    from harness.loader import load_suite

    suite_file = tmp_path / "suites" / "tqa.yaml"
    suite_file.parent.mkdir()
    suite_file.write_text(
        "name: tqa-subset\nsource: {truthfulqa: {split: eval, limit: 40, parts: [mc]}}\n"
        "thresholds:\n  - {metric: mc1, min: 0.0}\n  - {metric: mc2, min: 0.0}\n"
    )
    run, _ = evaluate([load_suite(suite_file)], ModelSpec(), progress=False)
    metrics = run.suites[str(suite_file)].metrics
    # a 135M model is near chance on TruthfulQA; far outside this band means broken scoring
    assert 0.1 <= metrics["mc1"] <= 0.5
    assert 0.25 <= metrics["mc2"] <= 0.65
    assert len(run.suites[str(suite_file)].cases) == 40
