"""Issue 14, item 10: below the ORM too. Plain SQL, as a script or a console would send it,
cannot change an issued invoice's parties or lines, a sent reminder or the audit log; the
database refuses (triggers, migration 0009), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core import audit
from tests import factories
from tests.invoicing import employer_with_hours, issue_run, organisation


def refused(db, statement: str, **params) -> None:
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text(statement), params)


def allowed(db, statement: str, **params) -> None:
    with db.begin_nested():
        db.execute(text(statement), params)


def test_the_database_refuses_changes_to_issued_documents(app, db, ctx):
    organisation(db)
    employer_with_hours(db, weeks=1)
    [invoice] = issue_run(db)
    reminder = factories.ReminderFactory(invoice=invoice)
    audit.record(db, None, "test.event", invoice)
    db.commit()
    ids = {"id": invoice.id, "reminder": reminder.id}

    refused(db, "UPDATE invoices SET buyer = seller WHERE id = :id", **ids)
    refused(db, "UPDATE invoices SET total_ore = 1 WHERE id = :id", **ids)
    refused(db, "UPDATE invoice_lines SET amount_ore = 1 WHERE invoice_id = :id", **ids)
    refused(db, "DELETE FROM invoice_lines WHERE invoice_id = :id", **ids)
    refused(
        db,
        "INSERT INTO invoice_lines (invoice_id, position, description, minutes, rate_ore, "
        "amount_ore, released_entries) VALUES (:id, 9, 'smuglet', 60, 100, 100, :no)",
        no=False,
        **ids,
    )
    refused(db, "UPDATE reminders SET fee_ore = 0 WHERE id = :reminder", **ids)
    refused(db, "DELETE FROM reminders WHERE id = :reminder", **ids)
    refused(db, "UPDATE audit_events SET action = 'forged'")
    refused(db, "DELETE FROM audit_events")

    # What is not the document may change: payment bookkeeping, and a reminder's PDF once.
    allowed(db, "UPDATE invoices SET paid_ore = 100 WHERE id = :id", **ids)
    allowed(
        db,
        "UPDATE reminders SET pdf = :pdf, pdf_sha256 = :sum WHERE id = :reminder",
        pdf=b"%PDF rykker",
        sum="1" * 64,
        **ids,
    )
    refused(db, "UPDATE reminders SET pdf = :pdf WHERE id = :reminder", pdf=b"%PDF forged", **ids)
