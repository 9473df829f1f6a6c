"""The invoice run, numbering, PDFs, immutability, credit notes, delivery and exports."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core import dates
from core.db import database
from core.models import (
    AuditEvent,
    DeliveryState,
    Invoice,
    InvoiceKind,
    InvoiceRun,
    InvoiceStatus,
    Role,
    RunStatus,
    TimeEntry,
    invoice_line_entries,
)
from invoices import credit, issuer, runs
from invoices.guard import ImmutableInvoice
from portal.services.hours import commands as hours_commands
from tests import factories
from tests.helpers import post_form, queue_unreachable
from tests.invoicing import approved_entry, employer_with_hours, issue_run, organisation, pdf_text

PERIOD_END = date(2026, 11, 30)


def test_preview_has_a_line_per_placement_and_week_and_lists_what_is_left_out(app, db, ctx):
    organisation(db)
    employer, [placement] = employer_with_hours(db, weeks=2, name="Frugtlageret")
    waiting = factories.TimeEntryFactory(placement=placement, work_date=date(2026, 11, 20))
    preview = runs.preview(db, PERIOD_END)
    [draft] = preview.drafts
    assert draft.employer == employer
    assert [line.description for line in draft.lines] == [
        f"Lager Frugtlageret – {placement.worker.display_name} – uge 45",
        f"Lager Frugtlageret – {placement.worker.display_name} – uge 46",
    ]
    assert [line.minutes for line in draft.lines] == [480, 480]
    assert draft.lines[0].amount_ore == 151200  # 8 h × 189,00 kr.
    assert (draft.subtotal_ore, draft.vat_ore, draft.total_ore) == (302400, 75600, 378000)
    assert preview.left_out == [waiting]


def test_finance_issues_a_run_and_the_invoice_is_complete(client, db, as_role, mailbox):
    organisation(db)
    employer, [placement] = employer_with_hours(
        db, weeks=2, name="Odense Kommune", ean="5798000554504"
    )
    placement.job_order.order_reference = "PO-117"
    placement.job_order.person_reference = "Karen Park"
    db.commit()
    as_role(Role.FINANCE)

    page = client.get(f"/finance/invoicing?period_end={PERIOD_END.isoformat()}&cadence=")
    assert page.status_code == 200 and "Odense Kommune" in page.text
    assert "3.780,00\xa0kr." in page.text
    response = post_form(
        client,
        "/finance/invoicing/issue",
        {"period_end": PERIOD_END.isoformat(), "cadence": "", "employer_ids": [employer.id]},
        page=f"/finance/invoicing?period_end={PERIOD_END.isoformat()}",
    )
    assert response.status_code == 302
    progress = client.get(response.headers["Location"])
    assert 'value="1"' in progress.text and "1 af 1 virksomhed" in progress.text

    invoice = db.scalar(select(Invoice).where(Invoice.employer_id == employer.id))
    today = dates.today()
    assert invoice.display_number == f"F-{today.year}-0001"
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.total_ore == 378000 and invoice.vat_ore == 75600
    assert invoice.pdf_sha256 == hashlib.sha256(invoice.pdf).hexdigest()
    assert invoice.timesheet_sha256 == hashlib.sha256(invoice.timesheet_pdf).hexdigest()
    assert all(e.invoice_line_id for e in db.scalars(select(TimeEntry)))

    text = pdf_text(invoice.pdf)
    for expected in [
        "Faktura",
        invoice.display_number,
        "Småjob Fyn",
        "Kongensgade 40",
        "CVR 13585628",
        "Odense Kommune",
        f"CVR {employer.cvr}",
        "EAN 5798000554504",
        "Ordrenr. PO-117",
        "Personreference Karen Park",
        today.strftime("%d-%m-%Y"),
        invoice.due_date.strftime("%d-%m-%Y"),
        "02-11-2026",  # supply period start
        "11-11-2026",  # supply period end
        "uge 45",
        "8,00",
        "189,00",
        "3.024,00",
        "Moms 25 %",
        "756,00",
        "3.780,00",
        "1234",
        "0012345678",
        "DK5912340012345678",
        f"+71<{invoice.payment_id}+81234567<",
    ]:
        assert expected in text, expected
    sheet = pdf_text(invoice.timesheet_pdf)
    assert placement.worker.first_name in sheet and "02-11-2026" in sheet and "16,00" in sheet

    [message] = mailbox.to(employer.invoice_email)
    assert message["Subject"] == f"Faktura {invoice.display_number}"
    attachments = {
        p.get_filename(): p.get_payload(decode=True) for p in message.walk() if p.get_filename()
    }
    assert attachments == {
        f"{invoice.display_number}.pdf": invoice.pdf,
        f"{invoice.display_number}-timeseddel.pdf": invoice.timesheet_pdf,
    }
    db.refresh(invoice)
    assert invoice.delivery_state == DeliveryState.SENT
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "invoice.issued"))


def test_running_twice_bills_nothing_twice_and_numbers_are_gapless(app, db, ctx):
    organisation(db)
    first, _ = employer_with_hours(db, weeks=1)
    second, [placement] = employer_with_hours(db, weeks=1)
    issued = issue_run(db)
    assert sorted(i.number for i in issued) == [1, 2]
    with pytest.raises(Exception, match="ingen godkendte|no approved"):
        runs.start_run(db, None, PERIOD_END)
    db.rollback()
    approved_entry(placement, date(2026, 11, 18))
    db.commit()
    [third] = issue_run(db)
    assert third.number == 3 and third.employer_id == second.id
    minutes = db.scalar(select(func.sum(TimeEntry.minutes)))
    billed = db.scalar(select(func.sum(Invoice.subtotal_ore)))
    assert billed == minutes * 18900 // 60


def test_issued_invoices_cannot_change_or_be_deleted(app, db, ctx):
    organisation(db)
    employer_with_hours(db, weeks=1)
    [invoice] = issue_run(db)
    for change in (
        lambda: setattr(invoice, "total_ore", 1),
        lambda: setattr(invoice, "number", 99),
        lambda: setattr(invoice, "pdf", b"forged"),
        lambda: setattr(invoice, "timesheet_pdf", b"forged"),
        lambda: setattr(invoice.lines[0], "amount_ore", 1),
        lambda: db.delete(invoice),
        lambda: db.delete(invoice.lines[0]),
        lambda: setattr(invoice.lines[0].entries[0], "minutes", 1),
    ):
        change()
        with pytest.raises(ImmutableInvoice):
            db.flush()
        db.rollback()
        db.expire_all()
    # Payment bookkeeping is not part of the document and may change.
    invoice.paid_ore = 100
    invoice.status = InvoiceStatus.PARTLY_PAID
    db.flush()


def test_full_credit_note_round_trip_with_released_hours(app, db, ctx, mailbox):
    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    employer_with_hours(db, weeks=2)
    [invoice] = issue_run(db)
    with queue_unreachable(app):  # no sender at hand: only phase one happens in the commit
        note = credit.issue_credit_note(db, finance, invoice, None, True, "Forkerte timer")
        db.commit()
    assert note.pdf is None and not note.documents_ready  # phase one only numbers it
    issuer.complete(db, note)
    db.commit()
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert note.display_number == f"K-{dates.today().year}-0001"
    assert note.credited_invoice_id == invoice.id
    assert (note.subtotal_ore, note.vat_ore, note.total_ore) == (
        invoice.subtotal_ore,
        invoice.vat_ore,
        invoice.total_ore,
    )
    db.refresh(invoice)
    assert invoice.status == InvoiceStatus.CREDITED and invoice.open_ore == 0
    text = pdf_text(note.pdf)
    assert "Kreditnota" in text and invoice.display_number in text and "Forkerte timer" in text
    assert "3.780,00" in text and "-3.780,00" not in text  # credited amounts are positive
    # Dated as a credit note, and it says how the credit is settled (issue 14, item 12).
    assert "Kreditnotadato" in text and "Fakturadato" not in text
    assert f"modregnes i faktura {invoice.display_number}" in text
    assert "tilbagebetaler vi forskellen" in text
    # The hours were released back to the employer: nothing is billed until they approve them
    # again (or correct them); then the next run bills them under a new number.
    assert runs.billable_employer_ids(db, PERIOD_END) == []
    employer_user = factories.user_for(Role.EMPLOYER, employer=invoice.employer)
    for entry in db.scalars(select(TimeEntry)).all():
        hours_commands.approve_entry(db, employer_user, entry)
    db.commit()
    [again] = issue_run(db)
    assert again.number == 2 and again.total_ore == invoice.total_ore
    # Nothing left to credit on the first invoice.
    with pytest.raises(Exception, match="krediteret|credited"):
        credit.issue_credit_note(db, finance, invoice, None, True, "igen")


def test_credit_one_line_without_release(app, db, ctx):
    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    employer_with_hours(db, weeks=2)
    [invoice] = issue_run(db)
    first_line = invoice.lines[0]
    note = credit.issue_credit_note(db, finance, invoice, [first_line.id], False, "Rabat")
    db.commit()
    assert note.subtotal_ore == first_line.amount_ore
    assert note.vat_ore == first_line.amount_ore // 4
    db.refresh(invoice)
    assert (
        invoice.status == InvoiceStatus.ISSUED
        and invoice.open_ore == invoice.total_ore - note.total_ore
    )
    # The credited hours stay settled: nothing is billable again.
    assert runs.billable_employer_ids(db, PERIOD_END) == []
    with pytest.raises(Exception, match="allerede|already"):
        credit.issue_credit_note(db, finance, invoice, [first_line.id], False, "igen")


def test_finance_pages_credit_and_resend(client, db, as_role, mailbox, app):
    organisation(db)
    employer, _ = employer_with_hours(db, weeks=1, name="Café Bønnen")
    db.commit()
    with app.test_request_context("/"):
        [invoice] = issue_run(db)
    assert len(mailbox.to(employer.invoice_email)) == 1  # e-mailed once it was committed
    as_role(Role.FINANCE)
    page = client.get("/finance/invoices?status=issued")
    assert invoice.display_number in page.text and "Café Bønnen" in page.text
    assert client.get("/finance/invoices?status=paid").text.count(invoice.display_number) == 0
    detail = f"/finance/invoices/{invoice.id}"
    response = post_form(client, f"{detail}/resend", {}, page=detail)
    assert response.status_code == 302
    [_first, again] = mailbox.to(employer.invoice_email)  # sent again, as a new message
    assert again["Message-ID"] != _first["Message-ID"]
    response = post_form(client, f"{detail}/credit", {"reason": ""}, page=detail)
    assert "Angiv en årsag" in client.get(response.headers["Location"]).text
    response = post_form(
        client, f"{detail}/credit", {"reason": "Fejl", "release": "y"}, page=detail
    )
    note_page = client.get(response.headers["Location"])
    assert "Kreditnota K-" in note_page.text
    assert client.get("/finance/runs").status_code == 200


def test_failed_delivery_is_shown_and_can_be_resent(client, db, as_role, app, mailbox):
    organisation(db)
    employer, _ = employer_with_hours(db, weeks=1)
    db.commit()
    mailer = app.extensions["mailer"]
    port = mailer.port
    mailer.port = 1  # nothing listens there
    try:
        with app.test_request_context("/"):
            [invoice] = issue_run(db)
    finally:
        mailer.port = port
    db.refresh(invoice)
    assert invoice.delivery_state == DeliveryState.FAILED and invoice.delivery_attempts == 1
    as_role(Role.FINANCE)
    detail = f"/finance/invoices/{invoice.id}"
    assert "mislykkedes" in client.get(detail).text
    post_form(client, f"{detail}/resend", {}, page=detail)
    db.refresh(invoice)
    assert invoice.delivery_state == DeliveryState.SENT
    assert len(mailbox.to(employer.invoice_email)) == 1


def test_employer_sees_own_invoices_and_downloads_archived_bytes(client, db, as_role, app):
    organisation(db)
    mine, _ = employer_with_hours(db, weeks=1)
    other, _ = employer_with_hours(db, weeks=1)
    db.commit()
    with app.test_request_context("/"):
        invoices = {i.employer_id: i for i in issue_run(db)}
    as_role(Role.EMPLOYER, employer=mine)
    own, foreign = invoices[mine.id], invoices[other.id]
    listing = client.get("/invoices")
    assert own.display_number in listing.text and foreign.display_number not in listing.text
    detail = client.get(f"/invoices/{own.id}")
    assert "02-11-2026" in detail.text and "08:00–12:00" in detail.text
    first = client.get(f"/invoices/{own.id}/invoice.pdf")
    second = client.get(f"/invoices/{own.id}/invoice.pdf")
    assert first.data == second.data == own.pdf
    assert hashlib.sha256(first.data).hexdigest() == own.pdf_sha256
    assert client.get(f"/invoices/{own.id}/timesheet.pdf").data == own.timesheet_pdf
    for path in (
        f"/invoices/{foreign.id}",
        f"/invoices/{foreign.id}/invoice.pdf",
        f"/invoices/{foreign.id}/timesheet.pdf",
        "/invoices/999999",
    ):
        assert client.get(path).status_code == 404
    assert client.get("/finance/invoices").status_code == 403


def test_bookkeeping_csv_totals_match_the_invoices(client, db, as_role, app):
    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    employer_with_hours(db, weeks=2, name="=HYPERLINK(evil)")
    employer_with_hours(db, weeks=1)
    db.commit()
    with app.test_request_context("/"):
        invoices = issue_run(db)
        credit.issue_credit_note(db, finance, invoices[0], [invoices[0].lines[0].id], False, "x")
        db.commit()
    as_role(Role.FINANCE)
    today = dates.today().isoformat()
    response = client.get(f"/finance/bookkeeping.csv?date_from={today}&date_to={today}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = [line.split(";") for line in response.text.lstrip("\ufeff").strip().split("\r\n")]
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[:3] == ["nummer", "type", "fakturadato"]
    assert len(body) == 3 and any(r[1] == "kreditnota" for r in body)
    assert any(r[3] == "'=HYPERLINK(evil)" for r in body)

    def ore(text):
        return int(text.replace(",", ""))

    all_docs = db.scalars(select(Invoice)).all()
    net = sum((-1 if i.is_credit_note else 1) * i.total_ore for i in all_docs)
    assert sum(ore(r[8]) for r in body) == ore(total[8]) == net
    assert (
        client.get("/finance/bookkeeping.csv?date_from=2026-12-01&date_to=2026-11-01").status_code
        == 400
    )


def test_run_progress_page_and_tenancy(client, db, as_role):
    as_role(Role.FINANCE)
    run = InvoiceRun(period_end=PERIOD_END, total=4, done=1, status=RunStatus.RUNNING, errors=[])
    db.add(run)
    db.commit()
    page = client.get(f"/finance/runs/{run.id}")
    assert 'http-equiv="refresh"' in page.text and 'max="4" value="1"' in page.text
    assert client.get("/finance/runs/999999").status_code == 404
    assert client.get("/finance/invoices/999999").status_code == 404


def test_cli_preview_and_issue(app, db):
    organisation(db)
    employer_with_hours(db, weeks=1, name="CLI Kunde")
    db.commit()
    runner = app.test_cli_runner()

    def invoke(*args):
        with app.app_context():  # each command in its own context, as from a shell
            return runner.invoke(args=list(args))

    result = invoke("invoice-run", "--until", "2026-11-30")
    assert result.exit_code == 0, result.output
    assert "CLI Kunde" in result.output and "1 invoice," in result.output
    assert db.scalar(select(func.count()).select_from(Invoice)) == 0
    result = invoke("invoice-run", "--until", "2026-11-30", "--issue")
    assert result.exit_code == 0, result.output
    assert "1/1 employers, status done" in result.output
    result = invoke("invoice-run", "--until", "nope")
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def killed_run(db, employers: int = 3) -> InvoiceRun:
    """A run whose worker died after the first employer: RUNNING 1/3, silent for 10 minutes."""
    organisation(db)
    for n in range(employers):
        employer_with_hours(db, weeks=1, name=f"Kunde {n}")
    run = runs.start_run(db, None, PERIOD_END)
    db.commit()
    first = runs.billable_employer_ids(db, PERIOD_END)[0]
    with database().sessionmaker.begin() as session:
        runs.issue_for_employer(session, session.get(InvoiceRun, run.id), first)
    db.expire_all()
    run = db.get(InvoiceRun, run.id)
    run.status, run.done = RunStatus.RUNNING, 1
    run.heartbeat_at = dates.now() - runs.STALLED_AFTER - timedelta(minutes=5)
    db.commit()
    return run


def test_a_run_left_by_a_dead_worker_says_so_and_resumes_once(client, db, as_role):
    run = killed_run(db)
    as_role(Role.FINANCE)
    page = client.get(f"/finance/runs/{run.id}")
    assert 'http-equiv="refresh"' not in page.text  # no endless "running 1/3"
    assert "Kørslen er stoppet" in page.text and "Genoptag kørslen" in page.text

    first = post_form(client, f"/finance/runs/{run.id}/resume", {}, page=f"/finance/runs/{run.id}")
    second = post_form(client, f"/finance/runs/{run.id}/resume", {}, page=f"/finance/runs/{run.id}")
    assert first.status_code == second.status_code == 302
    db.expire_all()
    run = db.get(InvoiceRun, run.id)
    assert (run.status, run.done, run.resumed_count) == (RunStatus.DONE, 3, 1)
    assert sorted(db.scalars(select(Invoice.number))) == [1, 2, 3]  # whole and gapless
    # The dead worker's invoice was numbered but never rendered: the resumed run rendered it.
    assert all(invoice.documents_ready for invoice in db.scalars(select(Invoice)))
    per_entry = db.execute(
        select(invoice_line_entries.c.time_entry_id, func.count()).group_by(
            invoice_line_entries.c.time_entry_id
        )
    ).all()
    assert {n for _, n in per_entry} == {1}
    assert "Kørslen er stoppet" not in client.get(f"/finance/runs/{run.id}").text


def test_the_next_cli_run_resumes_a_stalled_run_instead_of_starting_beside_it(app, db):
    run = killed_run(db)
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["invoice-run", "--until", "2026-11-30", "--issue"])
    assert result.exit_code == 0, result.output
    assert f"Run {run.id} had stopped at 1/3 employers; resuming it." in result.output
    assert "Nothing more to bill" in result.output
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(InvoiceRun)) == 1
    assert db.get(InvoiceRun, run.id).status == RunStatus.DONE
    assert db.scalar(select(func.count()).select_from(Invoice)) == 3


def test_credit_notes_line_by_line_never_credit_more_vat_than_invoiced(app, db, ctx):
    """Issue 14, item 3: two lines of 270 minutes at 189 kr. carry 42.525 øre VAT together;
    credited one at a time they must credit exactly that, not 21.263 + 21.263."""
    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    employer, [placement] = employer_with_hours(db, weeks=0)
    for day in (date(2026, 11, 2), date(2026, 11, 9)):
        approved_entry(placement, day, minutes=270)
    [invoice] = issue_run(db)
    assert [line.amount_ore for line in invoice.lines] == [85050, 85050]
    assert invoice.vat_ore == 42525
    notes = []
    for line in invoice.lines:
        notes.append(credit.issue_credit_note(db, finance, invoice, [line.id], False, "Rabat"))
        db.commit()
    assert [n.vat_ore for n in notes] == [21263, 21262]
    assert sum(n.vat_ore for n in notes) == invoice.vat_ore
    assert sum(n.total_ore for n in notes) == invoice.total_ore
    db.refresh(invoice)
    assert invoice.credited_ore == invoice.total_ore and invoice.open_ore == 0
    # The second note's VAT is a øre under its own line's rounding, and its e-invoice still
    # passes the rules (BR-S-09 allows the rounding).
    issuer.complete(db, notes[1])
    assert notes[1].ubl_xml is not None


def test_a_released_shift_can_be_corrected_and_the_correction_is_billed(app, db, ctx):
    """Issue 14, item 1: crediting with release is only useful if the hours can then be put
    right. The employer corrects the shift, the worker confirms, the next run bills the
    corrected minutes."""
    from datetime import time

    from portal.services.hours.rules import Action, Shift, allowed_actions

    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    employer, [placement] = employer_with_hours(db, weeks=1)
    [invoice] = issue_run(db)
    credit.issue_credit_note(db, finance, invoice, [invoice.lines[0].id], True, "For mange timer")
    db.commit()
    employer_user = factories.user_for(Role.EMPLOYER, employer=employer)
    worker_user = factories.UserFactory(role=Role.WORKER)
    placement.worker.user = worker_user
    db.commit()
    entry = db.scalars(select(TimeEntry).order_by(TimeEntry.work_date)).first()
    assert {Action.EDIT, Action.APPROVE, Action.DISPUTE} <= allowed_actions(entry, employer_user)
    shift = Shift(entry.work_date, time(8, 0), time(10, 0), 0, "Rettet efter kreditnota")
    hours_commands.edit_entry(db, employer_user, entry, shift)
    db.commit()
    hours_commands.confirm_entry(db, worker_user, entry)  # the worker signs the change
    other = db.scalars(select(TimeEntry).where(TimeEntry.id != entry.id)).one()
    hours_commands.approve_entry(db, employer_user, other)
    db.commit()
    [corrected] = issue_run(db)
    assert corrected.number == 2
    assert sum(line.minutes for line in corrected.lines) == 120 + other.minutes
