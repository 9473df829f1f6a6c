"""Outgoing e-mail: subject and body from templates/email/ (`compose`), and one class that
sends a message: SMTP when configured, else .eml files in a folder. Every e-mail leaves
through the outbox (core.outbox), written with the fact it reports."""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from core import dates

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

    def build(self, message: Message, message_id: str | None = None) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(dates.now())
        # The outbox row's id: every attempt of one message carries the same Message-ID.
        email["Message-ID"] = message_id or f"<{uuid.uuid4()}@smajob.local>"
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

    def send(self, message: Message, message_id: str | None = None) -> str:
        """Deliver one message; returns what the server answered (or the file written) and
        raises on any failure (OSError, smtplib.SMTPException) for the outbox to record."""
        email = self.build(message, message_id)
        if not self.host:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            stamp = dates.now().strftime("%Y%m%dT%H%M%S")
            path = self.outbox_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(email.as_bytes())
            log.info("e-mail to %s written to %s", message.to, path)
            return str(path)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)
            return "250 accepted by " + self.host


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


def init_app(app: Flask) -> None:
    app.extensions["mailer"] = Mailer.from_config(app.config)
