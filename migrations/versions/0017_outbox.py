"""one durable outbox for everything that leaves the portal; reminders count from delivery

Every e-mail, e-invoice and (later) webhook is a row of outbox_messages, written in the
transaction of the fact it reports and sent until delivered or given up. A reminder gets the
moment its e-mail was delivered (written once, like its PDF, which is now stored as it went
out). Upgrading keeps what was in flight: invoices not yet e-mailed and e-invoices not yet
handed over get their outbox rows, and reminders recorded before count as delivered then.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 22:00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0009: a reminder is written whole when it is recorded; these are written once.
REMINDER_COLUMNS = (
    "invoice_id", "level", "sent_on", "principal_ore", "fee_ore", "compensation_ore",
    "interest_from", "interest_to", "interest_days", "interest_rate_bp", "interest_ore",
    "total_due_ore", "email_to", "created_at",
)
ONCE_BEFORE = ("pdf", "pdf_sha256")
ONCE_NOW = ("pdf", "pdf_sha256", "delivered_at", "delivered_on")


def _reminder_triggers(once_columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in REMINDER_COLUMNS)
        once = " OR ".join(
            f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in once_columns
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
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in REMINDER_COLUMNS)
    once = " OR ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in once_columns)
    op.execute("DROP TRIGGER IF EXISTS reminders_immutable_update")
    op.execute(
        f"""
        CREATE TRIGGER reminders_immutable_update BEFORE UPDATE ON reminders
        WHEN {changed} OR {once}
        BEGIN SELECT RAISE(ABORT, 'a sent reminder cannot change'); END
        """
    )


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("email", "einvoice", "webhook", name="outboxchannel", native_enum=False,
                    create_constraint=False, length=20),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=120), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("reminder_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum("queued", "sending", "retrying", "delivered", "given_up", name="outboxstate",
                    native_enum=False, create_constraint=False, length=20),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("given_up_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_messages_attempts_not_negative")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"],
                                name=op.f("fk_outbox_messages_invoice_id_invoices")),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminders.id"],
                                name=op.f("fk_outbox_messages_reminder_id_reminders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_outbox_messages_invoice_id"), "outbox_messages", ["invoice_id"])
    op.create_index(op.f("ix_outbox_messages_reminder_id"), "outbox_messages", ["reminder_id"])
    op.add_column("reminders", sa.Column("delivered_at", sa.DateTime(), nullable=True))
    op.add_column("reminders", sa.Column("delivered_on", sa.Date(), nullable=True))
    _carry_over()
    _reminder_triggers(ONCE_NOW)


def _carry_over() -> None:
    """What was in flight before the outbox existed is not lost by the upgrade."""
    bind = op.get_bind()
    # Reminders recorded before were counted as sent on their day: they stay so.
    bind.execute(
        sa.text("UPDATE reminders SET delivered_at = created_at, delivered_on = sent_on "
                "WHERE delivered_at IS NULL")
    )
    now = datetime.now(UTC).replace(tzinfo=None)  # noqa: TID251 (a migration's own moment)
    outbox = sa.table(
        "outbox_messages", *(sa.column(name) for name in (
            "kind", "channel", "recipient", "subject", "body", "message_id", "dedupe_key",
            "invoice_id", "state", "attempts", "next_attempt_at", "last_error", "reference",
            "created_at",
        ))
    )
    rows = []
    pending = bind.execute(
        sa.text("SELECT id, kind, buyer, delivery_state, ubl_sha256, einvoice_state "
                "FROM invoices WHERE number IS NOT NULL")
    ).mappings()
    for invoice in pending:
        buyer = invoice["buyer"]
        if isinstance(buyer, str):
            import json

            buyer = json.loads(buyer or "{}")
        buyer = buyer or {}
        kind = "credit_note" if invoice["kind"] == "credit_note" else "invoice"
        if invoice["delivery_state"] != "sent":
            rows.append((kind, "email", buyer.get("email") or "", f"{kind}:{invoice['id']}",
                         invoice["id"]))
        if invoice["einvoice_state"] in ("queued", "failed") or (
            invoice["einvoice_state"] is None and invoice["ubl_sha256"] and buyer.get("ean")
        ):
            rows.append(("einvoice", "einvoice", buyer.get("ean") or "",
                         f"einvoice:{invoice['id']}", invoice["id"]))
    if rows:
        op.bulk_insert(outbox, [
            {"kind": kind, "channel": channel, "recipient": recipient[:254], "subject": "",
             "body": "", "message_id": f"<{uuid.uuid4()}@smajob.local>", "dedupe_key": key,
             "invoice_id": invoice_id, "state": "queued", "attempts": 0,
             "next_attempt_at": now, "last_error": "", "reference": "", "created_at": now}
            for kind, channel, recipient, key, invoice_id in rows
        ])


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("delivered_on")
        batch.drop_column("delivered_at")
    _reminder_triggers(ONCE_BEFORE)
    if op.get_bind().dialect.name == "sqlite":  # the batch copy dropped the table's triggers
        op.execute(
            """
            CREATE TRIGGER IF NOT EXISTS reminders_immutable_delete BEFORE DELETE ON reminders
            BEGIN SELECT RAISE(ABORT, 'a sent reminder cannot be deleted'); END
            """
        )
    op.drop_index(op.f("ix_outbox_messages_reminder_id"), table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_invoice_id"), table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")
