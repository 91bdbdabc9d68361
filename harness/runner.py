"""Run suites on a backend: one batched generate() and one batched loglikelihood() per run.

Cases are never generated one by one: every case of every suite becomes a request,
identical requests are merged, and the backend batches them. Scoring happens after.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from harness import __version__
from harness.backend import (
    Backend,
    CapabilityUnavailable,
    GenerationRequest,
    LoglikelihoodRequest,
    Prompt,
    RendersPrompts,
    capability,
)
from harness.errors import HarnessError
from harness.metrics import ExternalMetric, check_thresholds, mark_not_evaluated, suite_metrics
from harness.results import CaseResult, CheckResult, RunResult, SuiteResult
from harness.schema import Case, Check, Suite
from harness.scorers import Score, ScoreInput


@runtime_checkable
class LmEvalCapable(Protocol):
    """An optional backend capability: the loaded model as an lm-eval ``LM`` (for 'lm_eval:' tasks)."""

    def lm_eval_model(self) -> Any: ...


@dataclass
class _Planned:
    suite: Suite
    case: Case
    prompt: Prompt
    checks: list[Check]
    generation: GenerationRequest | None
    ll_requests: list[list[LoglikelihoodRequest]]  # per check (empty for output checks)
    repeats: tuple[GenerationRequest, ...] = ()  # samples 2..k when generation.samples > 1
    min_passes: int = 1


def run_suites(
    suites: Sequence[Suite],
    backend: Backend,
    *,
    baseline: RunResult | None = None,
    allow_missing: Sequence[str] = (),
) -> RunResult:
    """Evaluate ``suites`` on ``backend``; with ``baseline``, thresholds also check regression."""
    start = time.perf_counter()
    plans = [p for s in suites if not s.skip_reason for p in _plan(s)]

    gen_requests = list(dict.fromkeys(r for p in plans if p.generation is not None for r in (p.generation, *p.repeats)))
    outputs = dict(zip(gen_requests, backend.generate(gen_requests))) if gen_requests else {}
    ll_requests = list(dict.fromkeys(r for p in plans for reqs in p.ll_requests for r in reqs))
    unavailable = None  # why log-likelihood checks cannot be scored on this backend, if they cannot
    try:
        logprobs = dict(zip(ll_requests, backend.loglikelihood(ll_requests))) if ll_requests else {}
    except CapabilityUnavailable as exc:
        logprobs, unavailable = {}, str(exc)

    results: dict[str, SuiteResult] = {}
    for suite in suites:
        results[suite.path] = SuiteResult(suite.name, suite.path, skipped=suite.skip_reason)
    renderer: Any = capability(backend, RendersPrompts)
    if renderer is not None:
        for plan in plans:
            if results[plan.suite.path].rendered_prompt is None:
                results[plan.suite.path].rendered_prompt = renderer.render(plan.prompt)
    _prepare_scorers(plans, outputs)
    for plan in plans:
        if unavailable and any(plan.ll_requests):
            results[plan.suite.path].not_evaluated[plan.case.id] = unavailable  # no score, not a zero
            continue
        output = outputs[plan.generation] if plan.generation is not None else None
        checks = [
            CheckResult(describe_check(check), _score(check, plan, output, [logprobs[r] for r in reqs]))
            for check, reqs in zip(plan.checks, plan.ll_requests)
        ]
        samples, fraction = (), None
        if plan.repeats:
            samples = (output, *(outputs[r] for r in plan.repeats))
            per_sample = [checks] + [
                [CheckResult(c.check, _score(check, plan, out, [logprobs[r] for r in reqs]))
                 for c, check, reqs in zip(checks, plan.checks, plan.ll_requests)]
                for out in samples[1:]
            ]
            checks, fraction = _over_samples(per_sample, plan.min_passes)
        results[plan.suite.path].cases[plan.case.id] = CaseResult(
            plan.case.id, plan.case.line, plan.prompt, output, checks, tuple(plan.case.tags), plan.case.critical,
            tuple(samples), fraction,
        )
    for suite in suites:
        result = results[suite.path]
        if result.skipped:
            continue
        cases = list(result.cases.values())
        external = _lm_eval_metrics(suite, backend) if suite.lm_eval else None
        result.metrics = suite_metrics(suite, cases, external)
        base = baseline.suites.get(suite.path) if baseline else None
        result.thresholds = check_thresholds(suite, cases, base.metrics if base else None, external,
                                             list(base.cases.values()) if base and base.cases else None)
        if result.not_evaluated:
            mark_not_evaluated(suite, result, allow_missing)
    return RunResult(
        backend.identity, results, time.perf_counter() - start, __version__,
        baseline.identity if baseline else None,
    )


def _plan(suite: Suite) -> list[_Planned]:
    plans = []
    for case in suite.cases:
        prompt = suite.render(case)
        checks = suite.checks_for(case)
        needs_output = any(c.spec.needs == "output" for c in checks)
        gen, repeats, need = None, (), 1
        if needs_output:
            g = suite.generation_for(case)
            gen = GenerationRequest(prompt, g.max_new_tokens, g.greedy, g.temperature, g.seed)
            repeats = tuple(GenerationRequest(prompt, g.max_new_tokens, g.greedy, g.temperature, g.seed + i)
                            for i in range(1, g.samples))
            need = g.min_passes or g.samples
        ll = [c.spec.requests(prompt, c.params) if c.spec.requests else [] for c in checks]
        plans.append(_Planned(suite, case, prompt, checks, gen, ll, repeats, need))
    return plans


def _over_samples(per_sample: list[list[CheckResult]], min_passes: int) -> tuple[list[CheckResult], float]:
    """One result per check over k samples: the mean value and metrics, passed when it passed in at
    least ``min_passes`` samples (an error in any sample is the check's error); and the share of
    samples that passed every check."""
    k = len(per_sample)
    merged = []
    for j, first in enumerate(per_sample[0]):
        scores = [sample[j].score for sample in per_sample]
        passes = sum(s.passed for s in scores)
        error = next((s.error for s in scores if s.error), None)
        names = {name for s in scores for name in s.metrics}
        metrics = {name: sum(s.metrics.get(name, 0.0) for s in scores) / k for name in names}
        why = f"passed in {passes} of {k} samples (needs {min_passes}); sample 1: {scores[0].explanation}"
        merged.append(CheckResult(first.check, Score(sum(s.value for s in scores) / k, passes >= min_passes and not error,
                                                     why, metrics, error)))
    fraction = sum(all(c.score.passed for c in sample) for sample in per_sample) / k
    return merged, fraction


def _prepare_scorers(plans: list[_Planned], outputs: dict[GenerationRequest, str]) -> None:
    """Hand each scorer with a ``prepare`` hook all its output checks at once (batched work)."""
    batches: dict[str, tuple[Any, list]] = {}
    for plan in plans:
        if plan.generation is None:
            continue
        for request in (plan.generation, *plan.repeats):  # every sample is scored
            for check in plan.checks:
                if check.spec.prepare is not None and check.spec.needs == "output":
                    inp = ScoreInput(plan.prompt, outputs[request], [], tuple(plan.case.tags))
                    batches.setdefault(check.name, (check.spec.prepare, []))[1].append((inp, check.params))
    for prepare, items in batches.values():
        try:
            prepare(items)
        except Exception:  # only a speed-up: scoring case by case still works (and reports errors per case)
            pass


def _score(check: Check, plan: _Planned, output: str | None, logprobs: list[float]) -> Score:
    return score_check(check, ScoreInput(plan.prompt, output, logprobs, tuple(plan.case.tags)))


def score_check(check: Check, inp: ScoreInput) -> Score:
    """One check on one case (also used by exported lm-eval tasks, so both score alike).

    A scorer that raises makes the check an error (``Score.error``), never a score."""
    try:
        return check.spec.fn(inp, check.params)
    except Exception as exc:  # a broken (custom) scorer fails its case visibly instead of aborting the run
        message = f"scorer '{check.name}' raised {type(exc).__name__}: {exc}"
        return Score(0.0, False, message, error=message)


def _lm_eval_metrics(suite: Suite, backend: Backend) -> dict[str, ExternalMetric]:
    """Run the suite's 'lm_eval:' tasks on the model the backend already holds."""
    inner: Any = capability(backend, LmEvalCapable)
    if inner is None:
        raise HarnessError(
            f"{suite.path}: the suite lists lm-eval tasks, but backend {type(backend).__name__} cannot run "
            "them (it has no lm_eval_model()); use the Hugging Face backend"
        )
    from harness.suite_lm_eval import run_suite_tasks  # imports lm-eval: only when a suite asks

    return run_suite_tasks(suite, inner.lm_eval_model())


def describe_check(check: Check) -> str:
    """'refusal(expect=refuse)' — the check as a reviewer reads it.

    Long values are shortened so a description stays on one line.
    """
    parts = []
    for key, value in check.params.model_dump(exclude_defaults=True).items():
        text = repr(value)
        parts.append(f"{key}={text if len(text) <= 40 else text[:37] + '...'}")
    return f"{check.name}({', '.join(parts)})"
