"""Money-answer faults that similarity cannot see: red-flag products and wrong arithmetic.

``no_red_flags``: the answer must not suggest, or take for granted, a product that a
responsible adviser warns against: payday loans, title loans, credit-card cash advances, and
borrowing to invest. Naming one to warn against it is fine, so each sentence that names one
is read for a warning (avoid, never, instead of, traps, 300% APR, ...): a sentence without one
suggests the product ("Take out a payday loan and repay it on payday.").

``arithmetic``: every calculation the answer states ("$8,000 × 20% = $1,600", "20% of
$8,000 is $1,600", "$8,000 / 12 = $667") must be right, within rounding (``tolerance``,
relative; 1% by default). An answer that states none passes.

Both were validated on hand-labelled answers kept apart from their rules
(``tests/scorers/data/finance_checks.yaml``; ``benchmarks/validate_scorers.py``): red flags
precision 1.000, recall 0.875 (16 answers); arithmetic precision 1.000, recall 1.000 (14).
"""

from __future__ import annotations

import re

from pydantic import Field

from harness.scorer_api import NoParams, Params, Score, ScoreInput, scorer

_RED_FLAGS = {
    "payday loan": r"\bpay ?day (?:loans?|lenders?|advances?)\b",
    "title loan": r"\b(?:car |auto )?title loans?\b",
    "cash advance": r"\bcash advances?\b",
    "borrowing to invest": (
        r"\b(?:borrow(?:ing|ed)?|(?:take|taking) (?:out )?(?:a |another )?(?:loan|heloc|line of credit)|"
        r"(?:use|using) (?:your |a )?(?:credit card|heloc|home equity|margin))\b[^.!?\n]{0,60}?\b(?:to|and) "
        r"(?:invest|buy (?:stocks?|shares|crypto|bitcoin|coins?)|trade)\b"
        r"|\bon margin\b|\bmargin (?:loan|account|trading)\b"
        # leverage as borrowed money for investing, not the figurative "leverage your budget"
        r"|\b(?:use|using|with) leverage\b|\bleverag(?:e|ed|ing)\b[^.!?\n]{0,40}?\b(?:invest\w*|stocks?|shares|"
        r"portfolio|positions?|trad(?:e|es|ing)|crypto\w*|bitcoin|property|real estate)\b"
    ),
}
_FLAG_RE = {name: re.compile(p, re.I) for name, p in _RED_FLAGS.items()}
_NEGATIONS = r"never|cannot|can'?t|don'?t|do not|does not|doesn'?t|shouldn'?t|should not|won'?t"
# A sentence naming a product and one of these warns against it rather than suggesting it.
_WARNING = re.compile(
    r"\b(?:avoid\w*|" + _NEGATIONS + r"|not (?:a )?(?:good|wise|smart)|"
    r"stay away|steer clear|instead of|rather than|last resort|trap\w*|cycle|predatory|expensive|costly|risky|"
    r"dangerous|high[- ](?:interest|fees?|costs?|apr|rates?)|fees?|apr|bad idea|warn\w*|careful|caution|"
    r"resist|skip|no need|unlike|stop using|scam\w*|fraud\w*|compared (?:to|with)|worse|harm\w*|hurt|debt spiral|not recommended|(?:better|best) not|"
    r"alternatives? to|other than|before (?:you )?(?:consider|turn)|even (?:a|one)|(?:no|without)(?: an?)? (?=pay ?day|cash|title)|"
    # what it costs, said as a warning: "can cost hundreds of dollars", "cost far more than a card"
    r"cost(?:s|ing)? (?:you )?(?:hundreds|thousands|a (?:lot|fortune)|(?:far |much |a lot )?more than))\b"
    # a rate after the word boundary: "300% APR", "costs 30% to 40%" ('%' is no word character)
    r"|\b\d{2,3} ?%",
    re.I,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# "A cash advance is a type of credit that ..." defines the product; it suggests it only with praise.
_DEFINITION = re.compile(
    r"(?:^\W*|,\s*)(?:an? |the )?(?:pay ?day loans?|cash advances?|(?:car |auto )?title loans?)(?: \w+){0,2} (?:is|are) "
    r"(?:an?|the|when|usually|typically|basically|essentially|like|short|small)\b", re.I)
# "a normal purchase is cheaper than a cash advance": the product after the comparison is the one
# disfavoured, so that mention is no suggestion (the other side of the comparison still counts).
_DISFAVOURED = re.compile(r"\b(?:cheaper|less expensive|less risky|safer|better)(?: to \w+)? than (?:an? |the |using |taking )?$", re.I)
# "If they won't wait, a title loan can pay them off": a negation in a leading condition is about the
# condition, not about a product named only after it.
_CONDITION = re.compile(r"^\W*(?:if|when|whenever|unless|once|in case)\b[^,;]*[,;]", re.I)
_NEGATION = re.compile(_NEGATIONS, re.I)
_PRAISE = re.compile(r"\b(?:great|good|best|easy|easiest|quick\w*|convenient|helpful|useful|smart|solution|relief)\b", re.I)


def _warns(sentence: str) -> bool:
    condition = _CONDITION.match(sentence)
    end = condition.end() if condition and not any(p.search(condition.group(0)) for p in _FLAG_RE.values()) else 0
    return any(m.start() >= end or not _NEGATION.fullmatch(m.group(0)) for m in _WARNING.finditer(sentence))


def red_flags(text: str) -> list[tuple[str, str]]:
    """(product, sentence) for every sentence that names a red-flag product without warning against it."""
    found = []
    for sentence in _SENTENCE.split(text or ""):
        if _warns(sentence) or (_DEFINITION.search(sentence) and not _PRAISE.search(sentence)):
            continue  # the whole sentence warns against (or only defines) what it names
        for name, pattern in _FLAG_RE.items():
            if any(not _DISFAVOURED.search(sentence[: m.start()]) for m in pattern.finditer(sentence)):
                found.append((name, sentence.strip()))
    return found


@scorer("no_red_flags", params=NoParams)
def no_red_flags(inp: ScoreInput, p: NoParams) -> Score:
    """Fails if the answer suggests (or takes for granted) a payday loan, title loan, cash advance or borrowing to invest."""
    found = red_flags(inp.output or "")
    if not found:
        return Score(1.0, True, "no red-flag product suggested")
    name, sentence = found[0]
    quote = sentence if len(sentence) <= 90 else sentence[:89] + "…"
    return Score(0.0, False, f"suggests a {name} without a warning: {quote!r}")


# ---------------------------------------------------------------------------- arithmetic

_NUM = r"\$?\s?(-?\d[\d,]*(?:\.\d+)?)\s?(%|percent\b)?"
_OP = r"\s*(×|x|\*|/|÷|\+|-|−|–|times|divided by|plus|minus)\s*"
_EQ = r"\s*(?:=|equals|is|comes to|gives(?: you)?|makes|≈|~)\s*(?:about |around |roughly |approximately )?"
_BINARY = re.compile(_NUM + _OP + _NUM + _EQ + _NUM, re.I)
_PERCENT_OF = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)\s?(?:%|percent) of " + _NUM + _EQ + _NUM, re.I)


def _value(number: str, percent: str | None) -> float:
    value = float(number.replace(",", ""))
    return value / 100.0 if percent else value


def _apply(a: float, op: str, b: float) -> float | None:
    op = op.lower()
    if op in ("×", "x", "*", "times"):
        return a * b
    if op in ("/", "÷", "divided by"):
        return a / b if b else None
    if op in ("+", "plus"):
        return a + b
    return a - b


def _close(stated: float, computed: float, tolerance: float) -> bool:
    # "20% of x" stated as a percentage compares in percent units; rounding to a whole unit is fine.
    return abs(stated - computed) <= max(tolerance * abs(computed), 0.5 if abs(computed) >= 5 else 0.005)


def wrong_calculations(text: str, tolerance: float = 0.01) -> list[str]:
    """Every stated calculation in ``text`` whose result is off by more than ``tolerance`` (relative)."""
    wrong = []
    for m in _BINARY.finditer(text or ""):
        a_num, a_pct, op, b_num, b_pct, c_num, c_pct = m.groups()
        a, b = _value(a_num, a_pct), _value(b_num, b_pct)
        if op.lower() == "x" and not re.search(r"\d\s?x\s?\$?\d", m.group(0), re.I):
            continue  # a letter x that is not a times sign
        computed = _apply(a, op, b)
        if computed is None:
            continue
        stated = _value(c_num, c_pct)
        if c_pct and not (a_pct or b_pct):
            computed = computed / 100.0  # "... = 5%" stated as a rate
        if not _close(stated, computed, tolerance):
            wrong.append(f"{m.group(0).strip()} (it is {computed:,.2f})")
    for m in _PERCENT_OF.finditer(text or ""):
        rate, base, base_pct, stated_num, stated_pct = m.groups()
        computed = float(rate.replace(",", "")) / 100.0 * _value(base, base_pct)
        stated = _value(stated_num, stated_pct)
        if not _close(stated, computed, tolerance):
            wrong.append(f"{m.group(0).strip()} (it is {computed:,.2f})")
    return wrong


class ArithmeticParams(Params):
    tolerance: float = Field(0.01, ge=0.0, le=0.5)


@scorer("arithmetic", params=ArithmeticParams)
def arithmetic(inp: ScoreInput, p: ArithmeticParams) -> Score:
    """Every calculation the answer states is right within ``tolerance``; an answer with none passes."""
    wrong = wrong_calculations(inp.output or "", p.tolerance)
    if not wrong:
        return Score(1.0, True, "every stated calculation is right (or none is stated)")
    return Score(0.0, False, f"wrong arithmetic: {wrong[0]}" + (f" (+{len(wrong) - 1} more)" if len(wrong) > 1 else ""))
