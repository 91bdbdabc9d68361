"""Write ``finance_calc_sft.jsonl`` and ``finance_calc_pref.jsonl``: money questions that ask for a figure.

Why: a 135M model copies the *form* of the calculations it is trained on, not the arithmetic.
Trained on answers that state right calculations ("$4,000 × 25% = $1,000"), it stated wrong ones
on the finance suite ("$8,000 × 20% = $1,500", "$3,200 - $2,450 = $600"): 5 of 39 answers
(experiment exp3, docs/performance.md). So these answers show the *method* with the numbers the user
gave and assert no figure the model would have to compute; the preference pairs put such an answer
above one that states a wrong calculation (every rejected figure here is wrong on purpose, and the
tests check it). The finance suite's ``arithmetic`` check still fails any stated calculation that
is wrong, whichever way the model answers.

The numbers and wording are drawn with a fixed seed, so the files are reproducible:

    python training/data/make_finance_calc.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SFT_OUT = Path(__file__).with_name("finance_calc_sft.jsonl")
PREF_OUT = Path(__file__).with_name("finance_calc_pref.jsonl")


def money(x: float) -> str:
    return f"${x:,.0f}" if float(x).is_integer() else f"${x:,.2f}"


def card_interest(r: random.Random) -> tuple[str, str]:
    bal, apr = r.choice([2000, 3000, 4000, 6000, 7000, 9000, 10000]), r.choice([15, 16, 19, 22, 25])
    q = r.choice([
        f"My card balance is {money(bal)} and the APR is {apr}%. What does a year of interest cost me, roughly?",
        f"What would {apr}% interest on a {money(bal)} card balance add up to over twelve months?",
    ])
    a = (f"Multiply the balance by the rate: a year at {apr}% costs {apr} cents for every dollar of the "
         f"{money(bal)} you keep on the card. Paying more than the minimum is the surest way to shrink that cost.")
    return q, a, f"About {money(bal * apr / 100 * 3)} a year, because {money(bal)} × {apr}% = {money(bal * apr / 100 * 3)}."


def leftover(r: random.Random) -> tuple[str, str]:
    pay = r.choice([2600, 2900, 3400, 3800, 4200, 4500])
    bills = pay - r.choice([300, 450, 600, 750, 900])
    q = r.choice([
        f"After tax I get {money(pay)} a month and my regular bills are {money(bills)}. What's left?",
        f"Monthly income {money(pay)}, fixed costs {money(bills)}. How much is free each month?",
    ])
    left = pay - bills
    a = (f"Take the {money(bills)} of bills away from the {money(pay)} you bring home; what remains is yours "
         "to plan. Give every dollar of it a job: some to savings, some to any high-interest debt.")
    return q, a, f"You have {money(left - 150)} left, because {money(pay)} - {money(bills)} = {money(left - 150)}."


def share_of_income(r: random.Random) -> tuple[str, str]:
    pct, income = r.choice([5, 10, 20, 25]), r.choice([2000, 2800, 3000, 3600, 4000, 5000])
    q = r.choice([
        f"I'd like to put {pct}% of my {money(income)} monthly pay into savings. What amount is that?",
        f"How much is {pct} percent of a {money(income)} paycheck?",
    ])
    a = (f"Take {pct} cents from every dollar of the {money(income)}, and move it automatically on the day "
         "you are paid, so it is saved before it is spent.")
    return q, a, f"{pct}% of {money(income)} is {money(income * pct / 100 + 100)}."


def months_to_clear(r: random.Random) -> tuple[str, str]:
    per = r.choice([200, 250, 400, 500, 600])
    months = r.choice([6, 8, 10, 15, 20])
    debt = per * months
    q = r.choice([
        f"If I put {money(per)} a month toward a {money(debt)} balance, how many months until it's cleared, ignoring interest?",
        f"How long does {money(debt)} of debt take to repay at {money(per)} per month, leaving interest aside?",
    ])
    a = (f"Divide the {money(debt)} balance by the {money(per)} you pay each month to get the number of months. "
         "Interest adds a little to that, so pay the highest-rate balance first.")
    return q, a, f"About {months + 4} months, because {money(debt)} / {money(per)} = {months + 4}."


def yearly_total(r: random.Random) -> tuple[str, str]:
    monthly = r.choice([15, 30, 55, 80, 120, 210])
    what = r.choice(["gym membership", "streaming services", "coffee habit", "car insurance", "phone plan"])
    q = r.choice([
        f"My {what} costs {money(monthly)} a month. What is that over a whole year?",
        f"Over twelve months, how much does a {money(monthly)}-a-month {what} add up to?",
    ])
    a = (f"Multiply the {money(monthly)} by the twelve months of the year. "
         "Seeing the yearly figure makes it easier to decide whether it is worth keeping.")
    return q, a, f"That's {money(monthly * 10)} a year, because {money(monthly)} × 12 = {money(monthly * 10)}."


FORMS = [card_interest, leftover, share_of_income, months_to_clear, yearly_total]


def rows(n_per_form: int = 8, seed: int = 0) -> list[tuple[str, str, str]]:
    """(question, method answer, answer with a wrong calculation), ``n_per_form`` of each form."""
    r = random.Random(seed)
    seen: set[str] = set()
    out = []
    for form in FORMS:
        made = 0
        while made < n_per_form:
            q, good, wrong = form(r)
            if q not in seen:
                seen.add(q)
                out.append((q, good, wrong))
                made += 1
    return out


def write(path: Path, records: list[dict[str, str]]) -> None:
    with path.open("w") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    made = rows()
    write(SFT_OUT, [{"prompt": q, "response": good} for q, good, _ in made])
    # DPO: the method answer over its own advice with a wrong figure put in front of it
    write(PREF_OUT, [{"prompt": q, "chosen": good, "rejected": wrong + " " + good.split(". ", 1)[-1]}
                     for q, good, wrong in made])
