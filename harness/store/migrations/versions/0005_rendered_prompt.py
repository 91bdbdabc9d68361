"""Schema v5: each suite's first prompt as the model saw it (its chat template applied).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("suites", sa.Column("rendered_prompt", sa.Text))
