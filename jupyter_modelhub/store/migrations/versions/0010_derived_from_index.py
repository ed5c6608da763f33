"""an index on model_versions.derived_from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:10:00.000000

Every read of a version lists the versions derived from it (its conversions): without an index
that was a scan of every version, so a GET of one version grew slower as the registry grew.
"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_model_versions_derived_from", "model_versions", ["derived_from"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_model_versions_derived_from", table_name="model_versions")
