"""image pushes: where each image record was pushed, with the digest the registry answered

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 13:30:00.000000

A table of its own rather than a JSON column on ``images``: a push is recorded once the
registry's digest is checked, by a row written in one transaction, and the same reference pushed
again updates its row (the unique constraint keeps one row per image and reference).
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "image_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_record_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=400), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("pushed_time", sa.DateTime(), nullable=False),
        sa.Column("pushed_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["image_record_id"], ["images.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("image_record_id", "reference", name="uq_image_pushes_reference"),
    )
    with op.batch_alter_table("image_pushes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_pushes_image_record_id"), ["image_record_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("image_pushes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_pushes_image_record_id"))
    op.drop_table("image_pushes")
