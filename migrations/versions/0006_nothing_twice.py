"""nothing twice: form submissions, the worker on each shift (no overlaps), session versions,
run heartbeats, one open proposal per worker and order

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_PLACEMENT = sa.text("status IN ('proposed', 'active')")


def shift_range(table: str = "") -> str:
    """A shift's wall-clock range in SQL; an end at or before the start is on the next day (as
    in portal.services.hours.interval_of). Every part is immutable, as an index needs."""
    t = f"{table}." if table else ""
    return (
        f"tsrange({t}work_date + {t}start_time, {t}work_date + {t}end_time + CASE WHEN "
        f"{t}end_time <= {t}start_time THEN interval '1 day' ELSE interval '0 days' END, '[)')"
    )


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result_url", sa.String(length=500), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_submissions")),
    )
    op.create_index(op.f("ix_submissions_created_at"), "submissions", ["created_at"])

    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("lockout_notified_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("session_version", server_default=None)

    with op.batch_alter_table("invoice_runs") as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("resumed_count", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("invoice_runs") as batch_op:
        batch_op.alter_column("resumed_count", server_default=None)

    with op.batch_alter_table("time_entries") as batch_op:
        batch_op.add_column(sa.Column("worker_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE time_entries SET worker_id = "
        "(SELECT worker_id FROM placements WHERE placements.id = time_entries.placement_id)"
    )
    with op.batch_alter_table("time_entries") as batch_op:
        batch_op.alter_column("worker_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_time_entries_worker_id_workers"), "workers", ["worker_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_time_entries_worker_id"), ["worker_id"])

    _refuse_existing_duplicates()
    op.create_index(
        "uq_placements_open_worker",
        "placements",
        ["job_order_id", "worker_id"],
        unique=True,
        postgresql_where=OPEN_PLACEMENT,
        sqlite_where=OPEN_PLACEMENT,
    )
    if op.get_bind().dialect.name == "postgresql":
        # btree_gist lets a GiST index compare the plain integer worker_id with '='.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE time_entries ADD CONSTRAINT ck_time_entries_no_overlap "
            f"EXCLUDE USING gist (worker_id WITH =, {shift_range()} WITH &&)"
        )


def _refuse_existing_duplicates() -> None:
    """Stop with a readable list when old data breaks the new rules (written before they held
    in the database): such rows need a person's decision, not a migration's guess."""
    bind = op.get_bind()
    problems = []
    for order_id, worker_id in bind.execute(
        sa.text(
            "SELECT job_order_id, worker_id FROM placements WHERE status IN ('proposed', 'active') "
            "GROUP BY job_order_id, worker_id HAVING COUNT(*) > 1"
        )
    ):
        problems.append(f"order {order_id}: worker {worker_id} proposed or placed twice")
    if bind.dialect.name == "postgresql":
        for first, second in bind.execute(
            sa.text(
                "SELECT a.id, b.id FROM time_entries a JOIN time_entries b "
                "ON a.worker_id = b.worker_id AND a.id < b.id "
                f"AND {shift_range('a')} && {shift_range('b')}"
            )
        ):
            problems.append(f"shifts {first} and {second} overlap")
    if problems:
        raise RuntimeError(
            "Migration 0006 needs these rows resolved first (end or decline the duplicate "
            "placement; credit and remove the duplicate shift):\n  " + "\n  ".join(problems[:50])
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE time_entries DROP CONSTRAINT IF EXISTS ck_time_entries_no_overlap")
    op.drop_index("uq_placements_open_worker", table_name="placements")
    with op.batch_alter_table("time_entries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_entries_worker_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_time_entries_worker_id_workers"), type_="foreignkey"
        )
        batch_op.drop_column("worker_id")
    with op.batch_alter_table("invoice_runs") as batch_op:
        batch_op.drop_column("resumed_count")
        batch_op.drop_column("heartbeat_at")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("lockout_notified_at")
        batch_op.drop_column("session_version")
    op.drop_index(op.f("ix_submissions_created_at"), table_name="submissions")
    op.drop_table("submissions")
