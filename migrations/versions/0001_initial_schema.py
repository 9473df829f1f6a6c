"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 23:10:58.470421
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('employers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cvr', sa.String(length=8), nullable=False),
    sa.Column('ean', sa.String(length=13), nullable=True),
    sa.Column('address_line', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('invoice_email', sa.String(length=254), nullable=False),
    sa.Column('billing_cadence', sa.Enum('weekly', 'fortnightly', 'monthly', name='billingcadence', native_enum=False, length=20), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=True),
    sa.Column('stripe_customer_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('pending', 'active', 'inactive', name='employerstatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers'))
    )
    with op.batch_alter_table('employers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employers_cvr'), ['cvr'], unique=False)

    op.create_table('invoice_number_counters',
    sa.Column('series', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_invoice_number_counters'))
    )
    op.create_table('organisation_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('cvr', sa.String(length=8), nullable=False),
    sa.Column('address_line', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('bank_reg', sa.String(length=4), nullable=False),
    sa.Column('bank_account', sa.String(length=10), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('fi_creditor_number', sa.String(length=8), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('invoice_series', sa.String(length=10), nullable=False),
    sa.Column('credit_note_series', sa.String(length=10), nullable=False),
    sa.Column('reminder_fee_ore', sa.Integer(), nullable=False),
    sa.Column('late_interest_rate_bp', sa.Integer(), nullable=False),
    sa.Column('compensation_enabled', sa.Boolean(), nullable=False),
    sa.Column('compensation_ore', sa.Integer(), nullable=False),
    sa.Column('auto_approve_days', sa.Integer(), nullable=False),
    sa.Column('rate_adjust_limit_bp', sa.Integer(), nullable=False),
    sa.Column('payroll_wage_type', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_settings'))
    )
    op.create_table('work_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('bill_rate_ore', sa.Integer(), nullable=False),
    sa.Column('pay_rate_ore', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('bill_rate_ore > 0 AND pay_rate_ore > 0', name=op.f('ck_work_areas_positive_rates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_areas')),
    sa.UniqueConstraint('name', name=op.f('uq_work_areas_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('employer', 'worker', 'consultant', 'finance', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("(role = 'employer') = (employer_id IS NOT NULL)", name=op.f('ck_users_employer_link')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_users_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_employer_id'), ['employer_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)

    op.create_table('invoice_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='runstatus', native_enum=False, length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invoice_runs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_runs'))
    )
    op.create_table('job_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('work_area_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('hours_per_week', sa.Integer(), nullable=False),
    sa.Column('preferred_days', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('head_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('new', 'taken', 'proposed', 'filled', 'cancelled', 'closed', name='orderstatus', native_enum=False, length=20), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('order_reference', sa.String(length=50), nullable=False),
    sa.Column('person_reference', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('head_count >= 1', name=op.f('ck_job_orders_head_count_positive')),
    sa.CheckConstraint('hours_per_week BETWEEN 1 AND 37', name=op.f('ck_job_orders_hours_range')),
    sa.ForeignKeyConstraint(['consultant_id'], ['users.id'], name=op.f('fk_job_orders_consultant_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_job_orders_created_by_id_users')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_job_orders_employer_id_employers')),
    sa.ForeignKeyConstraint(['work_area_id'], ['work_areas.id'], name=op.f('fk_job_orders_work_area_id_work_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_orders'))
    )
    with op.batch_alter_table('job_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_orders_consultant_id'), ['consultant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_orders_employer_id'), ['employer_id'], unique=False)

    op.create_table('user_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_tokens_token_hash'))
    )
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('payroll_number', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('hours_min', sa.Integer(), nullable=False),
    sa.Column('hours_max', sa.Integer(), nullable=False),
    sa.Column('available_days', sa.Integer(), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('available', 'placed', 'paused', 'left', name='workerstatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('hours_min <= hours_max', name=op.f('ck_workers_hours_order')),
    sa.ForeignKeyConstraint(['consultant_id'], ['users.id'], name=op.f('fk_workers_consultant_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_workers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    sa.UniqueConstraint('payroll_number', name=op.f('uq_workers_payroll_number')),
    sa.UniqueConstraint('user_id', name=op.f('uq_workers_user_id'))
    )
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workers_consultant_id'), ['consultant_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('invoice', 'credit_note', name='invoicekind', native_enum=False, length=20), nullable=False),
    sa.Column('series', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('credited_invoice_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('subtotal_ore', sa.BigInteger(), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('vat_ore', sa.BigInteger(), nullable=False),
    sa.Column('total_ore', sa.BigInteger(), nullable=False),
    sa.Column('paid_ore', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'issued', 'partly_paid', 'paid', 'credited', name='invoicestatus', native_enum=False, length=20), nullable=False),
    sa.Column('payment_id', sa.String(length=15), nullable=True),
    sa.Column('buyer', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('timesheet_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('timesheet_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['credited_invoice_id'], ['invoices.id'], name=op.f('fk_invoices_credited_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_invoices_employer_id_employers')),
    sa.ForeignKeyConstraint(['run_id'], ['invoice_runs.id'], name=op.f('fk_invoices_run_id_invoice_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_invoices_payment_id')),
    sa.UniqueConstraint('series', 'year', 'number', name='uq_invoices_number')
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index('ix_invoices_employer_status', ['employer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_run_id'), ['run_id'], unique=False)

    op.create_table('placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_order_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=True),
    sa.Column('pay_rate_ore', sa.Integer(), nullable=False),
    sa.Column('bill_rate_ore', sa.Integer(), nullable=False),
    sa.Column('hours_per_week', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'active', 'declined', 'ended', name='placementstatus', native_enum=False, length=20), nullable=False),
    sa.Column('employer_accepted_at', sa.DateTime(), nullable=True),
    sa.Column('employer_accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('worker_accepted_at', sa.DateTime(), nullable=True),
    sa.Column('declined_reason', sa.Text(), nullable=False),
    sa.Column('end_reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('pay_rate_ore > 0 AND bill_rate_ore > 0', name=op.f('ck_placements_positive_rates')),
    sa.ForeignKeyConstraint(['consultant_id'], ['users.id'], name=op.f('fk_placements_consultant_id_users')),
    sa.ForeignKeyConstraint(['employer_accepted_by_id'], ['users.id'], name=op.f('fk_placements_employer_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_placements_employer_id_employers')),
    sa.ForeignKeyConstraint(['job_order_id'], ['job_orders.id'], name=op.f('fk_placements_job_order_id_job_orders')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_placements_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements'))
    )
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placements_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placements_job_order_id'), ['job_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placements_worker_id'), ['worker_id'], unique=False)

    op.create_table('worker_work_areas',
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('work_area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['work_area_id'], ['work_areas.id'], name=op.f('fk_worker_work_areas_work_area_id_work_areas')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_worker_work_areas_worker_id_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('worker_id', 'work_area_id', name=op.f('pk_worker_work_areas'))
    )
    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=True),
    sa.Column('credited_line_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('rate_ore', sa.Integer(), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['credited_line_id'], ['invoice_lines.id'], name=op.f('fk_invoice_lines_credited_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_invoice_lines_placement_id_placements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines'))
    )
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.Enum('card', 'bank', 'manual', name='paymentmethod', native_enum=False, length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payments_created_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payments_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('external_id', name=op.f('uq_payments_external_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('time_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('break_minutes', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('worker_confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('worker_confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('employer_approved_at', sa.DateTime(), nullable=True),
    sa.Column('employer_approved_by_id', sa.Integer(), nullable=True),
    sa.Column('auto_approved', sa.Boolean(), nullable=False),
    sa.Column('disputed_at', sa.DateTime(), nullable=True),
    sa.Column('disputed_by_id', sa.Integer(), nullable=True),
    sa.Column('dispute_reason', sa.Text(), nullable=False),
    sa.Column('invoice_line_id', sa.Integer(), nullable=True),
    sa.Column('payroll_export_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('break_minutes >= 0', name=op.f('ck_time_entries_break_not_negative')),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_time_entries_positive_minutes')),
    sa.ForeignKeyConstraint(['disputed_by_id'], ['users.id'], name=op.f('fk_time_entries_disputed_by_id_users')),
    sa.ForeignKeyConstraint(['employer_approved_by_id'], ['users.id'], name=op.f('fk_time_entries_employer_approved_by_id_users')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_time_entries_entered_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['invoice_lines.id'], name=op.f('fk_time_entries_invoice_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_time_entries_placement_id_placements')),
    sa.ForeignKeyConstraint(['worker_confirmed_by_id'], ['users.id'], name=op.f('fk_time_entries_worker_confirmed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entries'))
    )
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_entries_invoice_line_id'), ['invoice_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_entries_placement_id'), ['placement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_entries_work_date'), ['work_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_entries_work_date'))
        batch_op.drop_index(batch_op.f('ix_time_entries_placement_id'))
        batch_op.drop_index(batch_op.f('ix_time_entries_invoice_line_id'))

    op.drop_table('time_entries')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_invoice_id'))

    op.drop_table('payments')
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_invoice_id'))

    op.drop_table('invoice_lines')
    op.drop_table('worker_work_areas')
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placements_worker_id'))
        batch_op.drop_index(batch_op.f('ix_placements_job_order_id'))
        batch_op.drop_index(batch_op.f('ix_placements_employer_id'))

    op.drop_table('placements')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_run_id'))
        batch_op.drop_index('ix_invoices_employer_status')
        batch_op.drop_index(batch_op.f('ix_invoices_employer_id'))

    op.drop_table('invoices')
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workers_consultant_id'))

    op.drop_table('workers')
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_tokens_user_id'))

    op.drop_table('user_tokens')
    with op.batch_alter_table('job_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_orders_employer_id'))
        batch_op.drop_index(batch_op.f('ix_job_orders_consultant_id'))

    op.drop_table('job_orders')
    op.drop_table('invoice_runs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_employer_id'))

    op.drop_table('users')
    op.drop_table('work_areas')
    op.drop_table('organisation_settings')
    op.drop_table('invoice_number_counters')
    with op.batch_alter_table('employers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employers_cvr'))

    op.drop_table('employers')
