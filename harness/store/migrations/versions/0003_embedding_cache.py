"""Schema v3: sentence embeddings of texts the ``similarity`` check compared (harness/store/embeddings.py).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "embedding_cache",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, primary_key=True),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
