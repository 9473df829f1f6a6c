"""payments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:56:17.760708
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processed_stripe_events',
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_processed_stripe_events'))
    )
    op.create_table('bank_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bank_imports_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_imports'))
    )
    op.create_table('card_intents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('intent_id', sa.String(length=100), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('open', 'failed', 'succeeded', name='cardintentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('failure_message', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_card_intents_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_intents')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_card_intents_idempotency_key')),
    sa.UniqueConstraint('intent_id', name=op.f('uq_card_intents_intent_id'))
    )
    with op.batch_alter_table('card_intents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_intents_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_flags',
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('disputed_at', sa.DateTime(), nullable=True),
    sa.Column('disputed_by_id', sa.Integer(), nullable=True),
    sa.Column('dispute_note', sa.Text(), nullable=False),
    sa.Column('credit_note_prompt_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['disputed_by_id'], ['users.id'], name=op.f('fk_invoice_flags_disputed_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_flags_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('invoice_id', name=op.f('pk_invoice_flags'))
    )
    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('principal_ore', sa.BigInteger(), nullable=False),
    sa.Column('fee_ore', sa.Integer(), nullable=False),
    sa.Column('compensation_ore', sa.Integer(), nullable=False),
    sa.Column('interest_from', sa.Date(), nullable=False),
    sa.Column('interest_to', sa.Date(), nullable=False),
    sa.Column('interest_days', sa.Integer(), nullable=False),
    sa.Column('interest_rate_bp', sa.Integer(), nullable=False),
    sa.Column('interest_ore', sa.BigInteger(), nullable=False),
    sa.Column('total_due_ore', sa.BigInteger(), nullable=False),
    sa.Column('email_to', sa.String(length=254), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('fee_ore >= 0 AND fee_ore <= 10000', name=op.f('ck_reminders_fee_cap')),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_reminders_level_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reminders_created_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_reminders_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('invoice_id', 'level', name='uq_reminders_invoice_level')
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('bank_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('matched', 'manual', 'unmatched', 'duplicate', 'outgoing', name='banklinestatus', native_enum=False, length=20), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('suggested_invoice_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['bank_imports.id'], name=op.f('fk_bank_lines_import_id_bank_imports')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_bank_lines_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_bank_lines_payment_id_payments')),
    sa.ForeignKeyConstraint(['suggested_invoice_id'], ['invoices.id'], name=op.f('fk_bank_lines_suggested_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_lines'))
    )
    with op.batch_alter_table('bank_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_lines_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_lines_import_id'), ['import_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bank_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_lines_import_id'))
        batch_op.drop_index(batch_op.f('ix_bank_lines_fingerprint'))

    op.drop_table('bank_lines')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_invoice_id'))

    op.drop_table('reminders')
    op.drop_table('invoice_flags')
    with op.batch_alter_table('card_intents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_intents_invoice_id'))

    op.drop_table('card_intents')
    op.drop_table('bank_imports')
    op.drop_table('processed_stripe_events')
