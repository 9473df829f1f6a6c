"""Every money and hours write, sent twice or by two people at the same moment, takes effect
once. Real threads post through the WSGI app on committed data; on PostgreSQL the requests
truly interleave (row locks, unique and exclusion constraints decide), on SQLite every POST
takes the write lock first. Each test reproduces a row of issue 10's table."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import date, time, timedelta

from sqlalchemy import func, select

from core import dates
from core import models as m
from invoices import bookkeeping, payments, runs
from portal.services import hours
from tests import factories
from tests.invoicing import approved_entry, employer_with_hours, organisation
from tests.racing import Browser, post_many, race
from tests.stripe_server import event, localstripe_server, sign, stripe_on

__all__ = ["localstripe_server", "stripe_on"]  # fixtures used below

PERIOD_END = date(2026, 11, 30)
TABS = 4


@contextmanager
def seeding(committed):
    """A session whose factories commit for real (the racing requests must see the rows)."""
    session = committed()
    factories.bind(session)
    try:
        yield session
        session.commit()
    finally:
        factories.bind(None)
        session.close()


def count(committed, model, *where) -> int:
    with committed() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def issued_invoice_with_lines(committed) -> tuple[int, int]:
    """An invoice issued by a real run (lines, shifts, PDFs) and a finance user's id."""
    with seeding(committed) as session:
        organisation(session)
        employer_with_hours(session, weeks=2, placements=2)
        finance = factories.UserFactory(role=m.Role.FINANCE)
        session.commit()
        run_id = runs.start_run(session, None, PERIOD_END).id
        session.commit()
        finance_id = finance.id
    runs.process_run(committed, run_id)
    with committed() as session:
        return session.scalar(select(m.Invoice.id).where(m.Invoice.run_id == run_id)), finance_id


def user(committed, user_id: int) -> m.User:
    with committed() as session:
        return session.get(m.User, user_id)


def test_a_credit_note_form_sent_four_times_at_once_issues_one(app, committed):
    invoice_id, finance_id = issued_invoice_with_lines(committed)
    browser = Browser(app, user(committed, finance_id))
    form = browser.form(f"/finance/invoices/{invoice_id}")
    data = {**form, "reason": "Timerne var forkerte", "release": "y"}

    responses = post_many(browser.tabs(TABS), f"/finance/invoices/{invoice_id}/credit", data)

    assert [r.status_code for r in responses] == [302] * TABS
    assert len({r.headers["Location"] for r in responses}) == 1, "all see the first result"
    notes = count(committed, m.Invoice, m.Invoice.kind == m.InvoiceKind.CREDIT_NOTE)
    assert notes == 1
    with committed() as session:
        invoice = session.get(m.Invoice, invoice_id)
        note = session.scalar(select(m.Invoice).where(m.Invoice.credited_invoice_id == invoice_id))
        assert note.display_number.endswith("-0001")
        assert invoice.credited_ore == note.total_ore == invoice.total_ore
        csv = bookkeeping.bookkeeping_csv(session, date(2000, 1, 1), date(2100, 1, 1))
        assert csv.count(";kreditnota;") == 1


def test_two_credit_notes_for_the_same_lines_at_once_one_is_refused(app, committed):
    """Two people, two forms: the invoice row lock makes the second see the first."""
    invoice_id, finance_id = issued_invoice_with_lines(committed)
    people = [Browser(app, user(committed, finance_id)) for _ in range(2)]
    forms = [p.form(f"/finance/invoices/{invoice_id}") for p in people]
    path = f"/finance/invoices/{invoice_id}/credit"
    race(
        [
            lambda p=p, f=f: p.client.post(path, data={**f, "reason": "Fejl"})
            for p, f in zip(people, forms, strict=True)
        ]
    )
    with committed() as session:
        invoice = session.get(m.Invoice, invoice_id)
        assert invoice.credited_ore == invoice.total_ore  # credited once, not twice
    assert count(committed, m.Invoice, m.Invoice.kind == m.InvoiceKind.CREDIT_NOTE) == 1


def shift_world(committed):
    with seeding(committed) as session:
        organisation(session)
        worker_user = factories.user_for(m.Role.WORKER)
        employer_user = factories.user_for(m.Role.EMPLOYER)
        placement = factories.placement_between(
            worker_user, employer_user, start_date=dates.today() - timedelta(days=30)
        )
        session.commit()
        return worker_user, employer_user, placement.id


def shift(placement_id: int, day: date, start: str, end: str) -> dict:
    return {
        "placement_id": str(placement_id),
        "work_date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "break_minutes": "0",
        "note": "",
    }


def test_a_shift_sent_six_times_at_once_is_stored_once_and_billed_once(app, committed):
    worker_user, _employer_user, placement_id = shift_world(committed)
    worker = Browser(app, worker_user)
    for round_ in range(4):
        day = dates.today() - timedelta(days=2 + round_)
        data = {**worker.form("/hours/record"), **shift(placement_id, day, "08:00", "11:15")}
        responses = post_many(worker.tabs(6), "/hours/record", data)
        assert {r.status_code for r in responses} == {302}
    assert count(committed, m.TimeEntry) == 4
    with committed() as session:
        assert session.scalar(select(func.sum(m.TimeEntry.minutes))) == 4 * 195


def test_worker_and_employer_recording_overlapping_shifts_at_once_store_one(app, committed):
    worker_user, employer_user, placement_id = shift_world(committed)
    worker, employer = Browser(app, worker_user), Browser(app, employer_user)
    for round_ in range(4):
        day = dates.today() - timedelta(days=2 + round_)
        sends = []
        for browser, (start, end) in ((worker, ("08:00", "12:00")), (employer, ("09:00", "13:00"))):
            data = {**browser.form("/hours/record"), **shift(placement_id, day, start, end)}
            sends.append(lambda b=browser, d=data: b.client.post("/hours/record", data=d))
        responses = race(sends)
        assert sorted(r.status_code for r in responses) == [302, 400], round_
        refused = next(r for r in responses if r.status_code == 400)
        assert "overlap" in refused.text
    assert count(committed, m.TimeEntry) == 4


def test_a_week_approved_four_times_at_once_approves_each_shift_once(app, committed):
    worker_user, employer_user, placement_id = shift_world(committed)
    monday = hours.week_start(dates.today()) - timedelta(days=7)
    with seeding(committed) as session:
        placement = session.get(m.Placement, placement_id)
        for day in range(3):
            factories.TimeEntryFactory(
                placement=placement,
                work_date=monday + timedelta(days=day),
                worker_confirmed_at=dates.now(),
                worker_confirmed_by_id=worker_user.id,
            )
    employer = Browser(app, employer_user)
    label = hours.week_label(monday)
    data = {**employer.form(f"/hours/week?week={label}"), "week": label}
    responses = post_many(employer.tabs(TABS), "/hours/week", data)
    assert {r.status_code for r in responses} == {302}
    approved = count(committed, m.AuditEvent, m.AuditEvent.action == "time_entry.approved")
    assert approved == 3
    assert count(committed, m.TimeEntry, m.TimeEntry.employer_approved_at.is_(None)) == 0


def paid_invoice(committed, paid_ore: int) -> tuple[int, int]:
    with seeding(committed) as session:
        organisation(session)
        invoice = factories.issued_invoice(total_ore=50000)
        finance = factories.UserFactory(role=m.Role.FINANCE)
        session.flush()
        if paid_ore:
            payments.record_payment(session, invoice, paid_ore, m.PaymentMethod.BANK, "bank:x")
        session.commit()
        return invoice.id, finance.id


def refund_form(browser, invoice_id: int, committed, amount: str) -> dict:
    with committed() as session:
        number = session.get(m.Invoice, invoice_id).display_number
    return {
        **browser.form("/finance/payments/new"),
        "invoice_number": number,
        "kind": "refund",
        "amount": amount,
        "received_on": "2026-11-20",
    }


def test_two_refunds_of_everything_paid_at_once_refund_it_once(app, committed):
    invoice_id, finance_id = paid_invoice(committed, 10000)
    people = [Browser(app, user(committed, finance_id)) for _ in range(2)]
    forms = [refund_form(p, invoice_id, committed, "100,00") for p in people]
    responses = race(
        [
            lambda p=p, f=f: p.client.post("/finance/payments/new", data=f)
            for p, f in zip(people, forms, strict=True)
        ]
    )
    assert sorted(r.status_code for r in responses) == [302, 400]
    with committed() as session:
        assert session.get(m.Invoice, invoice_id).paid_ore == 0  # never below zero
    assert count(committed, m.Payment, m.Payment.amount_ore < 0) == 1


def test_a_manual_payment_sent_four_times_at_once_is_recorded_once(app, committed):
    invoice_id, finance_id = paid_invoice(committed, 0)
    browser = Browser(app, user(committed, finance_id))
    data = {**refund_form(browser, invoice_id, committed, "150,50"), "kind": "payment"}
    responses = post_many(browser.tabs(TABS), "/finance/payments/new", data)
    assert {r.status_code for r in responses} == {302}
    with committed() as session:
        assert session.get(m.Invoice, invoice_id).paid_ore == 15050
    assert count(committed, m.Payment) == 1


def test_two_consultants_taking_the_same_order_at_once_one_gets_it(app, committed):
    with seeding(committed) as session:
        consultants = [factories.UserFactory(role=m.Role.CONSULTANT) for _ in range(2)]
        order = factories.JobOrderFactory(status=m.OrderStatus.NEW)
        session.commit()
        order_id = order.id
    people = [Browser(app, c) for c in consultants]
    forms = [p.form(f"/consultant/orders/{order_id}") for p in people]
    path = f"/consultant/orders/{order_id}/take"
    responses = race(
        [lambda p=p, f=f: p.client.post(path, data=f) for p, f in zip(people, forms, strict=True)]
    )
    assert {r.status_code for r in responses} == {302}
    assert count(committed, m.AuditEvent, m.AuditEvent.action == "order.taken") == 1
    with committed() as session:
        taker = session.get(m.JobOrder, order_id).consultant_id
    loser = next(p for p, c in zip(people, consultants, strict=True) if c.id != taker)
    assert "allerede taget" in loser.client.get(f"/consultant/orders/{order_id}").text


def test_a_proposal_sent_four_times_at_once_proposes_the_worker_once(app, committed):
    with seeding(committed) as session:
        consultant = factories.UserFactory(role=m.Role.CONSULTANT)
        order = factories.JobOrderFactory(
            status=m.OrderStatus.TAKEN,
            consultant=consultant,
            head_count=2,
            start_date=dates.today(),
        )
        worker = factories.WorkerFactory()
        session.commit()
        path = f"/consultant/orders/{order.id}/propose/{worker.id}"
    browser = Browser(app, consultant)
    data = {
        **browser.form(path),
        "pay_rate_ore": "135,00",
        "bill_rate_ore": "189,00",
        "hours_per_week": "10",
        "start_date": (dates.today() + timedelta(days=3)).isoformat(),
    }
    responses = post_many(browser.tabs(TABS), path, data)
    assert {r.status_code for r in responses} == {302}
    assert count(committed, m.Placement) == 1


def test_a_payroll_export_sent_four_times_at_once_exports_each_shift_once(app, committed):
    with seeding(committed) as session:
        organisation(session)
        employer_with_hours(session, weeks=2, placements=2)
        finance = factories.UserFactory(role=m.Role.FINANCE)
    browser = Browser(app, finance)
    data = {
        **browser.form("/payroll/"),
        "start": "2026-11-01",
        "end": "2026-11-30",
        "format": "csv",
    }
    responses = post_many(browser.tabs(TABS), "/payroll/", data)
    assert {r.status_code for r in responses} == {302}
    assert count(committed, m.PayrollExport) == 1
    assert count(committed, m.TimeEntry, m.TimeEntry.payroll_export_id.is_(None)) == 0


def test_an_invoice_run_started_four_times_at_once_starts_once(app, committed):
    with seeding(committed) as session:
        organisation(session)
        employers = [employer_with_hours(session, weeks=1)[0] for _ in range(2)]
        finance = factories.UserFactory(role=m.Role.FINANCE)
    browser = Browser(app, finance)
    data = {
        **browser.form(f"/finance/invoicing?period_end={PERIOD_END.isoformat()}"),
        "period_end": PERIOD_END.isoformat(),
        "cadence": "",
        "employer_ids": [str(e.id) for e in employers],
    }
    responses = post_many(browser.tabs(TABS), "/finance/invoicing/issue", data)
    assert {r.status_code for r in responses} == {302}
    assert count(committed, m.InvoiceRun) == 1
    assert count(committed, m.Invoice) == 2
    with committed() as session:
        numbers = sorted(session.scalars(select(m.Invoice.number)))
    assert numbers == [1, 2]


def test_a_bank_statement_imported_four_times_at_once_records_each_payment_once(app, committed):
    with seeding(committed) as session:
        organisation(session)
        invoice = factories.issued_invoice(total_ore=50000)
        finance = factories.UserFactory(role=m.Role.FINANCE)
        session.commit()
        statement = (
            "Dato;Beløb;Tekst\n"
            f"20-11-2026;500,00;Betaling {invoice.payment_id}\n"
            "21-11-2026;75,00;Ukendt indbetaling\n"
        ).encode()
        invoice_id = invoice.id
    browser = Browser(app, finance)
    form = browser.form("/finance/bank-import")

    def data() -> dict:
        return {**form, "statement": (io.BytesIO(statement), "kontoudtog.csv")}

    responses = post_many(browser.tabs(TABS), "/finance/bank-import", data)
    assert {r.status_code for r in responses} == {302}
    assert count(committed, m.BankImport) == 1
    assert count(committed, m.Payment) == 1
    with committed() as session:
        assert session.get(m.Invoice, invoice_id).paid_ore == 50000


def test_thirty_events_at_once_about_an_intent_we_never_created_make_one_row(
    app, committed, stripe_on
):
    """Distinct signed events, one unknown intent: insert-or-get, never a UniqueViolation."""
    with seeding(committed) as session:
        organisation(session)
        invoice = factories.issued_invoice(total_ore=50000)
        session.commit()
        invoice_id = invoice.id
    intent = {
        "id": "pi_never_created_here",
        "object": "payment_intent",
        "amount": 50000,
        "amount_received": 50000,
        "currency": "dkk",
        "status": "succeeded",
        "metadata": {"invoice_id": str(invoice_id)},
    }
    bodies = [
        event("payment_intent.succeeded", intent, event_id=f"evt_race_{n}") for n in range(30)
    ]
    clients = [app.test_client() for _ in bodies]
    responses = race(
        [
            lambda c=c, b=b: c.post(
                "/stripe/webhook",
                data=b,
                headers={"Stripe-Signature": sign(b), "Content-Type": "application/json"},
            )
            for c, b in zip(clients, bodies, strict=True)
        ]
    )
    assert [r.status_code for r in responses] == [200] * 30
    assert count(committed, m.CardIntent) == 1
    assert count(committed, m.Payment) == 1
    with committed() as session:
        assert session.get(m.Invoice, invoice_id).status == m.InvoiceStatus.PAID


def test_reminders_sent_three_times_at_once_send_each_reminder_once(app, committed):
    with seeding(committed) as session:
        organisation(session)
        finance = factories.UserFactory(role=m.Role.FINANCE)
        for _ in range(2):
            factories.issued_invoice(
                total_ore=50000,
                issue_date=dates.today() - timedelta(days=40),
                due_date=dates.today() - timedelta(days=20),
            )
    browser = Browser(app, finance)
    form = browser.form("/finance/reminders")
    responses = post_many(browser.tabs(3), "/finance/reminders/send", form)
    assert {r.status_code for r in responses} == {302}
    assert count(committed, m.Reminder) == 2


def test_approving_and_invoicing_at_the_same_time_bills_each_minute_once(app, committed):
    """The employer approves while finance runs invoicing: a shift is on one invoice or none."""
    worker_user, employer_user, placement_id = shift_world(committed)
    with seeding(committed) as session:
        placement = session.get(m.Placement, placement_id)
        start = dates.today() - timedelta(days=20)
        for day in range(5):
            approved_entry(placement, start + timedelta(days=day))
        for day in range(5, 10):
            factories.TimeEntryFactory(
                placement=placement,
                work_date=start + timedelta(days=day),
                start_time=time(8),
                end_time=time(12),
                minutes=240,
                break_minutes=0,
                worker_confirmed_at=dates.now(),
            )
        run_id = runs.start_run(session, None, dates.today()).id
    employer = Browser(app, employer_user)
    label = hours.week_label(hours.week_start(start + timedelta(days=7)))
    data = {**employer.form(f"/hours/week?week={label}"), "week": label}

    def invoice_run():
        with app.app_context():
            runs.process_run(committed, run_id)

    race([lambda: employer.client.post("/hours/week", data=data), invoice_run])
    with committed() as session:
        per_entry = session.execute(
            select(m.invoice_line_entries.c.time_entry_id, func.count()).group_by(
                m.invoice_line_entries.c.time_entry_id
            )
        ).all()
        assert {n for _, n in per_entry} <= {1}
        billed = session.scalar(select(func.coalesce(func.sum(m.InvoiceLine.minutes), 0)))
        on_lines = session.scalar(
            select(func.coalesce(func.sum(m.TimeEntry.minutes), 0)).where(
                m.TimeEntry.invoice_line_id.is_not(None)
            )
        )
        assert billed == on_lines


def test_old_form_keys_are_forgotten_by_the_cron_command(app, committed):
    from core.models import Submission

    with seeding(committed) as session:
        session.add_all(
            [
                Submission(key="old" * 10, created_at=dates.now() - timedelta(days=8)),
                Submission(key="new" * 10, created_at=dates.now() - timedelta(days=1)),
            ]
        )
    result = app.test_cli_runner().invoke(args=["prune-submissions"])
    assert result.exit_code == 0 and "Forgot 1 form key" in result.output
    with committed() as session:
        assert session.scalars(select(Submission.key)).all() == ["new" * 10]
