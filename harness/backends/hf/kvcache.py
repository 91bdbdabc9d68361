"""KV caches for prefix sharing: stored per tree level, assembled per batch with one copy.

A forwarded batch keeps only the keys/values of its own new tokens plus, per row, which row
of the parent batch it continues (``Level``). To forward a batch of children, the full past
of every row is written once into a buffer that already has room for the new tokens; the
cache layer then writes the new keys/values in place instead of concatenating (which would
copy the whole past again for every layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


@dataclass
class Level:
    """Keys/values of one forwarded batch's own tokens; the chain of parents holds the rest."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]  # per layer, [rows, heads, width, dim]
    mask: torch.Tensor  # [rows, width], 0 where a row was padded
    parent_rows: torch.Tensor | None = None  # row of the parent level each row continues
    parent: Level | None = None

    def chain(self, rows: torch.Tensor) -> list[tuple[Level, torch.Tensor]]:
        """(level, rows of that level) from the root down to this level."""
        out = []
        level: Level | None = self
        while level is not None:
            out.append((level, rows))
            if level.parent_rows is not None:
                rows = level.parent_rows[rows]
            level = level.parent
        return out[::-1]


class PrefilledLayer(DynamicLayer):
    """A cache layer over a preallocated buffer whose first ``filled`` positions hold the past."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, filled: int):
        super().__init__()
        self._keys_buffer, self._values_buffer, self._filled = keys, values, filled
        self.dtype, self.device = keys.dtype, keys.device
        self.keys, self.values = keys[:, :, :filled], values[:, :, :filled]
        self.is_initialized = True

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        end = self._filled + key_states.shape[-2]
        if end > self._keys_buffer.shape[-2]:  # more tokens than planned: fall back to growing
            return super().update(key_states, value_states, *args, **kwargs)
        self._keys_buffer[:, :, self._filled : end] = key_states
        self._values_buffer[:, :, self._filled : end] = value_states
        self._filled = end
        self.keys, self.values = self._keys_buffer[:, :, :end], self._values_buffer[:, :, :end]
        return self.keys, self.values


def assemble(level: Level, rows: torch.Tensor, room: int) -> tuple[DynamicCache, torch.Tensor]:
    """A cache holding the full past of ``rows`` of ``level``, with ``room`` free positions after it,
    and the past's attention mask."""
    chain = level.chain(rows)
    past_len = sum(lv.mask.shape[1] for lv, _ in chain)
    n_rows = len(rows)
    layers = []
    for i in range(len(level.kv)):
        buffers = []
        for which in (0, 1):  # keys, values
            sample = chain[0][0].kv[i][which]
            heads, dim = sample.shape[1], sample.shape[3]
            buffer = torch.empty((n_rows, heads, past_len + room, dim), dtype=sample.dtype, device=sample.device)
            offset = 0
            for lv, lv_rows in chain:
                source = lv.kv[i][which]
                width = source.shape[2]
                for start, stop, src in _runs(lv_rows.tolist()):
                    # expand, not index: no temporary copy when several rows share a parent row
                    block = source[src : src + 1].expand(stop - start, -1, -1, -1)
                    buffer[start:stop, :, offset : offset + width] = block
                offset += width
            buffers.append(buffer)
        layers.append(PrefilledLayer(buffers[0], buffers[1], past_len))
    cache = DynamicCache()
    cache.layers = layers
    mask = torch.cat([lv.mask[lv_rows] for lv, lv_rows in chain], dim=1)
    return cache, mask


def own_tokens(cache: DynamicCache, width: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The last ``width`` positions of every layer, copied so the full buffers can be freed."""
    return [
        (
            layer.keys[:, :, -width:].clone(memory_format=torch.contiguous_format),
            layer.values[:, :, -width:].clone(memory_format=torch.contiguous_format),
        )
        for layer in cache.layers
    ]


def _runs(values: list[int]) -> list[tuple[int, int, int]]:
    """(start, stop, value) for each run of equal consecutive values."""
    runs, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            runs.append((start, i, values[start]))
            start = i
    return runs
