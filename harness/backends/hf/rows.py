"""Laying prefix-tree nodes out in batch rows: small subtrees are flattened into one row.

Forwarding a tree level by level costs one forward per level and pads every short node to
the longest of its batch: TruthfulQA's answers are 3 to 10 tokens each, under a question
that is itself a node, under the shared preamble. Instead, a subtree that fits in
``row_width`` tokens is written into a row whole, in depth-first order, and each token
attends to the row's past and to the tokens of its own ancestors in the row (tree
attention, by a 4-D mask); small sibling subtrees share a row. Only nodes whose subtree is
larger get a row of their own with their cache kept, for their children to continue.

A flattened row attends to exactly what a plain forward of each of its inputs would, with
the same positions, so scores do not change (beyond float rounding).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .prefix_tree import Node


@dataclass
class Row:
    parent: int  # row of the past level this row continues (0 when there is no past)
    nodes: list[Node] = field(default_factory=list)  # depth-first: ancestors before descendants
    up: list[int] = field(default_factory=list)  # slot of each node's parent in this row, -1 for none
    keeps_cache: bool = False  # a single large node whose children are forwarded later

    @property
    def width(self) -> int:
        return sum(len(node.tokens) for node in self.nodes)

    @property
    def scored(self) -> int:
        """Positions of this row projected onto the vocabulary."""
        return sum(len(node.wants) for node in self.nodes)

    @property
    def flat(self) -> bool:
        """Whether the row needs tree attention (more than one node in it)."""
        return len(self.nodes) > 1


def subtree_tokens(roots: list[Node]) -> dict[int, int]:
    """Tokens in each node's subtree, keyed by ``id(node)``."""
    order, stack = [], list(roots)
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    sizes: dict[int, int] = {}
    for node in reversed(order):  # children before parents
        sizes[id(node)] = len(node.tokens) + sum(sizes[id(child)] for child in node.children)
    return sizes


def lay_out(items: list[tuple[int, Node]], row_width: int, sizes: dict[int, int]) -> list[Row]:
    """Rows for ``items`` (parent row, node): large nodes alone, small subtrees flattened and
    packed first-fit (largest first) into rows of at most ``row_width`` tokens per parent row."""
    rows: list[Row] = []
    small: dict[int, list[Node]] = {}
    for parent, node in items:
        if node.children and sizes[id(node)] > row_width:
            rows.append(Row(parent, [node], [-1], keeps_cache=True))
        else:
            small.setdefault(parent, []).append(node)
    for parent, nodes in small.items():
        open_rows: list[Row] = []
        for node in sorted(nodes, key=lambda n: -sizes[id(n)]):
            size = sizes[id(node)]
            row = next((r for r in open_rows if r.width + size <= row_width), None)
            if row is None:
                row = Row(parent)
                open_rows.append(row)
            _append_subtree(row, node)
        rows += open_rows
    return rows


def _append_subtree(row: Row, top: Node) -> None:
    stack = [(top, -1)]
    while stack:
        node, up = stack.pop()
        slot = len(row.nodes)
        row.nodes.append(node)
        row.up.append(up)
        stack.extend((child, slot) for child in reversed(node.children))


def tree_mask(rows: list[Row], width: int, past_mask: torch.Tensor | None) -> torch.Tensor:
    """[rows, 1, width, past + width] boolean attention mask for flattened rows.

    A token sees the row's past, the tokens of its node up to itself and all tokens of its
    ancestor nodes in the row. Padding sees only itself (a query that sees nothing would
    give NaN in attention).
    """
    n_slots = max(len(row.nodes) for row in rows)
    # sees[r, a, b]: slot a may attend to slot b (slot 0 is padding, nodes are 1-based)
    sees = torch.zeros((len(rows), n_slots + 1, n_slots + 1), dtype=torch.bool)
    slot_of = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        column = 0
        for slot, (node, up) in enumerate(zip(row.nodes, row.up), start=1):
            sees[r, slot, slot] = True
            if up >= 0:
                sees[r, slot] |= sees[r, up + 1]
            slot_of[r, column : column + len(node.tokens)] = slot
            column += len(node.tokens)
    query, key = slot_of[:, :, None], slot_of[:, None, :]
    own = torch.gather(sees, 1, query.expand(-1, -1, n_slots + 1))  # [rows, width, slots]
    own = torch.gather(own, 2, key.expand(-1, width, -1))  # [rows, width, width]
    own &= torch.ones((width, width), dtype=torch.bool).tril()
    own |= torch.eye(width, dtype=torch.bool)
    if past_mask is None:
        return own[:, None]
    real = (slot_of > 0)[:, :, None]
    return torch.cat([past_mask.bool()[:, None, :] & real, own], dim=2)[:, None]
