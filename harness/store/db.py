"""Open a run-store file safely: recognise it, migrate it, or refuse it with a clear error.

Each call opens its own connection (stores are shared by processes: pytest, the CLI,
parallel CI jobs), in WAL mode so readers never block the writer, with a busy timeout
so concurrent writers wait for each other instead of failing.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from harness.errors import HarnessError
from harness.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, TABLES

ENV = "ADAPTER_HARNESS_STORE"
BUSY_TIMEOUT_S = 60.0


class StoreError(HarnessError):
    """The run-store file cannot be used (damaged, foreign, too new, locked)."""


def default_path() -> Path:
    """``$ADAPTER_HARNESS_STORE``, else ``runs.sqlite3`` in the user data directory."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("adapter-harness", appauthor=False)) / "runs.sqlite3"


def store_disabled() -> bool:
    """``ADAPTER_HARNESS_STORE=off`` turns automatic saving off (e.g. throw-away runs)."""
    return os.environ.get(ENV, "").strip().lower() in ("off", "none", "0", "false")


def _writable(path: Path) -> bool:
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


@contextmanager
def connect(path: Path, *, create: bool) -> Iterator[sqlite3.Connection]:
    """A checked connection to the store at ``path``; every SQLite failure becomes a StoreError.

    Transactions are explicit (``isolation_level=None``): callers use :func:`transaction`.
    """
    if path.exists() and not path.is_file():
        raise StoreError(f"{path}: run store path is a directory, not a file; set {ENV} to a file path")
    if not path.exists():
        if not create:
            raise StoreError(f"{path}: no run store yet (no run has been saved); run an evaluation first")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the run store: {exc}") from None
    try:
        _prepare(conn, path)
        yield conn
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(f"{path}: run store stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s") from None
        if "readonly" in str(exc) or "read-only" in str(exc) or not _writable(path):
            raise StoreError(f"{path}: run store is not writable (check the permissions of the file and of its "
                             f"folder {path.parent}, where SQLite writes its journal); or set {ENV} to another "
                             "file") from None
        raise StoreError(f"{path}: run store is damaged or unreadable ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: run store is damaged or not an SQLite file ({exc}); "
                         f"move it aside (nothing was written to it) or set {ENV} to another file") from None
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT: take the write lock up front so two writers queue, never deadlock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def insert_new(path: Path, sql: str, rows: list[tuple]) -> int:
    """Run ``sql`` (an ``INSERT OR IGNORE``) for every row in one transaction; return how many rows were added.

    Cache tables use this: a key another process stored meanwhile is kept as it is.
    """
    if not rows:
        return 0
    with connect(path, create=True) as conn, transaction(conn):
        before = conn.total_changes
        conn.executemany(sql, rows)
        return conn.total_changes - before


def chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    """Slices of ``items`` for ``IN (...)`` queries, well under SQLite's host-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Recognise the file (ours, empty, or foreign), create or migrate ours, switch on WAL."""
    conn.execute("PRAGMA foreign_keys = ON")
    app_id, version, tables = _header(conn)  # raises DatabaseError for a non-SQLite file
    if (app_id == 0 and version == 0 and not tables) or (app_id == APPLICATION_ID and version < SCHEMA_VERSION):
        app_id, version, tables = _create_or_migrate(conn)
    if app_id != APPLICATION_ID:
        listing = ", ".join(sorted(tables)) or "none"
        raise StoreError(
            f"{path}: this SQLite file belongs to another application (application_id={app_id}, tables: {listing}); "
            f"refusing to use it as the run store. Set {ENV} to another path"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: run store has schema version {version}, newer than this adapter-harness "
                         f"understands ({SCHEMA_VERSION}); upgrade adapter-harness or use another store file")
    missing = TABLES - tables
    if missing:
        raise StoreError(f"{path}: run store is damaged: tables {', '.join(sorted(missing))} are missing")
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        _switch_to_wal(conn)


def _header(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """application_id, schema version and tables, read in one transaction.

    Three autocommit reads could straddle another process's creating commit and see
    tables without the application id (a foreign file, wrongly).
    """
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        if own:
            conn.execute("COMMIT")
    tables.discard("sqlite_sequence")
    return app_id, version, tables


def _create_or_migrate(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """Under the write lock, re-read the header (another process may have done the work) and finish it."""
    with transaction(conn):
        app_id, version, tables = _header(conn)
        if app_id == 0 and version == 0 and not tables:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            app_id = APPLICATION_ID
        if app_id == APPLICATION_ID and version < SCHEMA_VERSION:
            _migrate(conn, version)
        return _header(conn)


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Set WAL once per file. The switch needs an exclusive lock and SQLite does not run
    the busy handler for it, so a concurrent reader makes it fail at once: retry until the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply migrations ``version`` … latest inside the caller's write transaction."""
    for step in range(version, SCHEMA_VERSION):
        for statement in _statements(MIGRATIONS[step]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {step + 1}")


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line.split("--", 1)[0] if "--" in line else line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in migration: {current.strip()[:60]}")
    return out
