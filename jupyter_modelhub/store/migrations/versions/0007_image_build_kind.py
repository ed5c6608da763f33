"""the image build's operation kind is named ``image_build`` (it was ``build``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 13:00:00.000000

One name per thing: the operation that builds a serving image is an image build in Python, REST,
magics and the panel. Rows written before keep their history under the new name, so
``%operations --kind image_build`` lists them too (``--kind build`` is still accepted).
"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("UPDATE operations SET kind = 'image_build' WHERE kind = 'build'")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("UPDATE operations SET kind = 'build' WHERE kind = 'image_build'")
