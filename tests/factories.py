"""factory_boy factories for every model; bound to the test's session by conftest."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from core import dates
from core import models as m

PASSWORD = "correct-horse-battery"
PASSWORD_HASH = generate_password_hash(PASSWORD)  # hashed once: scrypt is slow on purpose

_session: Session | None = None


def bind(session: Session | None) -> None:
    global _session
    _session = session


def current_session() -> Session:
    assert _session is not None, "factories need the db fixture"
    return _session


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "flush"


# Valid CVR numbers (modulus 11) to hand out in order.
CVRS = [
    "29000050",
    "29000069",
    "29000077",
    "29000085",
    "29000093",
    "29000107",
    "29000115",
    "29000123",
    "29000131",
    "29000158",
    "29000166",
    "29000174",
]


class EmployerFactory(Base):
    class Meta:
        model = m.Employer

    name = factory.Sequence(lambda n: f"Virksomhed {n} ApS")
    cvr = factory.Sequence(lambda n: CVRS[n % len(CVRS)])
    address_line = "Testvej 1"
    postcode = "5000"
    city = "Odense C"
    invoice_email = factory.Sequence(lambda n: f"faktura{n}@example.dk")
    status = m.EmployerStatus.ACTIVE


class UserFactory(Base):
    class Meta:
        model = m.User

    email = factory.Sequence(lambda n: f"user{n}@example.dk")
    full_name = factory.Sequence(lambda n: f"Bruger {n}")
    password_hash = PASSWORD_HASH
    role = m.Role.CONSULTANT
    phone = "+45 11 22 33 44"


class WorkAreaFactory(Base):
    class Meta:
        model = m.WorkArea

    name = factory.Sequence(lambda n: f"Område {n}")
    name_en = factory.Sequence(lambda n: f"Area {n}")
    bill_rate_ore = 18900
    pay_rate_ore = 13500


class JobOrderFactory(Base):
    class Meta:
        model = m.JobOrder

    employer = factory.SubFactory(EmployerFactory)
    work_area = factory.SubFactory(WorkAreaFactory)
    title = factory.Sequence(lambda n: f"Opgave {n}")
    description = "Hjælp på lageret"
    address = "Testvej 1, 5000 Odense C"
    postcode = "5000"
    hours_per_week = 10
    preferred_days = 0b0011111
    start_date = factory.LazyFunction(lambda: dates.today() - timedelta(days=28))


class WorkerFactory(Base):
    class Meta:
        model = m.Worker

    payroll_number = factory.Sequence(lambda n: f"9{n:04d}")
    first_name = factory.Sequence(lambda n: f"Medarbejder{n}")
    last_name = "Jensen"
    email = factory.Sequence(lambda n: f"worker{n}@example.dk")
    postcode = "5000"


class PlacementFactory(Base):
    class Meta:
        model = m.Placement

    job_order = factory.SubFactory(JobOrderFactory)
    employer = factory.SelfAttribute("job_order.employer")
    worker = factory.SubFactory(WorkerFactory)
    pay_rate_ore = 13500
    bill_rate_ore = 18900
    hours_per_week = 10
    start_date = factory.SelfAttribute("job_order.start_date")
    status = m.PlacementStatus.ACTIVE


class PlacementNoteFactory(Base):
    class Meta:
        model = m.PlacementNote

    placement = factory.SubFactory(PlacementFactory)
    note_date = factory.LazyFunction(dates.today)
    kind = m.NoteKind.CALL
    text = factory.Sequence(lambda n: f"Opfølgning {n}")


class PlacementHoursChangeFactory(Base):
    class Meta:
        model = m.PlacementHoursChange

    placement = factory.SubFactory(PlacementFactory)
    old_hours_per_week = 10
    new_hours_per_week = 12
    effective_from = factory.LazyFunction(dates.today)


class TimeEntryFactory(Base):
    class Meta:
        model = m.TimeEntry

    placement = factory.SubFactory(PlacementFactory)
    worker = factory.SelfAttribute("placement.worker")
    work_date = factory.LazyFunction(lambda: dates.today() - timedelta(days=7))
    start_time = time(8, 0)
    end_time = time(12, 0)
    break_minutes = 30
    minutes = 210
    entered_by_id = factory.LazyAttribute(lambda o: UserFactory(role=m.Role.CONSULTANT).id)


class InvoiceRunFactory(Base):
    class Meta:
        model = m.InvoiceRun

    period_end = factory.LazyFunction(dates.today)


class InvoiceFactory(Base):
    class Meta:
        model = m.Invoice

    employer = factory.SubFactory(EmployerFactory)
    series = "F"


class InvoiceLineFactory(Base):
    class Meta:
        model = m.InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    description = "Lager – uge 46"
    minutes = 720
    rate_ore = 18900
    amount_ore = 226800


class PaymentFactory(Base):
    class Meta:
        model = m.Payment

    invoice = factory.SubFactory(InvoiceFactory)
    amount_ore = 10000
    method = m.PaymentMethod.MANUAL
    received_at = factory.LazyFunction(lambda: dates.now())


class TimeEntryChangeFactory(Base):
    class Meta:
        model = m.TimeEntryChange

    time_entry_id = factory.LazyAttribute(lambda o: TimeEntryFactory().id)
    kind = m.EntryChangeKind.EDITED


class PayrollExportFactory(Base):
    class Meta:
        model = m.PayrollExport

    period_start = factory.LazyFunction(lambda: dates.today().replace(day=1))
    period_end = factory.LazyFunction(dates.today)


class HoursReminderFactory(Base):
    class Meta:
        model = m.HoursReminder

    user_id = factory.LazyAttribute(lambda o: UserFactory().id)
    last_sent_at = factory.LazyFunction(lambda: dates.now())


class AuditEventFactory(Base):
    class Meta:
        model = m.AuditEvent

    action = "test.event"


def user_for(role: m.Role, **kwargs) -> m.User:
    """A user of this role; employer users get an employer, workers a worker profile."""
    if role == m.Role.EMPLOYER and "employer" not in kwargs:
        kwargs["employer"] = EmployerFactory()
    user = UserFactory(role=role, **kwargs)
    if role == m.Role.WORKER:
        WorkerFactory(user=user, email=user.email)
    return user


def worker_profile(user: m.User) -> m.Worker:
    """The Worker row that user_for() made for a worker user."""
    return current_session().query(m.Worker).filter_by(user_id=user.id).one()


def placement_between(worker_user: m.User, employer_user: m.User, **kwargs) -> m.Placement:
    """An active placement of this worker user with this employer user's employer."""
    order = JobOrderFactory(
        employer=employer_user.employer,
        **({"start_date": kwargs["start_date"]} if "start_date" in kwargs else {}),
    )
    return PlacementFactory(job_order=order, worker=worker_profile(worker_user), **kwargs)


# --- Payments and receivables ------------------------------------------------------------------


class CardIntentFactory(Base):
    class Meta:
        model = m.CardIntent

    invoice = factory.SubFactory(InvoiceFactory)
    intent_id = factory.Sequence(lambda n: f"pi_test{n:010d}")
    amount_ore = 10000
    failure_message = ""


class ProcessedStripeEventFactory(Base):
    class Meta:
        model = m.ProcessedStripeEvent

    event_id = factory.Sequence(lambda n: f"evt_test{n:010d}")
    type = "payment_intent.succeeded"


class InvoiceFlagsFactory(Base):
    class Meta:
        model = m.InvoiceFlags

    invoice = factory.SubFactory(InvoiceFactory)
    dispute_note = ""


class BankImportFactory(Base):
    class Meta:
        model = m.BankImport

    filename = "kontoudtog.csv"
    sha256 = "0" * 64


class BankLineFactory(Base):
    class Meta:
        model = m.BankLine

    bank_import = factory.SubFactory(BankImportFactory)
    line_number = factory.Sequence(lambda n: n + 2)
    booking_date = factory.LazyFunction(dates.today)
    amount_ore = 10000
    text = "Indbetaling"
    fingerprint = factory.Sequence(lambda n: f"bank:test{n}")
    status = m.BankLineStatus.UNMATCHED


class ReminderFactory(Base):
    class Meta:
        model = m.Reminder

    invoice = factory.SubFactory(InvoiceFactory)
    level = 1
    sent_on = factory.LazyFunction(dates.today)
    principal_ore = 10000
    fee_ore = 10000
    interest_from = factory.LazyFunction(dates.today)
    interest_to = factory.LazyFunction(dates.today)
    interest_days = 0
    interest_rate_bp = 1000
    total_due_ore = 20000
    # A reminder that went out the day it was made (the outbox delivered its e-mail).
    delivered_on = factory.SelfAttribute("sent_on")
    delivered_at = factory.LazyFunction(dates.now)


SELLER = {
    "legal_name": "Småjob Fyn",
    "cvr": "13585628",
    "address_line": "Kongensgade 40",
    "postcode": "5000",
    "city": "Odense C",
    "email": "kontakt@smajob.dk",
    "phone": "66000000",
    "bank_reg": "1234",
    "bank_account": "0012345678",
    "iban": "DK5912340012345678",
    "bic": "DABADKKK",
    "fi_creditor_number": "81234567",
    "late_interest_rate_bp": 1000,
    "payment_terms_days": 14,
}
_invoice_numbers = iter(range(1, 10**6))


def issued_invoice(
    employer: m.Employer | None = None,
    total_ore: int = 125000,
    due_date: date | None = None,
    issue_date: date | None = None,
    number: int | None = None,
    **kwargs,
) -> m.Invoice:
    """An issued invoice (number, FI payment id, parties) without running an invoice run."""
    from invoices import numbering

    employer = employer or EmployerFactory()
    issue_date = issue_date or date(2026, 11, 2)
    number = number or next(_invoice_numbers)
    vat = total_ore // 5
    # Its documents archived, as after the issuer's second phase (pass None to leave them out).
    for slot in ("pdf", "timesheet_pdf"):
        content = kwargs.setdefault(slot, b"%PDF-1.7 " + slot.encode())
        checksum = "timesheet_sha256" if slot == "timesheet_pdf" else "pdf_sha256"
        kwargs.setdefault(checksum, content and hashlib.sha256(content).hexdigest())
    return InvoiceFactory(
        employer=employer,
        series="F",
        year=issue_date.year,
        number=number,
        issue_date=issue_date,
        due_date=due_date or issue_date + timedelta(days=14),
        period_start=issue_date - timedelta(days=30),
        period_end=issue_date - timedelta(days=1),
        subtotal_ore=total_ore - vat,
        vat_ore=vat,
        total_ore=total_ore,
        status=m.InvoiceStatus.ISSUED,
        payment_id=numbering.payment_id(issue_date.year, number),
        buyer={
            "name": employer.name,
            "address_line": employer.address_line,
            "postcode": employer.postcode,
            "city": employer.city,
            "cvr": employer.cvr,
            "ean": "",
            "email": employer.invoice_email,
        },
        seller=dict(SELLER),
        issued_at=datetime.combine(issue_date, time(9), tzinfo=UTC),
        **kwargs,
    )
