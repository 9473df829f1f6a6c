"""The one issuer of documents: a gapless number, then each rendition archived with its checksum."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from core.models import InvoiceKind, InvoiceStatus, Reminder
from invoices import issuer
from tests import factories
from tests.invoicing import organisation


def test_the_issuer_numbers_then_archives_each_rendition_in_order(app, db, ctx):
    """Phase one takes the number; phase two archives the renditions, each able to read the
    ones rendered before it (the e-invoice carries the timesheet)."""
    organisation(db)
    draft = factories.InvoiceFactory(series="T", status=InvoiceStatus.DRAFT)
    db.flush()
    seen = []

    def pdf(document, _earlier):
        seen.append(document.number)  # rendered after the number was taken
        return b"%PDF invoice " + document.display_number.encode()

    def timesheet(document, earlier):
        return b"%PDF timesheet for " + earlier[issuer.INVOICE_PDF]  # rendered before it

    issuer.take_number(db, draft, date(2026, 11, 30), due_date=date(2026, 12, 14))
    db.flush()
    assert draft.number == 1 and not draft.documents_ready
    issuer.archive(
        draft,
        [
            issuer.Rendition(issuer.INVOICE_PDF, pdf),
            issuer.Rendition(issuer.TIMESHEET_PDF, timesheet),
        ],
    )
    db.flush()
    assert draft.documents_ready
    assert (draft.number, draft.year, draft.display_number) == (1, 2026, "T-2026-0001")
    assert seen == [1]
    assert (draft.issue_date, draft.due_date) == (date(2026, 11, 30), date(2026, 12, 14))
    assert draft.status == InvoiceStatus.ISSUED and draft.issued_at is not None
    assert draft.payment_id is not None
    assert draft.pdf == b"%PDF invoice T-2026-0001"
    assert draft.timesheet_pdf == b"%PDF timesheet for %PDF invoice T-2026-0001"
    for content, checksum in (
        (draft.pdf, draft.pdf_sha256),
        (draft.timesheet_pdf, draft.timesheet_sha256),
    ):
        assert checksum == hashlib.sha256(content).hexdigest()

    note = factories.InvoiceFactory(
        series="T", kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.DRAFT
    )
    db.flush()
    issuer.take_number(db, note, date(2026, 12, 1))
    issuer.archive(note, [issuer.Rendition.rendered(issuer.INVOICE_PDF, b"x")])
    db.flush()
    assert note.documents_ready  # a credit note has no timesheet
    assert note.number == 2  # the same series counts on, gapless
    assert note.payment_id is None and note.due_date is None  # a credit note is not paid


def test_a_slot_belongs_to_one_kind_of_document():
    with pytest.raises(TypeError):
        issuer.TIMESHEET_PDF.store(Reminder(), b"%PDF")
    reminder = Reminder()
    issuer.archive(reminder, [issuer.Rendition.rendered(issuer.REMINDER_PDF, b"%PDF rykker")])
    assert reminder.pdf_sha256 == hashlib.sha256(b"%PDF rykker").hexdigest()
