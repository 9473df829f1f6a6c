"""Nothing that leaves is lost: every message is an outbox row written with its fact and sent
until delivered or given up. Each test stops a private copy of a peer (an SMTP server, an
access point, the drop folder) in the middle of the work and starts it again."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import outbox
from core.db import database
from core.models import (
    DeliveryState,
    EinvoiceState,
    Invoice,
    OutboxMessage,
    OutboxState,
    Reminder,
    Role,
)
from invoices import payments, reminders, runs
from tests import factories
from tests.helpers import body, post_form, queue_unreachable
from tests.invoicing import employer_with_hours, issue_run, municipality, organisation, pdf_text
from tests.peers import AccessPoint, PrivateSmtp
from tests.racing import race


@pytest.fixture
def smtp(app, monkeypatch):
    """The portal's mail goes to a private SMTP server for this test."""
    server = PrivateSmtp().start()
    mailer = app.extensions["mailer"]
    monkeypatch.setattr(mailer, "host", "127.0.0.1")
    monkeypatch.setattr(mailer, "port", server.port)
    monkeypatch.setattr(mailer, "timeout", 2)
    yield server
    server.stop()


def rows(db, kind: str | None = None) -> list[OutboxMessage]:
    db.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.scalars(query))


def three_customers(db) -> None:
    organisation(db)
    for n in range(3):
        employer_with_hours(db, weeks=1, name=f"Kunde {n}", invoice_email=f"kunde{n}@example.dk")


def test_smtp_down_during_a_run_then_every_invoice_is_e_mailed_exactly_once(
    app, db, ctx, smtp, clock
):
    three_customers(db)
    smtp.stop()
    invoices = issue_run(db)
    # Issued and committed: the e-mails wait in the outbox, each with the reason.
    written = rows(db, "invoice")
    assert [r.state for r in written] == [OutboxState.RETRYING] * 3
    assert all("Connection refused" in r.last_error and r.attempts == 1 for r in written)
    assert all(db.get(Invoice, i.id).delivery_state == DeliveryState.FAILED for i in invoices)
    assert smtp.mailbox.messages == []

    smtp.start()
    assert outbox.send_due().handled == 0  # the back-off first: a minute, give or take
    clock.shift(timedelta(minutes=2))
    assert outbox.send_due().delivered == 3
    addresses = sorted(m["X-Envelope-To"] for m in smtp.mailbox.messages)
    assert addresses == ["kunde0@example.dk", "kunde1@example.dk", "kunde2@example.dk"]
    # The Message-ID is the row's, the same on every attempt: a repeat can be recognised.
    assert sorted(smtp.message_ids()) == sorted(r.message_id for r in rows(db, "invoice"))
    assert all(db.get(Invoice, i.id).delivery_state == DeliveryState.SENT for i in invoices)
    clock.shift(timedelta(days=1))
    assert outbox.send_due().handled == 0 and len(smtp.mailbox.messages) == 3


def test_a_reminder_counts_from_its_delivery_not_from_when_it_was_made(
    app, db, client, as_role, smtp, clock
):
    org = organisation(db)
    org.reminder_fee_ore, org.late_interest_rate_bp = 10000, 1000
    due = date(2026, 12, 1)
    invoice = factories.issued_invoice(total_ore=100000, due_date=due)
    db.commit()
    smtp.stop()

    def send_reminders(day: date) -> list[int]:
        clock.move_to(datetime(day.year, day.month, day.day, 11, tzinfo=UTC), tick=False)
        sent = reminders.send_due_reminders(database().sessionmaker)
        db.expire_all()
        return sent

    [reminder_id] = send_reminders(date(2026, 12, 11))
    reminder = db.get(Reminder, reminder_id)
    # Recorded, but its e-mail could not go: it is not sent, so it claims nothing yet.
    assert not reminder.delivered and reminder.pdf is None
    assert payments.charges_by_invoice(db, [invoice.id]) == {}
    # It holds the next one back, however long it waits (no fee on a fee never sent).
    assert send_reminders(date(2026, 12, 11)) == []
    assert send_reminders(date(2026, 12, 22)) == []
    as_role(Role.FINANCE)
    assert "Ikke leveret endnu" in client.get("/finance/reminders").text
    outbox_page = client.get("/finance/outbox").text
    assert "Rykker 1" in outbox_page and invoice.display_number in outbox_page

    smtp.start()
    clock.move_to(datetime(2026, 12, 14, 9, tzinfo=UTC), tick=False)
    assert outbox.send_due().delivered == 1
    db.expire_all()
    reminder = db.get(Reminder, reminder_id)
    # It went out on the 14th: dated that day, its deadline ten days on, charged from then.
    assert reminder.delivered_on == date(2026, 12, 14)
    text = pdf_text(reminder.pdf)
    assert "14-12-2026" in text and "senest 24-12-2026" in text
    [message] = smtp.mailbox.messages
    assert message.get_content_type() == "multipart/mixed"
    [attachment] = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_payload(decode=True) == reminder.pdf  # stored as it went
    # Fee and the interest to the day it was made (10 days of 1.000,00 kr. at 10 %).
    assert payments.charges_by_invoice(db, [invoice.id]) == {invoice.id: 10000 + 274}
    # The next one may follow ten days after the delivery, not after the 11th.
    assert send_reminders(date(2026, 12, 23)) == []
    [second] = send_reminders(date(2026, 12, 24))
    assert db.get(Reminder, second).level == 2


def test_a_message_is_given_up_after_its_last_attempt_and_finance_sends_it_again(
    app, db, client, as_role, smtp, clock, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    three_customers(db)
    smtp.stop()
    issue_run(db)
    for _ in range(2):  # back-off: about 1 minute, then about 5
        clock.shift(timedelta(minutes=7))
        outbox.send_due()
    given_up = rows(db, "invoice")
    assert [r.state for r in given_up] == [OutboxState.GIVEN_UP] * 3
    assert all("gave up after 3 attempts" in r.last_error for r in given_up)
    clock.shift(timedelta(days=30))
    assert outbox.send_due().handled == 0  # given up stays given up

    finance = as_role(Role.FINANCE)
    home = client.get("/").text
    assert "3 beskeder kunne ikke leveres og blev opgivet." in home
    page = client.get("/finance/outbox").text
    assert page.count("Opgivet") >= 3 and "Connection refused" in page

    smtp.start()
    first, second, third = given_up
    sent = post_form(client, f"/finance/outbox/{first.id}/send", {}, page="/finance/outbox")
    assert sent.status_code == 302
    assert [m["Message-ID"] for m in smtp.mailbox.messages] == [first.message_id]
    post_form(client, f"/finance/outbox/{second.id}/give-up", {}, page="/finance/outbox")
    states = {r.id: r.state for r in rows(db, "invoice")}
    assert states == {
        first.id: OutboxState.DELIVERED,
        second.id: OutboxState.GIVEN_UP,
        third.id: OutboxState.GIVEN_UP,
    }
    assert "2 beskeder kunne ikke leveres og blev opgivet." in client.get("/").text
    assert finance.role == Role.FINANCE


def test_two_senders_at_once_send_each_message_once(app, committed, smtp):
    with committed() as session:
        for n in range(40):
            outbox.add(session, "account", f"person{n}@example.dk", subject=f"Hej {n}", body="x")
        with queue_unreachable(app):  # none is sent at the commit: the senders take them
            session.commit()

    def sender() -> outbox.Report:
        with app.app_context():
            return outbox.send_due(committed, limit=5)

    reports = race([sender, sender])
    assert sum(r.delivered for r in reports) == 40
    ids = smtp.message_ids()
    assert len(ids) == 40 and len(set(ids)) == 40
    with committed() as session:
        states = session.scalars(select(OutboxMessage.state)).all()
    assert set(states) == {OutboxState.DELIVERED}


def test_an_unusable_drop_folder_fails_with_the_reason_then_delivers_after_the_fix(
    app, db, ctx, clock, tmp_path, monkeypatch
):
    blocked = tmp_path / "einvoices"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setitem(app.config, "EINVOICE_FOLDER", str(blocked))
    organisation(db)
    municipality(db)
    [invoice] = issue_run(db)
    [row] = rows(db, "einvoice")
    assert row.state == OutboxState.RETRYING and "drop folder" in row.last_error
    assert db.get(Invoice, invoice.id).einvoice_state == EinvoiceState.FAILED

    blocked.unlink()  # someone fixes the folder
    clock.shift(timedelta(minutes=2))
    assert outbox.send_due().delivered == 1
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert invoice.einvoice_state == EinvoiceState.SENT
    assert (blocked / f"{invoice.display_number}.xml").read_bytes() == invoice.ubl_xml


def test_an_access_point_answering_503_is_tried_again_and_accepts_once(
    app, db, ctx, clock, monkeypatch
):
    point = AccessPoint(unavailable=2)
    monkeypatch.setitem(app.config, "EINVOICE_TRANSPORT", "api")
    monkeypatch.setitem(app.config, "EINVOICE_API_URL", point.url)
    monkeypatch.setitem(app.config, "EINVOICE_API_TOKEN", "token")
    try:
        organisation(db)
        municipality(db)
        [invoice] = issue_run(db)
        [row] = rows(db, "einvoice")
        assert row.state == OutboxState.RETRYING and "503" in row.last_error
        clock.shift(timedelta(minutes=2))
        outbox.send_due()  # 503 again
        clock.shift(timedelta(minutes=7))
        assert outbox.send_due().delivered == 1
        assert len(point.received) == 3 and point.accepted == [invoice.display_number]
        [row] = rows(db, "einvoice")
        assert row.state == OutboxState.DELIVERED and row.attempts == 3
        assert row.reference == f"ap-{invoice.display_number}"
        assert db.get(Invoice, invoice.id).einvoice_state == EinvoiceState.ACCEPTED
        clock.shift(timedelta(days=2))
        assert outbox.send_due().handled == 0 and len(point.received) == 3
    finally:
        point.close()


def test_a_new_run_first_completes_what_a_killed_run_left(app, db, ctx, smtp):
    """A run killed after numbering (no documents, nothing sent): the next run, whoever
    starts it, renders them and their e-mails go, before it bills anything new."""
    organisation(db)
    first, _ = employer_with_hours(db, weeks=1, name="Først ApS", invoice_email="a@example.dk")
    run = runs.start_run(db, None, date(2026, 11, 30))
    db.commit()
    with queue_unreachable(app), database().sessionmaker.begin() as session:
        left = runs.issue_for_employer(session, session.get(type(run), run.id), first.id).id
    assert not db.get(Invoice, left).documents_ready and smtp.mailbox.messages == []

    employer_with_hours(db, weeks=1, name="Senere ApS", invoice_email="b@example.dk")
    issued = issue_run(db)
    assert len(issued) == 1 and issued[0].id != left
    assert db.get(Invoice, left).documents_ready
    assert sorted(m["X-Envelope-To"] for m in smtp.mailbox.messages) == [
        "a@example.dk",
        "b@example.dk",
    ]


def test_a_message_written_in_a_request_goes_after_the_response_with_a_stable_id(
    app, client, db, smtp
):
    user = factories.UserFactory(email="glemt@example.dk")
    db.commit()
    response = post_form(client, "/auth/forgot", {"email": user.email})
    assert response.status_code == 302
    [row] = rows(db, "account")
    assert row.state == OutboxState.DELIVERED and row.recipient == "glemt@example.dk"
    [message] = smtp.mailbox.messages
    assert message["Message-ID"] == row.message_id
    assert re.search(r"http://localhost/auth/reset/\S+", body(message))
    assert Path(app.config["OUTBOX_DIR"]).name  # the folder fallback keeps its setting
