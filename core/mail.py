"""Outgoing e-mail: subject and body from templates/email/, queued on the database session
until it commits, then sent behind one class: SMTP when configured, else .eml files in an
outbox."""

from __future__ import annotations

import atexit
import logging
import queue as queue_module
import smtplib
import threading
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import dates
from core.jobs import job

log = logging.getLogger(__name__)


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


@dataclass
class Message:
    to: str
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)


class Mailer:
    """Send messages over SMTP, or write them to the outbox folder when no host is set."""

    def __init__(
        self,
        sender: str,
        outbox_dir: str,
        host: str | None = None,
        port: int = 25,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
    ) -> None:
        self.sender = sender
        self.outbox_dir = Path(outbox_dir)
        self.host, self.port, self.timeout = host, int(port), float(timeout)
        self.username, self.password, self.starttls = username, password, starttls

    @classmethod
    def from_config(cls, config) -> Mailer:
        return cls(
            sender=config["MAIL_SENDER"],
            outbox_dir=config["OUTBOX_DIR"],
            host=config.get("SMTP_HOST"),
            port=config.get("SMTP_PORT", 25),
            username=config.get("SMTP_USERNAME"),
            password=config.get("SMTP_PASSWORD"),
            starttls=bool(config.get("SMTP_STARTTLS")),
            timeout=config.get("SMTP_TIMEOUT", 10),
        )

    def build(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(dates.now())
        email["Message-ID"] = f"<{uuid.uuid4()}@smajob.local>"
        email.set_content(message.body)
        for attachment in message.attachments:
            maintype, subtype = attachment.mimetype.split("/", 1)
            email.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
            )
        return email

    def send(self, message: Message) -> None:
        """Deliver one message; raises on failure so callers can record and retry."""
        email = self.build(message)
        if not self.host:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            stamp = dates.now().strftime("%Y%m%dT%H%M%S")
            path = self.outbox_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(email.as_bytes())
            log.info("e-mail to %s written to %s", message.to, path)
            return
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)


def compose(template: str, **context: Any) -> tuple[str, str]:
    """The subject and body of templates/email/<template>.txt (its blocks `subject` and
    `body`) in the current language: callers force the recipient's around this call."""
    email = current_app.jinja_env.get_template(f"email/{template}.txt")
    # Flask autoescapes .html and the like, never .txt: a name or reason someone typed with
    # "<" or "&" in it arrives in the plain-text e-mail exactly as typed.
    variables = email.new_context(context)
    subject = "".join(email.blocks["subject"](variables))
    body = "".join(email.blocks["body"](variables))
    return subject, body


def mailer() -> Mailer:
    return current_app.extensions["mailer"]


def queue(session: Session, message: Message) -> None:
    """Send the message once the session commits; a rollback drops it."""
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still discards the message
    session.info.setdefault("outgoing_mail", []).append((mailer(), message))


def _after_commit(session: Session) -> None:
    outgoing = session.info.pop("outgoing_mail", [])
    if outgoing and has_request_context():
        # Not in the request: no page waits for the mail server, and no page's timing tells
        # whether an e-mail went out (whether an address has an account).
        current_app.extensions["postbox"].post(outgoing)
    else:
        _send_all(outgoing)


def _send_all(outgoing: list[tuple[Mailer, Message]]) -> None:
    for sender, message in outgoing:
        try:
            sender.send(message)
        except (OSError, smtplib.SMTPException):
            # The data is committed; an e-mail that failed can be requested again.
            log.exception("could not send e-mail to %s", message.to)


class Postbox:
    """E-mail that web requests committed, sent beside them: by an RQ worker when the job
    queue runs on Redis (retried there), otherwise by one background thread per process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._queue: queue_module.Queue = queue_module.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def post(self, outgoing: list[tuple[Mailer, Message]]) -> None:
        jobs = self.app.extensions["jobs"]
        if jobs.mode == "rq":
            jobs.enqueue(send_messages, [message for _sender, message in outgoing], retries=3)
            return
        with self._lock:  # started on first use: after gunicorn has forked its workers
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="postbox", daemon=True)
                self._thread.start()
        self._queue.put(outgoing)

    def _run(self) -> None:
        while True:
            outgoing = self._queue.get()
            try:
                _send_all(outgoing)
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        """Return once everything posted so far has been sent (tests; process exit)."""
        self._queue.join()


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole unit of work was rolled back
        session.info.pop("outgoing_mail", None)


@job
def send_messages(messages: list[Message]) -> None:
    """The background job: send messages a request committed (raises for RQ to retry)."""
    for message in messages:
        mailer().send(message)


def init_app(app: Flask) -> None:
    app.extensions["mailer"] = Mailer.from_config(app.config)
    app.extensions["postbox"] = postbox = Postbox(app)
    atexit.register(postbox.wait)  # a process that ends still sends what it committed
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
