"""Several candidates, one base: ``harness gate A B C --baseline base``.

The base model is evaluated once and every candidate against it on the same cases. With more
than one candidate, each threshold's regression decisions are corrected for the number of
candidates compared (Holm's step-down procedure over the candidates' non-inferiority p-values,
at the suite's family-wise level), and the output says so. The candidates are then ranked.
"""

from __future__ import annotations

from dataclasses import replace

from harness.metrics import paired_values, split_key
from harness.results import RunResult, SuiteResult, ThresholdResult
from harness.stats import holm, noninferiority


def holm_adjust(candidates: list[RunResult], baseline: RunResult, confidence: float = 0.95) -> None:
    """Rewrite each candidate's regression decisions in place with Holm's correction (m > 1)."""
    m = len(candidates)
    if m < 2:
        return
    alpha = 1 - confidence
    for path, base_suite in baseline.suites.items():
        keys = [t.key for t in base_suite.thresholds] or [t.key for t in candidates[0].suites[path].thresholds]
        for index, key in enumerate(keys):
            tests = []
            for run in candidates:
                suite = run.suites.get(path)
                t = _threshold(suite, index, key)
                tests.append(_test(base_suite, suite, t) if t is not None else None)
            tested = [i for i, test in enumerate(tests) if test is not None]
            if len(tested) < 2:
                continue
            holds = holm([tests[i].p_value for i in tested], alpha)
            order = sorted(tested, key=lambda i: tests[i].p_value)
            for rank, i in enumerate(order):
                suite = candidates[i].suites[path]
                t = _threshold(suite, index, key)
                ok = holds[tested.index(i)]
                level = alpha / (len(tested) - rank)
                adjusted = noninferiority(paired_values(list(base_suite.cases.values()), list(suite.cases.values()),
                                                        *split_key(key)),
                                          higher_is_better=t.higher_is_better, allowance=t.max_regression,
                                          confidence=1 - level)
                upper = adjusted.upper if ok else max(adjusted.upper, t.max_regression + 1e-6)
                verdict = "holds" if ok else "does not hold" if tests[i].p_value > level else \
                    "not tested: Holm stopped at a candidate with a smaller p"
                decision = (f"drop {tests[i].drop:+.3f}, p = {tests[i].p_value:.3f} vs Holm level {level:.4f} "
                            f"(rank {rank + 1} of {len(tested)} candidates, family-wise {confidence:.0%}): {verdict}")
                suite.thresholds[suite.thresholds.index(t)] = replace(t, drop_upper=upper, decision=decision)


def _threshold(suite: SuiteResult | None, index: int, key: str) -> ThresholdResult | None:
    if suite is None or suite.skipped:
        return None
    same = [t for t in suite.thresholds if t.key == key]
    return same[0] if len(same) == 1 else (suite.thresholds[index] if index < len(suite.thresholds) else None)


def _test(base: SuiteResult, cand: SuiteResult, t: ThresholdResult):
    if t.baseline is None or t.value is None:
        return None
    pairs = paired_values(list(base.cases.values()), list(cand.cases.values()), *split_key(t.key))
    return noninferiority(pairs, higher_is_better=t.higher_is_better, allowance=t.max_regression)


def ranking(candidates: list[tuple[str, RunResult]]) -> list[tuple[str, int, float]]:
    """(label, failing thresholds/regressions/errors, mean signed improvement) best first.

    Fewer failures rank first; ties go to the larger mean change in each metric's good direction.
    """
    rows = []
    for label, run in candidates:
        failing, deltas = 0, []
        for suite in run.suites.values():
            if suite.skipped:
                continue
            failing += len(suite.errored)
            for t in suite.thresholds:
                failing += (not t.holds) + t.regressed
                if t.value is not None and t.baseline is not None:
                    deltas.append((t.value - t.baseline) * (1 if t.higher_is_better else -1))
        rows.append((label, failing, sum(deltas) / len(deltas) if deltas else 0.0))
    return sorted(rows, key=lambda r: (r[1], -r[2]))
