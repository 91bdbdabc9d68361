"""The surface text checks: contains, not_contains, regex, length."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.scorers import SCORERS, ScoreInput
from harness.scorers.text import ContainsParams, LengthParams, NotContainsParams, RegexParams, count_words


def run(name: str, output: str | None, **params):
    spec = SCORERS.get(name)
    return spec.fn(ScoreInput(prompt="p", output=output), spec.params.model_validate(params))


@pytest.mark.parametrize("name", ["contains", "not_contains", "regex", "length"])
def test_registered_as_output_checks(name):
    spec = SCORERS.get(name)
    assert spec.needs == "output"
    assert spec.metric_names() == (name,)
    assert spec.doc  # the docstring is what `list-checks` style help shows


# --- contains -----------------------------------------------------------------------

def test_contains_any_passes_on_one_hit_case_insensitively():
    s = run("contains", "The capital is PARIS.", any=["paris", "lyon"])
    assert s.passed and s.value == 1.0
    assert "'paris'" in s.explanation


def test_contains_any_fails_and_names_the_options():
    s = run("contains", "The capital is Rome.", any=["paris", "lyon"])
    assert not s.passed and s.value == 0.0
    assert "none of 'paris', 'lyon'" in s.explanation


def test_contains_all_value_is_fraction_met_and_names_missing():
    s = run("contains", "eggs and flour", all=["eggs", "flour", "sugar", "milk"])
    assert not s.passed
    assert s.value == pytest.approx(0.5)
    assert "'sugar'" in s.explanation and "'milk'" in s.explanation and "'eggs'" not in s.explanation


def test_contains_any_and_all_together_count_any_as_one_requirement():
    s = run("contains", "bake at 180 degrees", any=["celsius", "fahrenheit"], all=["180", "bake"])
    assert not s.passed
    assert s.value == pytest.approx(2 / 3)
    ok = run("contains", "bake at 180 celsius", any=["celsius", "fahrenheit"], all=["180", "bake"])
    assert ok.passed and ok.value == 1.0


def test_contains_case_sensitive():
    assert not run("contains", "paris", any=["Paris"], case_sensitive=True).passed
    assert run("contains", "Paris", any=["Paris"], case_sensitive=True).passed


def test_contains_missing_output_is_empty_text():
    assert not run("contains", None, any=["x"]).passed


@pytest.mark.parametrize("params, fragment", [
    ({}, "give 'any'"),
    ({"any": [], "all": []}, "give 'any'"),
    ({"any": ["ok", ""]}, "empty string"),
    ({"anyy": ["x"]}, "anyy"),
    ({"any": "paris"}, "list"),
])
def test_contains_param_errors(params, fragment):
    with pytest.raises(ValidationError) as err:
        ContainsParams.model_validate(params)
    assert fragment in str(err.value)


# --- not_contains -------------------------------------------------------------------

def test_not_contains_passes_when_absent():
    s = run("not_contains", "A friendly answer.", any=["idiot", "shut up"])
    assert s.passed and s.value == 1.0


def test_not_contains_names_what_was_found():
    s = run("not_contains", "As an AI language model, I think...", any=["as an ai", "OpenAI", "language model"])
    assert not s.passed
    assert s.value == pytest.approx(1 / 3)
    assert "'as an ai'" in s.explanation and "'language model'" in s.explanation and "OpenAI" not in s.explanation


def test_not_contains_case_sensitive():
    assert run("not_contains", "openai", any=["OpenAI"], case_sensitive=True).passed


@pytest.mark.parametrize("params", [{}, {"any": []}, {"any": [""]}])
def test_not_contains_param_errors(params):
    with pytest.raises(ValidationError):
        NotContainsParams.model_validate(params)


# --- regex --------------------------------------------------------------------------

def test_regex_match_passes_and_quotes_the_match():
    s = run("regex", "Total: 42 items", pattern=r"\d+ items")
    assert s.passed and "'42 items'" in s.explanation


def test_regex_no_match_fails():
    s = run("regex", "no numbers here", pattern=r"\d+")
    assert not s.passed and s.value == 0.0 and "no match" in s.explanation


def test_regex_ignore_case_default_and_off():
    assert run("regex", "HELLO", pattern="hello").passed
    assert not run("regex", "HELLO", pattern="hello", ignore_case=False).passed


def test_regex_must_not_match():
    assert run("regex", "plain text", pattern=r"```", must_match=False).passed
    s = run("regex", "```code```", pattern=r"```", must_match=False)
    assert not s.passed and "must not match" in s.explanation


def test_regex_bad_pattern_says_how_to_fix():
    with pytest.raises(ValidationError) as err:
        RegexParams.model_validate({"pattern": "price (USD"})
    msg = str(err.value)
    assert "not a valid" in msg and "backslash" in msg


def test_regex_requires_pattern():
    with pytest.raises(ValidationError):
        RegexParams.model_validate({"must_match": True})


# --- length -------------------------------------------------------------------------

def test_count_words_ignores_markdown_and_punctuation():
    assert count_words("- It's a well-known fact — 42 is **the** answer.") == 8
    assert count_words("") == 0


def test_length_within_bounds_passes():
    s = run("length", "one two three four", min_words=2, max_words=5)
    assert s.passed and s.value == 1.0 and "4 words" in s.explanation


def test_length_too_long_decays_smoothly():
    values = [run("length", " ".join(["w"] * n), max_words=10).value for n in (10, 11, 15, 20, 40)]
    assert values[0] == 1.0
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert values[1] > 0.8  # one word over is a small miss
    assert values[3] == pytest.approx(0.25)
    s = run("length", " ".join(["w"] * 20), max_words=10)
    assert not s.passed and "20 words, more than max_words 10" == s.explanation


def test_length_too_short_decays_and_explains():
    s = run("length", "Yes.", min_words=20)
    assert not s.passed and 0 < s.value < 0.01
    assert "fewer than min_words 20" in s.explanation
    assert run("length", "", min_words=5).value == 0.0


def test_length_max_zero_with_output():
    assert run("length", "something", max_words=0).value == 0.0


@pytest.mark.parametrize("params, fragment", [
    ({}, "min_words"),
    ({"min_words": 10, "max_words": 5}, "swap"),
    ({"max_words": -1}, "greater than or equal"),
])
def test_length_param_errors(params, fragment):
    with pytest.raises(ValidationError) as err:
        LengthParams.model_validate(params)
    assert fragment in str(err.value)


@pytest.mark.parametrize(("output", "needles", "extra", "found"), [
    ("The answer is 120.", ["12"], {}, False),           # a number is not part of a longer number
    ("The answer is 12.", ["12"], {}, True),             # the sentence's period is not a decimal point
    ("It costs 1,000 dollars.", ["1000"], {}, True),    # thousands separators
    ("I know the way.", ["no"], {}, False),             # words on boundaries
    ("No, it is not.", ["no"], {}, True),
    ("Multiply by 1.79 and add 32.", ["1.8"], {"tolerance": 0.01}, True),  # |1.79 - 1.8| = 0.01 <= 0.01 * 1.8
    ("Multiply by 1.7 and add 32.", ["1.8"], {"tolerance": 0.01}, False),  # 0.1 > 0.018
    ("We apologise for the delay.", ["apologi*"], {}, True),               # a stem
    ("A prudent plan.", ["rude"], {}, False),
])
def test_contains_matches_words_and_numbers(output, needles, extra, found):
    spec = SCORERS.get("contains")
    score = spec.fn(ScoreInput(prompt="p", output=output), spec.params.model_validate({"any": needles, **extra}))
    assert score.passed is found, score.explanation
