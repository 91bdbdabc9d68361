"""The result cache's table in the run store: backend results found by key.

Keys are computed by :mod:`harness.backends.cached` (a sha256 of everything that decides a result);
this module only reads and writes rows. Each call opens its own connection, like the rest
of the store, so pytest, the CLI and parallel CI jobs can share one file: reads never block
(WAL), and writes queue behind SQLite's write lock (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, Union

import sqlalchemy as sa

from harness.store.db import chunks, connect, insert_new
from harness.store.location import Location, locate
from harness.store.schema import result_cache as table

Kind = Literal["generate", "loglikelihood"]
Value = Union[str, float]  # a completion, or a summed log-prob
KINDS: tuple[Kind, ...] = ("generate", "loglikelihood")


class ResultCache:
    """Cached backend results in the run store (``$ADAPTER_HARNESS_STORE`` by default)."""

    def __init__(self, path: str | Path | Location | None = None):
        self.location = locate(path)

    def get(self, kind: Kind, keys: Iterable[str]) -> dict[str, Value]:
        """The stored results among ``keys`` (absent keys are simply missing from the answer)."""
        _check_kind(kind)
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        column = table.c[_column(kind)]
        found: dict[str, Value] = {}
        with connect(self.location, create=True) as conn:
            for chunk in chunks(wanted):
                rows = conn.execute(sa.select(table.c.key, column).where(table.c.kind == kind,
                                                                        table.c.key.in_(list(chunk))))
                found.update({key: value for key, value in rows if value is not None})
        return found

    def put(self, kind: Kind, scope: str, results: Mapping[str, Value]) -> int:
        """Store new results in one transaction; return how many rows were added.

        A key already present is kept as it is (another process computed the same request
        meanwhile). A NaN log-prob is not stored: SQLite would read it back as NULL.
        """
        _check_kind(kind)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = []
        for key, value in results.items():
            if kind == "generate":
                rows.append(dict(key=key, scope=scope, kind=kind, output=str(value), logprob=None, created_at=created))
            elif not math.isnan(float(value)):
                rows.append(dict(key=key, scope=scope, kind=kind, output=None, logprob=float(value), created_at=created))
        return insert_new(self.location, table, rows)

    def count(self, scope: str | None = None) -> int:
        """How many results are stored (for one scope, or in all)."""
        if not self.location.exists():
            return 0
        query = sa.select(sa.func.count()).select_from(table)
        with connect(self.location, create=False) as conn:
            return conn.execute(query if scope is None else query.where(table.c.scope == scope)).scalar()

    def count_by_kind(self) -> dict[str, int]:
        """How many results of each kind are stored (every kind listed, 0 when none)."""
        counts = dict.fromkeys(KINDS, 0)
        if self.location.exists():
            with connect(self.location, create=False) as conn:
                counts.update(conn.execute(sa.select(table.c.kind, sa.func.count()).group_by(table.c.kind)).all())
        return counts

    def clear(self, scope: str | None = None) -> int:
        """Delete the stored results (of one scope, or all); return how many were deleted."""
        if not self.location.exists():
            return 0
        query = table.delete()
        with connect(self.location, create=False, write=True) as conn:
            return conn.execute(query if scope is None else query.where(table.c.scope == scope)).rowcount


def _column(kind: Kind) -> str:
    return "output" if kind == "generate" else "logprob"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"result kind must be one of {', '.join(KINDS)}, got {kind!r}")
