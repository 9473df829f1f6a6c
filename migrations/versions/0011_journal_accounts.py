"""the bookkeeping journal's accounts: debitors, sales, output VAT, bank, the card clearing
account, fee income and interest income, set by an admin (defaults from Erhvervsstyrelsen's
standard chart of accounts)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNTS = {
    "account_receivables": "6190",
    "account_sales": "1010",
    "account_output_vat": "7680",
    "account_bank": "6480",
    "account_card_clearing": "6330",
    "account_fee_income": "1550",
    "account_interest_income": "3490",
}


def upgrade() -> None:
    for name, default in ACCOUNTS.items():
        op.add_column(
            "organisation_settings",
            sa.Column(name, sa.String(length=10), nullable=False, server_default=default),
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation_settings") as batch:
        for name in reversed(ACCOUNTS):
            batch.drop_column(name)
