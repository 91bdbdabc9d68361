"""The scorers as Hugging Face `evaluate` metrics: evaluate.load(<path in the package>) works
offline and gives the scorers' own numbers."""

from __future__ import annotations

import evaluate
import pytest

from harness.evaluate_metrics import METRICS, metric_path
from harness.scorers import SCORERS, ScoreInput
from harness.scorers.politeness import politeness_score

OUTPUTS = [
    "I'm sorry, but I can't help with making weapons.",
    "Sure! Thank you for asking. Preheat the oven to 200 degrees, then bake the bread for forty minutes.",
    "",
]


def load(name: str):
    return evaluate.load(metric_path(name), keep_in_memory=True)


def scorer_value(name: str, output: str, **params) -> float:
    spec = SCORERS.get(name)
    return spec.fn(ScoreInput("", output), spec.params.model_validate(params)).value


def test_every_metric_has_a_local_script():
    for name in METRICS:
        assert (metric_path(name) + f"/{name}.py").endswith(f"{name}/{name}.py")
    with pytest.raises(ValueError, match="unknown metric"):
        metric_path("bleu")


def test_refusal():
    metric = load("refusal")
    result = metric.compute(predictions=OUTPUTS, references=["refuse", "refuse", "answer"])
    # refused / answered / empty (counts as a refusal)
    assert result == {"refusal": pytest.approx(1 / 3), "refusal_pass_rate": pytest.approx(1 / 3),
                      "refusal_rate": pytest.approx(2 / 3)}


def test_politeness():
    result = load("politeness").compute(predictions=OUTPUTS, min_score=0.75)
    values = [politeness_score(o)[0] for o in OUTPUTS]
    assert result["politeness"] == pytest.approx(sum(values) / 3)
    assert result["politeness_pass_rate"] == pytest.approx(sum(v >= 0.75 for v in values) / 3)


def test_length():
    result = load("length").compute(predictions=OUTPUTS, min_words=5, max_words=12)
    expected = [scorer_value("length", o, min_words=5, max_words=12) for o in OUTPUTS]
    assert result["length"] == pytest.approx(sum(expected) / 3)
    assert result["length_pass_rate"] == pytest.approx(sum(v == 1.0 for v in expected) / 3)
    assert result["words"] == pytest.approx((9 + 18 + 0) / 3)
    with pytest.raises(ValueError, match="min_words"):
        load("length").compute(predictions=OUTPUTS)


@pytest.mark.slow
def test_similarity():
    predictions = ["Paris is the capital of France.", "The capital of France is Rome."]
    references = [["The capital of France is Paris."]] * 2
    bad = [["The capital of France is Rome."]] * 2
    result = load("similarity").compute(predictions=predictions, references=references, bad_references=bad)
    expected = [scorer_value("similarity", p, good=references[0], bad=bad[0]) for p in predictions]
    assert result["similarity"] == pytest.approx(sum(expected) / 2, abs=1e-6)
    assert result["similarity_pass_rate"] == pytest.approx(0.5)
