"""What differs between the two store engines: connecting, recognising a store, locking, driver errors.

SQLite marks its files (``application_id``, ``user_version``) and needs WAL and a busy timeout;
PostgreSQL recognises a store by its schema-version table and serialises first-time creation with
an advisory lock. The queries themselves are the same SQLAlchemy Core on both (``codec.py``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.pool import NullPool

from harness.store import migrate
from harness.store.location import ENV, Location, StoreError
from harness.store.schema import APPLICATION_ID, SCHEMA_VERSION, TABLES, VERSION_TABLE

BUSY_TIMEOUT_S = 60.0


# ---------------------------------------------------------------- engines

def sqlite_engine(path: Path) -> sa.Engine:
    # NullPool: a connection per call, closed after it (the file may be moved or shared by processes).
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool,
                              connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # transactions are ours (below), not pysqlite's implicit ones
        dbapi_conn.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("harness_write") else "BEGIN")

    return engine


def server_engine(where: Location) -> sa.Engine:
    try:
        import psycopg  # noqa: F401  (the driver is an optional extra)
    except ImportError:
        raise StoreError(f"{where}: a PostgreSQL run store needs psycopg 3: "
                         "pip install 'adapter-harness[postgres]'") from None
    return sa.create_engine(where.url, pool_pre_ping=True, pool_size=2, max_overflow=4,
                            connect_args={"connect_timeout": 10})


def insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table):
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table).on_conflict_do_nothing()


# ---------------------------------------------------------------- errors

@contextmanager
def errors(where: Location) -> Iterator[None]:
    """Driver failures (SQLite's or PostgreSQL's) as one StoreError that names the store and what to do."""
    try:
        yield
    except exc.DBAPIError as error:
        orig = error.orig
        if isinstance(orig, sqlite3.Error):
            raise _sqlite_error(where.path, orig) from None
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if error.connection_invalidated or isinstance(error, exc.OperationalError):
            raise StoreError(f"{where}: cannot use the PostgreSQL run store: {first}") from None
        raise StoreError(f"{where}: the PostgreSQL run store refused a statement: {first}") from None
    except exc.ArgumentError as error:
        raise StoreError(f"{where}: not a usable store address: {error}") from None


def _sqlite_error(path: Path, error: sqlite3.Error) -> StoreError:
    text = str(error)
    if isinstance(error, sqlite3.OperationalError):
        if "locked" in text or "busy" in text:
            return StoreError(f"{path}: run store stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s")
        if "readonly" in text or "read-only" in text or not _writable(path):
            return StoreError(f"{path}: run store is not writable (check the permissions of the file and of its "
                              f"folder {path.parent}, where SQLite writes its journal); or set {ENV} to another file")
        return StoreError(f"{path}: run store is damaged or unreadable ({text})")
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.IntegrityError):
        return StoreError(f"{path}: run store is damaged or not an SQLite file ({text}); "
                          f"move it aside (nothing was written to it) or set {ENV} to another file")
    return StoreError(f"{path}: the run store refused a write ({text})")


def _writable(path: Path) -> bool:
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


# ---------------------------------------------------------------- SQLite

def check_sqlite_path(path: Path, *, create: bool) -> None:
    if path.exists() and not path.is_file():
        raise StoreError(f"{path}: run store path is a directory, not a file; set {ENV} to a file path")
    if not path.exists():
        if not create:
            raise StoreError(f"{path}: no run store yet (no run has been saved); run an evaluation first")
        path.parent.mkdir(parents=True, exist_ok=True)


def prepare_sqlite(conn: sa.Connection, path: Path) -> None:
    """Recognise the file (ours, empty, or foreign), create or migrate ours, switch on WAL."""
    app_id, version, tables = _sqlite_header(conn)  # raises DatabaseError for a non-SQLite file
    if (app_id == 0 and version == 0 and not tables) or (app_id == APPLICATION_ID and version < SCHEMA_VERSION):
        app_id, version, tables = _sqlite_create_or_migrate(conn)
    if app_id != APPLICATION_ID:
        listing = ", ".join(sorted(tables)) or "none"
        raise StoreError(
            f"{path}: this SQLite file belongs to another application (application_id={app_id}, tables: {listing}); "
            f"refusing to use it as the run store. Set {ENV} to another path"
        )
    _check_version_and_tables(str(path), version, tables)
    raw = conn.connection.dbapi_connection
    if raw.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        _switch_to_wal(raw)


def _check_version_and_tables(where: str, version: int, tables: set[str]) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(f"{where}: run store has schema version {version}, newer than this adapter-harness "
                         f"understands ({SCHEMA_VERSION}); upgrade adapter-harness or use another store")
    missing = TABLES - tables
    if missing:
        raise StoreError(f"{where}: run store is damaged: tables {', '.join(sorted(missing))} are missing")


def _sqlite_header(conn: sa.Connection) -> tuple[int, int, set[str]]:
    """application_id, schema version and tables, read in one transaction (in the caller's, if any).

    Three autocommit reads could straddle another process's creating commit and see
    tables without the application id (a foreign file, wrongly).
    """
    own = not conn.in_transaction()
    trans = conn.begin() if own else None
    try:
        app_id = conn.exec_driver_sql("PRAGMA application_id").scalar()
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
    finally:
        if trans is not None:
            trans.commit()
    return app_id, version, tables - {"sqlite_sequence", VERSION_TABLE}


def _sqlite_create_or_migrate(conn: sa.Connection) -> tuple[int, int, set[str]]:
    """Under the write lock, re-read the header (another process may have done the work) and finish it."""
    with conn.execution_options(harness_write=True).begin():
        app_id, version, tables = _sqlite_header(conn)
        if app_id == 0 and version == 0 and not tables:
            conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            app_id = APPLICATION_ID
        if app_id == APPLICATION_ID and version < SCHEMA_VERSION:
            version = migrate.upgrade(conn, legacy_version=version)
            conn.exec_driver_sql(f"PRAGMA user_version = {version}")  # releases before Alembic read this
        return _sqlite_header(conn)


def _switch_to_wal(raw: sqlite3.Connection) -> None:
    """Set WAL once per file. The switch needs an exclusive lock and SQLite does not run
    the busy handler for it, so a concurrent reader makes it fail at once: retry until the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            raw.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# ---------------------------------------------------------------- PostgreSQL

def prepare_server(conn: sa.Connection, where: Location) -> None:
    """Create or migrate the tables once (under an advisory lock), or refuse a database that is not ours."""
    with conn.begin():
        version, tables = _server_header(conn)
        if version == SCHEMA_VERSION and TABLES <= tables:
            return
        # One creator at a time; the lock ends with this transaction. Keyed by our application id.
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(APPLICATION_ID)))
        version, tables = _server_header(conn)
        if version == 0 and tables & TABLES:
            raise StoreError(f"{where}: this database holds tables named like the run store's "
                             f"({', '.join(sorted(tables & TABLES))}) but no {VERSION_TABLE} table: they belong to "
                             "another application. Use another database (or schema) for the run store")
        if version < SCHEMA_VERSION:
            version = migrate.upgrade(conn)
            version, tables = _server_header(conn)
        _check_version_and_tables(str(where), version, tables)


def _server_header(conn: sa.Connection) -> tuple[int, set[str]]:
    tables = set(sa.inspect(conn).get_table_names())
    version = migrate.recorded_version(conn) if VERSION_TABLE in tables else 0
    return version, tables - {VERSION_TABLE}
