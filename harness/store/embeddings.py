"""The embedding cache's table in the run store: sentence embeddings found by model and text.

The ``similarity`` check embeds every output and reference it compares. Embeddings depend
only on the embedding model and the text, so they are stored once and read back by later
runs (a warm re-run then neither loads the embedding model nor runs it). ``model`` is a
hash of the model's files and the library versions (see ``scorers/similarity.py``).
``--no-cache`` (:func:`reuse_off`) and ``ADAPTER_HARNESS_STORE=off`` bypass it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import sqlalchemy as sa

from harness.store.db import chunks, connect, insert_new
from harness.store.location import Location, locate, store_disabled
from harness.store.schema import embedding_cache as table

_reuse = ContextVar("adapter_harness_embedding_reuse", default=True)


@contextmanager
def reuse_off() -> Iterator[None]:
    """Within the block, embeddings are neither read from nor written to the store."""
    token = _reuse.set(False)
    try:
        yield
    finally:
        _reuse.reset(token)


def default_cache() -> EmbeddingCache | None:
    """The cache in the default run store, or None when the store or reuse is switched off."""
    if store_disabled() or not _reuse.get():
        return None
    return EmbeddingCache(locate(None))


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: str | Path | Location):
        self.location = locate(path)

    def get(self, model: str, texts: Sequence[str]) -> dict[str, bytes]:
        """Stored vectors (raw float32 bytes) of those ``texts`` that have one."""
        by_key = {text_key(t): t for t in dict.fromkeys(texts)}
        keys = list(by_key)
        found: dict[str, bytes] = {}
        with connect(self.location, create=True) as conn:
            for chunk in chunks(keys):
                rows = conn.execute(sa.select(table.c.text, table.c.vector).where(table.c.model == model,
                                                                                 table.c.text.in_(list(chunk))))
                found.update({by_key[key]: bytes(vector) for key, vector in rows})
        return found

    def put(self, model: str, vectors: Mapping[str, bytes]) -> int:
        """Store vectors in one transaction (existing ones are kept); return how many were added."""
        rows = [dict(model=model, text=text_key(text), vector=vector) for text, vector in vectors.items()]
        return insert_new(self.location, table, rows)

    def count(self) -> int:
        if not self.location.exists():
            return 0
        with connect(self.location, create=False) as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()

    def clear(self) -> int:
        """Delete every stored embedding; return how many were deleted."""
        if not self.location.exists():
            return 0
        with connect(self.location, create=False, write=True) as conn:
            return conn.execute(table.delete()).rowcount
