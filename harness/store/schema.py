"""The run store's tables, as SQLAlchemy Core sees them at the latest schema version.

The tables are created and upgraded by the Alembic migrations in ``harness/store/migrations``
(one revision per schema version: ``0001`` … ``0006``), never by ``metadata.create_all``: the
same steps then build a new SQLite file, a new PostgreSQL database, and upgrade stores written by
older releases. This module is what the queries (``codec.py``, ``result_cache.py``, ``embeddings.py``)
are written against; ``tests/store/test_schema.py`` checks that it equals what the migrations build.

An SQLite store is also marked with ``PRAGMA application_id`` (so a foreign SQLite file is recognised,
never written to) and ``PRAGMA user_version`` (the schema version, as releases before Alembic read it).
"""

from __future__ import annotations

import sqlalchemy as sa

# "AHRS" (adapter-harness run store) as a signed 32-bit integer, as SQLite stores it.
APPLICATION_ID = int.from_bytes(b"AHRS", "big")

# Alembic's bookkeeping table. Not "alembic_version": a team's PostgreSQL database may hold
# another application's Alembic history.
VERSION_TABLE = "harness_schema_version"

# Schema version n is Alembic revision f"{n:04d}"; SQLite stores written before Alembic carry only n.
SCHEMA_VERSION = 6


def revision(version: int) -> str:
    return f"{version:04d}"


def version_of(rev: str | None) -> int:
    return int(rev) if rev else 0


metadata = sa.MetaData()

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),            # UTC, ISO 8601
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("adapter", sa.Text),
    sa.Column("model_sha256", sa.Text),
    sa.Column("adapter_sha256", sa.Text),
    sa.Column("identity_details", sa.Text, nullable=False),      # JSON: ModelIdentity.details
    sa.Column("baseline_identity", sa.Text),                     # JSON: ModelIdentity the thresholds compared with
    sa.Column("baseline_run", sa.Integer, sa.ForeignKey("runs.id")),
    sa.Column("harness_version", sa.Text, nullable=False),
    sa.Column("versions", sa.Text, nullable=False),              # JSON: python / torch / transformers / peft
    sa.Column("provenance", sa.Text, nullable=False),            # JSON: adapter manifest, may be {}
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("verdict", sa.Text, nullable=False),               # 'pass' | 'fail'
    sa.Column("tokenizer_sha256", sa.Text),                      # v2
    sqlite_autoincrement=True,
)
sa.Index("runs_created", runs.c.created_at)

suites = sa.Table(
    "suites", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text),                                # suite file as it was when the run was saved
    sa.Column("generation", sa.Text),                            # JSON: the suite's generation settings
    sa.Column("skipped", sa.Text),
    sa.Column("metrics", sa.Text, nullable=False),               # JSON object, in the run's order
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("rendered_prompt", sa.Text),                       # v5: first prompt as the model saw it
    sa.Column("not_evaluated", sa.Text),                         # v6: JSON {case id: why it was not scored}
    sa.Column("critical_not_evaluated", sa.Text),                # v6: JSON {case id: YAML line}, critical ones
)

thresholds = sa.Table(
    "thresholds", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite_path", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("n_cases", sa.Integer, nullable=False),
    sa.Column("holds", sa.Boolean, nullable=False),
    sa.Column("higher_is_better", sa.Boolean, nullable=False),
    sa.Column("max_regression", sa.Float, nullable=False),
    sa.Column("baseline", sa.Float),
    sa.Column("drop_upper", sa.Float),                           # v4: upper bound of the paired drop
    sa.Column("decision", sa.Text, nullable=False, server_default=""),  # v4: the rule in words
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite_path", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("case_id", sa.Text, primary_key=True),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),                # JSON: a string, or [[role, content], ...]
    sa.Column("output", sa.Text),
    sa.Column("tags", sa.Text, nullable=False),                  # JSON list
    sa.Column("critical", sa.Boolean, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),             # denormalised for queries
    sa.Column("samples", sa.Text, nullable=False, server_default="[]"),  # v4: JSON list of outputs
    sa.Column("pass_fraction", sa.Float),                        # v4
)

scores = sa.Table(
    "scores", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suite_path", sa.Text, primary_key=True),
    sa.Column("case_id", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("check", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),               # JSON object
)

# v2: backend results found by ``key`` (sha256 of everything that decides them); ``scope`` is the
# hash of all of that but the request, so one model's entries can be counted or dropped.
result_cache = sa.Table(
    "result_cache", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),                  # 'generate' | 'loglikelihood'
    sa.Column("output", sa.Text),
    sa.Column("logprob", sa.Float),
    sa.Column("created_at", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)
sa.Index("result_cache_scope", result_cache.c.scope)

# v3: sentence embeddings of texts the ``similarity`` check compared.
embedding_cache = sa.Table(
    "embedding_cache", metadata,
    sa.Column("model", sa.Text, primary_key=True),               # sha256 of the embedding model + versions
    sa.Column("text", sa.Text, primary_key=True),                # sha256 of the embedded text
    sa.Column("vector", sa.LargeBinary, nullable=False),         # float32 little-endian, unit length
    sqlite_with_rowid=False,
)

# Tables every current store has; a store without some of them is damaged.
TABLES = frozenset(metadata.tables)
