"""ids never reused: images and operations get SQLite's AUTOINCREMENT

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:00:00.000000

Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so deleting the newest image
record hands its id to the next one (``%image 3`` then names another image). Rebuilding the
table with AUTOINCREMENT keeps every row and id; SQLite then remembers the largest id ever used.
Only these two tables: their ids are what users name them by, and nothing refers to them by a
foreign key, so rebuilding them touches no other table. PostgreSQL's sequences never reuse an
id: nothing to do there.
"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("images", "operations")


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
