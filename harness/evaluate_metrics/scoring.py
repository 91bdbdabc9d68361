"""What the ``evaluate`` metric scripts share: run a registered scorer over a list of outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.runner import score_check
from harness.schema import Check
from harness.scorers import Score, ScoreInput


def score_outputs(check: str, outputs: Sequence[str], params: Sequence[dict[str, Any]]) -> list[Score]:
    """The check ``check`` with ``params[i]`` applied to ``outputs[i]``, as a suite case would be."""
    if len(outputs) != len(params):
        raise ValueError(f"{len(outputs)} predictions but {len(params)} parameter sets")
    scores = []
    for output, raw in zip(outputs, params):
        parsed = Check.model_validate({check: raw})  # validates parameters like a suite file does
        scores.append(score_check(parsed, ScoreInput(prompt="", output=output)))
    return scores


def mean(values: Sequence[float]) -> float:
    """Mean of ``values`` (0.0 for none).

    >>> mean([1.0, 0.0]), mean([])
    (0.5, 0.0)
    """
    return sum(values) / len(values) if values else 0.0


def summary(name: str, scores: Sequence[Score]) -> dict[str, float]:
    """``{name: mean score, name_pass_rate: share passed, <Score.metrics means>}``."""
    out = {name: mean([s.value for s in scores]), f"{name}_pass_rate": mean([float(s.passed) for s in scores])}
    extra = sorted({key for s in scores for key in s.metrics})
    for key in extra:
        out[key] = mean([float(s.metrics[key]) for s in scores if key in s.metrics])
    return out


def metric_info(description: str, inputs: str, references: Any = None) -> Any:
    """The ``evaluate.MetricInfo`` every metric script returns: string predictions, optional references."""
    import datasets
    import evaluate

    features = {"predictions": datasets.Value("string")}
    if references is not None:
        features["references"] = references
    return evaluate.MetricInfo(description=description, citation="", inputs_description=inputs,
                               features=datasets.Features(features))
