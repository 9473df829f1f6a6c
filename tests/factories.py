"""factory_boy factories for every model; bound to the test's session by conftest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from portal import models as m

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
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=28))


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
    note_date = factory.LazyFunction(date.today)
    kind = m.NoteKind.CALL
    text = factory.Sequence(lambda n: f"Opfølgning {n}")


class PlacementHoursChangeFactory(Base):
    class Meta:
        model = m.PlacementHoursChange

    placement = factory.SubFactory(PlacementFactory)
    old_hours_per_week = 10
    new_hours_per_week = 12
    effective_from = factory.LazyFunction(date.today)


class TimeEntryFactory(Base):
    class Meta:
        model = m.TimeEntry

    placement = factory.SubFactory(PlacementFactory)
    work_date = factory.LazyFunction(lambda: date.today() - timedelta(days=7))
    start_time = time(8, 0)
    end_time = time(12, 0)
    break_minutes = 30
    minutes = 210
    entered_by_id = factory.LazyAttribute(lambda o: UserFactory(role=m.Role.CONSULTANT).id)


class InvoiceRunFactory(Base):
    class Meta:
        model = m.InvoiceRun

    period_end = factory.LazyFunction(date.today)


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
    received_at = factory.LazyFunction(lambda: datetime.now(UTC))


class TimeEntryChangeFactory(Base):
    class Meta:
        model = m.TimeEntryChange

    time_entry_id = factory.LazyAttribute(lambda o: TimeEntryFactory().id)
    kind = m.EntryChangeKind.EDITED


class PayrollExportFactory(Base):
    class Meta:
        model = m.PayrollExport

    period_start = factory.LazyFunction(lambda: date.today().replace(day=1))
    period_end = factory.LazyFunction(date.today)


class HoursReminderFactory(Base):
    class Meta:
        model = m.HoursReminder

    user_id = factory.LazyAttribute(lambda o: UserFactory().id)
    last_sent_at = factory.LazyFunction(lambda: datetime.now(UTC))


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
