"""A radix tree over token sequences, so every shared token prefix is forwarded only once.

Loglikelihood requests in evaluation share a lot: one few-shot preamble before hundreds of
questions, one question before several answers. Each distinct model input becomes a path
from the root; a node holds the tokens where its subtree's inputs still agree, so running
the model node by node (each node on top of its parent's KV cache) computes every position
of every input exactly once.
"""

from __future__ import annotations

import os
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
    wants = [merged[s] for s in seqs]
    return _split(seqs, wants, 0, len(seqs), 0)


def _split(seqs: list[tuple[int, ...]], wants: list[list[Want]], lo: int, hi: int, depth: int) -> list[Node]:
    """Nodes for ``seqs[lo:hi]`` (sorted, sharing their first ``depth`` tokens), one per next token."""
    nodes = []
    i = lo
    while i < hi:
        first = seqs[i][depth] if len(seqs[i]) > depth else None
        j = i + 1
        while j < hi and len(seqs[j]) > depth and seqs[j][depth] == first:
            j += 1
        if first is None:  # seqs[i] ends exactly at depth: it was handled by its parent
            i = j
            continue
        nodes.append(_node(seqs, wants, i, j, depth))
        i = j
    return nodes


def _node(seqs: list[tuple[int, ...]], wants: list[list[Want]], lo: int, hi: int, depth: int) -> Node:
    # In sorted order the common prefix of a range is the common prefix of its two ends.
    end = len(os.path.commonprefix([seqs[lo], seqs[hi - 1]]))
    node = Node(start=depth, tokens=seqs[lo][depth:end])
    for k in range(lo, hi):
        node.wants.extend(w for w in wants[k] if depth <= w.pos < end)
    node.children = _split(seqs, wants, lo, hi, end)
    return node


def count_tokens(nodes: list[Node]) -> int:
    """Tokens the tree forwards in total (what sharing reduces)."""
    stack, total = list(nodes), 0
    while stack:
        node = stack.pop()
        total += len(node.tokens)
        stack.extend(node.children)
    return total
