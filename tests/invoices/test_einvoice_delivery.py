"""Sending e-invoices to public bodies: through the drop folder an access point's client
watches (the default), or to an access point's HTTP API, here a small server on 127.0.0.1
(tests/peers.py) that checks what it receives with the same rules and can refuse it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core import dates, outbox
from core.models import EinvoiceState, Invoice, OutboxMessage, OutboxState, Role
from tests.helpers import free_port, post_form, queue_unreachable
from tests.invoicing import employer_with_hours, issue_run, municipality, organisation
from tests.peers import AccessPoint


def issued_and_delivered(db) -> list[Invoice]:
    """Issue a run; its messages leave through the outbox as each invoice is committed (the
    sender runs in process here, as jobs do)."""
    invoices = issue_run(db)
    db.expire_all()
    return [db.get(Invoice, invoice.id) for invoice in invoices]


@pytest.fixture
def configured(app):
    """Restore the e-invoice transport settings a test changes."""
    keys = ("EINVOICE_TRANSPORT", "EINVOICE_FOLDER", "EINVOICE_API_URL", "EINVOICE_API_TOKEN")
    saved = {key: app.config.get(key) for key in keys}
    yield app.config
    app.config.update(saved)


def test_the_drop_folder_gets_the_municipalitys_e_invoice_once(app, db, ctx, configured, tmp_path):
    configured["EINVOICE_FOLDER"] = str(tmp_path / "outbox")
    organisation(db)
    municipality(db)
    company, _ = employer_with_hours(db, weeks=1, name="Frugt ApS")
    with queue_unreachable(app):  # nothing wakes a sender: the messages wait in the outbox
        issued = {i.buyer["name"]: i for i in issue_run(db)}
    # Issued, not yet delivered: a public body's e-invoice is queued from the moment of issue.
    assert issued["Odense Kommune"].einvoice_state == EinvoiceState.QUEUED
    assert issued["Frugt ApS"].einvoice_state is None
    assert outbox.send_due().delivered == 3  # two e-mails and one e-invoice
    db.expire_all()
    invoices = {name: db.get(Invoice, i.id) for name, i in issued.items()}
    public, private = invoices["Odense Kommune"], invoices["Frugt ApS"]
    dropped = tmp_path / "outbox" / f"{public.display_number}.xml"
    assert dropped.read_bytes() == public.ubl_xml
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [dropped.name]  # no .part left
    assert public.einvoice_state == EinvoiceState.SENT and public.einvoice_attempts == 1
    assert private.einvoice_state is None  # a company gets the e-mailed PDFs
    # Sending what is due again changes nothing: it went once.
    assert outbox.send_due().handled == 0
    db.refresh(public)
    assert public.einvoice_attempts == 1 and len(list((tmp_path / "outbox").iterdir())) == 1


@pytest.fixture
def access_point(app, configured):
    """An access point's API on 127.0.0.1 that checks what it receives with the same rules."""
    point = AccessPoint(token="secret-token", rules=app.extensions["einvoice_rules"])
    configured.update(
        EINVOICE_TRANSPORT="api", EINVOICE_API_URL=point.url, EINVOICE_API_TOKEN="secret-token"
    )
    yield point
    point.close()


def test_the_access_point_accepts_what_passes_its_rules(app, db, ctx, access_point):
    organisation(db)
    municipality(db)
    [invoice] = issued_and_delivered(db)
    assert access_point.received == [invoice.ubl_xml]
    assert invoice.einvoice_state == EinvoiceState.ACCEPTED
    assert invoice.einvoice_reference == f"ap-{invoice.display_number}"


def test_a_rejection_is_shown_to_finance_who_sends_it_again(client, db, as_role, access_point):
    organisation(db)
    municipality(db)
    access_point.refuse = "Ukendt EAN hos modtageren"
    [invoice] = issued_and_delivered(db)
    assert invoice.einvoice_state == EinvoiceState.REJECTED
    assert invoice.einvoice_error == "Ukendt EAN hos modtageren"
    as_role(Role.FINANCE)
    page = client.get("/finance/einvoices").text
    assert invoice.display_number in page and "Ukendt EAN hos modtageren" in page
    assert "Afvist" in page
    # A rejection is final for that attempt: given up at once, with the reason, not retried.
    assert "Ukendt EAN hos modtageren" in client.get("/finance/outbox").text
    assert len(access_point.received) == 1
    access_point.refuse = None
    response = post_form(
        client, f"/finance/einvoices/{invoice.id}/send", {}, page="/finance/einvoices"
    )
    assert response.status_code == 302
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    # Attempts count from the click: this one went through at the first.
    assert invoice.einvoice_state == EinvoiceState.ACCEPTED and invoice.einvoice_attempts == 1
    assert len(access_point.received) == 2
    page = client.get("/finance/einvoices").text
    assert f"E-faktura {invoice.display_number} er på vej igen." in page  # the flash
    assert "Alle e-fakturaer er modtaget." in page


def test_an_unreachable_access_point_is_a_failure_kept_for_another_try(app, db, ctx, configured):
    configured.update(
        EINVOICE_TRANSPORT="api",
        EINVOICE_API_URL=f"http://127.0.0.1:{free_port()}",  # nobody listens
        EINVOICE_API_TOKEN="secret-token",
    )
    organisation(db)
    municipality(db)
    [invoice] = issued_and_delivered(db)
    assert invoice.einvoice_state == EinvoiceState.FAILED
    assert "unreachable" in invoice.einvoice_error
    [message] = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "einvoice")).all()
    assert message.state == OutboxState.RETRYING and message.attempts == 1
    assert message.next_attempt_at > dates.now()  # after a back-off: 1 minute, give or take
    assert db.scalars(select(Invoice).where(Invoice.einvoice_state.is_not(None))).all()
    assert Path(app.config["EINVOICE_FOLDER"]).name  # the folder setting keeps a default


def test_send_again_clicked_four_times_at_once_sends_once(app, committed, access_point):
    """Real threads through the app on committed data: the one-time key lets the first click
    queue it again and the others find that done; the access point gets it once more."""
    from invoices import runs
    from tests import factories
    from tests.racing import Browser, post_many

    session = committed()
    factories.bind(session)
    try:
        organisation(session)
        municipality(session)
        finance = factories.UserFactory(role=Role.FINANCE)
        session.commit()
        run_id = runs.start_run(session, None, dates.today()).id
        session.commit()
    finally:
        factories.bind(None)
    access_point.refuse = "Ukendt EAN hos modtageren"  # refused once; the data is right now
    with app.app_context():
        runs.process_run(committed, run_id)
    invoice = session.scalars(select(Invoice)).one()
    assert invoice.einvoice_state == EinvoiceState.REJECTED
    access_point.refuse = None
    invoice_id = invoice.id
    browser = Browser(app, finance)
    form = browser.form("/finance/einvoices")
    session.close()

    responses = post_many(browser.tabs(4), f"/finance/einvoices/{invoice_id}/send", form)

    assert [r.status_code for r in responses] == [302] * 4
    assert len(access_point.received) == 2  # the rejected one, and this one once
    with committed() as check:
        sent = check.get(Invoice, invoice_id)
        assert sent.einvoice_state == EinvoiceState.ACCEPTED and sent.einvoice_attempts == 1
