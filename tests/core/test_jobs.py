"""The invoice run through RQ on a real Redis, processed by a real (in-process) worker."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import select

from core.jobs import JobQueue
from core.models import DeliveryState, Invoice, InvoiceRun, Role, RunStatus
from tests.helpers import post_form
from tests.invoicing import employer_with_hours, organisation

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true", reason="needs REDIS_URL"
)


@pytest.fixture
def rq_queue(app):
    from redis import Redis

    assert REDIS_URL, "CI sets REDIS_URL"
    original = app.extensions["jobs"]
    jobs = JobQueue(REDIS_URL, "rq", name=f"test-{uuid.uuid4().hex[:8]}")
    app.extensions["jobs"] = jobs
    try:
        yield jobs
    finally:
        app.extensions["jobs"] = original
        jobs.queue.delete(delete_jobs=True)
        Redis.from_url(REDIS_URL).close()


def test_invoice_run_goes_through_the_queue(client, db, as_role, rq_queue, mailbox):
    from rq import SimpleWorker

    organisation(db)
    employer, _ = employer_with_hours(db, weeks=1)
    db.commit()
    employer_id, invoice_email = employer.id, employer.invoice_email
    as_role(Role.FINANCE)
    response = post_form(
        client,
        "/finance/invoicing/issue",
        {"period_end": "2026-11-30", "cadence": "", "employer_ids": [employer_id]},
        page="/finance/invoicing?period_end=2026-11-30",
    )
    assert response.status_code == 302
    run = db.scalar(select(InvoiceRun))
    assert run.status == RunStatus.QUEUED and rq_queue.queue.count == 1
    assert "I kø" in client.get(response.headers["Location"]).text
    assert db.scalar(select(Invoice)) is None

    SimpleWorker([rq_queue.queue], connection=rq_queue.queue.connection).work(burst=True)

    db.expire_all()
    invoice = db.scalar(select(Invoice).where(Invoice.employer_id == employer_id))
    assert invoice is not None and invoice.number == 1
    assert invoice.delivery_state == DeliveryState.SENT
    assert len(mailbox.to(invoice_email)) == 1
    assert db.get(InvoiceRun, run.id).status == RunStatus.DONE
    assert "Færdig" in client.get(response.headers["Location"]).text
