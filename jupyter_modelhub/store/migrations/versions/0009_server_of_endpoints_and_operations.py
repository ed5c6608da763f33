"""endpoints and operations record the server that runs them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00.000000

Servers that share a database (and an artifact bucket) but no disk each run their own endpoints'
host processes and their own operations' workers (an operation's inputs are files under the
server that created it). Each row records which server (HOSTNAME:ROOT), so another server
neither claims, adopts nor fails it, and refuses to change, undeploy or cancel what it cannot
stop. Rows made before have none: they belong to the one server there was.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("endpoints", "operations")


def upgrade() -> None:
    """Upgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("server", sa.String(length=512), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("server")
