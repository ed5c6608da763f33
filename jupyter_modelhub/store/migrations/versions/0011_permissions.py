"""permissions per model: who created each model, and the grants on it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:40:00.000000

A model's creator manages it, so ``models.created_by`` is filled from the first version's
``created_by`` for the models registered before it was recorded. ``grants`` holds the read,
write and manage permissions given to users, groups and ``everyone``.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=128), nullable=False, server_default=""))
    op.execute(
        "UPDATE models SET created_by = COALESCE((SELECT v.created_by FROM model_versions v "
        "WHERE v.model_id = models.id ORDER BY v.version LIMIT 1), '')"
    )
    with op.batch_alter_table("models") as batch:
        batch.alter_column("created_by", server_default=None)
    op.create_table(
        "grants",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=192), nullable=False),
        sa.Column("permission", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.Column("granted_time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id", "principal"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("grants")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("created_by")
