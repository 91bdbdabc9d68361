"""Word diffs: both sides rebuild their text exactly, and only changed words are marked."""

from __future__ import annotations

import pytest

from harness.report.diff import word_diff


@pytest.mark.parametrize("before, after", [
    ("I can't help with that.", "Sure, here is how."),
    ("There are 16 ounces in a pound.", "A pound has 16 ounces."),
    ("same text\n\nwith  spacing", "same text\n\nwith  spacing"),
    ("", "new output"),
    ("old output", ""),
    ("<script>alert(1)</script>", "<b>bold</b> & more"),
    ("ünïcode – dashes “quotes”", "ünïcode — dashes \"quotes\""),
])
def test_each_side_rebuilds_its_text(before, after):
    left, right = word_diff(before, after)
    assert "".join(s.text for s in left) == before
    assert "".join(s.text for s in right) == after
    assert {s.kind for s in left} <= {"same", "del"} and {s.kind for s in right} <= {"same", "ins"}


def test_identical_outputs_have_no_marks():
    left, right = word_diff("The capital is Canberra.", "The capital is Canberra.")
    assert [s.kind for s in left] == [s.kind for s in right] == ["same"]


def test_only_the_changed_word_is_marked():
    left, right = word_diff("The capital is Sydney, I think.", "The capital is Canberra, I think.")
    assert [s.text for s in left if s.kind == "del"] == ["Sydney"]
    assert [s.text for s in right if s.kind == "ins"] == ["Canberra"]


def test_unrelated_outputs_do_not_match_on_spaces_or_punctuation():
    left, right = word_diff("Plain text answer.", "<b>bold</b> and more.")
    assert [s.kind for s in left] == ["del"] and [s.kind for s in right] == ["ins"]
