"""hours

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 23:20:10.397545
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hours_reminders',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hours_reminders_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_hours_reminders'))
    )
    op.create_table('payroll_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('format', sa.Enum('csv', 'danlon', name='payrollformat', native_enum=False, length=20), nullable=False),
    sa.Column('reexport', sa.Boolean(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('total_minutes', sa.Integer(), nullable=False),
    sa.Column('total_ore', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_payroll_exports_period_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payroll_exports_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payroll_exports'))
    )
    op.create_table('time_entry_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('time_entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('edited', 'disputed', 'corrected', 'resolved', name='entrychangekind', native_enum=False, length=20), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_time_entry_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['time_entry_id'], ['time_entries.id'], name=op.f('fk_time_entry_changes_time_entry_id_time_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entry_changes'))
    )
    with op.batch_alter_table('time_entry_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_entry_changes_time_entry_id'), ['time_entry_id'], unique=False)

    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_time_entries_payroll_export_id'), ['payroll_export_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_time_entries_payroll_export_id_payroll_exports'), 'payroll_exports', ['payroll_export_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_time_entries_payroll_export_id_payroll_exports'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_time_entries_payroll_export_id'))
        batch_op.drop_column('resolved_at')

    with op.batch_alter_table('time_entry_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_entry_changes_time_entry_id'))

    op.drop_table('time_entry_changes')
    op.drop_table('payroll_exports')
    op.drop_table('hours_reminders')
