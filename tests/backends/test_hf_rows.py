"""Row layout for prefix trees: which nodes share a row, and what each token may attend to."""

from __future__ import annotations

import torch

from harness.backends.hf import prefix_tree
from harness.backends.hf.prefix_tree import Scored, Want
from harness.backends.hf.rows import lay_out, subtree_tokens, tree_mask


def tree(*inputs):
    return prefix_tree.build([Scored(tuple(tokens), [Want(i, len(tokens) - 1, 0)]) for i, tokens in enumerate(inputs)])


def test_subtree_tokens_counts_every_token_below():
    (root,) = tree((1, 2, 3, 4), (1, 2, 5), (1, 2, 5, 6))
    sizes = subtree_tokens([root])
    assert sizes[id(root)] == prefix_tree.count_tokens([root]) == 6  # 1 2 | 3 4 | 5 | 6


def test_small_subtrees_share_rows_and_large_ones_keep_their_cache():
    roots = tree((1, 2, 3), (1, 2, 4), (7, 8, 9, 10, 11, 12), (7, 8, 13))
    sizes = subtree_tokens(roots)
    rows = lay_out([(0, node) for node in roots], row_width=5, sizes=sizes)
    small = [r for r in rows if not r.keeps_cache]
    large = [r for r in rows if r.keeps_cache]
    assert [n.tokens for n in small[0].nodes] == [(1, 2), (3,), (4,)]  # depth-first, parent first
    assert small[0].up == [-1, 0, 0]
    assert [r.nodes[0].tokens for r in large] == [(7, 8)]  # 7 tokens in its subtree: over 5


def test_tree_mask_sees_ancestors_and_itself_only():
    roots = tree((1, 2, 3), (1, 2, 4, 5))
    rows = lay_out([(0, roots[0])], row_width=10, sizes=subtree_tokens(roots))
    (row,) = rows
    width = row.width + 1  # one padding column
    mask = tree_mask(rows, width, past_mask=torch.tensor([[1, 0]]))[0, 0]
    # columns: past (2) | 1 2 | 3 | 4 5 | pad
    expected = torch.tensor(
        [
            [1, 0, 1, 0, 0, 0, 0, 0],  # 1
            [1, 0, 1, 1, 0, 0, 0, 0],  # 2
            [1, 0, 1, 1, 1, 0, 0, 0],  # 3: its parent (1 2) and itself
            [1, 0, 1, 1, 0, 1, 0, 0],  # 4: not its sibling 3
            [1, 0, 1, 1, 0, 1, 1, 0],  # 5
            [0, 0, 0, 0, 0, 0, 0, 1],  # padding sees only itself
        ],
        dtype=torch.bool,
    )
    assert torch.equal(mask, expected)
