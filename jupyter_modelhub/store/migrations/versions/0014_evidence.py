"""evidence for promotions: evaluations, parity reports and approvals of versions

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:10:00.000000

An alias under ``c.ModelHubApp.promotion_rules`` moves only to a version whose evidence passes
the rules (``registry.promotions``).
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["model_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_version_kind", "evidence", ["version_id", "kind", "id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_evidence_version_kind", table_name="evidence")
    op.drop_table("evidence")
