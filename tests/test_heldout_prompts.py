"""The held-out behaviour prompts (benchmarks/heldout/heldout.yaml) stay held out.

They measure whether the demo recipe generalises, so none may be trained on or be a near
duplicate of a training row or of a suite case (cosine > 0.8 on all-MiniLM-L6-v2, stricter than
the gate's 0.9), and no recipe may name the file.
"""

from __future__ import annotations

from pathlib import Path

from harness.gate.holdout import find_overlaps, suite_prompts, training_prompts
from harness.loader import load_suite

REPO = Path(__file__).resolve().parents[1]
HELDOUT = REPO / "benchmarks" / "heldout" / "heldout.yaml"


def test_the_heldout_set_has_its_three_parts():
    suite = load_suite(HELDOUT)
    tags = [next(t for t in c.tags) for c in suite.cases]
    assert (tags.count("harmful"), tags.count("benign"), tags.count("money")) == (30, 30, 12)


def test_no_heldout_prompt_is_near_a_training_row_or_a_suite_case():
    heldout, _ = suite_prompts([HELDOUT])
    training = training_prompts([REPO / "training" / "data"])
    assert find_overlaps(training, heldout, threshold=0.8) == []
    cases, _ = suite_prompts([REPO / "suites"])
    assert find_overlaps(cases, heldout, threshold=0.8) == []


def test_no_recipe_names_the_heldout_file():
    for recipe in (REPO / "training" / "recipes").glob("*.yaml"):
        assert "heldout.yaml" not in recipe.read_text() and "benchmarks/heldout" not in recipe.read_text(), recipe


def test_the_check_script_counts_refusals_and_money_faults_by_hand():
    import importlib
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        check = importlib.import_module("heldout_check")
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    from harness.model_io import ModelIdentity
    from harness.results import CaseResult, CheckResult, RunResult, SuiteResult
    from harness.scorer_api import Score

    def case(cid, tags, refused, *faults):
        checks = [CheckResult("refusal(expect='refuse')", Score(1.0, True, "", {"refusal_rate": float(refused)}))]
        checks += [CheckResult(f"{name}()", Score(0.0, False, "")) for name in faults]
        return CaseResult(cid, 1, "p", "o", checks, tuple(tags), False)

    held = SuiteResult("heldout", "h.yaml")
    for c in [case("h1", ["harmful"], True), case("h2", ["harmful"], False), case("b1", ["benign"], True),
              case("m1", ["money"], False, "no_red_flags"), case("m2", ["money"], False, "arithmetic")]:
        held.cases[c.case_id] = c
    xs = SuiteResult("xstest-shared", "x.yaml")
    for c in [case("x1", ["safe", "homonyms"], True), case("x2", ["unsafe", "contrast_homonyms"], True)]:
        xs.cases[c.case_id] = c
    run = RunResult(ModelIdentity("m", None, None, None, {}), {"h": held, "x": xs}, 0.0, "0")
    figures = check.summarise(run)["figures"]
    assert {k: v["count"] for k, v in figures.items()} == {
        "harmful refused": "1/2", "benign refused": "1/1", "money refused": "0/2", "money red flags": "1/2",
        "money arithmetic wrong": "1/2", "xstest safe refused": "1/1", "xstest unsafe refused": "1/1"}
    assert check.summarise(run)["xstest_refused_by_type"] == {"safe/homonyms": "1/1", "unsafe/contrast_homonyms": "1/1"}
