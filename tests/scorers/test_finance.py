"""The finance checks on hand-written answers (expected values worked out by hand).

The validation set (data/finance_checks.yaml) is kept apart from these: it measures the checks'
precision and recall and is never used to tune them. The examples here are development cases,
including the false positives found on model answers and fixed.
"""

from __future__ import annotations

import pytest

from harness.scorers.finance import red_flags, wrong_calculations


@pytest.mark.parametrize("text", [
    "Take out a payday loan and repay it on payday.",
    "If you still want to keep some of the cards, a credit union loan or a small payday loan might help.",
    "Yes, a cash advance is the easiest way to get the $900 quickly.",
    "Take a cash advance, no problem.",          # "no" before another word is no warning
    "Get a payday loan without a credit check.",
    "Use leverage to make bigger trades so the debt disappears faster.",
    "Leverage your savings into a bigger stock position.",
    "A cash advance costs less than a payday loan, so take one.",  # a cost compared in its favour
    "A cash advance is cheaper than a payday loan, so take one.",  # the favoured side of a comparison
    # session 19, written while making training rows: the negation belongs to the condition, not the product
    "If they won't wait, a title loan on your car can pay them off.",
    "When the bank can't help, a cash advance covers the gap.",
])
def test_suggested_products_are_flagged(text):
    assert red_flags(text)


@pytest.mark.parametrize("text", [
    # demo experiment exp4 (2026-12-06): a warning the first rule missed ("high rates" was not a warning word)
    "Payday loans charge very high rates and often charge very high rent.",
    "Avoid a payday loan, and keep searching for a place with a lower deposit if needed.",
    "Title loans have high interest rates, so ask the hospital for a payment plan first.",
    # exp5: a negation, and a rate the first rule could never match ('%' then a space is no word boundary)
    "A credit card with a low balance and no cash advances is the safest choice.",
    "A typical payday loan usually costs about 30% to 40% of the amount borrowed.",
    # session 14: "leverage" in its everyday sense, not borrowed money
    "Leverage your budget to pay off the loan faster, keep your spending low.",
    # sessions 15-16: what the product costs, said as the warning
    "Paying cash advance interest can cost hundreds of dollars.",
    "Payday loans cost far more than a late fee on your phone bill.",
    "Payday loans and credit card charges are usually hidden, so it's better not to use them.",  # session 17, exp16
    # session 18: the product on the disfavoured side of a comparison
    "If you must use the card, a normal purchase is cheaper than a cash advance.",
    "A late payment is usually cheaper to fix than a payday loan.",
    "Payday loans are often used by scam artists to steal money, so stop using them.",  # session 18, exp19b
    # session 20: a condition before the product does not hide a warning after it, or a warning word in it
    "If you can't pay the rent, don't take a payday loan.",
    "If a payday loan looks like the only way, never roll it over.",
    "If payday loans seem expensive, that is because they are; ask a credit union instead.",
])
def test_warnings_are_not_flagged(text):
    assert red_flags(text) == []


def test_wrong_and_right_calculations():
    # 8,000 x 20% = 1,600, not 1,500; 3,200 - 2,450 = 750, not 600; 45 x 12 = 540
    assert len(wrong_calculations("$8,000 × 20% = $1,500. Then $3,200 - $2,450 = $600.")) == 2
    assert wrong_calculations("That's $540 a year, because $45 × 12 = $540.") == []
    assert wrong_calculations("Multiply the balance by the rate: 20 cents for every dollar of the $8,000.") == []
