"""write-offs: an invoice's open amount booked as a loss (konstateret tab på debitorer), once
per invoice, with its VAT share; the invoice's written-off amount, and the journal's account
for bad debts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_offs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("vat_ore", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "amount_ore > 0 AND vat_ore >= 0 AND vat_ore <= amount_ore",
            name=op.f("ck_write_offs_sane"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_write_offs_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_write_offs_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_offs")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_write_offs_invoice_id")),
    )
    # A write-off is a bookkeeping record: like a sent reminder, it never changes or goes.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION refuse_write_off_change() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'a write-off cannot change';
            END $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER write_offs_immutable BEFORE UPDATE OR DELETE ON write_offs "
            "FOR EACH ROW EXECUTE FUNCTION refuse_write_off_change()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER write_offs_immutable_{event.lower()} BEFORE {event} ON write_offs
                BEGIN SELECT RAISE(ABORT, 'a write-off cannot change'); END
                """
            )
    op.add_column(
        "invoices",
        sa.Column("written_off_ore", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "organisation_settings",
        sa.Column("account_bad_debts", sa.String(length=10), nullable=False, server_default="1745"),
    )


def downgrade() -> None:
    with op.batch_alter_table("organisation_settings") as batch:
        batch.drop_column("account_bad_debts")
    # Not a batch rebuild, which would leave the invoices' triggers behind (SQLite 3.35+ drops
    # a column in place).
    op.execute("ALTER TABLE invoices DROP COLUMN written_off_ore")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS write_offs_immutable ON write_offs")
        op.execute("DROP FUNCTION IF EXISTS refuse_write_off_change()")
    op.drop_table("write_offs")
