"""Helpers for invoicing tests: employers with approved hours, PDF text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

from pypdf import PdfReader

from core.db import database
from core.models import Invoice, OrganisationSettings
from invoices import runs
from tests import factories

PERIOD_END = date(2026, 11, 30)


def organisation(db) -> OrganisationSettings:
    org = db.get(OrganisationSettings, 1) or OrganisationSettings(id=1)
    org.legal_name = "Småjob Fyn"
    org.cvr = "13585628"
    org.address_line, org.postcode, org.city = "Kongensgade 40", "5000", "Odense C"
    org.email, org.phone = "kontakt@smajob.dk", "66 00 00 00"
    org.bank_reg, org.bank_account = "1234", "0012345678"
    org.iban, org.bic, org.fi_creditor_number = "DK5912340012345678", "DABADKKK", "81234567"
    db.add(org)
    db.flush()
    return org


def approved_entry(placement, day: date, minutes: int = 240, **kwargs):
    signed = datetime.combine(day, time(18), tzinfo=UTC)
    return factories.TimeEntryFactory(
        placement=placement,
        work_date=day,
        start_time=time(8, 0),
        end_time=(datetime.combine(day, time(8, 0)) + timedelta(minutes=minutes)).time(),
        break_minutes=0,
        minutes=minutes,
        worker_confirmed_at=signed,
        employer_approved_at=signed,
        **kwargs,
    )


def employer_with_hours(
    db,
    *,
    weeks: int = 2,
    placements: int = 1,
    start: date | None = None,
    name: str | None = None,
    **employer_kwargs,
):
    """An employer with `placements` placements and shifts on Monday and Wednesday of each of
    `weeks` ISO weeks, all approved by both sides."""
    start = start or date(2026, 11, 2)  # a Monday (uge 45)
    employer = factories.EmployerFactory(**({"name": name} if name else {}), **employer_kwargs)
    area = factories.WorkAreaFactory(name=f"Lager {employer.name}")
    made = []
    for n in range(placements):
        order = factories.JobOrderFactory(employer=employer, work_area=area, start_date=start)
        worker = factories.WorkerFactory(first_name=f"Jørgen{n}", last_name="Hansen")
        placement = factories.PlacementFactory(
            job_order=order, employer=employer, worker=worker, start_date=start
        )
        for week in range(weeks):
            for weekday in (0, 2):
                approved_entry(placement, start + timedelta(weeks=week, days=weekday))
        made.append(placement)
    db.flush()
    return employer, made


def municipality(db):
    """A public body (EAN) with approved hours and the references its e-invoice needs."""
    employer, [placement] = employer_with_hours(
        db, weeks=1, name="Odense Kommune", ean="5798000554504", cvr="29189579"
    )
    placement.job_order.order_reference = "PO-117"
    placement.job_order.person_reference = "Karen Park"
    return employer


def pdf_text(content: bytes) -> str:
    """All pages' text with white space folded (PDF line breaks fall anywhere)."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def issue_run(db, period_end=PERIOD_END, employer_ids=None):
    """Start and process a run the way the background job does; returns the issued invoices."""
    run_id = runs.start_run(db, None, period_end, employer_ids=employer_ids).id
    # Commit and keep no transaction open in the test's session while the run works: the
    # sessions share one connection here, and an older savepoint would swallow the run's.
    db.commit()
    ids = runs.process_run(database().sessionmaker, run_id)
    db.expire_all()
    return [db.get(Invoice, i) for i in ids]
