"""traffic_samples: deployments' request counters read by the server over time

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:30:00.000000

One row per deployment per read (deploy.series): when (``at``, milliseconds since the epoch, so
the reader can group rows into steps in SQL on SQLite and PostgreSQL alike), cumulative
requests, errors and the latency histogram, as the deployment's runtime counts them, and what
was added since the deployment's row before (a restart counted from zero). The charts
of an endpoint's traffic over time read a window of them by endpoint and time; the sampler
deletes rows past its retention by time.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: Union[str, Sequence[str], None] = "0016"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "traffic_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("deployment", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("latency_count", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("latency_buckets", sa.JSON(), nullable=False),
        sa.Column("requests_added", sa.BigInteger(), nullable=False),
        sa.Column("errors_added", sa.BigInteger(), nullable=False),
        sa.Column("timed_added", sa.BigInteger(), nullable=False),
        sa.Column("restarted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_traffic_samples_endpoint_at", "traffic_samples", ["endpoint", "at"])
    op.create_index(op.f("ix_traffic_samples_at"), "traffic_samples", ["at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_traffic_samples_at"), table_name="traffic_samples")
    op.drop_index("ix_traffic_samples_endpoint_at", table_name="traffic_samples")
    op.drop_table("traffic_samples")
