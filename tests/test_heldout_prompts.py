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
