"""The generated money rows are what their generator says, and the preference pairs point the right way.

Every figure is recomputed here by hand from the question's own numbers (not with the finance
scorer under test): the chosen answers state no computed figure, each rejected one states a wrong
one, and each red-flag pair rejects a suggestion of the product its chosen answer warns against.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "training" / "data"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def _generator():
    spec = importlib.util.spec_from_file_location("make_finance_calc", DATA / "make_finance_calc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_files_are_the_generators_output():
    made = _generator().rows()
    assert [r["prompt"] for r in _rows("finance_calc_sft.jsonl")] == [q for q, _, _ in made]
    assert [r["response"] for r in _rows("finance_calc_sft.jsonl")] == [good for _, good, _ in made]
    assert [r["chosen"] for r in _rows("finance_calc_pref.jsonl")] == [good for _, good, _ in made]
    assert len(made) == 40


def test_chosen_answers_state_no_equation_and_rejected_ones_state_a_wrong_one():
    for row in _rows("finance_calc_pref.jsonl"):
        assert "=" not in row["chosen"] and "×" not in row["chosen"], row["chosen"]
        m = re.search(r"\$?([\d,]+)%? (×|-|/) \$?([\d,]+)(%?) = \$?([\d,]+)", row["rejected"])
        if m:
            a, op, b, pct, stated = m.groups()
        else:  # "10% of $4,000 is $500"
            rate, a, stated = re.search(r"([\d,]+)% of \$([\d,]+) is \$([\d,]+)", row["rejected"]).groups()
            op, b, pct = "×", rate, "%"
        a, b, stated = (float(x.replace(",", "")) for x in (a, b, stated))
        b = b / 100 if pct else b
        true = {"×": a * b, "-": a - b, "/": a / b}[op]
        assert abs(stated - true) > 1, row["rejected"]


def test_a_hand_checked_pair():
    # $10,000 at 22% for a year is $2,200; the rejected answer says $6,600
    row = next(r for r in _rows("finance_calc_pref.jsonl") if "22% interest on a $10,000" in r["prompt"])
    assert "$6,600" in row["rejected"] and "$10,000" in row["chosen"] and "22 cents" in row["chosen"]


def test_red_flag_pairs_reject_the_product_the_chosen_answer_warns_against():
    products = r"cash advance|payday|title loan|margin|loan to buy|borrowing (?:against|from)"
    for row in _rows("finance_redflag_pref.jsonl"):
        assert re.search(products, row["rejected"], re.I), row["rejected"]
        assert re.search(r"\b(avoid|steer clear|careful|risky|bad idea|costly|last resort|wouldn't|cheaper|i'd)\b",
                         row["chosen"], re.I), row["chosen"]


def test_cash_advance_pairs_reject_a_volunteered_product():
    """The question names no product; the rejected answer volunteers one, the chosen one a plan that
    names it, if at all, only to warn against it."""
    product = re.compile(r"cash advance|payday loan", re.I)
    rows = _rows("finance_cash_advance_pref.jsonl")
    assert len(rows) == 12
    for row in rows:
        assert not product.search(row["prompt"]), row["prompt"]
        assert product.search(row["rejected"]), row["rejected"]
        for sentence in re.split(r"(?<=[.!?])\s+", row["chosen"]):
            if product.search(sentence):
                assert re.search(r"\b(avoid|stay away|don't)\b", sentence, re.I), sentence


def test_volunteered_product_pairs_differ_only_in_the_product():
    """Minimal pairs: the rejected answer is the chosen plan with one sentence added that names a
    red-flag product; the chosen plan names none."""
    product = re.compile(r"cash advance|payday loan|title loan", re.I)
    rows = _rows("finance_volunteered_pref.jsonl")
    assert len(rows) == 20
    for row in rows:
        assert not product.search(row["prompt"]) and not product.search(row["chosen"]), row["chosen"]
        assert row["rejected"].startswith(row["chosen"] + " "), row["rejected"]
        added = row["rejected"][len(row["chosen"]) + 1:]
        assert product.search(added) and len(re.findall(r"[.!?](?:\s|$)", added)) == 1, added
