"""Bring a store's tables to the latest schema with the Alembic revisions in ``migrations/``.

Always called inside a transaction that holds the store's write lock (SQLite ``BEGIN IMMEDIATE``;
a PostgreSQL advisory lock), so concurrent first writers create the tables once, and a failed step
leaves the store as it was: both SQLite and PostgreSQL roll DDL back with the transaction.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa

from harness.store.schema import SCHEMA_VERSION, VERSION_TABLE, revision, version_of


@lru_cache(maxsize=1)
def _config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "harness.store:migrations")
    return cfg


def recorded_version(conn: sa.Connection) -> int:
    """The schema version Alembic recorded in this store (0: none recorded)."""
    from alembic.runtime.migration import MigrationContext

    ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return version_of(ctx.get_current_revision())


def upgrade(conn: sa.Connection, legacy_version: int = 0) -> int:
    """Apply every missing revision on ``conn`` (inside the caller's transaction); return the new version.

    ``legacy_version`` is the schema version of an SQLite store written before Alembic (its
    ``PRAGMA user_version``): that store is stamped at its version first, then upgraded.
    """
    from alembic import command

    cfg = _config()
    cfg.attributes["connection"] = conn
    try:
        if legacy_version and not recorded_version(conn):
            command.stamp(cfg, revision(legacy_version))
        command.upgrade(cfg, revision(SCHEMA_VERSION))
    finally:
        cfg.attributes.pop("connection", None)
    return recorded_version(conn)
