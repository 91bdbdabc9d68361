"""Aggregate per-case scores into suite metrics, and hold them against thresholds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.results import CaseResult, ThresholdResult
from harness.schema import Suite, Threshold


@dataclass(frozen=True)
class ExternalMetric:
    """A suite metric computed outside the suite's cases (an lm-eval task's score)."""

    value: float
    n: int  # documents it was computed over (shown where a threshold reports 'over N cases')


def case_metrics(case: CaseResult) -> dict[str, float]:
    """One case's metric values: pass_rate, each check's value under its name, and Score.metrics.

    A case with two checks of one scorer (mc1 and mc2 choices) averages them under that name.
    """
    sums: dict[str, list[float]] = defaultdict(list)
    for check in case.checks:
        if check.score.error:
            continue  # an error is not a score: it counts in no metric (and fails the suite)
        sums[check.check.split("(", 1)[0]].append(check.score.value)
        for name, value in check.score.metrics.items():
            sums[name].append(float(value))
    out = {name: sum(v) / len(v) for name, v in sums.items()}
    out["pass_rate"] = 1.0 if case.passed else 0.0
    return out


def aggregate(cases: Iterable[CaseResult], tag: str | None = None) -> tuple[dict[str, float], int]:
    """Mean of each metric over the cases (those with ``tag``), and how many cases that was.

    >>> aggregate([])
    ({}, 0)
    """
    values: dict[str, list[float]] = defaultdict(list)
    n = 0
    for case in cases:
        if tag is not None and tag not in case.tags:
            continue
        n += 1
        for name, value in case_metrics(case).items():
            values[name].append(value)
    return {name: sum(v) / len(v) for name, v in sorted(values.items())}, n


def suite_metrics(
    suite: Suite, cases: list[CaseResult], external: Mapping[str, ExternalMetric] | None = None
) -> dict[str, float]:
    """Every metric over all cases, each tagged threshold's metric as 'metric@tag', and ``external`` ones."""
    metrics, _ = aggregate(cases)
    for th in suite.thresholds:
        if th.tag is not None:
            tagged, _ = aggregate(cases, th.tag)
            if th.metric in tagged:
                metrics[th.key] = tagged[th.metric]
    for name, metric in sorted((external or {}).items()):
        metrics[name] = metric.value
    return metrics


def check_thresholds(
    suite: Suite,
    cases: list[CaseResult],
    baseline: dict[str, float] | None = None,
    external: Mapping[str, ExternalMetric] | None = None,
) -> list[ThresholdResult]:
    """One result per threshold; a metric in ``external`` (lm-eval) is taken from there, not the cases."""
    out = []
    for th in suite.thresholds:
        if external is not None and th.tag is None and th.metric in external:
            value, n = external[th.metric].value, external[th.metric].n
        else:
            values, n = aggregate(cases, th.tag)
            value = values.get(th.metric)
        out.append(_result(suite, th, value, n, baseline))
    return out


def _result(suite: Suite, th: Threshold, value: float | None, n: int, baseline: dict[str, float] | None) -> ThresholdResult:
    return ThresholdResult(
        key=th.key,
        rule=th.describe(),
        line=th.line,
        value=value,
        n_cases=n,
        holds=value is not None and th.holds(value),
        higher_is_better=th.higher_is_better,
        max_regression=th.max_regression if th.max_regression is not None else suite.max_regression,
        baseline=None if baseline is None else baseline.get(th.key),
    )
