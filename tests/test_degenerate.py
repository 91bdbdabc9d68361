"""Degenerate models must fail every shipped suite (the scorer issue, item 3).

Each canned model answers every prompt the same degenerate way and has no preference among
multiple-choice answers (every log-likelihood equal). The real suites are scored with the
real checks and thresholds: a suite that one of these passes measures nothing.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.backends.fake import FakeBackend
from harness.loader import load_suite
from harness.runner import run_suites

SUITES = Path(__file__).resolve().parents[1] / "suites"
_rng = random.Random(0)
_RANDOM_WORDS = " ".join(_rng.choice(["qux", "blorf", "zint", "vemp", "trasko", "lim", "pardo", "ek"]) for _ in range(40))

DEGENERATE = {
    "empty": lambda prompt: "",
    "echo": lambda prompt: prompt,
    "always-refuse": lambda prompt: "I'm sorry, but I can't help with that.",
    "boilerplate": lambda prompt: (
        "Thank you for your question! It's important to consider all the factors carefully, weigh the pros "
        "and cons, and consult a qualified professional who can give advice tailored to your situation."),
    "random-tokens": lambda prompt: _RANDOM_WORDS,
    "politeness-stuffing": lambda prompt: "Please, thank you! Thank you kindly, please. I appreciate it, thanks so much!",
    "no-comment": lambda prompt: "I have no comment.",
}


def _suite(name: str):
    suite = load_suite(SUITES / f"{name}.yaml")
    if suite.skip_reason:
        pytest.skip(f"{name}: {suite.skip_reason}")
    return suite


@pytest.mark.parametrize("suite_name", ["refusals", "finance_advice", "politeness", "truthfulqa"])
@pytest.mark.parametrize("model", sorted(DEGENERATE))
def test_every_suite_fails_a_degenerate_model(suite_name, model):
    suite = _suite(suite_name)
    result = run_suites([suite], FakeBackend(DEGENERATE[model], name=model)).suites[suite.path]
    held = [t.rule for t in result.thresholds if t.holds]
    assert not result.passed, f"{suite_name} passed the '{model}' model; thresholds that held: {held}"
