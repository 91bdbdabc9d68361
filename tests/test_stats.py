"""harness/stats.py: exact values from hand computations, and the gate's rule simulated with known rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.stats import mcnemar_exact, minimum_detectable_effect, noninferiority, paired_bootstrap


def test_mcnemar_matches_the_binomial_by_hand():
    # 3 worse, 1 better: two-sided exact p = P(X <= 1) + P(X >= 3) for X ~ Bin(4, 1/2) = (1 + 4 + 4 + 1) / 16.
    pairs = [(1, 0)] * 3 + [(0, 1)] + [(1, 1)] * 5
    t = mcnemar_exact(pairs)
    assert (t.worse, t.better, t.n) == (3, 1, 9) and t.p_value == pytest.approx(10 / 16)
    assert mcnemar_exact([(1, 1), (0, 0)]).p_value == 1.0


def test_minimum_detectable_effect_closed_form():
    # (z_0.95 + z_0.80) * 0.5 / sqrt(n), with z_0.95 = 1.6448536, z_0.80 = 0.8416212.
    assert minimum_detectable_effect(34) == pytest.approx((1.6448536 + 0.8416212) * 0.5 / math.sqrt(34), abs=1e-6)
    assert minimum_detectable_effect(408, sd=0.1) == pytest.approx(2.4864748 * 0.1 / math.sqrt(408), abs=1e-6)
    assert minimum_detectable_effect(0) == math.inf


def test_bootstrap_of_constant_differences_is_a_point_and_of_two_values_brackets_the_mean():
    assert paired_bootstrap([0.5, 0.5, 0.5], 0.95).low == 0.5
    ci = paired_bootstrap([0.0] * 50 + [1.0] * 50, 0.95)
    # The mean of 100 resampled 0/1 values: sd 0.05, so the 95 % interval is about 0.5 +- 0.098.
    assert ci.mean == 0.5 and ci.low == pytest.approx(0.402, abs=0.02) and ci.high == pytest.approx(0.598, abs=0.02)


def test_noninferiority_direction_follows_the_metric():
    # refusal_rate@benign (lower is better): 0 -> 1 on 2 of 10 cases is a rise (a drop in quality) of 0.2.
    worse = [(0, 1)] * 2 + [(0, 0)] * 8
    assert noninferiority(worse, higher_is_better=False, allowance=0.05).drop == pytest.approx(0.2)
    assert noninferiority(worse, higher_is_better=True, allowance=0.05).drop == pytest.approx(-0.2)
    assert noninferiority([(1, 1)], higher_is_better=True, allowance=0.05) is None  # too few pairs


def _simulate(drop: float, n: int, trials: int, rng: np.random.Generator, allowance: float) -> float:
    """Share of trials accepted when per-case drops are +1 / -1 / 0 with mean ``drop`` and sd ~0.5."""
    p_worse, p_better = 0.125 + drop / 2, 0.125 - drop / 2
    accepted = 0
    for t in range(trials):
        u = rng.random(n)
        d = np.where(u < p_worse, 1.0, np.where(u < p_worse + p_better, -1.0, 0.0))
        pairs = [(1.0, 1.0 - x) if x >= 0 else (0.0, 1.0) for x in d]  # (baseline, candidate) with that drop
        accepted += noninferiority(pairs, higher_is_better=True, allowance=allowance, seed=t).holds
    return accepted / trials


def test_the_rule_rejects_a_true_drop_equal_to_the_allowance_and_accepts_an_equal_candidate():
    allowance = 0.2
    n = math.ceil((2.4864748 * 0.5 / allowance) ** 2)  # the suite size the power check asks for: 39
    rng = np.random.default_rng(20261206)
    at_allowance = _simulate(allowance, n, 300, rng, allowance)
    equal = _simulate(0.0, n, 300, rng, allowance)
    assert at_allowance <= 0.08, at_allowance  # nominal 5 %, with Monte-Carlo slack (sd ~0.013 at 300 trials)
    assert equal >= 0.75, equal  # nominal 80 % power


def test_clustered_resampling_widens_the_interval_when_cases_share_a_source():
    # 10 sources of 6 cases each; all cases of a source move together (drop 1 for 3 sources, else 0).
    drops = [1.0] * 18 + [0.0] * 42
    clusters = [f"s{i // 6}" for i in range(60)]
    flat = paired_bootstrap(drops, 0.9)
    grouped = paired_bootstrap(drops, 0.9, clusters=clusters)
    assert flat.mean == grouped.mean == pytest.approx(0.3)
    # By hand, by source: a resampled mean is Binomial(10, 0.3) / 10; P(X <= 0) = 0.028 < 0.05 <= P(X <= 1)
    # = 0.149 and P(X <= 4) = 0.850 < 0.95 <= P(X <= 5) = 0.953, so the 90 % interval is [0.1, 0.5].
    assert (grouped.low, grouped.high) == (pytest.approx(0.1), pytest.approx(0.5))
    # As 60 independent cases the sd is sqrt(0.21 / 60) = 0.059: an interval about 0.2 wide.
    assert flat.high - flat.low == pytest.approx(0.2, abs=0.05)
