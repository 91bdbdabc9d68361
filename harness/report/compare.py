"""Pair a candidate run with its baseline: case statuses, metric deltas, the verdict and its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from harness.metrics import case_metrics, paired_values, regression_evidence, split_key
from harness.report.significance import BootstrapCI, McNemar, paired_test
from harness.results import CaseResult, RunResult, SuiteResult, ThresholdResult
from harness.stats import CONFIDENCE
from harness.table import fmt_result

# Display order of case statuses: what a reviewer must see first comes first.
STATUS_ORDER = ("regression", "improvement", "new", "unchanged", "removed")
STATUS_TITLES = {
    "regression": "Regressions: passed on the baseline, fail on the candidate",
    "improvement": "Improvements: failed on the baseline, pass on the candidate",
    "new": "New cases: not in the baseline run",
    "unchanged": "Unchanged outcome",
    "removed": "Removed cases: only in the baseline run",
}


@dataclass
class CasePair:
    suite: str  # suite name
    path: str  # suite path
    case_id: str
    base: CaseResult | None
    cand: CaseResult | None

    @property
    def status(self) -> str:
        if self.cand is None:
            return "removed"
        if self.base is None:
            return "new"
        if self.base.passed and not self.cand.passed:
            return "regression"
        if not self.base.passed and self.cand.passed:
            return "improvement"
        return "unchanged"

    @property
    def outcome(self) -> str:
        """The candidate's outcome (the baseline's for a removed case)."""
        shown = self.cand or self.base
        return "pass" if shown is not None and shown.passed else "fail"

    @property
    def delta(self) -> float | None:
        """Change of the case's mean check value (None unless both runs scored it)."""
        if self.base is None or self.cand is None or not self.base.checks or not self.cand.checks:
            return None
        return self.cand.value - self.base.value

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.cand.tags if self.cand else ()) + (self.base.tags if self.base else ())))


@dataclass
class MetricRow:
    key: str
    base: float | None
    cand: float | None
    higher_is_better: bool | None  # None: direction unknown (no threshold, not a score)
    test: McNemar | BootstrapCI | None
    n_pairs: int = 0  # cases scored in both runs

    @property
    def test_text(self) -> str:
        """The paired test, or why there is none."""
        if self.test is not None:
            return self.test.describe()
        return "no paired cases" if self.n_pairs == 0 else f"too few paired cases ({self.n_pairs}) for a test"

    @property
    def delta(self) -> float | None:
        return None if self.base is None or self.cand is None else self.cand - self.base

    @property
    def trend(self) -> str:
        """'better', 'worse', 'same' or 'neutral' (direction unknown) — for colouring only."""
        d = self.delta
        if d is None or abs(d) < 1e-12:
            return "same"
        if self.higher_is_better is None:
            return "neutral"
        return "better" if (d > 0) == self.higher_is_better else "worse"


@dataclass
class Reason:
    """Why the candidate is rejected: one line a reviewer can act on."""

    suite: str
    path: str
    kind: str  # 'threshold', 'regression', 'critical'
    text: str


@dataclass
class SuiteView:
    name: str
    path: str
    base: SuiteResult | None
    cand: SuiteResult | None
    metrics: list[MetricRow] = field(default_factory=list)
    thresholds: list[tuple[ThresholdResult, float | None, bool]] = field(default_factory=list)  # (result, base, regressed)
    pairs: list[CasePair] = field(default_factory=list)

    @property
    def skipped(self) -> str | None:
        return self.cand.skipped if self.cand else self.base.skipped if self.base else None

    def count(self, status: str) -> int:
        return sum(1 for p in self.pairs if p.status == status)


def compare(candidate: RunResult, baseline: RunResult | None = None) -> tuple[list[SuiteView], list[Reason]]:
    """Suite views in the candidate's order (baseline-only suites last) and the rejection reasons."""
    paths = list(dict.fromkeys([*candidate.suites, *(baseline.suites if baseline else {})]))
    views, reasons = [], []
    for path in paths:
        cand = candidate.suites.get(path)
        base = baseline.suites.get(path) if baseline else None
        view = SuiteView((cand or base).name, path, base, cand)
        view.pairs = _pairs(view)
        if cand is not None and not cand.skipped:
            view.metrics = _metric_rows(view)
            view.thresholds = _thresholds(cand, base)
            reasons.extend(_reasons(view))
        views.append(view)
    return views, reasons


def _pairs(view: SuiteView) -> list[CasePair]:
    base_cases = view.base.cases if view.base else {}
    cand_cases = view.cand.cases if view.cand else {}
    ids = list(dict.fromkeys([*cand_cases, *base_cases]))
    return [CasePair(view.name, view.path, i, base_cases.get(i), cand_cases.get(i)) for i in ids]


def _metric_rows(view: SuiteView) -> list[MetricRow]:
    cand, base = view.cand, view.base
    directions = {t.key: t.higher_is_better for t in cand.thresholds}
    scorer_names = {c.scorer for case in cand.cases.values() for c in case.checks}
    base_metrics = base.metrics if base is not None and not base.skipped else {}
    per_case = [(case_metrics(p.base), case_metrics(p.cand), p.cand.tags)
                for p in view.pairs if p.base is not None and p.cand is not None]
    rows = []
    for key in dict.fromkeys([*cand.metrics, *base_metrics]):
        metric, tag = split_key(key)
        direction = directions.get(key)
        if direction is None and (metric == "pass_rate" or metric in scorer_names):
            direction = True  # pass rate and scorer values are in [0, 1] with 1 = best
        pairs = [(b[metric], c[metric]) for b, c, tags in per_case
                 if metric in b and metric in c and (tag is None or tag in tags)]
        test = paired_test(pairs) if base_metrics else None
        rows.append(MetricRow(key, base_metrics.get(key), cand.metrics.get(key), direction, test, len(pairs)))
    return rows


def _thresholds(cand: SuiteResult, base: SuiteResult | None) -> list[tuple[ThresholdResult, float | None, bool]]:
    """Each threshold with the baseline value it is compared against and whether it regressed.

    The baseline of *this* report wins over the one recorded at run time, so comparing two
    stored runs that were evaluated separately still reveals regressions.
    """
    out = []
    for t in cand.thresholds:
        base_value = base.metrics.get(t.key) if base is not None and not base.skipped else t.baseline
        regressed = False
        if base_value is not None and t.value is not None:
            pairs = paired_values(list(base.cases.values()), list(cand.cases.values()), *split_key(t.key)) \
                if base is not None and not base.skipped else None
            upper, decision = regression_evidence(base_value, t.value, pairs, t.higher_is_better, t.max_regression,
                                                  CONFIDENCE)
            mine = replace(t, baseline=base_value, drop_upper=upper, decision=decision)  # this report's evidence
            regressed = mine.regressed
            if regressed or not t.regressed:
                t = mine
        if not regressed and t.regressed:  # the gate's own verdict (against its run-time baseline) stands
            base_value, regressed = t.baseline, True
        out.append((t, base_value, regressed))
    return out


def _reasons(view: SuiteView) -> list[Reason]:
    reasons = []
    for t, base_value, regressed in view.thresholds:
        if not t.holds:
            shown = "no case produced this metric" if t.value is None else f"got {fmt_result(t)}"
            reasons.append(Reason(view.name, view.path, "threshold", f"threshold {t.rule} fails: {shown} over {t.n_cases} cases"))
        if regressed:
            reasons.append(Reason(view.name, view.path, "regression",
                                  f"{t.regression_headline(base_value)}: {t.regression_line()}"))
    for case in view.cand.cases.values():
        if case.critical and not case.passed:
            reasons.append(Reason(view.name, view.path, "critical", f"critical case {case.case_id} fails"))
    for case_id, _, why in view.cand.unscored_critical():  # must pass on its own: unscored is not passed
        reasons.append(Reason(view.name, view.path, "critical", f"critical case {case_id} not evaluated: {why}"))
    return reasons


def ordered_pairs(views: list[SuiteView], *, has_baseline: bool) -> dict[str, list[CasePair]]:
    """All case pairs grouped by status in display order; within a group the worst change first.

    A single-run report has two groups instead: 'fail' then 'pass'.
    """
    pairs = [p for v in views for p in v.pairs]
    if not has_baseline:
        groups = {"fail": [p for p in pairs if p.outcome == "fail"], "pass": [p for p in pairs if p.outcome == "pass"]}
        return {k: v for k, v in groups.items() if v}
    groups = {s: [p for p in pairs if p.status == s] for s in STATUS_ORDER}
    for status, group in groups.items():
        if status == "improvement":
            group.sort(key=lambda p: -(p.delta or 0.0))  # biggest gain first
        else:  # failing before passing, then the biggest loss first
            group.sort(key=lambda p: (p.outcome == "pass", p.delta if p.delta is not None else 0.0))
    return {k: v for k, v in groups.items() if v}
