"""Schema v2: the tokenizer hash of a run's model, and the result cache (harness/backends/cached.py).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("runs", sa.Column("tokenizer_sha256", sa.Text))
    op.create_table(
        "result_cache",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("output", sa.Text),
        sa.Column("logprob", sa.Float),
        sa.Column("created_at", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("result_cache_scope", "result_cache", ["scope"])
