"""Paired uncertainty for a before/after comparison on the same cases.

Both runs score the same cases, so a delta is judged on per-case *differences*:
an exact McNemar test for pass/fail (0/1) metrics, a paired bootstrap confidence
interval of the mean difference for continuous ones. The statistics are scipy's, through
``harness.stats`` (which the gate's decisions use too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness import stats

BOOTSTRAP_RESAMPLES = 4000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class McNemar:
    """Exact (binomial) McNemar test on the discordant pairs."""

    worse: int  # 1 on the baseline, 0 on the candidate
    better: int  # 0 on the baseline, 1 on the candidate
    n: int  # paired cases
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - CONFIDENCE

    def describe(self) -> str:
        return f"McNemar exact p = {self.p_value:.3g} ({self.worse} worse, {self.better} better of {self.n})"


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile interval of the mean per-case difference, from resampling cases with replacement."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def describe(self) -> str:
        return f"paired bootstrap {CONFIDENCE:.0%} CI [{self.low:+.3f}, {self.high:+.3f}] (n = {self.n})"


def mcnemar_exact(pairs: Sequence[tuple[float, float]]) -> McNemar:
    """Two-sided exact McNemar test on (baseline, candidate) 0/1 pairs (scipy's binomtest).

    >>> mcnemar_exact([(1, 0)] * 6 + [(1, 1)] * 4).p_value  # 6 of 6 discordant pairs got worse
    0.03125
    >>> mcnemar_exact([(1, 1), (0, 0)]).p_value
    1.0
    """
    t = stats.mcnemar_exact(pairs)
    return McNemar(t.worse, t.better, t.n, t.p_value)


def paired_bootstrap(pairs: Sequence[tuple[float, float]], *, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = 0) -> BootstrapCI | None:
    """CI of mean(candidate - baseline) (scipy's bootstrap); None with fewer than two pairs. Seeded.

    >>> ci = paired_bootstrap([(0.2, 0.7), (0.4, 0.9), (0.1, 0.6)])
    >>> (round(ci.mean, 3), round(ci.low, 3), round(ci.high, 3))
    (0.5, 0.5, 0.5)
    """
    if len(pairs) < 2:
        return None
    interval = stats.paired_bootstrap([c - b for b, c in pairs], CONFIDENCE, seed=seed, resamples=resamples)
    return BootstrapCI(interval.mean, interval.low, interval.high, interval.n)


def is_binary(pairs: Sequence[tuple[float, float]]) -> bool:
    """Every value is exactly 0 or 1: a pass/fail metric.

    >>> is_binary([(0.0, 1.0), (1.0, 1.0)]), is_binary([(0.5, 1.0)])
    (True, False)
    """
    return bool(pairs) and all(v in (0.0, 1.0) for pair in pairs for v in pair)


def paired_test(pairs: Sequence[tuple[float, float]]) -> McNemar | BootstrapCI | None:
    """The test that suits the metric: McNemar for 0/1 values, bootstrap otherwise."""
    if not pairs:
        return None
    return mcnemar_exact(pairs) if is_binary(pairs) else paired_bootstrap(pairs)
