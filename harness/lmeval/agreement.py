"""TruthfulQA MC1/MC2 computed both ways — the harness's ``choice`` scorer and lm-eval — and compared.

Used by ``tests/lmeval`` (40 questions) and ``benchmarks/bench_truthfulqa.py`` (all 408).
Both sides key their numbers by ``row``, the question's 0-based index in TruthfulQA.csv.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.backend import Backend, GenerationRequest, LoglikelihoodRequest
from harness.loader import load_suite
from harness.runner import run_suites

MC_TASKS = ("harness_truthfulqa_mc1", "harness_truthfulqa_mc2")


@dataclass
class MCScores:
    """Per question: the log-likelihood of every MC1 and MC2 choice; plus the reported metrics."""

    lls: dict[int, dict[str, list[float]]] = field(default_factory=dict)  # row -> {"mc1": [...], "mc2": [...]}
    mc1: float = math.nan
    mc2: float = math.nan


@dataclass
class Agreement:
    n: int
    mc1: tuple[float, float]  # (harness, lm-eval)
    mc2: tuple[float, float]
    same_mc1_pick: float  # share of questions where both pick the same MC1 choice
    same_mc2_pick: float

    def lines(self) -> list[str]:
        return [
            f"questions compared: {self.n}",
            f"MC1  harness {self.mc1[0]:.4f}  lm-eval {self.mc1[1]:.4f}  |diff| {abs(self.mc1[0] - self.mc1[1]):.4f}",
            f"MC2  harness {self.mc2[0]:.4f}  lm-eval {self.mc2[1]:.4f}  |diff| {abs(self.mc2[0] - self.mc2[1]):.4f}",
            f"same predicted choice: MC1 {self.same_mc1_pick:.2%}, MC2 {self.same_mc2_pick:.2%}",
        ]


class RecordingBackend:
    """Passes requests through to a backend and keeps every log-likelihood answer."""

    def __init__(self, inner: Backend):
        self.inner = inner
        self.identity = inner.identity
        self.answers: dict[LoglikelihoodRequest, float] = {}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        return self.inner.generate(requests)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        values = self.inner.loglikelihood(requests)
        self.answers.update(zip(requests, values))
        return values


def truthfulqa_mc_suite(suite_path: str | Path, limit: int | None = None, rows: Iterable[int] | None = None):
    """``suites/truthfulqa.yaml`` with only its MC cases: the first ``limit`` questions, or those of ``rows``."""
    suite = load_suite(suite_path)
    if suite.skip_reason:
        raise RuntimeError(f"{suite_path}: {suite.skip_reason}")
    cases = [c for c in suite.cases if "mc" in c.tags]
    if rows is not None:
        wanted = set(rows)
        cases = [c for c in cases if case_row(c.id) in wanted]
    suite.cases = cases[:limit]
    return suite


def case_row(case_id: str) -> int:
    """'tqa-007-mc' → 7, the question's row in TruthfulQA.csv."""
    return int(re.match(r"tqa-(\d+)-mc$", case_id).group(1))


def cheapest_rows(suite, n: int) -> list[int]:
    """The ``n`` questions with the fewest MC1 + MC2 choices (fewest forward passes for lm-eval)."""
    sizes = sorted(
        (sum(len(check.params.choices) for check in suite.checks_for(case)), case_row(case.id)) for case in suite.cases
    )
    return sorted(row for _, row in sizes[:n])


def doc_indices(rows: Iterable[int]) -> list[int]:
    """Positions of evaluation-split rows (odd) among the offline tasks' documents, for lm-eval's ``samples``."""
    return sorted((row - 1) // 2 for row in rows)


def harness_scores(suite, backend: Backend) -> MCScores:
    """Run the suite (its ``choice`` checks) and read each question's choice log-likelihoods."""
    recorder = RecordingBackend(backend)
    result = run_suites([suite], recorder).suites[suite.path]
    out = MCScores(mc1=result.metrics["mc1"], mc2=result.metrics["mc2"])
    for case in suite.cases:
        prompt = suite.render(case)
        out.lls[case_row(case.id)] = {
            check.params.mode: [recorder.answers[r] for r in check.spec.requests(prompt, check.params)]
            for check in suite.checks_for(case)
        }
    return out


def lm_eval_scores(results: dict) -> MCScores:
    """From an lm-eval results dict with samples (``simple_evaluate(..., log_samples=True)``)."""
    out = MCScores(
        mc1=results["results"][MC_TASKS[0]]["acc,none"], mc2=results["results"][MC_TASKS[1]]["acc,none"]
    )
    for task, mode in zip(MC_TASKS, ("mc1", "mc2")):
        for sample in results["samples"][task]:
            out.lls.setdefault(sample["doc"]["row"], {})[mode] = sample_lls(sample)
    return out


def sample_lls(sample: dict[str, Any]) -> list[float]:
    """The choice log-likelihoods of one lm-eval sample record (in memory or from samples_*.jsonl)."""
    return [float(resp[0]) for resp in sample["filtered_resps"]]


def compare(harness: MCScores, lm_eval: MCScores) -> Agreement:
    rows = sorted(set(harness.lls) & set(lm_eval.lls))
    if not rows:
        raise ValueError("the two runs share no question")

    def same_pick(mode: str) -> float:
        return sum(_argmax(harness.lls[r][mode]) == _argmax(lm_eval.lls[r][mode]) for r in rows) / len(rows)

    return Agreement(
        len(rows), (harness.mc1, lm_eval.mc1), (harness.mc2, lm_eval.mc2), same_pick("mc1"), same_pick("mc2")
    )


def _argmax(values: Iterable[float]) -> int:
    values = list(values)
    return max(range(len(values)), key=values.__getitem__)  # first of equals, as numpy's argmax
