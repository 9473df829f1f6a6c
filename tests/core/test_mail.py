"""E-mail goes through one class: SMTP when configured (here a real aiosmtpd server),
otherwise .eml files in the outbox; nothing is sent for work that was rolled back."""

from __future__ import annotations

import email
import email.policy
import time

import pytest
from flask.testing import FlaskClient
from flask_babel import force_locale

from core import mail, outbox
from core.mail import Attachment, Mailer, Message
from tests import factories
from tests.helpers import body, csrf_token


def test_smtp_delivery_with_attachment(smtp_server, mailbox):
    controller, _ = smtp_server
    mailer = Mailer(
        "Portal <noreply@example.dk>", "/nonexistent", controller.hostname, controller.port
    )
    mailer.send(
        Message(
            "kunde@example.dk",
            "Faktura F-2026-1",
            "Hej\n\nVedhæftet er fakturaen.\n",
            [Attachment("faktura.pdf", b"%PDF-1.7 test", "application/pdf")],
        )
    )
    [message] = mailbox.to("kunde@example.dk")
    assert message["Subject"] == "Faktura F-2026-1"
    assert message["From"] == "Portal <noreply@example.dk>"
    assert "Vedhæftet er fakturaen." in body(message)
    [attachment] = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_filename() == "faktura.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.7 test"


def test_failed_smtp_delivery_raises(tmp_path):
    mailer = Mailer("noreply@example.dk", str(tmp_path), "127.0.0.1", 1, timeout=2)
    with pytest.raises(OSError):
        mailer.send(Message("a@example.dk", "x", "y"))


def test_without_smtp_host_messages_land_in_the_outbox(tmp_path):
    mailer = Mailer("noreply@example.dk", str(tmp_path / "outbox"))
    mailer.send(Message("a@example.dk", "Hej", "Tekst med æøå"))
    [path] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "a@example.dk"
    assert message.get_content().strip() == "Tekst med æøå"


def test_queued_mail_is_sent_after_commit_and_dropped_on_rollback(app, db, mailbox):
    """Outside a request (a job, the CLI) a queued e-mail goes out at the commit."""
    from core.db import get_session

    session = get_session()
    outbox.add(session, "email", "rolled@example.dk", subject="never", body="sent")
    session.rollback()
    outbox.add(session, "email", "kept@example.dk", subject="sent", body="after commit")
    assert mailbox.to("kept@example.dk") == []  # not before the commit
    session.commit()
    assert len(mailbox.to("kept@example.dk")) == 1
    assert mailbox.to("rolled@example.dk") == []


def test_in_a_request_mail_goes_out_after_the_response(app, client, db, mailbox):
    """A page never waits for the mail server, so its timing never tells whether an address
    has an account (a reset for a known address sends mail, one for an unknown does not)."""
    user = factories.UserFactory(email="known@example.dk")
    db.commit()
    browser = FlaskClient(app, app.response_class)  # returns as soon as the page is answered
    token = csrf_token(browser, "/auth/forgot")
    with mailbox.stalled():
        started = time.monotonic()
        response = browser.post("/auth/forgot", data={"csrf_token": token, "email": user.email})
        assert response.status_code == 302
        assert time.monotonic() - started < 5  # the mail server has not answered yet
        assert mailbox.to(user.email) == []
    response.close()  # the server has sent the page: now the e-mail goes
    assert len(mailbox.to(user.email)) == 1


def test_composed_mail_is_plain_text_in_the_forced_language(app, db):
    """E-mail templates are text, not HTML: what someone typed arrives exactly as typed."""
    user = factories.UserFactory(full_name="Ann <b>Hansen</b> & Co", email="ann@example.dk")
    link = "http://localhost/set?a=1&b=2"
    with force_locale("da"):
        subject, text = mail.compose("account_invitation", user=user, days=3, link=link)
    assert subject == "Din invitation til Småjobportalen"
    assert text.startswith("Hej Ann <b>Hansen</b> & Co\n\nDu er inviteret til Småjobportalen.")
    assert f"\n\n{link}\n\n" in text
    with force_locale("en"):
        subject, text = mail.compose("account_invitation", user=user, days=3, link=link)
    assert subject == "Your invitation to Småjobportalen"
    assert text.startswith("Hello Ann <b>Hansen</b> & Co,\n\nYou have been invited")
    assert text.endswith(
        "(the link works once and for 3 days):\n\n" + link + "\n\n"
        "Your login is your e-mail address: ann@example.dk\n"
    )
