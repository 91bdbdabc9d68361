"""Schema v4: the regression rule's evidence per threshold, and every sampled output of a case.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("thresholds", sa.Column("drop_upper", sa.Float))
    op.add_column("thresholds", sa.Column("decision", sa.Text, nullable=False, server_default=""))
    op.add_column("cases", sa.Column("samples", sa.Text, nullable=False, server_default="[]"))
    op.add_column("cases", sa.Column("pass_fraction", sa.Float))
