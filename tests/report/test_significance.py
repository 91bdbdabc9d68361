"""Paired statistics on inputs whose answers are known."""

from __future__ import annotations

import random
from math import comb

import pytest

from harness.report.significance import BootstrapCI, McNemar, is_binary, mcnemar_exact, paired_bootstrap, paired_test


def pairs(worse: int, better: int, same_pass: int = 0, same_fail: int = 0) -> list[tuple[float, float]]:
    return [(1.0, 0.0)] * worse + [(0.0, 1.0)] * better + [(1.0, 1.0)] * same_pass + [(0.0, 0.0)] * same_fail


@pytest.mark.parametrize("worse, better, expected", [
    (6, 0, 2 / 64),  # every discordant pair in one direction: 2 * 0.5**6
    (5, 1, 2 * (1 + 6) / 64),
    (10, 2, 2 * (1 + 12 + 66) / 4096),
    (3, 3, 1.0),
    (0, 0, 1.0),
    (1, 0, 1.0),
])
def test_mcnemar_exact_matches_the_binomial_tail(worse, better, expected):
    result = mcnemar_exact(pairs(worse, better, same_pass=7, same_fail=4))
    assert result.p_value == pytest.approx(expected)
    assert (result.worse, result.better, result.n) == (worse, better, worse + better + 11)


def test_mcnemar_is_symmetric_and_ignores_concordant_pairs():
    assert mcnemar_exact(pairs(9, 2)).p_value == mcnemar_exact(pairs(2, 9)).p_value
    assert mcnemar_exact(pairs(9, 2, same_pass=100)).p_value == mcnemar_exact(pairs(9, 2)).p_value


def test_mcnemar_significance_and_description():
    strong, weak = mcnemar_exact(pairs(12, 1)), mcnemar_exact(pairs(3, 1))
    assert strong.significant and not weak.significant
    assert strong.p_value == pytest.approx(2 * sum(comb(13, k) for k in range(2)) / 2**13)
    assert weak.describe() == "McNemar exact p = 0.625 (3 worse, 1 better of 4)"


def test_bootstrap_interval_covers_the_true_shift_and_has_the_right_width():
    rng = random.Random(7)
    data = []
    for _ in range(400):
        base = rng.random()
        data.append((base, base + rng.gauss(0.2, 0.1)))
    ci = paired_bootstrap(data)
    assert ci.low < 0.2 < ci.high and ci.significant
    # standard error of the mean difference is 0.1 / sqrt(400) = 0.005: a 95% interval is about 0.02 wide
    assert 0.014 < ci.high - ci.low < 0.026
    assert ci.mean == pytest.approx(sum(c - b for b, c in data) / len(data))


def test_bootstrap_of_pure_noise_includes_zero():
    rng = random.Random(3)
    data = [(0.5, 0.5 + rng.choice((-0.3, 0.3))) for _ in range(60)]
    ci = paired_bootstrap(data)
    assert ci.low < 0 < ci.high and not ci.significant


def test_bootstrap_is_reproducible_and_needs_two_pairs():
    data = [(0.1, 0.4), (0.5, 0.3), (0.2, 0.9), (0.7, 0.7)]
    assert paired_bootstrap(data) == paired_bootstrap(data)
    assert paired_bootstrap(data[:1]) is None
    assert "paired bootstrap 95% CI [" in paired_bootstrap(data).describe()


def test_the_test_follows_the_kind_of_metric():
    assert isinstance(paired_test(pairs(2, 1)), McNemar)
    assert isinstance(paired_test([(0.2, 0.5), (0.4, 0.4), (1.0, 0.0)]), BootstrapCI)
    assert paired_test([]) is None
    assert is_binary([(0.0, 1.0)]) and not is_binary([(0.0, 0.99)]) and not is_binary([])
