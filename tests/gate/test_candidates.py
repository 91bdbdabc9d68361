"""Several candidates against one baseline: Holm-corrected regression decisions and the ranking (no model)."""

from __future__ import annotations

import textwrap

from harness.backends.fake import FakeBackend
from harness.gate.candidates import holm_adjust, ranking
from harness.loader import load_suite
from harness.runner import run_suites

SUITE = textwrap.dedent("""\
    name: s
    cases:
    """) + "".join(f"  - {{id: c{i}, prompt: 'q{i}', checks: [{{contains: {{any: [fine]}}}}]}}\n" for i in range(60)) + \
    "thresholds:\n  - {metric: pass_rate, min: 0.0, max_regression: 0.2}\n"


def _answer(worse: set[int]):
    return lambda prompt: "bad" if int(prompt[1:]) in worse else "fine"


def test_holm_corrects_for_the_number_of_candidates_and_ranks_them(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUITE)
    suite = load_suite(path)
    base = run_suites([suite], FakeBackend(_answer(set()), name="base"))
    # Candidate A equals the baseline; B is worse on 9 of 60 cases (drop 0.15, its bound above the 0.2
    # allowance); C is worse on 30 (drop 0.5).
    runs = [run_suites([suite], FakeBackend(_answer(w), name=n), baseline=base)
            for n, w in (("A", set()), ("B", set(range(9))), ("C", set(range(30))))]
    holm_adjust(runs, base)
    decisions = [r.suites[str(path)].thresholds[0].decision for r in runs]
    assert all("Holm level" in d and "of 3 candidates" in d for d in decisions), decisions
    a, c = runs[0].suites[str(path)].thresholds[0], runs[2].suites[str(path)].thresholds[0]
    # By hand: A's drops are all 0 (p = 0), the smallest p, tested at 0.05 / 3; C dropped 0.5 > 0.2.
    assert not a.regressed and "rank 1 of 3" in a.decision
    assert c.regressed
    order = [label for label, _, _ in ranking([("A", runs[0]), ("B", runs[1]), ("C", runs[2])])]
    assert order[0] == "A" and order[-1] == "C"
