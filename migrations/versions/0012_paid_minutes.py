"""payroll corrections: each shift remembers the minutes the payroll files have paid, so a
shift corrected after it was paid goes into the next file with the difference

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("time_entries", sa.Column("paid_minutes", sa.Integer(), nullable=True))
    # Every shift in a payroll file so far was paid in full.
    op.execute(
        "UPDATE time_entries SET paid_minutes = minutes WHERE payroll_export_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("time_entries") as batch:
        batch.drop_column("paid_minutes")
