"""Surface checks on the generated text: substrings, regular expressions, length.

Each check scores ``inp.output`` (a missing output is scored as the empty string)
and explains its verdict in one line a reviewer can act on.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from harness.scorer_api import Params, Score, ScoreInput, clamp01, scorer


def _quote(items: list[str], limit: int = 4) -> str:
    """'a', 'b', 'c' (+2 more) — keeps explanations to one short line."""
    shown = ", ".join(repr(s) for s in items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _no_blank(items: list[str], field: str) -> list[str]:
    # An empty string occurs in every text, so it would make the check meaningless.
    if any(s == "" for s in items):
        raise ValueError(f"'{field}' has an empty string, which matches any output; remove it")
    return items


_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")
_NUMERIC_NEEDLE = re.compile(r"^[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)$")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _numbers_in(text: str) -> list[float]:
    # "1,000" is one number; a trailing sentence period is not a decimal point.
    return [_number(m.group(0).rstrip(",")) for m in _NUMBER.finditer(text) if m.group(0).rstrip(",")]


def _word_pattern(needle: str, case_sensitive: bool) -> re.Pattern[str]:
    """``needle`` as a whole word or phrase; ``stem*`` matches any word starting with ``stem``."""
    prefix = needle.endswith("*")
    core = needle[:-1] if prefix else needle
    start = r"(?<!\w)" if core[:1].isalnum() else ""
    end = "" if prefix or not core[-1:].isalnum() else r"(?!\w)"
    return re.compile(start + re.escape(core) + end, 0 if case_sensitive else re.IGNORECASE)


def _found(text: str, needles: list[str], case_sensitive: bool, tolerance: float = 0.0) -> list[bool]:
    """Whether each needle occurs in ``text``: words and phrases on word boundaries ("no" is not in
    "know"), numbers as numbers ("12" is not in "120"; "1,000" is "1000"), within ``tolerance``
    (relative) when one is given."""
    numbers = None
    hits = []
    for needle in needles:
        if _NUMERIC_NEEDLE.match(needle):
            numbers = _numbers_in(text) if numbers is None else numbers
            want = _number(needle)
            hits.append(any(abs(n - want) <= tolerance * max(abs(want), 1e-12) for n in numbers))
        else:
            hits.append(_word_pattern(needle, case_sensitive).search(text) is not None)
    return hits


class ContainsParams(Params):
    any: list[str] = []
    all: list[str] = []
    case_sensitive: bool = False
    tolerance: float = Field(0.0, ge=0.0, le=1.0)  # relative, for numeric needles ("1.8" with 0.01)

    @field_validator("any", "all")
    @classmethod
    def _not_blank(cls, items: list[str], info) -> list[str]:
        return _no_blank(items, info.field_name)

    @model_validator(mode="after")
    def _something_to_find(self) -> ContainsParams:
        if not self.any and not self.all:
            raise ValueError("give 'any' (one of these must occur) and/or 'all' (every one must occur), "
                             "e.g. contains: {any: [Paris]}")
        return self


@scorer("contains", params=ContainsParams)
def contains(inp: ScoreInput, p: ContainsParams) -> Score:
    """Passes if at least one string of ``any`` occurs and every string of ``all`` occurs.

    Strings match as whole words or phrases ("no" is not found in "know"; ``stem*`` matches
    any word starting with ``stem``); numbers match as numbers ("12" is not in "120", "1,000"
    is 1000), within the relative ``tolerance`` if one is given.

    value = fraction of the requirements met, counting "one of ``any``" as one
    requirement and each item of ``all`` as one more.
    """
    text = inp.output or ""
    met, total, problems, found_any = 0, 0, [], []
    if p.any:
        hits = _found(text, p.any, p.case_sensitive, p.tolerance)
        found_any = [s for s, hit in zip(p.any, hits) if hit]
        total += 1
        if found_any:
            met += 1
        else:
            problems.append(f"none of {_quote(p.any)} found")
    if p.all:
        hits = _found(text, p.all, p.case_sensitive, p.tolerance)
        missing = [s for s, hit in zip(p.all, hits) if not hit]
        total += len(p.all)
        met += len(p.all) - len(missing)
        if missing:
            problems.append(f"missing {_quote(missing)} of 'all'")
    if problems:
        return Score(met / total, False, "; ".join(problems))
    parts = []
    if found_any:
        parts.append(f"found {_quote(found_any, 2)}")
    if p.all:
        parts.append(f"all {len(p.all)} required strings present")
    return Score(1.0, True, "; ".join(parts))


class NotContainsParams(Params):
    any: list[str] = Field(min_length=1)
    case_sensitive: bool = False

    @field_validator("any")
    @classmethod
    def _not_blank(cls, items: list[str]) -> list[str]:
        return _no_blank(items, "any")


@scorer("not_contains", params=NotContainsParams)
def not_contains(inp: ScoreInput, p: NotContainsParams) -> Score:
    """Passes if none of the ``any`` strings occur; value = fraction of them absent."""
    hits = _found(inp.output or "", p.any, p.case_sensitive)
    found = [s for s, hit in zip(p.any, hits) if hit]
    if found:
        return Score(1 - len(found) / len(p.any), False, f"found forbidden {_quote(found)}")
    return Score(1.0, True, f"none of {_quote(p.any)} found")


class RegexParams(Params):
    pattern: str = Field(min_length=1)
    must_match: bool = True
    ignore_case: bool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"pattern {pattern!r} is not a valid Python regular expression ({exc}); "
                r"escape literal characters such as ( ) [ ] . ? * + with a backslash, e.g. '\(' "
                "and write the pattern in single quotes in YAML so backslashes are kept"
            ) from None
        return pattern


def _snippet(s: str, limit: int = 40) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


@scorer("regex", params=RegexParams)
def regex(inp: ScoreInput, p: RegexParams) -> Score:
    """``re.search`` of ``pattern`` anywhere in the output; passes if found (or, with
    ``must_match: false``, if not found)."""
    flags = re.IGNORECASE if p.ignore_case else 0
    m = re.search(p.pattern, inp.output or "", flags)
    if m is not None:
        what = f"matched {_snippet(m.group(0))!r} at character {m.start()}"
        return Score(1.0, True, what) if p.must_match else Score(0.0, False, f"{what}, which must not match")
    what = f"no match for /{p.pattern}/"
    return Score(0.0, False, what) if p.must_match else Score(1.0, True, what + ", as required")


# Words are runs of letters/digits, with inner apostrophes or hyphens ("don't",
# "well-known"); markdown bullets, dashes and stray punctuation do not count.
_WORD = re.compile(r"\w+(?:['’-]\w+)*")


def count_words(text: str) -> int:
    """Number of words in ``text``.

    >>> count_words("It's a well-known fact — 42 is the answer.")
    8
    """
    return len(_WORD.findall(text))


class LengthParams(Params):
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> LengthParams:
        if self.min_words is None and self.max_words is None:
            raise ValueError("give 'min_words' and/or 'max_words', e.g. length: {max_words: 30}")
        if self.min_words is not None and self.max_words is not None and self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) is larger than max_words ({self.max_words}); swap them")
        return self


@scorer("length", params=LengthParams)
def length(inp: ScoreInput, p: LengthParams) -> Score:
    """Word count within [min_words, max_words].

    value is 1 inside the range; outside it is ratio², where ratio = words/min_words
    when too short and max_words/words when too long — so twice the allowed length
    scores 0.25 and half the required length also scores 0.25.
    """
    n = count_words(inp.output or "")
    if p.min_words is not None and n < p.min_words:
        value = clamp01((n / p.min_words) ** 2)
        return Score(value, False, f"{n} words, fewer than min_words {p.min_words}")
    if p.max_words is not None and n > p.max_words:
        value = clamp01((p.max_words / n) ** 2)
        return Score(value, False, f"{n} words, more than max_words {p.max_words}")
    lo = "" if p.min_words is None else f"{p.min_words} <= "
    hi = "" if p.max_words is None else f" <= {p.max_words}"
    return Score(1.0, True, f"{n} words ({lo}words{hi})")
