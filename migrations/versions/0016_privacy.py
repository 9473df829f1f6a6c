"""personal data: a worker's erasure (restricted to bookkeeping) and later anonymisation

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workers", sa.Column("erased_at", sa.DateTime(), nullable=True))
    op.add_column(
        "workers", sa.Column("erasure_reason", sa.Text(), nullable=False, server_default="")
    )
    op.add_column("workers", sa.Column("anonymised_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("anonymised_at")
        batch.drop_column("erasure_reason")
        batch.drop_column("erased_at")
