"""Open the run store safely: recognise it, create or migrate it, or refuse it with a clear error.

One code path for both engines, through SQLAlchemy Core:

* **SQLite** (the default file): each call opens its own connection (stores are shared by processes:
  pytest, the CLI, parallel CI jobs), in WAL mode so readers never block the writer, with a busy
  timeout so concurrent writers wait for each other instead of failing; a write transaction is
  ``BEGIN IMMEDIATE``, taking the write lock up front so two writers queue, never deadlock.
* **PostgreSQL** (a team's shared history): a connection pool per process; the schema check runs
  once per process, under an advisory lock so concurrent first writers create the tables once.

Every write (a run with all its suites, cases and scores) is one transaction: all or nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from harness.store import dialects
from harness.store.location import ENV, Location, StoreError, default_path, locate, store_disabled

__all__ = ["ENV", "StoreError", "connect", "default_path", "insert_new", "locate", "store_disabled", "chunks"]

BUSY_TIMEOUT_S = dialects.BUSY_TIMEOUT_S

_engines: dict[str, sa.Engine] = {}
_checked: set[str] = set()  # server stores whose schema this process has checked


def _forget_engines() -> None:
    """A forked child must not reuse its parent's pooled connections (SQLAlchemy's advice)."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()
    _checked.clear()


os.register_at_fork(after_in_child=_forget_engines)


def _engine(where: Location) -> sa.Engine:
    key = where.sqlalchemy_url()
    if key not in _engines:
        _engines[key] = dialects.sqlite_engine(where.path) if where.is_sqlite else dialects.server_engine(where)
    return _engines[key]


@contextmanager
def connect(where: str | Path | Location | None, *, create: bool, write: bool = False) -> Iterator[sa.Connection]:
    """A transaction on the checked store at ``where``: committed when the block ends, rolled back if it raises.

    ``write`` takes the write lock at the start (SQLite). ``create`` allows making a new SQLite
    file; without it a missing file is an error. Every driver failure becomes a StoreError.
    """
    where = locate(where)
    if where.is_sqlite:
        dialects.check_sqlite_path(where.path, create=create)
    with dialects.errors(where):
        engine = _engine(where)
        with engine.connect() as conn:
            if where.is_sqlite:
                dialects.prepare_sqlite(conn, where.path)
            elif str(where) not in _checked:
                dialects.prepare_server(conn, where)
                _checked.add(str(where))
            conn = conn.execution_options(harness_write=write)
            with conn.begin():
                yield conn


def insert_new(where: str | Path | Location, table: sa.Table, rows: list[dict]) -> int:
    """Insert every row that is not stored yet, in one transaction; return how many were added.

    Cache tables use this: a key another process stored meanwhile is kept as it is.
    """
    if not rows:
        return 0
    with connect(where, create=True, write=True) as conn:
        stmt = dialects.insert_ignoring_duplicates(conn, table)
        keys = [c for c in table.primary_key.columns]
        return len(conn.execute(stmt.returning(*keys), rows).all())


def chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    """Slices of ``items`` for ``IN (...)`` queries, well under SQLite's host-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
