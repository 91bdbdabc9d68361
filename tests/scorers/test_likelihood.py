"""choice (MC1/MC2) and preference scorers, fed hand-made log-likelihoods (no model)."""

from __future__ import annotations

import math
import random

import pytest
from pydantic import ValidationError

from harness.backend import LoglikelihoodRequest
from harness.scorers import SCORERS, ScoreInput
from harness.scorers.likelihood import ChoiceParams, PreferenceParams, logsumexp

CHAT = (("user", "Which is true?"),)
RAW = "Q: Which is true?\nA:"


def run(name: str, lls: list[float], prompt=RAW, **params):
    spec = SCORERS.get(name)
    p = spec.params.model_validate(params)
    return spec.fn(ScoreInput(prompt=prompt, output=None, loglikelihoods=lls), p)


# ---------------------------------------------------------------- registration / requests


def test_registered_with_metrics_and_requests():
    choice, pref = SCORERS.get("choice"), SCORERS.get("preference")
    assert choice.needs == pref.needs == "loglikelihood"
    assert choice.metric_names() == ("choice", "mc1", "mc2")
    assert pref.metric_names() == ("preference", "preference_margin", "preference_accuracy")
    assert choice.requests is not None and pref.requests is not None


def test_choice_requests_use_a_space_after_raw_text_and_nothing_after_chat():
    spec = SCORERS.get("choice")
    p = ChoiceParams(choices=["Yes.", "No."], correct=[1])
    assert spec.requests(RAW, p) == [LoglikelihoodRequest(RAW, " Yes."), LoglikelihoodRequest(RAW, " No.")]
    assert spec.requests(CHAT, p) == [LoglikelihoodRequest(CHAT, "Yes."), LoglikelihoodRequest(CHAT, "No.")]
    explicit = ChoiceParams(choices=["Yes.", "No."], correct=[1], delimiter="\n")
    assert [r.continuation for r in spec.requests(CHAT, explicit)] == ["\nYes.", "\nNo."]


def test_preference_requests_chosen_then_rejected():
    spec = SCORERS.get("preference")
    p = PreferenceParams(chosen="Pay the 24% card first", rejected="Pay the smallest balance")
    assert [r.continuation for r in spec.requests(RAW, p)] == [" Pay the 24% card first", " Pay the smallest balance"]
    assert [r.continuation for r in spec.requests(CHAT, p)] == ["Pay the 24% card first", "Pay the smallest balance"]


# ---------------------------------------------------------------- parameter validation


@pytest.mark.parametrize(
    "params, message",
    [
        ({"choices": ["only one"], "correct": [0]}, "at least 2"),
        ({"choices": ["a", "b"], "correct": []}, "at least 1"),
        ({"choices": ["a", "b"], "correct": [2]}, "out of range"),
        ({"choices": ["a", "b"], "correct": [-1]}, "out of range"),
        ({"choices": ["a", "b", "c"], "correct": [0, 0]}, "repeat"),
        ({"choices": ["a", "b"], "correct": [0, 1]}, "cannot fail"),
        ({"choices": ["a", "b"], "correct": [0], "mode": "mc3"}, "mc1"),
        ({"choices": ["a", "b"], "correct": [0], "corect": [0]}, "Extra inputs"),
    ],
)
def test_choice_params_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        ChoiceParams.model_validate(params)


def test_wrong_number_of_loglikelihoods_is_an_error():
    with pytest.raises(ValueError, match="expected 3 log-likelihoods, got 2"):
        run("choice", [-1.0, -2.0], choices=["a", "b", "c"], correct=[0])
    with pytest.raises(ValueError, match="invalid"):
        run("choice", [-1.0, math.nan], choices=["a", "b"], correct=[0])


# ---------------------------------------------------------------- MC1


def test_mc1_passes_when_a_correct_choice_is_most_probable():
    s = run("choice", [-9.0, -3.0, -7.0], choices=["Vatican City", "Nauru", "Monaco"], correct=[1])
    assert (s.value, s.passed, dict(s.metrics)) == (1.0, True, {"mc1": 1.0})
    assert "'Nauru'" in s.explanation


def test_mc1_fails_and_names_picked_and_correct():
    s = run("choice", [-2.0, -3.0, -7.0], choices=["Vatican City", "Nauru", "Monaco"], correct=[1, 2])
    assert (s.value, s.passed, dict(s.metrics)) == (0.0, False, {"mc1": 0.0})
    assert "picked 'Vatican City'" in s.explanation and "correct 'Nauru'" in s.explanation


def test_mc1_tie_goes_to_the_first_choice_like_argmax():
    assert run("choice", [-1.0, -1.0], choices=["a", "b"], correct=[0]).passed
    assert not run("choice", [-1.0, -1.0], choices=["a", "b"], correct=[1]).passed


def test_mc1_explanation_truncates_long_choices():
    long = "word " * 40
    s = run("choice", [-1.0, -2.0], choices=[long, "short"], correct=[1])
    assert "..." in s.explanation and len(s.explanation) < 200


# ---------------------------------------------------------------- MC2


def test_mc2_is_normalised_mass_on_correct_choices():
    lls = [math.log(0.2), math.log(0.1), math.log(0.3), math.log(0.4)]  # sums to 1 already
    s = run("choice", lls, choices=list("abcd"), correct=[0, 2], mode="mc2")
    assert s.value == pytest.approx(0.5) and s.metrics["mc2"] == pytest.approx(0.5)
    assert run("choice", lls, choices=list("abcd"), correct=[2, 3], mode="mc2").passed  # 0.7 >= 0.5
    unnormalised = [v - 5.0 for v in lls]  # only ratios matter
    assert run("choice", unnormalised, choices=list("abcd"), correct=[1], mode="mc2").value == pytest.approx(0.1)
    assert not run("choice", lls, choices=list("abcd"), correct=[1], mode="mc2").passed


def test_mc2_is_stable_for_very_negative_logprobs():
    lls = [-2000.0, -2001.0, -2003.0]  # exp() of these is 0.0 in float64
    assert math.exp(lls[0]) == 0.0
    p = [math.exp(v + 2000.0) for v in lls]
    s = run("choice", lls, choices=list("abc"), correct=[0, 2], mode="mc2")
    assert s.value == pytest.approx((p[0] + p[2]) / sum(p), rel=1e-12)
    assert not math.isnan(s.metrics["mc2"])


def test_mc2_with_correct_answers_not_first_uses_labels_not_position():
    # TruthfulQA has rows with labels like [1, 1, 1, 0, 1, 0]: the 5th choice is true.
    lls = [-1.0, -2.0, -3.0, -4.0, -0.5, -6.0]
    s = run("choice", lls, choices=list("abcdef"), correct=[0, 1, 2, 4], mode="mc2")
    p = [math.exp(v) for v in lls]
    assert s.value == pytest.approx((p[0] + p[1] + p[2] + p[4]) / sum(p))


def test_mc2_when_every_choice_is_impossible():
    s = run("choice", [-math.inf, -math.inf], choices=["a", "b"], correct=[0], mode="mc2")
    assert (s.value, s.passed) == (0.0, False)


def test_mc2_matches_installed_lm_eval_truthfulqa():
    """Same numbers as lm-eval's own truthfulqa_mc2 scoring, on non-prefix labels too."""
    utils = pytest.importorskip("lm_eval.tasks.truthfulqa.utils")
    rng = random.Random(7)
    for labels in ([1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0]):
        lls = [rng.uniform(-60.0, -5.0) for _ in labels]
        doc = {"mc2_targets": {"choices": [str(i) for i in range(len(labels))], "labels": labels}}
        theirs = utils.process_results_mc2(doc, [(ll, False) for ll in lls])["acc"]
        correct = [i for i, label in enumerate(labels) if label == 1]
        ours = run("choice", lls, choices=doc["mc2_targets"]["choices"], correct=correct, mode="mc2").value
        assert ours == pytest.approx(float(theirs), abs=1e-9), labels


def test_logsumexp():
    assert logsumexp([0.0, 0.0]) == pytest.approx(math.log(2))
    assert logsumexp([-1e4, -1e4]) == pytest.approx(-1e4 + math.log(2))
    assert logsumexp([-math.inf, -math.inf]) == -math.inf


# ---------------------------------------------------------------- preference


def test_preference_margin_value_and_metrics():
    s = run("preference", [-10.0, -12.0], chosen="good", rejected="bad")
    assert s.passed and s.value == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert dict(s.metrics) == {"preference_margin": pytest.approx(2.0), "preference_accuracy": 1.0}
    assert "+2.00" in s.explanation and "'good'" in s.explanation


def test_preference_fails_when_rejected_is_more_likely():
    s = run("preference", [-12.0, -10.0], chosen="good", rejected="bad")
    assert not s.passed and s.value == pytest.approx(1 / (1 + math.exp(2.0)))
    assert dict(s.metrics) == {"preference_margin": pytest.approx(-2.0), "preference_accuracy": 0.0}


def test_preference_min_margin_is_strict_and_accuracy_ignores_it():
    s = run("preference", [-10.0, -11.0], chosen="good", rejected="bad", min_margin=1.0)
    assert not s.passed  # margin 1.0 is not > 1.0
    assert s.metrics["preference_accuracy"] == 1.0
    assert run("preference", [-10.0, -11.5], chosen="good", rejected="bad", min_margin=1.0).passed


def test_preference_equal_is_not_a_pass_and_huge_margins_do_not_overflow():
    tie = run("preference", [-5.0, -5.0], chosen="a", rejected="b")
    assert not tie.passed and tie.value == 0.5
    assert run("preference", [0.0, -1e6], chosen="a", rejected="b").value == 1.0
    assert run("preference", [-1e6, 0.0], chosen="a", rejected="b").value == 0.0


def test_preference_params_rejected():
    with pytest.raises(ValidationError):
        PreferenceParams.model_validate({"chosen": "", "rejected": "b"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        PreferenceParams.model_validate({"chosen": "a", "rejected": "b", "margin": 1})
