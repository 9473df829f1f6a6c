"""issued documents immutable below the ORM: an issued invoice's buyer and seller snapshots,
its lines, issued reminders and the audit log refuse changes in the database itself

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0008, plus the frozen parties (compared as text: PostgreSQL's json has no equality).
DOCUMENT_COLUMNS = (
    "kind", "series", "year", "number", "employer_id", "credited_invoice_id", "period_start",
    "period_end", "issue_date", "due_date", "subtotal_ore", "vat_rate_bp", "vat_ore",
    "total_ore", "payment_id", "reason", "issued_at", "buyer", "seller",
)
WRITE_ONCE = ("pdf", "pdf_sha256", "timesheet_pdf", "timesheet_sha256", "ubl_xml", "ubl_sha256")
# A reminder is written whole when it is sent (its PDF beside it, once).
REMINDER_COLUMNS = (
    "invoice_id", "level", "sent_on", "principal_ore", "fee_ore", "compensation_ore",
    "interest_from", "interest_to", "interest_days", "interest_rate_bp", "interest_ore",
    "total_due_ore", "email_to", "created_at",
)
ISSUED = "(SELECT number FROM invoices WHERE id = {row}.invoice_id) IS NOT NULL"


def _triggers(columns: tuple[str, ...], write_once: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in columns)
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


def _postgresql() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION refuse_issued_line_change() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') AND {ISSUED.format(row="OLD")} THEN
            RAISE EXCEPTION 'a line of issued invoice % cannot change', OLD.invoice_id;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') AND {ISSUED.format(row="NEW")} THEN
            RAISE EXCEPTION 'issued invoice % cannot get lines', NEW.invoice_id;
          END IF;
          RETURN COALESCE(NEW, OLD);
        END $$ LANGUAGE plpgsql;
        """
    )
    op.execute(
        "CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines "
        "FOR EACH ROW EXECUTE FUNCTION refuse_issued_line_change()"
    )
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in REMINDER_COLUMNS)
    once = " OR ".join(
        f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in ("pdf", "pdf_sha256")
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION refuse_reminder_change() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR {changed} OR {once} THEN
            RAISE EXCEPTION 'a sent reminder cannot change';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        """
    )
    op.execute(
        "CREATE TRIGGER reminders_immutable BEFORE UPDATE OR DELETE ON reminders "
        "FOR EACH ROW EXECUTE FUNCTION refuse_reminder_change()"
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'the audit log is append-only';
        END $$ LANGUAGE plpgsql;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
    )


def _sqlite() -> None:
    for event, row in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
        op.execute(
            f"""
            CREATE TRIGGER invoice_lines_immutable_{event.lower()} BEFORE {event} ON invoice_lines
            WHEN {ISSUED.format(row=row)}
            BEGIN SELECT RAISE(ABORT, 'lines of issued invoices cannot change'); END
            """
        )
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in REMINDER_COLUMNS)
    once = " OR ".join(
        f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in ("pdf", "pdf_sha256")
    )
    op.execute(
        f"""
        CREATE TRIGGER reminders_immutable_update BEFORE UPDATE ON reminders
        WHEN {changed} OR {once}
        BEGIN SELECT RAISE(ABORT, 'a sent reminder cannot change'); END
        """
    )
    op.execute(
        """
        CREATE TRIGGER reminders_immutable_delete BEFORE DELETE ON reminders
        BEGIN SELECT RAISE(ABORT, 'a sent reminder cannot be deleted'); END
        """
    )
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"""
            CREATE TRIGGER audit_events_append_only_{event.lower()} BEFORE {event} ON audit_events
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
            """
        )


def upgrade() -> None:
    _triggers(DOCUMENT_COLUMNS, WRITE_ONCE)
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS invoice_lines_immutable ON invoice_lines")
        op.execute("DROP TRIGGER IF EXISTS reminders_immutable ON reminders")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        for function in ("refuse_issued_line_change", "refuse_reminder_change", "refuse_audit_change"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in (
            "invoice_lines_immutable_update", "invoice_lines_immutable_delete",
            "invoice_lines_immutable_insert", "reminders_immutable_update",
            "reminders_immutable_delete", "audit_events_append_only_update",
            "audit_events_append_only_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    _triggers(DOCUMENT_COLUMNS[:-2], WRITE_ONCE)  # 0008's invoice trigger again
