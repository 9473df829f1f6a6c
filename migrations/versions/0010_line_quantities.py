"""one billing rule for hours: every invoice line stores the quantity it prints (hundredths of
an hour, or of a piece for a price reduction) and its unit, so printed quantity × printed
price = printed amount in every document

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ISSUED = "(SELECT number FROM invoices WHERE id = {row}.invoice_id) IS NOT NULL"
# Existing lines are hour lines: their quantity is what they already printed (the minutes in
# hours, rounded half up to the hundredth). Their amounts stay as issued.
BACKFILL = "UPDATE invoice_lines SET quantity_hundredths = (minutes * 200 + 60) / 120"


def upgrade() -> None:
    op.add_column(
        "invoice_lines",
        sa.Column("quantity_hundredths", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "invoice_lines",
        sa.Column("unit_code", sa.String(length=3), nullable=False, server_default="HUR"),
    )
    # The lines of issued invoices refuse updates (0009): step around that trigger for the
    # backfill of the new columns only, then put it back as it was.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE invoice_lines DISABLE TRIGGER invoice_lines_immutable")
        op.execute(BACKFILL)
        op.execute("ALTER TABLE invoice_lines ENABLE TRIGGER invoice_lines_immutable")
    else:
        op.execute("DROP TRIGGER IF EXISTS invoice_lines_immutable_update")
        op.execute(BACKFILL)
        op.execute(
            f"""
            CREATE TRIGGER invoice_lines_immutable_update BEFORE UPDATE ON invoice_lines
            WHEN {ISSUED.format(row="OLD")}
            BEGIN SELECT RAISE(ABORT, 'lines of issued invoices cannot change'); END
            """
        )


def _sqlite_line_triggers() -> None:
    for event, row in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
        op.execute(f"DROP TRIGGER IF EXISTS invoice_lines_immutable_{event.lower()}")
        op.execute(
            f"""
            CREATE TRIGGER invoice_lines_immutable_{event.lower()} BEFORE {event} ON invoice_lines
            WHEN {ISSUED.format(row=row)}
            BEGIN SELECT RAISE(ABORT, 'lines of issued invoices cannot change'); END
            """
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_lines") as batch:
        batch.drop_column("unit_code")
        batch.drop_column("quantity_hundredths")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_line_triggers()  # a batch rebuild of the table leaves its triggers behind
