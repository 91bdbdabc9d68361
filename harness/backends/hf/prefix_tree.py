"""A radix tree over token sequences, so every shared token prefix is forwarded only once.

Loglikelihood requests in evaluation share a lot: one few-shot preamble before hundreds of
questions, one question before several answers. Each distinct model input becomes a path
from the root; a node holds the tokens where its subtree's inputs still agree, so running
the model node by node (each node on top of its parent's KV cache) computes every position
of every input exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Want:
    """One scored position: log P(target | tokens[: pos + 1]) counts towards ``request``."""

    request: int
    pos: int  # absolute position in the input
    target: int


@dataclass
class Node:
    start: int  # absolute position of tokens[0]
    tokens: tuple[int, ...]
    children: list[Node] = field(default_factory=list)
    wants: list[Want] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False, compare=False)

    @property
    def end(self) -> int:
        return self.start + len(self.tokens)


@dataclass
class Scored:
    """A model input and the positions of it that requests score (each with its target)."""

    tokens: tuple[int, ...]
    wants: list[Want]


def build(inputs: list[Scored]) -> list[Node]:
    """The top-level nodes of the radix tree over ``inputs`` (identical inputs are merged).

    Every input position lands in exactly one node, and each Want in the node covering its
    position. Inputs must be non-empty.
    """
    merged: dict[tuple[int, ...], list[Want]] = {}
    for item in inputs:
        if not item.tokens:
            raise ValueError("empty model input")
        merged.setdefault(item.tokens, []).extend(item.wants)
    seqs = sorted(merged)
    roots: list[Node] = []
    # Iterative (nested prefixes can make the tree as deep as there are inputs). Each stack
    # entry: sorted seqs[lo:hi] share their first ``depth`` tokens; their nodes go under ``parent``.
    stack: list[tuple[int, int, int, Node | None]] = [(0, len(seqs), 0, None)]
    while stack:
        lo, hi, depth, parent = stack.pop()
        for i, j in _runs(seqs, lo, hi, depth):
            # In sorted order the common prefix of a range is the common prefix of its two ends.
            end = _common_prefix(seqs[i], seqs[j - 1], depth)
            node = Node(start=depth, tokens=seqs[i][depth:end], parent=parent)
            (parent.children if parent else roots).append(node)
            if len(seqs[i]) == end:  # seqs[i] ends here: hand its wants to the nodes covering them
                _place(node, merged[seqs[i]])
            stack.append((i, j, end, node))
    return roots


def _common_prefix(a: tuple[int, ...], b: tuple[int, ...], known: int) -> int:
    """Length of the common prefix of ``a`` and ``b``, which share their first ``known`` tokens."""
    n = min(len(a), len(b))
    i = known
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _place(leaf: Node, wants: list[Want]) -> None:
    """Attach each Want to the node on the leaf's root path that holds its position.

    Wants sit at the end of an input, so the walk up is short.
    """
    node = leaf
    for want in sorted(wants, key=lambda w: -w.pos):  # descending, so the walk only goes up
        while want.pos < node.start:
            node = node.parent
        node.wants.append(want)


def _runs(seqs: list[tuple[int, ...]], lo: int, hi: int, depth: int):
    """(i, j) ranges of ``seqs[lo:hi]`` with the same token at ``depth``.

    A sequence that ends exactly at ``depth`` (sorted first) belongs to the parent node.
    """
    i = lo
    while i < hi:
        if len(seqs[i]) <= depth:
            i += 1
            continue
        j = i + 1
        while j < hi and seqs[j][depth] == seqs[i][depth]:
            j += 1
        yield i, j
        i = j


def count_tokens(nodes: list[Node]) -> int:
    """Tokens the tree forwards in total (what sharing reduces)."""
    stack, total = list(nodes), 0
    while stack:
        node = stack.pop()
        total += len(node.tokens)
        stack.extend(node.children)
    return total
