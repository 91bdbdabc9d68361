"""Aggregate per-case scores into suite metrics, and hold them against thresholds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.results import CaseResult, SuiteResult, ThresholdResult
from harness.schema import Suite, Threshold
from harness.stats import PLANNING_SD, POWER, minimum_detectable_effect, noninferiority, paired_bootstrap


@dataclass(frozen=True)
class ExternalMetric:
    """A suite metric computed outside the suite's cases (an lm-eval task's score)."""

    value: float
    n: int  # documents it was computed over (shown where a threshold reports 'over N cases')


def split_key(key: str) -> tuple[str, str | None]:
    """A threshold key 'metric@tag' as (metric, tag or None).

    >>> split_key("refusal_rate@benign"), split_key("pass_rate")
    (('refusal_rate', 'benign'), ('pass_rate', None))
    """
    metric, _, tag = key.partition("@")
    return metric, tag or None


def case_metrics(case: CaseResult) -> dict[str, float]:
    """One case's metric values: pass_rate, each check's value under its name, and Score.metrics.

    A case with two checks of one scorer (mc1 and mc2 choices) averages them under that name.
    """
    sums: dict[str, list[float]] = defaultdict(list)
    for check in case.checks:
        if check.score.error:
            continue  # an error is not a score: it counts in no metric (and fails the suite)
        sums[check.scorer].append(check.score.value)
        for name, value in check.score.metrics.items():
            sums[name].append(float(value))
    out = {name: sum(v) / len(v) for name, v in sums.items()}
    out["pass_rate"] = case.pass_fraction if case.pass_fraction is not None else 1.0 if case.passed else 0.0
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
    baseline_cases: list[CaseResult] | None = None,
) -> list[ThresholdResult]:
    """One result per threshold; a metric in ``external`` (lm-eval) is taken from there, not the cases.

    With ``baseline_cases`` a threshold's regression is decided by the paired non-inferiority
    bound over the cases both runs scored (``harness.stats.noninferiority``)."""
    out = []
    for th in suite.thresholds:
        pairs = None
        if external is not None and th.tag is None and th.metric in external:
            value, n = external[th.metric].value, external[th.metric].n
        else:
            values, n = aggregate(cases, th.tag)
            value = values.get(th.metric)
            if baseline_cases is not None:
                pairs = _pairs_with_clusters(baseline_cases, cases, th.metric, th.tag)
        result = _result(suite, th, value, n, baseline, pairs)
        if suite.absolute_rule == "bound" and value is not None and (external is None or th.metric not in external):
            result = _absolute_by_bound(suite, th, result, cases)
        out.append(result)
    return out


def _absolute_by_bound(suite: Suite, th: Threshold, result: ThresholdResult, cases: list[CaseResult]) -> ThresholdResult:
    """min:/max: judged on the metric's one-sided confidence bound over the cases (absolute_rule: bound)."""
    from dataclasses import replace

    per_case = [case_metrics(c)[th.metric] for c in cases
                if (th.tag is None or th.tag in c.tags) and th.metric in case_metrics(c)]
    if len(per_case) < 2:
        return result
    interval = paired_bootstrap(per_case, 2 * suite.confidence - 1)
    low, high = interval.low, interval.high
    holds = (th.min is None or low >= th.min) and (th.max is None or high <= th.max)
    side = f"{suite.confidence:.0%} lower bound {low:.3f}" if th.min is not None else ""
    if th.max is not None:
        side += ("; " if side else "") + f"{suite.confidence:.0%} upper bound {high:.3f}"
    return replace(result, holds=holds, rule=f"{result.rule} (on the {side})")


def paired_values(before: list[CaseResult], after: list[CaseResult], metric: str,
                  tag: str | None = None) -> list[tuple[float, float]]:
    """(baseline, candidate) values of ``metric`` for every case both runs scored, by case id."""
    return [pair for pair, _ in _pairs_with_clusters(before, after, metric, tag)]


def cluster_of(case: CaseResult) -> str:
    """A case's cluster: its ``cluster:<name>`` tag (cases from one source), else itself."""
    return next((t for t in case.tags if t.startswith("cluster:")), case.case_id)


def _pairs_with_clusters(before: list[CaseResult], after: list[CaseResult], metric: str,
                         tag: str | None) -> list[tuple[tuple[float, float], str]]:
    base = {c.case_id: case_metrics(c) for c in before if tag is None or tag in c.tags}
    out = []
    for case in after:
        if case.case_id in base and (tag is None or tag in case.tags):
            b, c = base[case.case_id].get(metric), case_metrics(case).get(metric)
            if b is not None and c is not None:
                out.append(((b, c), cluster_of(case)))
    return out


@dataclass(frozen=True)
class PowerRow:
    """What a threshold's regression rule can see at the suite's size (``harness validate``)."""

    key: str
    line: int
    n: int  # cases that produce the metric
    allowance: float
    mde: float  # minimum detectable effect at the suite's confidence and POWER
    inherited: bool = False  # the allowance is the suite's default max_regression, not the threshold's own

    @property
    def checkable(self) -> bool:
        return self.allowance >= self.mde - 5e-4  # allowances are written to 3 decimals

    def describe(self) -> str:
        if self.checkable:
            return f"{self.key}: {self.n} cases detect a drop of >= {self.mde:.3f}; allowance {self.allowance:g} ok"
        whose = "the suite's default max_regression" if self.inherited else "max_regression"
        return (f"{self.key}: {self.n} cases can detect a drop of >= {self.mde:.3f} at {POWER:.0%} power; "
                f"{whose} {self.allowance:g} cannot be checked (grow the suite or set it to >= {self.mde:.3f})")


def power_rows(suite: Suite) -> list[PowerRow]:
    """One row per threshold: the minimum detectable effect against its regression allowance.

    The planning SD is the threshold's ``sd`` or 0.5 (the bound for [0, 1] scores); a case counts
    when it has the threshold's tag and a check that produces the metric (every case has pass_rate).
    """
    rows = []
    for th in suite.thresholds:
        n = 0
        for case in suite.cases:
            if th.tag is not None and th.tag not in case.tags:
                continue
            names = {"pass_rate"} | {m for c in suite.checks_for(case) for m in c.spec.metric_names(c.params)}
            n += th.metric in names
        allowance = th.max_regression if th.max_regression is not None else suite.max_regression
        mde = minimum_detectable_effect(n, confidence=suite.confidence, sd=th.sd or PLANNING_SD)
        rows.append(PowerRow(th.key, th.line, n, allowance, mde, th.max_regression is None))
    return rows


def regression_evidence(base_value: float | None, value: float | None, pairs: list | None,
                        higher_is_better: bool, allowance: float, confidence: float) -> tuple[float | None, str]:
    """(upper confidence bound of the drop or None, the rule applied in words) for one threshold.

    ``pairs`` holds (baseline, candidate) values, or ((baseline, candidate), cluster) entries."""
    if base_value is None or value is None:
        return None, ""
    clusters = None
    if pairs and isinstance(pairs[0][0], tuple):
        pairs, clusters = [p for p, _ in pairs], [c for _, c in pairs]
    test = noninferiority(pairs, higher_is_better=higher_is_better, allowance=allowance,
                          confidence=confidence, clusters=clusters) if pairs else None
    if test is not None:
        text = test.describe() + " (non-inferiority)"
        mde = minimum_detectable_effect(test.n, confidence=confidence)
        if not test.holds and allowance < mde:  # a power problem, not (necessarily) a worse candidate
            text += f"; {test.n} cases can only detect drops of >= {mde:.3f}, so this allowance cannot be shown " \
                    "(grow the suite or raise max_regression; harness validate warns)"
        return test.upper, text
    drop = base_value - value if higher_is_better else value - base_value
    why = "no per-case pairs" if not pairs else f"too few paired cases ({len(pairs)}) for a test"
    return None, f"drop {drop:+.3f} vs allowance {allowance:g} (point estimate: {why})"


def _result(suite: Suite, th: Threshold, value: float | None, n: int, baseline: dict[str, float] | None,
            pairs: list | None = None) -> ThresholdResult:
    allowance = th.max_regression if th.max_regression is not None else suite.max_regression
    base_value = None if baseline is None else baseline.get(th.key)
    upper, decision = regression_evidence(base_value, value, pairs, th.higher_is_better, allowance, suite.confidence)
    return ThresholdResult(
        key=th.key,
        rule=th.describe(),
        line=th.line,
        value=value,
        n_cases=n,
        holds=value is not None and th.holds(value),
        higher_is_better=th.higher_is_better,
        max_regression=allowance,
        baseline=base_value,
        drop_upper=upper,
        decision=decision,
    )


def missing_allowed(suite: Suite, key: str, allowed: Sequence[str]) -> bool:
    """``--allow-missing SUITE:METRIC`` (suite by name or path; metric as 'metric' or 'metric@tag')."""
    metric, _ = split_key(key)
    return any(f"{name}:{m}" in allowed for name in (suite.name, suite.path) for m in (key, metric))


def mark_not_evaluated(suite: Suite, result: SuiteResult, allow_missing: Sequence[str] = ()) -> None:
    """Every metric and threshold that would cover a case the backend could not score becomes
    'not evaluated': the metric is dropped (a value over the other cases would mean something
    else), the threshold has no value and fails, unless ``allow_missing`` names it."""
    from dataclasses import replace

    reason = next(iter(result.not_evaluated.values()))
    tags = {c.id: set(c.tags) for c in suite.cases}
    result.critical_not_evaluated = {c.id: c.line for c in suite.cases if c.critical and c.id in result.not_evaluated}

    def covers(tag: str | None) -> bool:
        return any(tag is None or tag in tags.get(case_id, ()) for case_id in result.not_evaluated)

    for key in [k for k in result.metrics if covers(split_key(k)[1])]:
        del result.metrics[key]
    marked = []
    for t in result.thresholds:
        if covers(split_key(t.key)[1]):
            allowed = missing_allowed(suite, t.key, allow_missing)
            t = replace(t, value=None, holds=allowed, drop_upper=None,
                        decision=("not evaluated (allowed by --allow-missing): " if allowed else "not evaluated: ")
                        + f"{len(result.not_evaluated)} case(s): {reason}")
        marked.append(t)
    result.thresholds = marked
