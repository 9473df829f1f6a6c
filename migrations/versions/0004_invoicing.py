"""invoicing

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:44:42.720389
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('invoice_line_entries',
    sa.Column('invoice_line_id', sa.Integer(), nullable=False),
    sa.Column('time_entry_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['invoice_lines.id'], name=op.f('fk_invoice_line_entries_invoice_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['time_entry_id'], ['time_entries.id'], name=op.f('fk_invoice_line_entries_time_entry_id_time_entries')),
    sa.PrimaryKeyConstraint('invoice_line_id', 'time_entry_id', name=op.f('pk_invoice_line_entries'))
    )
    with op.batch_alter_table('invoice_line_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_entries_time_entry_id'), ['time_entry_id'], unique=False)

    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('released_entries', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('invoice_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cadence', sa.Enum('weekly', 'fortnightly', 'monthly', name='billingcadence', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('employer_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_ore', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('seller', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('delivery_state', sa.Enum('pending', 'sent', 'failed', name='deliverystate', native_enum=False, length=20), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('delivery_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('delivery_error', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(), nullable=True))

    create_immutability_triggers()


# The database itself refuses to change or delete an issued invoice's document columns,
# as a last line of defence behind the service layer and the ORM flush guard.
DOCUMENT_COLUMNS = (
    "kind", "series", "year", "number", "employer_id", "credited_invoice_id", "period_start",
    "period_end", "issue_date", "due_date", "subtotal_ore", "vat_rate_bp", "vat_ore",
    "total_ore", "payment_id",
)


def create_immutability_triggers() -> None:
    bind = op.get_bind()
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in DOCUMENT_COLUMNS)
    if bind.dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION refuse_issued_invoice_change() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                IF OLD.number IS NOT NULL THEN
                  RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.id;
                END IF;
                RETURN OLD;
              END IF;
              IF OLD.number IS NOT NULL AND ({changed}
                  OR (OLD.pdf IS NOT NULL AND NEW.pdf IS DISTINCT FROM OLD.pdf)) THEN
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
        changed = changed.replace("IS DISTINCT FROM", "IS NOT")
        op.execute(
            f"""
            CREATE TRIGGER invoices_immutable_update BEFORE UPDATE ON invoices
            WHEN OLD.number IS NOT NULL AND ({changed}
                 OR (OLD.pdf IS NOT NULL AND NEW.pdf IS NOT OLD.pdf))
            BEGIN SELECT RAISE(ABORT, 'issued invoices cannot change'); END
            """
        )
        op.execute(
            """
            CREATE TRIGGER invoices_immutable_delete BEFORE DELETE ON invoices
            WHEN OLD.number IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END
            """
        )


def drop_immutability_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS invoices_immutable ON invoices")
        op.execute("DROP FUNCTION IF EXISTS refuse_issued_invoice_change()")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS invoices_immutable_update")
        op.execute("DROP TRIGGER IF EXISTS invoices_immutable_delete")


def downgrade() -> None:
    drop_immutability_triggers()
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('delivery_error')
        batch_op.drop_column('delivery_attempts')
        batch_op.drop_column('delivery_state')
        batch_op.drop_column('seller')
        batch_op.drop_column('credited_ore')

    with op.batch_alter_table('invoice_runs', schema=None) as batch_op:
        batch_op.drop_column('started_at')
        batch_op.drop_column('employer_ids')
        batch_op.drop_column('cadence')

    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_column('released_entries')
        batch_op.drop_column('period_end')
        batch_op.drop_column('period_start')

    with op.batch_alter_table('invoice_line_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_entries_time_entry_id'))

    op.drop_table('invoice_line_entries')
