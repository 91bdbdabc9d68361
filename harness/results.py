"""Typed results of a run: per case, per threshold, per suite. Serialisable to JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.model_io import ModelIdentity, Prompt
from harness.scorer_api import Score


@dataclass
class CheckResult:
    check: str  # e.g. "refusal(expect=refuse)"
    score: Score

    @property
    def scorer(self) -> str:
        """The scorer's name, under which its values become a metric: "refusal"."""
        return self.check.split("(", 1)[0]

    def produces(self, metric: str) -> bool:
        """Its values count in ``metric``: under the scorer's name or as one of ``Score.metrics``."""
        return self.scorer == metric or metric in self.score.metrics


@dataclass
class CaseResult:
    case_id: str
    line: int
    prompt: Prompt
    output: str | None
    checks: list[CheckResult]
    tags: tuple[str, ...]
    critical: bool
    # With repeats (generation.samples > 1): every sampled output, and the share of samples that
    # passed every check (the case's pass rate in metrics and paired tests).
    samples: tuple[str, ...] = ()
    pass_fraction: float | None = None

    @property
    def passed(self) -> bool:
        return all(c.score.passed for c in self.checks)

    @property
    def flaky(self) -> bool:
        """Passed in some samples and failed in others."""
        return self.pass_fraction is not None and 0.0 < self.pass_fraction < 1.0

    @property
    def value(self) -> float:
        return sum(c.score.value for c in self.checks) / len(self.checks)

    @property
    def errors(self) -> list[str]:
        """What could not be scored (a scorer raised), one message per check."""
        return [c.score.error for c in self.checks if c.score.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "line": self.line,
            "prompt": self.prompt if isinstance(self.prompt, str) else [list(m) for m in self.prompt],
            "output": self.output,
            "tags": list(self.tags),
            "critical": self.critical,
            "passed": self.passed,
            **({"samples": list(self.samples), "pass_fraction": self.pass_fraction, "flaky": self.flaky}
               if self.samples else {}),
            "scores": [
                {"check": c.check, "value": c.score.value, "passed": c.score.passed,
                 "explanation": c.score.explanation, "metrics": dict(c.score.metrics),
                 **({"error": c.score.error} if c.score.error else {})}
                for c in self.checks
            ],
        }


def _fails_on(case: CaseResult, metric: str, higher_is_better: bool) -> bool:
    """A check of ``case`` that produces ``metric`` failed, with the metric's value not at its best."""
    best = 1.0 if higher_is_better else 0.0
    return any(check.produces(metric) and not check.score.passed and not check.score.error
               and (check.scorer == metric or float(check.score.metrics[metric]) != best)
               for check in case.checks)


@dataclass
class ThresholdResult:
    key: str  # metric@tag
    rule: str  # "refusal_rate@harmful >= 0.9"
    line: int
    value: float | None  # None: no case produced the metric
    n_cases: int
    holds: bool
    higher_is_better: bool
    max_regression: float
    baseline: float | None = None
    # The regression rule's evidence: the one-sided upper confidence bound of the paired drop
    # (None: no paired per-case data, so the point difference decides), and the rule in words.
    drop_upper: float | None = None
    decision: str = ""

    @property
    def drop(self) -> float | None:
        if self.baseline is None or self.value is None:
            return None
        return self.baseline - self.value if self.higher_is_better else self.value - self.baseline

    @property
    def regressed(self) -> bool:
        """Non-inferiority with the burden on the candidate: regressed unless the upper confidence
        bound of the drop is within the allowance (the point drop where no paired data exists)."""
        if self.drop is None:
            return False
        evidence = self.drop_upper if self.drop_upper is not None else self.drop
        return evidence > self.max_regression + 1e-9

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "regressed": self.regressed}

    def regression_headline(self, baseline: float | None = None) -> str:
        """'pass_rate regressed from 0.900 to 0.700', or, when it did not get worse but the rule could not
        show it stayed within its allowance, 'pass_rate was not shown to stay within ... (0.6 -> 0.8)'."""
        base = self.baseline if baseline is None else baseline
        value = "no value" if self.value is None else f"{self.value:.3f}"
        drop = None if base is None or self.value is None else (
            base - self.value if self.higher_is_better else self.value - base)
        if drop is not None and drop <= 0:
            return f"{self.key} was not shown to stay within {self.max_regression:g} of its baseline ({base:.3f} -> {value})"
        return f"{self.key} regressed from {base:.3f} to {value}"

    def regression_line(self) -> str:
        """How the regression rule decided, with the numbers a release manager acts on."""
        if self.drop is None:
            return "no baseline value to compare with"
        return self.decision or f"drop {self.drop:+.3f} vs allowance {self.max_regression:g} (point estimate)"


@dataclass
class SuiteResult:
    name: str
    path: str
    cases: dict[str, CaseResult] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    thresholds: list[ThresholdResult] = field(default_factory=list)
    skipped: str | None = None
    # The first case's prompt as the model saw it (chat template applied), when the backend can say:
    # two runs of one suite with different renderings were not asked the same questions.
    rendered_prompt: str | None = None
    # Cases the backend could not score at all (case id -> why), e.g. log-likelihood checks on a
    # server without prompt log-probabilities. They are left out of every metric, and every metric
    # and threshold that would cover them is "not evaluated".
    not_evaluated: dict[str, str] = field(default_factory=dict)
    # The critical ones among them (case id -> YAML line). A critical case must pass on its own, and
    # one that could not be scored has not: no --allow-missing accepts it.
    critical_not_evaluated: dict[str, int] = field(default_factory=dict)

    def failing_cases(self, tag: str | None = None, limit: int = 10, metric: str | None = None,
                      higher_is_better: bool = True) -> str:
        """The ids of the failing cases (those with ``tag``), at most ``limit`` shown: 'a, b … (+3)'.

        With ``metric`` (other than pass_rate), only the cases that fail on it: a check that produces
        the metric failed, and, for a metric the check reports in ``Score.metrics``, the case's value
        is not the best one (a refusal check that failed on a harmful request counts against
        ``refusal_rate@harmful``, not against ``refusal_rate@benign``). Under a threshold on red
        flags that is the answer with the red flag, not every case that failed anything. A metric
        no case's check produces (an lm-eval task's) lists the failing cases.
        """
        cases = [c for c in self.cases.values() if tag is None or tag in c.tags]
        failing = [c.case_id for c in cases if not c.passed]
        if metric not in (None, "pass_rate") and any(ch.produces(metric) for c in cases for ch in c.checks):
            failing = [c.case_id for c in cases if _fails_on(c, metric, higher_is_better)]
        return ", ".join(failing[:limit]) + (f" … (+{len(failing) - limit})" if len(failing) > limit else "")

    @property
    def failed_critical(self) -> list[str]:
        """The critical cases that failed or could not be scored."""
        return [c.case_id for c in self.cases.values() if c.critical and not c.passed] + list(self.critical_not_evaluated)

    def unscored_critical(self) -> list[tuple[str, int, str]]:
        """(case id, YAML line, why) for each critical case that could not be scored."""
        return [(case_id, line, self.not_evaluated.get(case_id, "no score"))
                for case_id, line in self.critical_not_evaluated.items()]

    @property
    def errored(self) -> list[str]:
        """'case: message' for every check that could not be scored."""
        return [f"{c.case_id}: {e}" for c in self.cases.values() for e in c.errors]

    @property
    def passed(self) -> bool:
        """Every case was scored, every threshold holds, nothing regressed, and every critical case passed.

        A skipped suite ("not evaluated") is not failed here: ``harness gate`` and ``pytest``
        reject it unless the user allows it to be missing (``--allow-missing``)."""
        if self.skipped:
            return True
        return (
            not self.errored
            and all(t.holds and not t.regressed for t in self.thresholds)
            and not self.failed_critical
        )

    @property
    def verdict(self) -> str:
        return "skipped" if self.skipped else "error" if self.errored else "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "verdict": self.verdict,
            "skipped": self.skipped,
            "rendered_prompt": self.rendered_prompt,
            "not_evaluated": self.not_evaluated,
            "critical_not_evaluated": self.critical_not_evaluated,
            "metrics": self.metrics,
            "thresholds": [t.to_dict() for t in self.thresholds],
            "cases": [c.to_dict() for c in self.cases.values()],
        }


@dataclass
class RunResult:
    identity: ModelIdentity
    suites: dict[str, SuiteResult]
    seconds: float
    harness_version: str
    baseline: ModelIdentity | None = None
    stored_id: int | None = field(default=None, compare=False)  # its id in the run store, once saved
    store_error: str | None = field(default=None, compare=False)  # why saving it failed, if it did

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.suites.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "harness_version": self.harness_version,
            "model": asdict(self.identity),
            "baseline": asdict(self.baseline) if self.baseline else None,
            "seconds": round(self.seconds, 2),
            "verdict": "pass" if self.passed else "fail",
            "suites": {path: s.to_dict() for path, s in self.suites.items()},
        }

    def write_json(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # never leave a half-written results file
