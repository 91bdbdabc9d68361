"""Schema v1: runs, their suites, thresholds, cases and scores.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def _run_fk() -> sa.Column:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("adapter", sa.Text),
        sa.Column("model_sha256", sa.Text),
        sa.Column("adapter_sha256", sa.Text),
        sa.Column("identity_details", sa.Text, nullable=False),
        sa.Column("baseline_identity", sa.Text),
        sa.Column("baseline_run", sa.Integer, sa.ForeignKey("runs.id")),
        sa.Column("harness_version", sa.Text, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "suites",
        _run_fk(),
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text),
        sa.Column("generation", sa.Text),
        sa.Column("skipped", sa.Text),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
    )
    op.create_table(
        "thresholds",
        _run_fk(),
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
    )
    op.create_table(
        "cases",
        _run_fk(),
        sa.Column("suite_path", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("output", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
    )
    op.create_table(
        "scores",
        _run_fk(),
        sa.Column("suite_path", sa.Text, primary_key=True),
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("check", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
    )
    op.create_index("runs_created", "runs", ["created_at"])
