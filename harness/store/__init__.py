"""The store of evaluation runs (``harness runs``, ``harness report``): an SQLite file, or PostgreSQL.

The store is ``--store`` or ``$ADAPTER_HARNESS_STORE`` (a file path or ``postgresql://user@host/db``),
else ``runs.sqlite3`` in the user data directory; ``ADAPTER_HARNESS_STORE=off`` disables automatic
saving (and the result and embedding caches kept in the same store, see ``harness/backends/cached.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.results import RunResult
from harness.store.location import ENV, StoreError, default_path, locate, store_disabled
from harness.store.result_cache import ResultCache
from harness.store.store import RunInfo, RunStore

__all__ = ["ENV", "ResultCache", "RunInfo", "RunStore", "StoreError", "default_path", "locate", "record",
           "store_disabled"]


def record(
    run: RunResult,
    baseline: RunResult | None = None,
    *,
    provenance: dict[str, Any] | None = None,
    path: str | Path | None = None,  # a file or a URL; None: the default store
) -> tuple[int, int | None] | None:
    """Save a candidate run and the baseline run it was compared with (linked); return (candidate id, baseline id).

    Returns None when saving is switched off (``ADAPTER_HARNESS_STORE=off`` and no ``path``).
    Raises :class:`StoreError` (a HarnessError) when the store file cannot be used.
    """
    if path is None and store_disabled():
        return None
    store = RunStore(path)
    base_id = store.save(baseline) if baseline is not None else None
    return store.save(run, baseline_run=base_id, provenance=provenance), base_id
