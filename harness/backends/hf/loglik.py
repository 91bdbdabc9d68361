"""Summed continuation log-probs, forwarding each shared token prefix once.

Requests are tokenised exactly like lm-eval (see ``text.py``), merged into a radix tree of
model inputs (``prefix_tree.py``), and the tree is run depth-first. A node whose subtree is
large is forwarded in a row of its own on top of its parent's KV cache, and its children then
continue that cache. A subtree small enough to fit in one row is forwarded whole, with
tree attention (``rows.py``). Rows of a batch are right-padded. Padding inside a cache is
masked out and positions are given explicitly, so each score equals that of a plain full
forward of the request (to float rounding).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from harness.backend import LoglikelihoodRequest
from harness.backends import shard

from . import prefix_tree, text
from .kvcache import Level, assemble, own_tokens
from .prefix_tree import Node, Scored, Want
from .rows import Row, lay_out, subtree_tokens, tree_mask

TOKEN_BUDGET = 4096  # rows x new tokens per forward: bounds activation memory
# Scored positions per forward: each is projected onto the vocabulary (49,152 floats for
# SmolLM2, 192 KiB), so this bounds the logits to about 200 MB.
KEEP_BUDGET = 1024
# Widest flattened row (see rows.py): subtrees up to this size are forwarded in one row.
# About one plain request's width, so a batch holds no more tokens than batch_size requests.
ROW_WIDTH = 256


def encode_requests(tokenizer, config, requests: Sequence[LoglikelihoodRequest]) -> list[Scored]:
    """Each request as (model input, scored positions), as lm-eval would feed it to the model."""
    limit = text.max_length(config, tokenizer)
    rendered: dict[object, str] = {}
    out = []
    for index, request in enumerate(requests):
        if request.context not in rendered:
            rendered[request.context] = text.render(tokenizer, request.context)
        context, continuation = text.encode_pair(tokenizer, rendered[request.context], request.continuation)
        whole = (context + continuation)[-(limit + 1) :]
        n_cont = min(len(continuation), len(whole) - 1)
        inputs = tuple(whole[:-1])
        first = len(inputs) - n_cont  # the last context token predicts the first continuation token
        wants = [Want(index, p, whole[p + 1]) for p in range(first, len(inputs))]
        out.append(Scored(inputs, wants))
    return out


class LoglikelihoodRunner:
    """Runs a model over a prefix tree; one instance per backend (it caches model facts)."""

    def __init__(self, model, tokenizer, batch_size: int = 8, progress: bool = True, share_prefixes: bool = True):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.device = next(model.parameters()).device
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.config = base.config
        self.dtype = next(model.parameters()).dtype
        self.keep_logits = "logits_to_keep" in inspect.signature(base.forward).parameters
        self.share_prefixes = share_prefixes and _full_attention_only(self.config)
        # Flattened rows need a custom 4-D mask, which eager and SDPA attention take as given.
        self.row_width = ROW_WIDTH if _takes_4d_masks(self.config) else 0

    def __call__(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        scored = encode_requests(self.tokenizer, self.config, requests)
        self._totals = [0.0] * len(requests)
        self._left = [len(s.wants) for s in scored]
        scored_any = [s for s in scored if s.wants]  # an empty continuation needs no forward
        if self.share_prefixes:
            roots = prefix_tree.build(scored_any)
            self._sizes = subtree_tokens(roots)
        else:  # one node per input: plain batched forwards
            roots = [Node(0, s.tokens, [], s.wants) for s in scored_any]
        self._bar = tqdm(
            total=len(requests), desc="loglikelihood", unit="req", disable=not self.progress or not shard.is_main(),
            leave=False,
        )
        self._bar.update(sum(1 for n in self._left if n == 0))  # empty continuations score 0
        with torch.inference_mode():
            self._run([(0, node) for node in roots], None)
        self._bar.close()
        # under a distributed launch each process ran every N-th top-level batch with its subtrees;
        # each request's tokens lie in one tree, so the totals add up
        return shard.gather_sum(self._totals)

    def _run(self, items: list[tuple[int, Node]], past: Level | None) -> None:
        """Forward ``items`` (parent row, node) in batches, each batch followed by its subtrees.

        Depth-first with an explicit stack (trees of nested prefixes can be deep); only the
        caches on the current path are alive at any time.
        """
        top = (batch for number, batch in enumerate(self._batches(items)) if shard.mine(number))
        stack = [(top, past)]
        while stack:
            batches, parent = stack[-1]
            batch = next(batches, None)
            if batch is None:
                stack.pop()
                continue
            new_past = self._forward(batch, parent)
            children = [(r, child) for r, row in enumerate(batch) if row.keeps_cache for child in row.nodes[0].children]
            if children:
                stack.append((self._batches(children), new_past))

    def _batches(self, items: list[tuple[int, Node]]):
        """Batches of at most ``batch_size`` rows and TOKEN_BUDGET padded tokens."""
        if self.share_prefixes:
            rows = lay_out(items, self.row_width, self._sizes)
        else:
            rows = [Row(parent, [node], [-1]) for parent, node in items]
        # Rows that keep their cache apart from the rest (a flattened row needs none); longest
        # first, so rows of a batch have similar widths; ties keep rows of one parent together.
        rows.sort(key=lambda row: (row.keeps_cache, -row.width, row.parent))
        batch: list[Row] = []
        scored = 0
        for row in rows:
            longest = batch[0].width if batch else row.width
            full = len(batch) >= self.batch_size or (len(batch) + 1) * longest > TOKEN_BUDGET
            full = full or scored + row.scored > KEEP_BUDGET
            if batch and (full or row.keeps_cache != batch[0].keeps_cache):
                yield batch
                batch, scored = [], 0
            batch.append(row)
            scored += row.scored
        if batch:
            yield batch

    def _forward(self, batch: list[Row], past: Level | None) -> Level | None:
        width = max(row.width for row in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        own_mask = torch.zeros((len(batch), width), dtype=torch.long)
        positions = torch.zeros((len(batch), width), dtype=torch.long)
        keep = torch.zeros((len(batch), width), dtype=torch.bool)
        placed: list[tuple[int, int, Node]] = []  # (row, column of the node's first token, node)
        for r, row in enumerate(batch):
            column = 0
            for node in row.nodes:
                end = column + len(node.tokens)
                ids[r, column:end] = torch.tensor(node.tokens)
                positions[r, column:end] = torch.arange(node.start, node.end)
                for want in node.wants:
                    keep[r, column + want.pos - node.start] = True
                placed.append((r, column, node))
                column = end
            own_mask[r, :column] = 1
            positions[r, column:] = torch.arange(width - column) + row.nodes[-1].end  # padding: any value
        cache, mask = None, own_mask
        parent_rows = torch.tensor([row.parent for row in batch])
        past_mask = None
        if past is not None:
            cache, past_mask = assemble(past, parent_rows, room=width)
            mask = torch.cat([past_mask, own_mask], dim=1)
        if any(row.flat for row in batch):
            # additive form: eager attention adds the mask to its scores, SDPA accepts both
            allowed = tree_mask(batch, width, past_mask)
            mask = torch.zeros(allowed.shape, dtype=self.dtype).masked_fill_(~allowed, torch.finfo(self.dtype).min)
        wants_cache = any(row.keeps_cache for row in batch)
        kwargs = {}
        if self.keep_logits:
            # Project only the scored positions onto the vocabulary (a bool mask flattens them).
            kwargs["logits_to_keep"] = keep.to(self.device) if keep.any() else 1
        out = self.model(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            position_ids=positions.to(self.device),
            past_key_values=cache,
            use_cache=wants_cache,
            **kwargs,
        )
        if keep.any():
            logits = out.logits
            if logits.dim() == 3:  # full [rows, width, vocab] logits (no logits_to_keep): select here
                logits = logits[keep.to(logits.device)]
            self._score(placed, keep, logits)
        if not wants_cache:
            return None
        return Level(own_tokens(out.past_key_values, width), own_mask, parent_rows if past is not None else None, past)

    def _score(self, placed: list[tuple[int, int, Node]], keep: torch.Tensor, logits: torch.Tensor) -> None:
        """Add log P(target) of every Want of the placed nodes; ``logits`` rows follow ``keep`` row-major."""
        index = torch.full(keep.shape, -1, dtype=torch.long)
        index[keep] = torch.arange(int(keep.sum()))
        rows, targets, owners = [], [], []
        for row, column, node in placed:
            for want in node.wants:
                rows.append(int(index[row, column + want.pos - node.start]))
                targets.append(want.target)
                owners.append(want.request)
        # log-softmax only of the rows that are picked from, in slices: a full one copies all logits
        rows_t, targets_t = torch.tensor(rows), torch.tensor(targets)
        picked = []
        for start in range(0, len(rows), 256):
            part_rows, part_targets = rows_t[start : start + 256], targets_t[start : start + 256]
            logprobs = torch.log_softmax(logits[part_rows].float(), dim=-1)
            picked += logprobs[torch.arange(len(part_rows)), part_targets].tolist()
        for owner, value in zip(owners, picked):
            self._totals[owner] += value
            self._left[owner] -= 1
            if self._left[owner] == 0:
                self._bar.update(1)


def _takes_4d_masks(config) -> bool:
    return getattr(config, "_attn_implementation", None) in ("sdpa", "eager")


def _full_attention_only(config) -> bool:
    """Prefix sharing assumes every layer attends to the whole past (no sliding window, no
    recurrent state): a padded cache row would otherwise shift the window."""
    config = getattr(config, "text_config", None) or config
    layer_types = getattr(config, "layer_types", None)
    if layer_types and any(t != "full_attention" for t in layer_types):
        return False
    if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", True):
        return False
    return True

