"""planned shifts only from when they were planned, and not on public holidays unless the
pattern says so: planned_slots.planned_from (the Monday of the week the pattern was saved) and
placements.planned_on_holidays

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("planned_slots", sa.Column("planned_from", sa.Date(), nullable=True))
    # Patterns saved before count from this week: nothing is projected into weeks gone by.
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Copenhagen")).date()  # noqa: TID251 (a migration's own moment)
    monday = today - timedelta(days=today.weekday())
    op.execute(sa.text("UPDATE planned_slots SET planned_from = :day").bindparams(day=monday))
    with op.batch_alter_table("planned_slots") as batch:
        batch.alter_column("planned_from", existing_type=sa.Date(), nullable=False)
    op.add_column(
        "placements",
        sa.Column(
            "planned_on_holidays", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        batch.drop_column("planned_on_holidays")
    with op.batch_alter_table("planned_slots") as batch:
        batch.drop_column("planned_from")
