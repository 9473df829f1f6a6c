"""hiring: public orders, possible duplicate employers, consent, follow-up notes, hours history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:20:10.105483

Hand-checked. SQLite cannot add a foreign key or a constraint to an existing table without
copying it, and copying a table that others reference fails once rows exist (foreign keys
are on). So on SQLite the two new foreign-key columns are added with an inline REFERENCES
clause, the one-time submission key is a unique index (not a table constraint), and the new
NOT NULL text columns keep their '' server default there. PostgreSQL gets the usual ALTERs
and loses the temporary server defaults afterwards.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TEXT_COLUMNS = {
    'job_orders': [
        ('contact_name', sa.String(length=200)),
        ('contact_email', sa.String(length=254)),
        ('contact_phone', sa.String(length=30)),
        ('cancelled_reason', sa.Text()),
    ],
    'placements': [('end_note', sa.Text())],
}

NEW_FOREIGN_KEYS = [
    # table, column, referred table, constraint name
    ('employers', 'duplicate_of_id', 'employers', 'fk_employers_duplicate_of_id_employers'),
    ('placements', 'declined_by_id', 'users', 'fk_placements_declined_by_id_users'),
]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_table('placement_hours_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=False),
    sa.Column('old_hours_per_week', sa.Integer(), nullable=False),
    sa.Column('new_hours_per_week', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_placement_hours_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_placement_hours_changes_placement_id_placements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_hours_changes'))
    )
    op.create_index(op.f('ix_placement_hours_changes_placement_id'), 'placement_hours_changes', ['placement_id'], unique=False)

    op.create_table('placement_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('note_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('call', 'visit', 'note', name='notekind', native_enum=False, length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_placement_notes_author_id_users')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_placement_notes_placement_id_placements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_notes'))
    )
    op.create_index(op.f('ix_placement_notes_placement_id'), 'placement_notes', ['placement_id'], unique=False)

    for table, column, referred, name in NEW_FOREIGN_KEYS:
        if _sqlite():
            op.execute(
                f'ALTER TABLE {table} ADD COLUMN {column} INTEGER '
                f'CONSTRAINT {name} REFERENCES {referred} (id)'
            )
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, referred, [column], ['id'])

    for table, columns in NEW_TEXT_COLUMNS.items():
        for column, type_ in columns:
            op.add_column(table, sa.Column(column, type_, nullable=False, server_default=''))
    op.add_column('job_orders', sa.Column('submission_key', sa.String(length=64), nullable=True))
    op.add_column('job_orders', sa.Column('taken_at', sa.DateTime(), nullable=True))
    op.add_column('job_orders', sa.Column('cancelled_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_job_orders_submission_key'), 'job_orders', ['submission_key'], unique=True)
    op.add_column('placements', sa.Column('declined_at', sa.DateTime(), nullable=True))

    if not _sqlite():
        # The defaults only filled the rows that already existed; the models set values now.
        for table, columns in NEW_TEXT_COLUMNS.items():
            for column, _type in columns:
                op.alter_column(table, column, server_default=None)


def downgrade() -> None:
    # On SQLite, dropping a foreign-key column copies the table (batch mode); that works on
    # an empty or freshly demo-loaded database, not necessarily on one full of placements.
    op.drop_index(op.f('ix_job_orders_submission_key'), table_name='job_orders')
    with op.batch_alter_table('placements', schema=None) as batch_op:
        if not _sqlite():
            batch_op.drop_constraint('fk_placements_declined_by_id_users', type_='foreignkey')
        batch_op.drop_column('end_note')
        batch_op.drop_column('declined_by_id')
        batch_op.drop_column('declined_at')
    with op.batch_alter_table('job_orders', schema=None) as batch_op:
        for column in ('cancelled_reason', 'cancelled_at', 'taken_at', 'submission_key',
                       'contact_phone', 'contact_email', 'contact_name'):
            batch_op.drop_column(column)
    with op.batch_alter_table('employers', schema=None) as batch_op:
        if not _sqlite():
            batch_op.drop_constraint('fk_employers_duplicate_of_id_employers', type_='foreignkey')
        batch_op.drop_column('duplicate_of_id')
    op.drop_index(op.f('ix_placement_notes_placement_id'), table_name='placement_notes')
    op.drop_table('placement_notes')
    op.drop_index(op.f('ix_placement_hours_changes_placement_id'), table_name='placement_hours_changes')
    op.drop_table('placement_hours_changes')
