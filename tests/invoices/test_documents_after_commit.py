"""Issuing in two phases: the number and the frozen invoice in one short transaction, the
documents rendered after its commit from what was stored, exactly once. Until they exist the
invoice is "being prepared": not shown as final, not downloadable, not e-mailed."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from core import settings as settings_service
from core.db import database
from core.models import Invoice, InvoiceRun, Role
from invoices import issuer, runs
from invoices.pdf import engine as pdf_engine
from tests import factories
from tests.helpers import queue_unreachable
from tests.invoicing import PERIOD_END, employer_with_hours, issue_run, organisation, pdf_text
from tests.racing import race


def test_the_timesheet_names_its_invoice_and_a_second_rendering_is_identical(app, db, ctx):
    organisation(db)
    employer_with_hours(db, weeks=2, placements=2)
    [invoice] = issue_run(db)
    number = invoice.display_number
    assert invoice.documents_ready
    sheet = pdf_text(invoice.timesheet_pdf)
    assert sheet.count(f"Bilag til faktura {number}") == 2  # one per placement's timesheet
    assert "Jørgen0 Hansen" in sheet and "Jørgen1 Hansen" in sheet

    # The organisation changes its name and bank after issuing: the documents, rendered again
    # from the stored invoice, are byte for byte the ones archived.
    org = settings_service.get(db)
    org.legal_name, org.bank_account = "Et helt andet navn ApS", "9999999999"
    db.flush()
    again = issuer.render_all(invoice, issuer.renditions(db, invoice))
    assert again == {
        issuer.TIMESHEET_PDF: invoice.timesheet_pdf,
        issuer.INVOICE_PDF: invoice.pdf,
        issuer.UBL_XML: invoice.ubl_xml,
    }
    assert "Et helt andet navn" not in pdf_text(invoice.timesheet_pdf) + pdf_text(invoice.pdf)


def test_a_crash_between_the_phases_shows_it_being_prepared_until_render_missing(
    app, client, db, as_role, mailbox
):
    organisation(db)
    employer, _ = employer_with_hours(db, weeks=1, invoice_email="bogholderi@kunde.dk")
    user = as_role(Role.EMPLOYER, employer=employer)
    run = runs.start_run(db, None, PERIOD_END)
    db.commit()
    # The worker numbers the invoice and commits, then dies before rendering anything (and
    # before anything woke a sender).
    with queue_unreachable(app), database().sessionmaker.begin() as session:
        invoice_id = runs.issue_for_employer(
            session, session.get(InvoiceRun, run.id), employer.id
        ).id
    db.expire_all()
    invoice = db.get(Invoice, invoice_id)
    assert invoice.number == 1 and invoice.pdf_sha256 is None

    listing = client.get("/invoices")
    assert invoice.display_number in listing.text and "Under udarbejdelse" in listing.text
    page = client.get(f"/invoices/{invoice_id}")
    assert "Dokumenterne bliver gjort klar" in page.text
    assert "invoice.pdf" not in page.text and f"/invoices/{invoice_id}/pay" not in page.text
    download = client.get(f"/invoices/{invoice_id}/invoice.pdf")
    assert download.status_code == 409 and "bliver gjort klar" in download.text
    assert mailbox.messages == []

    result = _invoke(app, "invoices", "render-missing")
    assert result.exit_code == 0 and "1 invoice finished" in result.output, result.output
    db.expire_all()
    invoice = db.get(Invoice, invoice_id)
    assert invoice.documents_ready
    assert f"Bilag til faktura {invoice.display_number}" in pdf_text(invoice.timesheet_pdf)
    [sent] = mailbox.to("bogholderi@kunde.dk")
    assert sorted(part.get_filename() for part in sent.iter_attachments()) == [
        f"{invoice.display_number}-timeseddel.pdf",
        f"{invoice.display_number}.pdf",
    ]
    download = client.get(f"/invoices/{invoice_id}/invoice.pdf")
    assert download.status_code == 200 and download.data == invoice.pdf
    assert "Under udarbejdelse" not in client.get("/invoices").text

    again = _invoke(app, "invoices", "render-missing")
    assert "0 invoices finished" in again.output
    assert len(mailbox.messages) == 1 and user.employer_id == employer.id


def test_two_workers_rendering_the_same_invoice_store_its_documents_once(app, committed):
    with _seeded(committed) as session:
        organisation(session)
        employer, _ = employer_with_hours(session, weeks=1)
        session.commit()
        run = runs.start_run(session, None, PERIOD_END)
        session.commit()
        with queue_unreachable(app):  # no sender renders it first
            invoice_id = runs.issue_for_employer(session, run, employer.id).id
            session.commit()

    def render() -> bool:
        with app.app_context():  # as each RQ worker has its own
            return issuer.render_missing(committed, invoice_id)

    results = race([render, render])
    assert sorted(results) == [False, True]  # one stored them; the other found them stored
    with committed() as session:
        assert session.get(Invoice, invoice_id).documents_ready
    assert issuer.unrendered(committed) == []


def test_nothing_is_rendered_while_the_counter_is_locked(committed, engine, monkeypatch):
    """While a document renders, another connection can take the number counter at once (on
    SQLite: the database's write lock): the render happens outside the issuing transaction."""
    with _seeded(committed) as session:
        organisation(session)
        for n in range(3):
            employer_with_hours(session, weeks=1, name=f"Kunde {n}")
        session.commit()
        run_id = runs.start_run(session, None, PERIOD_END).id
        session.commit()

    pdf = pdf_engine()
    real, free = pdf.html_to_pdf, []

    def spying(html: str):
        free.append(_counter_is_free(engine))
        return real(html)

    monkeypatch.setattr(pdf, "html_to_pdf", spying)
    issued = runs.process_run(committed, run_id)
    assert len(issued) == 3 and len(free) == 6  # an invoice and a timesheet each
    assert all(free)
    with committed() as session:
        numbers = session.scalars(select(Invoice.number).order_by(Invoice.number)).all()
    assert numbers == [1, 2, 3]


# --- helpers ------------------------------------------------------------------------------------


def _invoke(app, *args):
    with app.app_context():
        return CliRunner().invoke(app.cli, list(args))


@contextmanager
def _seeded(committed):
    session = committed()
    factories.bind(session)
    try:
        yield session
    finally:
        factories.bind(None)
        session.close()


def _counter_is_free(engine) -> bool:
    """Whether the number counter can be taken right now by someone else, without waiting."""
    if engine.dialect.name == "sqlite":
        connection = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:  # database is locked
            return False
        finally:
            connection.close()
    with engine.connect() as connection:
        try:
            connection.execute(text("SELECT 1 FROM invoice_number_counters FOR UPDATE NOWAIT"))
            return True
        except OperationalError:  # could not obtain lock
            return False
        finally:
            connection.rollback()
