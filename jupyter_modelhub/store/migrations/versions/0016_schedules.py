"""schedules: cron expressions with a time zone that start operations at their times

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 20:00:00.000000

One row per schedule (operations.schedules): what it starts (an operation kind and its inputs),
when it fires next, what its last run started, and how many times it missed because no server
was running. Servers that share the database claim a due time with a conditional UPDATE of
``next_run_at``; the index finds the due ones.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: Union[str, Sequence[str], None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("cron", sa.String(length=128), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("missed_policy", sa.String(length=16), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_operation", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.JSON(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("last_missed_at", sa.DateTime(), nullable=True),
        sa.Column("created_time", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_time", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_schedules_due", "schedules", ["enabled", "next_run_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.drop_table("schedules")
