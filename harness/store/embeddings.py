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

from harness.store.db import chunks, connect, default_path, insert_new, store_disabled, transaction

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
    return EmbeddingCache(default_path())


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()

    def get(self, model: str, texts: Sequence[str]) -> dict[str, bytes]:
        """Stored vectors (raw float32 bytes) of those ``texts`` that have one."""
        by_key = {text_key(t): t for t in dict.fromkeys(texts)}
        keys = list(by_key)
        found: dict[str, bytes] = {}
        with connect(self.path, create=True) as conn:
            for chunk in chunks(keys):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT text, vector FROM embedding_cache WHERE model = ? AND text IN ({marks})", (model, *chunk)
                )
                found.update({by_key[key]: bytes(vector) for key, vector in rows})
        return found

    def put(self, model: str, vectors: Mapping[str, bytes]) -> int:
        """Store vectors in one transaction (existing ones are kept); return how many were added."""
        rows = [(model, text_key(text), vector) for text, vector in vectors.items()]
        return insert_new(self.path, "INSERT OR IGNORE INTO embedding_cache VALUES (?, ?, ?)", rows)

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with connect(self.path, create=False) as conn:
            return conn.execute("SELECT COUNT(*) FROM embedding_cache").fetchone()[0]

    def clear(self) -> int:
        """Delete every stored embedding; return how many were deleted."""
        if not self.path.exists():
            return 0
        with connect(self.path, create=False) as conn, transaction(conn):
            return conn.execute("DELETE FROM embedding_cache").rowcount
