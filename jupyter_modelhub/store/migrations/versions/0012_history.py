"""the history: every change with who, when, from which client, and the old and new values

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:35:00.000000

Append-only; no foreign keys, so a deleted model's or endpoint's history stays.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("client", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_history_model", "history", ["model", "id"])
    op.create_index("ix_history_endpoint", "history", ["endpoint", "id"])
    op.create_index("ix_history_time", "history", ["time"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_history_time", table_name="history")
    op.drop_index("ix_history_endpoint", table_name="history")
    op.drop_index("ix_history_model", table_name="history")
    op.drop_table("history")
