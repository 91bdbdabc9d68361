"""Word-level differences between two outputs, as plain segments the template escapes and marks up."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# Words, runs of whitespace and single punctuation marks: diffs read naturally and keep layout.
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str  # 'same', 'del' (only in the baseline) or 'ins' (only in the candidate)


def word_diff(before: str, after: str) -> tuple[list[Segment], list[Segment]]:
    """(baseline segments, candidate segments): equal text is 'same' on both sides.

    >>> b, a = word_diff("the cat sat", "the dog sat")
    >>> [(s.text, s.kind) for s in b]
    [('the ', 'same'), ('cat', 'del'), (' sat', 'same')]
    >>> [(s.text, s.kind) for s in a]
    [('the ', 'same'), ('dog', 'ins'), (' sat', 'same')]
    """
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    left: list[Segment] = []
    right: list[Segment] = []
    # Spaces and punctuation never anchor a match on their own: two unrelated answers
    # would otherwise look "similar" wherever they both have a space or a full stop.
    matcher = difflib.SequenceMatcher(_is_filler, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _append(left, "".join(old[i1:i2]), "same")
            _append(right, "".join(new[j1:j2]), "same")
        else:
            _append(left, "".join(old[i1:i2]), "del")
            _append(right, "".join(new[j1:j2]), "ins")
    return left, right


def _is_filler(token: str) -> bool:
    return not any(ch.isalnum() for ch in token)


def _append(out: list[Segment], text: str, kind: str) -> None:
    if not text:
        return
    if out and out[-1].kind == kind:  # merge neighbours so the markup stays small
        out[-1] = Segment(out[-1].text + text, kind)
    else:
        out.append(Segment(text, kind))
