"""Paired statistics for release decisions, from scipy (no hand-written tests or resampling).

Both runs score the same cases, so a change is judged on per-case differences (Miller,
"Adding Error Bars to Evals", 2024):

- :func:`mcnemar_exact`: exact McNemar test for 0/1 metrics (``scipy.stats.binomtest`` on the
  discordant pairs);
- :func:`paired_bootstrap`: confidence interval of the mean difference
  (``scipy.stats.bootstrap``, percentile method, seeded);
- :func:`noninferiority`: the gate's rule for ``max_regression``. The burden is on the
  candidate: a threshold holds only when the one-sided upper confidence bound of the drop
  (baseline − candidate for higher-is-better metrics) is at most the allowance;
- :func:`minimum_detectable_effect`: the smallest drop a suite of ``n`` cases detects at the
  configured confidence and power, for the power check of ``harness validate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95  # one-sided, for the non-inferiority bound (the default; suites may set their own)
POWER = 0.8
RESAMPLES = 4000
# The standard deviation of a per-case difference of two [0, 1] scores is at most 0.5 when the
# two runs are correlated at 0.5 or more (Var(d) = 2σ²(1 - ρ) with σ² <= 0.25): the planning value.
PLANNING_SD = 0.5
MIN_PAIRS = 2


@dataclass(frozen=True)
class McNemar:
    worse: int  # 1 on the baseline, 0 on the candidate
    better: int  # 0 on the baseline, 1 on the candidate
    n: int
    p_value: float


def mcnemar_exact(pairs: Sequence[tuple[float, float]]) -> McNemar:
    """Two-sided exact McNemar test on (baseline, candidate) 0/1 pairs.

    >>> mcnemar_exact([(1, 0)] * 6 + [(1, 1)] * 4).p_value  # 6 of 6 discordant pairs got worse: 2 / 2**6
    0.03125
    """
    from scipy.stats import binomtest

    worse = sum(1 for b, c in pairs if b >= 0.5 > c)
    better = sum(1 for b, c in pairs if c >= 0.5 > b)
    m = worse + better
    p = 1.0 if m == 0 else float(binomtest(worse, m, 0.5).pvalue)
    return McNemar(worse, better, len(pairs), min(1.0, p))


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    distribution: tuple[float, ...] = ()  # the resampled means (empty when the differences are constant)


def paired_bootstrap(diffs: Sequence[float], confidence: float, *, seed: int = 0,
                     resamples: int = RESAMPLES, clusters: Sequence[str] | None = None) -> Interval:
    """Two-sided ``confidence`` percentile interval of mean(diffs). Constant diffs give a point.

    With ``clusters`` (one label per difference), whole clusters are resampled: cases that share
    a source (one template, one question) are not independent evidence.
    """
    import numpy as np
    from scipy.stats import bootstrap

    d = np.asarray(diffs, dtype=float)
    if d.size and np.all(d == d[0]):  # no spread: scipy cannot (and need not) resample
        return Interval(float(d[0]), float(d[0]), float(d[0]), int(d.size))
    rng = np.random.default_rng(seed)
    if clusters is not None and len(set(clusters)) < len(clusters):
        labels = sorted(set(clusters))
        index = {c: i for i, c in enumerate(labels)}
        sums, sizes = np.zeros(len(labels)), np.zeros(len(labels))
        for value, c in zip(d, clusters):
            sums[index[c]] += value
            sizes[index[c]] += 1
        res = bootstrap((sums, sizes), lambda s, n, axis=-1: s.sum(axis=axis) / n.sum(axis=axis), paired=True,
                        confidence_level=confidence, n_resamples=resamples, method="percentile",
                        random_state=rng, vectorized=True)
    else:
        res = bootstrap((d,), np.mean, confidence_level=confidence, n_resamples=resamples, method="percentile",
                        random_state=rng, vectorized=True)
    return Interval(float(d.mean()), float(res.confidence_interval.low), float(res.confidence_interval.high),
                    int(d.size), tuple(float(x) for x in res.bootstrap_distribution))


@dataclass(frozen=True)
class NonInferiority:
    """Whether a candidate is no worse than its baseline by more than ``allowance``."""

    drop: float  # mean per-case drop (positive = worse), the point estimate
    upper: float  # one-sided upper confidence bound of the drop
    n: int
    allowance: float
    confidence: float
    # Bootstrap p-value of "the drop is at least the allowance": the share of resampled mean
    # drops at or above it (<= 1 - confidence exactly when the bound is within the allowance).
    p_value: float = 1.0

    @property
    def holds(self) -> bool:
        return self.upper <= self.allowance + 1e-9

    def describe(self) -> str:
        verb = "<=" if self.holds else ">"
        return (f"drop {self.drop:+.3f}, {self.confidence:.0%} upper bound {self.upper:+.3f} {verb} allowance "
                f"{self.allowance:g} (paired, n = {self.n})")


def noninferiority(pairs: Sequence[tuple[float, float]], *, higher_is_better: bool, allowance: float,
                   confidence: float = CONFIDENCE, seed: int = 0,
                   clusters: Sequence[str] | None = None) -> NonInferiority | None:
    """The gate's regression rule on (baseline, candidate) per-case values; None below MIN_PAIRS pairs.

    The one-sided ``confidence`` upper bound is the upper end of a two-sided interval at
    ``2 * confidence - 1``.

    >>> r = noninferiority([(1, 1)] * 10, higher_is_better=True, allowance=0.05)
    >>> (r.drop, r.upper, r.holds)
    (0.0, 0.0, True)
    """
    if len(pairs) < MIN_PAIRS:
        return None
    drops = [(b - c) if higher_is_better else (c - b) for b, c in pairs]
    interval = paired_bootstrap(drops, 2 * confidence - 1, seed=seed, clusters=clusters)
    if interval.distribution:
        p = sum(x >= allowance - 1e-12 for x in interval.distribution) / len(interval.distribution)
    else:
        p = 1.0 if interval.mean >= allowance - 1e-12 else 0.0
    return NonInferiority(interval.mean, interval.high, len(drops), allowance, confidence, p)


def holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure: which null hypotheses are rejected at family-wise ``alpha``.

    Here a rejection means "not worse than allowed": a candidate's threshold holds. Sorted by p,
    the k-th smallest (from 0) is rejected if p <= alpha / (m - k) and every smaller one was.

    >>> holm([0.01, 0.04, 0.03], 0.05)  # 0.01 <= 0.05/3; then 0.03 > 0.05/2, so it and 0.04 stop
    [True, False, False]
    >>> holm([0.01, 0.02, 0.04], 0.05)  # 0.01 <= 0.0167, 0.02 <= 0.025, 0.04 <= 0.05
    [True, True, True]
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for k, i in enumerate(order):
        if p_values[i] > alpha / (len(p_values) - k):
            break
        rejected[i] = True
    return rejected


def minimum_detectable_effect(n: int, *, confidence: float = CONFIDENCE, power: float = POWER,
                              sd: float = PLANNING_SD) -> float:
    """Smallest true drop that ``n`` paired cases detect with ``power`` at one-sided ``confidence``.

    (z_confidence + z_power) * sd / sqrt(n): 34 cases at 95 % / 80 % with sd 0.5 detect 0.213.

    >>> round(minimum_detectable_effect(34), 3)
    0.213
    """
    from scipy.stats import norm

    if n < 1:
        return float("inf")
    return float((norm.ppf(confidence) + norm.ppf(power)) * sd / n ** 0.5)
