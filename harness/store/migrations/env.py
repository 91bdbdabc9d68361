"""Alembic environment of the run store: always driven from code, on a connection the store opened.

``harness/store/migrate.py`` passes the connection (already inside the transaction that holds the
store's write lock) in ``config.attributes["connection"]``; there is no alembic.ini and no URL here.
A new schema version is a new file in versions/ (copy the last one; never edit a released one).
"""

from alembic import context

from harness.store.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():  # joins the caller's transaction: all steps commit together or not at all
    context.run_migrations()
