"""Log-likelihood scorers: which continuation does the model find most probable?

``choice`` is multiple choice the way lm-eval scores it (TruthfulQA MC1/MC2, MMLU-style
accuracy); ``preference`` compares a chosen and a rejected answer, the quantity DPO
training pushes apart. Neither generates text, so both are deterministic and cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from harness.backend import LoglikelihoodRequest, Prompt
from harness.scorer_api import Params, Score, ScoreInput, scorer


def continuation_delimiter(prompt: Prompt, delimiter: str | None) -> str:
    """What goes between the context and an answer (lm-eval's ``target_delimiter``).

    Raw text ends in something like ``"A:"``, so answers start with a space; a chat
    prompt ends with the assistant turn opened, where the answer starts immediately.
    """
    if delimiter is not None:
        return delimiter
    return " " if isinstance(prompt, str) else ""


def logsumexp(values: Sequence[float]) -> float:
    """log(sum(exp(v))) without underflow; -inf for no mass at all."""
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def _short(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _checked(lls: Sequence[float], expected: int, name: str) -> list[float]:
    if len(lls) != expected:
        raise ValueError(f"'{name}' expected {expected} log-likelihoods, got {len(lls)}")
    if any(math.isnan(v) or v == math.inf for v in lls):
        raise ValueError(f"'{name}' got an invalid log-likelihood in {list(lls)}")
    return list(lls)


# ---------------------------------------------------------------------------- choice


class ChoiceParams(Params):
    choices: list[str] = Field(min_length=2)
    correct: list[int] = Field(min_length=1)  # indices into choices
    mode: Literal["mc1", "mc2"] = "mc1"
    delimiter: str | None = None

    @model_validator(mode="after")
    def _indices(self) -> ChoiceParams:
        n = len(self.choices)
        bad = [i for i in self.correct if not 0 <= i < n]
        if bad:
            raise ValueError(f"correct indices {bad} are out of range for {n} choices (0..{n - 1})")
        if len(set(self.correct)) != len(self.correct):
            raise ValueError(f"correct indices repeat: {self.correct}")
        if len(self.correct) == n:
            raise ValueError("every choice is marked correct, so the check cannot fail")
        return self


def choice_requests(prompt: Prompt, params: ChoiceParams) -> list[LoglikelihoodRequest]:
    sep = continuation_delimiter(prompt, params.delimiter)
    return [LoglikelihoodRequest(prompt, sep + c) for c in params.choices]


@scorer("choice", params=ChoiceParams, needs="loglikelihood", metrics=("mc1", "mc2"), requests=choice_requests)
def choice(inp: ScoreInput, params: ChoiceParams) -> Score:
    """Multiple choice by summed log-probability of each choice after the prompt.

    mc1: passes iff the most probable choice (first one on ties) is correct; value 1 or 0.
    mc2: value = probability mass on the correct choices, normalised over all choices
    (TruthfulQA's MC2); passes at >= 0.5.
    """
    lls = _checked(inp.loglikelihoods, len(params.choices), "choice")
    best = max(range(len(lls)), key=lls.__getitem__)
    right = max(params.correct, key=lls.__getitem__)  # the most probable correct choice
    picked = f"picked {_short(params.choices[best])} (logp {lls[best]:.2f})"
    if params.mode == "mc1":
        passed = best in params.correct
        if passed:
            return Score(1.0, True, picked + ", a correct choice", {"mc1": 1.0})
        wanted = f"correct {_short(params.choices[right])} (logp {lls[right]:.2f})"
        return Score(0.0, False, f"{picked}; {wanted}", {"mc1": 0.0})
    total = logsumexp(lls)
    if total == -math.inf:  # every choice impossible: no mass to share out
        return Score(0.0, False, "every choice has probability 0", {"mc2": 0.0})
    mass = math.exp(logsumexp([lls[i] for i in params.correct]) - total)
    mass = min(1.0, max(0.0, mass))  # rounding can leave it a hair outside [0, 1]
    explanation = (
        f"P(correct) {mass:.3f} over {len(params.correct)} of {len(lls)} choices; {picked}"
        + ("" if best in params.correct else f"; best correct {_short(params.choices[right])}")
    )
    return Score(mass, mass >= 0.5, explanation, {"mc2": mass})


# ---------------------------------------------------------------------------- preference


class PreferenceParams(Params):
    chosen: str = Field(min_length=1)
    rejected: str = Field(min_length=1)
    min_margin: float = 0.0
    delimiter: str | None = None


def preference_requests(prompt: Prompt, params: PreferenceParams) -> list[LoglikelihoodRequest]:
    sep = continuation_delimiter(prompt, params.delimiter)
    return [LoglikelihoodRequest(prompt, sep + params.chosen), LoglikelihoodRequest(prompt, sep + params.rejected)]


def _sigmoid(x: float) -> float:
    # Two branches so neither exp() can overflow.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@scorer(
    "preference",
    params=PreferenceParams,
    needs="loglikelihood",
    metrics=("preference_margin", "preference_accuracy"),
    requests=preference_requests,
)
def preference(inp: ScoreInput, params: PreferenceParams) -> Score:
    """The chosen answer is more probable than the rejected one.

    margin = logP(chosen) - logP(rejected); passes iff margin > min_margin;
    value = sigmoid(margin) (0.5 = no preference). Metrics: preference_margin, and
    preference_accuracy = 1 when margin > 0 (as in DPO training logs).
    """
    chosen, rejected = _checked(inp.loglikelihoods, 2, "preference")
    if chosen == rejected == -math.inf:
        margin = 0.0
    else:
        margin = chosen - rejected  # may be +-inf when one side is impossible
    passed = margin > params.min_margin
    accuracy = 1.0 if margin > 0 else 0.0  # DPO's reward accuracy, whatever min_margin is
    explanation = (
        f"logP(chosen) {chosen:.2f} - logP(rejected) {rejected:.2f} = margin {margin:+.2f}"
        + (f" (needs > {params.min_margin:g})" if params.min_margin else "")
        + f"; chosen {_short(params.chosen, 40)} vs rejected {_short(params.rejected, 40)}"
    )
    metrics = {"preference_margin": margin, "preference_accuracy": accuracy}
    return Score(_sigmoid(margin), passed, explanation, metrics)
