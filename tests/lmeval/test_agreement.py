"""The proof: on the embedded model the harness's TruthfulQA MC1/MC2 (the 'choice' check of
suites/truthfulqa.yaml) equal lm-eval's truthfulqa_mc1/mc2 (the offline mirrors) on the same
questions, to 0.002, with the same predicted choice on at least 99% of them.

40 questions of the evaluation split: those with the fewest answer choices, because lm-eval
runs one full forward pass per choice (~250 tokens each, no prefix sharing) and the test must
stay at a few minutes on 2 CPUs. benchmarks/bench_truthfulqa.py compares all 408 questions.
"""

from __future__ import annotations

import pytest

from harness.lmeval import TASKS_DIR, agreement
from tests.lmeval.helpers import REPO, evaluate_tasks, needs_truthfulqa

QUESTIONS = 40


@pytest.mark.slow
@needs_truthfulqa
def test_harness_and_lm_eval_agree_on_truthfulqa(embedded_backend):
    all_mc = agreement.truthfulqa_mc_suite(REPO / "suites" / "truthfulqa.yaml")
    rows = agreement.cheapest_rows(all_mc, QUESTIONS)
    suite = agreement.truthfulqa_mc_suite(REPO / "suites" / "truthfulqa.yaml", rows=rows)
    ours = agreement.harness_scores(suite, embedded_backend)
    indices = agreement.doc_indices(rows)
    results = evaluate_tasks(
        embedded_backend.lm_eval_model(), list(agreement.MC_TASKS), TASKS_DIR,
        samples={task: indices for task in agreement.MC_TASKS},
    )
    theirs = agreement.lm_eval_scores(results)

    result = agreement.compare(ours, theirs)
    print("\n".join(result.lines()))
    assert result.n == QUESTIONS and sorted(ours.lls) == sorted(theirs.lls) == rows
    assert abs(result.mc1[0] - result.mc1[1]) <= 0.002
    assert abs(result.mc2[0] - result.mc2[1]) <= 0.002
    assert result.same_mc1_pick >= 0.99 and result.same_mc2_pick >= 0.99
    # and question by question: every choice's log-likelihood
    for row in rows:
        for mode in ("mc1", "mc2"):
            assert ours.lls[row][mode] == pytest.approx(theirs.lls[row][mode], abs=2e-3), (row, mode)
