"""What an exported task's ``utils.py`` calls while lm-eval runs it.

An exported document is one harness case: the model input text (already rendered), the
original prompt, the checks as JSON and the tags. lm-eval produces the model's answer
(generated text, or one log-likelihood per continuation); :func:`process_results` hands it
to the harness's own scorers and returns the same per-case metrics the harness computes
(``harness.metrics.case_metrics``), plus ``metric@tag`` for the suite's tagged thresholds.
lm-eval then averages each metric over the documents that report it, as the harness does.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from harness.backend import Prompt
from harness.metrics import case_metrics
from harness.results import CaseResult, CheckResult
from harness.runner import describe_check, score_check
from harness.schema import Check
from harness.scorers import ScoreInput

SPLIT = "test"  # the one split an exported task has


def read_docs(path: str | Path) -> list[dict[str, Any]]:
    """The documents of an exported data file (JSON lines)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_docs(path: str | Path) -> dict[str, Any]:
    """``custom_dataset`` for lm-eval: ``{"test": datasets.Dataset}``."""
    import datasets

    return {SPLIT: datasets.Dataset.from_list(read_docs(path))}


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["text"]


def doc_to_choice(doc: dict[str, Any]) -> list[str]:
    """Every continuation the case's checks score, in check order (delimiters included)."""
    return list(doc["continuations"])


def doc_to_target(doc: dict[str, Any]) -> int | str:
    # Only shown in lm-eval's sample logs; scoring never looks at it.
    return 0 if doc["kind"] == "loglikelihood" else ""


def prompt_from_json(value: Any) -> Prompt:
    """The harness prompt stored in a document: text, or [[role, content], ...]."""
    if isinstance(value, str):
        return value
    return tuple((str(role), str(content)) for role, content in value)


@functools.lru_cache(maxsize=4096)
def checks_from_json(text: str) -> tuple[Check, ...]:
    """Checks as the suite file wrote them (``[{name: params}]``), validated again."""
    return tuple(Check.model_validate(raw) for raw in json.loads(text))


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    """lm-eval's per-document hook: the harness's scores of this case as metrics."""
    checks = checks_from_json(doc["checks"])
    prompt = prompt_from_json(json.loads(doc["prompt"]))
    tags = tuple(doc["tags"])
    if doc["kind"] == "generate":
        # The HF backend strips completions; lm-eval returns them as decoded.
        output: str | None = str(results[0]).strip()
        per_check: list[list[float]] = [[] for _ in checks]
    else:
        output = None
        per_check = _split_loglikelihoods(checks, prompt, [float(r[0]) for r in results])
    scored = [
        CheckResult(describe_check(check), score_check(check, ScoreInput(prompt, output, lls, tags)))
        for check, lls in zip(checks, per_check)
    ]
    case = CaseResult(doc["id"], doc["line"], prompt, output, scored, tags, bool(doc["critical"]))
    metrics = case_metrics(case)
    for key in doc["tagged"]:  # "metric@tag" of tagged thresholds whose tag this case has
        metric = key.rsplit("@", 1)[0]
        if metric in metrics:
            metrics[key] = metrics[metric]
    return metrics


def _split_loglikelihoods(checks: tuple[Check, ...], prompt: Prompt, lls: list[float]) -> list[list[float]]:
    """One slice of the flat answer list per check, in the order the exporter listed requests."""
    out, start = [], 0
    for check in checks:
        n = len(check.spec.requests(prompt, check.params)) if check.spec.requests else 0
        out.append(lls[start : start + n])
        start += n
    if start != len(lls):
        raise ValueError(f"case {prompt!r}: expected {start} log-likelihoods from lm-eval, got {len(lls)}")
    return out
