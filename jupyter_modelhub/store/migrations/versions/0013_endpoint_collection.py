"""endpoints keep their payload collection settings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:00:00.000000

An endpoint's host records sampled requests and answers (monitoring.collector) when its
``collect`` settings say so: what to record, the sample rate, retention and size limits. None
for every endpoint made before: collection off.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("collect", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("collect")
