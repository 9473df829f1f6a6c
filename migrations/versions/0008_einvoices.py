"""e-invoices: an issued invoice's UBL document and its checksum, written once like its PDFs,
and its way to a public body through the access point (state, reference, reason, attempts)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0007 (the document columns of an issued invoice, and its archived documents, now with
# the e-invoice).
DOCUMENT_COLUMNS = (
    "kind", "series", "year", "number", "employer_id", "credited_invoice_id", "period_start",
    "period_end", "issue_date", "due_date", "subtotal_ore", "vat_rate_bp", "vat_ore",
    "total_ore", "payment_id", "reason", "issued_at",
)
WRITE_ONCE = ("pdf", "pdf_sha256", "timesheet_pdf", "timesheet_sha256", "ubl_xml", "ubl_sha256")


def _triggers(columns: tuple[str, ...], write_once: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
        once = " OR ".join(
            f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in write_once
        )
        op.execute("DROP TRIGGER IF EXISTS invoices_immutable ON invoices")
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION refuse_issued_invoice_change() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                IF OLD.number IS NOT NULL THEN
                  RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.id;
                END IF;
                RETURN OLD;
              END IF;
              IF OLD.number IS NOT NULL AND ({changed} OR {once}) THEN
                RAISE EXCEPTION 'issued invoice % cannot change', OLD.id;
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices "
            "FOR EACH ROW EXECUTE FUNCTION refuse_issued_invoice_change()"
        )
    elif bind.dialect.name == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
        once = " OR ".join(
            f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in write_once
        )
        op.execute("DROP TRIGGER IF EXISTS invoices_immutable_update")
        op.execute(
            f"""
            CREATE TRIGGER invoices_immutable_update BEFORE UPDATE ON invoices
            WHEN OLD.number IS NOT NULL AND ({changed} OR {once})
            BEGIN SELECT RAISE(ABORT, 'issued invoices cannot change'); END
            """
        )


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("ubl_xml", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("ubl_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "einvoice_state",
                sa.Enum(
                    "queued", "sent", "accepted", "rejected", "failed",
                    name="einvoicestate", native_enum=False, length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("einvoice_reference", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("einvoice_error", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("einvoice_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("einvoice_sent_at", sa.DateTime(), nullable=True))
    _triggers(DOCUMENT_COLUMNS, WRITE_ONCE)


def downgrade() -> None:
    _triggers(DOCUMENT_COLUMNS, WRITE_ONCE[:-2])  # 0007's triggers again
    with op.batch_alter_table("invoices") as batch_op:
        for column in (
            "einvoice_sent_at", "einvoice_attempts", "einvoice_error", "einvoice_reference",
            "einvoice_state",
        ):
            batch_op.drop_column(column)
        batch_op.drop_column("ubl_sha256")
        batch_op.drop_column("ubl_xml")
