"""registry_generation: one number that every committed change moves (store.generation)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 01:00:00.000000

A single row (id 1). Sessions add one to it as the last statement of any transaction that
changed a table the registry's reads show, so a response remembered with the number read before
it was computed is current exactly while the number stays the same.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: Union[str, Sequence[str], None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    table = op.create_table(
        "registry_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("registry_generation")
