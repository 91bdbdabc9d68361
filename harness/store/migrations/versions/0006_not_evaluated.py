"""Schema v6: the cases each suite could not score (and why), and the critical ones among them.

Without them a run read back from the store lost those cases, and a suite that failed only
because a critical case went unscored read back as passed.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column("suites", sa.Column("not_evaluated", sa.Text))
    op.add_column("suites", sa.Column("critical_not_evaluated", sa.Text))
